"""The process environment every measurement runs in, and the demo town's fixed inputs.

Measurements must land in moto, never in a real account or in the local emulator that
``make run`` starts: ``AWS_ENDPOINT_URL*`` (honoured by boto3 and pynamodb) would send calls
past ``mock_aws``, so they are removed, along with any ``TOWN311_*`` left over from a shell.
The cache lifetime is pinned so that warm counts do not depend on how long a run takes.
The app logs a line per call to stdout, as it must on Lambda; ``silenced()`` sends the
process's stdout and stderr to /dev/null while measuring, so the logging is still paid for
(formatting and a write, as on Lambda) but the report stays readable.
Only the standard library is imported here: the cold-start subprocess imports this module
before its timer starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
TOWN_ID = "maplefalls.example"
TOWN_BASE = f"/towns/{TOWN_ID}/open311/v2"
API_KEY = "t311_bench_demo_key_0123456789"
# Longer than any bench run, so a warm container never re-reads a town, catalogue or key
# halfway through a measurement (production uses 60 s; the counts are the same within it).
CACHE_SECONDS = "600"

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
POTHOLE: dict[str, str] = {
    "service_code": "pothole", "lat": "41.8781", "long": "-87.6298",
    "description": "Deep hole by the school crossing", "attribute[size]": "large",
}

_FIXED = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Town311",
    "TOWN311_CACHE_SECONDS": CACHE_SECONDS,
}
_DROPPED_PREFIXES = ("AWS_ENDPOINT_URL", "TOWN311_", "AWS_PROFILE")


def isolate(environ: MutableMapping[str, str]) -> None:
    """Make ``environ`` safe for moto: no endpoint overrides, fake credentials, one region."""
    for name in list(environ):
        if name.startswith(_DROPPED_PREFIXES):
            del environ[name]
    environ.update(_FIXED)


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a cold-start subprocess: isolated, with the project importable."""
    env = dict(os.environ)
    isolate(env)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


@contextmanager
def silenced() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null inside the block (log handlers keep
    their stream objects, so swapping ``sys.stdout`` would not reach them)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
