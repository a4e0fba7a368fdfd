"""``python -m bench``: run every measurement, print the report, write the results.

Order matters: the botocore hooks are installed before any client exists (pynamodb and
powertools make clients of their own), and the cold starts run in subprocesses before the
in-process measurements load the machine. Each in-process measurement gets its own moto
deployment, so one cannot slow the next by filling tables. The whole run is bounded by
``--repeat`` (cold-start runs per scenario), ``--requests`` (calls per throughput side) and
``--routed`` (requests routed per side in the routing throughput), ``--duplicates``
(requests stored in the town for the possible-duplicates lookups), ``--sla-open`` /
``--sla-towns`` (open requests and towns behind the SLA sweep) and ``--alert-subscribers``
(subscribers in the town behind the emergency alert fan-out).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from bench.alerts import DEFAULT_SUBSCRIBERS as DEFAULT_ALERT_SUBSCRIBERS
from bench.awscalls import RECORDER
from bench.duplicates import DEFAULT_COUNT as DEFAULT_DUPLICATES
from bench.environment import ROOT, silenced
from bench.routing import DEFAULT_ROUTED
from bench.service_levels import DEFAULT_OPEN as DEFAULT_SLA_OPEN
from bench.service_levels import DEFAULT_TOWNS as DEFAULT_SLA_TOWNS


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7,
                        help="cold starts per scenario, after one discarded (default 7)")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed calls per side in the throughput runs (default 200)")
    parser.add_argument("--routed", type=int, default=DEFAULT_ROUTED,
                        help="requests routed per side in the routing throughput, a multiple "
                             "of 10 (default 2000: about 80 s on 2 cores; 10000, the "
                             "requirement's figure, takes about 6 minutes more)")
    parser.add_argument("--duplicates", type=int, default=DEFAULT_DUPLICATES,
                        help="requests stored in the town before the possible-duplicates "
                             "lookups (default 100000: about 100 s to write and 2 minutes of "
                             "lookups on moto, 2 cores)")
    parser.add_argument("--followers", type=int, default=500,
                        help="followers told of a closure in the notice fan-out (default "
                             "500: about a minute on moto)")
    parser.add_argument("--sla-open", type=int, default=DEFAULT_SLA_OPEN,
                        help="open requests in one town behind the SLA sweep, 200 of them "
                             "due (default 100000: about two minutes on moto, 2 cores, "
                             "with the 2000-town scenario)")
    parser.add_argument("--sla-towns", type=int, default=DEFAULT_SLA_TOWNS,
                        help="towns (5 open requests each) in the SLA sweep's many-towns "
                             "scenario (default 2000: about 15 s of it)")
    parser.add_argument("--alert-subscribers", type=int, default=DEFAULT_ALERT_SUBSCRIBERS,
                        help="alert subscribers in 10 zones; the alert goes to 3 of them "
                             "(default 100000: about 3.5 minutes on moto, 2 cores)")
    parser.add_argument("--out", type=Path, default=ROOT / ".run" / "bench.json",
                        help="where to write the JSON results (default .run/bench.json; "
                             "the Markdown section goes next to it, as .md, and into "
                             "docs/performance.md)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.repeat < 1 or args.requests < 4:
        raise SystemExit("--repeat must be at least 1 and --requests at least 4")
    if args.routed < 10 or args.routed % 10:
        raise SystemExit("--routed must be a positive multiple of 10 (batches of 10)")
    started, load_before = time.perf_counter(), os.getloadavg()
    # Progress goes to a copy of stderr: while measuring, fds 1 and 2 lead to /dev/null.
    progress: TextIO = os.fdopen(os.dup(2), "w", buffering=1)

    def step(message: str) -> None:
        print(f"[bench {time.perf_counter() - started:5.1f}s] {message}", file=progress)

    RECORDER.install()
    from bench.alerts import measure_alert_fanout
    from bench.calls import measure_calls
    from bench.coldstart import measure_cold_start
    from bench.deployment import deployment, seed_items
    from bench.duplicates import measure_duplicates
    from bench.notices import measure_notice_fanout
    from bench.report import Results, console, machine, markdown, write_figures
    from bench.routing import measure_routing_calls, measure_routing_throughput
    from bench.service_levels import measure_sla_sweep
    from bench.throughput import measure_throughput

    step("provisioning moto and seeding Maple Falls for the cold-start children")
    with silenced(), deployment() as dep:
        seed = seed_items(dep)
    step(f"cold starts: 3 scenarios × {args.repeat} fresh interpreters, then imports")
    cold = measure_cold_start(seed, args.repeat)
    step("AWS calls per Open311 operation")
    with silenced(), deployment() as dep:
        calls = measure_calls(dep, RECORDER)
    step(f"throughput: {args.requests} POSTs and {args.requests} GETs, app and raw")
    with silenced(), deployment() as dep:
        rates = measure_throughput(dep, RECORDER, args.requests)
    step("routing: AWS calls per routed request")
    with silenced(), deployment() as dep:
        routed_calls = measure_routing_calls(dep, RECORDER)
    step(f"routing throughput: {args.routed} requests routed per side, app and raw")
    with silenced(), deployment() as dep:
        routed_rate = measure_routing_throughput(dep, RECORDER, args.routed)

    step(f"notice fan-out: {args.followers} followers told of a closure")
    with silenced(), deployment() as dep:
        fanout = measure_notice_fanout(dep, RECORDER, args.followers)

    step(f"possible duplicates: {args.duplicates} requests stored, then 100 lookups")
    with silenced(), deployment() as dep:
        duplicates = measure_duplicates(dep, RECORDER, args.duplicates)

    step(f"SLA sweep: {args.sla_open} open requests in one town, then {args.sla_towns} towns")
    with silenced(), deployment() as dep:
        sla_sweep = measure_sla_sweep(dep, RECORDER, args.sla_open, towns=args.sla_towns)

    step(f"emergency alert fan-out: {args.alert_subscribers} subscribers, 3 of 10 zones")
    with silenced(), deployment() as dep:
        alert_fanout = measure_alert_fanout(dep, RECORDER, args.alert_subscribers)

    results = Results(machine(), load_before, os.getloadavg(), time.perf_counter() - started,
                      cold, calls, rates, args.repeat, args.requests,
                      routing_calls=routed_calls, routing_rate=routed_rate,
                      duplicates=duplicates, notices=fanout, sla_sweep=sla_sweep,
                      alerts=alert_fanout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results.to_json(), indent=2, default=str) + "\n")
    section = markdown(results)
    args.out.with_suffix(".md").write_text(section)
    write_figures(section)
    print(console(results))
    print(f"\nwritten: {args.out}, {args.out.with_suffix('.md')} and docs/performance.md")
    progress.close()
    return 0 if all(op.passed for op in calls) and routed_calls.passed \
        and duplicates.passed and sla_sweep.passed and alert_fanout.passed else 1


if __name__ == "__main__":
    sys.exit(main())
