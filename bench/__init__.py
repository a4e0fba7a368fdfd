"""Town311's benchmark: cold start, AWS calls per Open311 operation, throughput, and routing
(AWS calls per routed request, routing throughput).

Run it with ``python -m bench`` (``make bench``). Everything runs against moto in-process
(``mock_aws``) or in fresh subprocesses that start their own ``mock_aws``: no network, no
AWS account. The report goes to stdout and, as JSON, to ``.run/bench.json``.

This package imports nothing heavy at import time, because ``bench.coldchild`` (the
subprocess that times a cold start) is imported through it.
"""
