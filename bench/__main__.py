"""``python -m bench`` (``make bench``) and ``python -m bench --scale`` (``make bench-scale``).

The quick bench, a few minutes on 2 cores: cold starts and memory (fresh interpreters
against moto's server in another process, ``bench.coldstart``), AWS calls per Open311
operation, throughput, routing (calls per routed request, and a small routing throughput),
a small notice fan-out, the resident pages' weights and server times, the figures (items a
dashboard period reads from three years of day items, DynamoDB calls per counted request
event), export throughput (a small town's year: ``--export-requests``, 100 by default,
small because moto answers each index Query by reading the whole table) and the cost
model's monthly figures for a small town and a large city (pure arithmetic). The scale
bench, the 100,000-item scenarios: possible duplicates, the SLA sweep, the emergency
alert fan-out and routing 10,000 requests. Each writes its own marked section of
docs/performance.md, so one never erases the other.

Order matters: the botocore hooks are installed before any client exists (pynamodb and
powertools make clients of their own), and the cold starts run first, before the
in-process measurements load the machine. Each in-process measurement gets its own moto
deployment, so one cannot slow the next by filling tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bench.alerts import DEFAULT_SUBSCRIBERS as DEFAULT_ALERT_SUBSCRIBERS
from bench.awscalls import RECORDER
from bench.coldstart import DEFAULT_REPEAT, MEMORY_CALLS
from bench.duplicates import DEFAULT_COUNT as DEFAULT_DUPLICATES
from bench.environment import ROOT, silenced
from bench.service_levels import DEFAULT_OPEN as DEFAULT_SLA_OPEN
from bench.service_levels import DEFAULT_TOWNS as DEFAULT_SLA_TOWNS

QUICK_ROUTED = 200
QUICK_FOLLOWERS = 100
QUICK_REQUESTS = 200
SCALE_ROUTED = 10_000
# Three years: the dashboard's year-on-year comparison, the bench figure.
QUICK_FIGURE_YEARS = 3
# Export throughput on moto: every index Query reads the whole table and the whole-town
# export queries each request's partition, so 3,000 requests take about 13 minutes on 2
# cores (bench/exports.py); 100 show the same shape (a page, no Scan, a partition Query per
# request for the whole town) in about 20 s, which keeps `make bench` near 5 minutes.
QUICK_EXPORTS = 100

if TYPE_CHECKING:
    from bench.report import Results

Step = Callable[[str], None]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", action="store_true",
                        help="run the 100,000-item scenarios instead of the quick ones")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                        help=f"interleaved cold-start rounds after a discarded one (default "
                             f"{DEFAULT_REPEAT})")
    parser.add_argument("--memory-calls", type=int, default=MEMORY_CALLS,
                        help=f"mixed API requests in the memory run (default {MEMORY_CALLS})")
    parser.add_argument("--requests", type=int, default=QUICK_REQUESTS,
                        help=f"timed calls per side in the throughput runs (default "
                             f"{QUICK_REQUESTS})")
    parser.add_argument("--routed", type=int, default=None,
                        help=f"requests routed per side, a multiple of 10 (default "
                             f"{QUICK_ROUTED}; {SCALE_ROUTED} with --scale)")
    parser.add_argument("--followers", type=int, default=QUICK_FOLLOWERS,
                        help=f"followers told of a closure (default {QUICK_FOLLOWERS})")
    parser.add_argument("--figure-years", type=int, default=QUICK_FIGURE_YEARS,
                        help=f"years of figures behind the dashboard reads (default "
                             f"{QUICK_FIGURE_YEARS})")
    parser.add_argument("--export-requests", type=int, default=QUICK_EXPORTS,
                        help=f"requests of the town the exports write (default "
                             f"{QUICK_EXPORTS})")
    parser.add_argument("--duplicates", type=int, default=DEFAULT_DUPLICATES,
                        help="--scale: requests stored before the possible-duplicates "
                             "lookups (default 100000)")
    parser.add_argument("--sla-open", type=int, default=DEFAULT_SLA_OPEN,
                        help="--scale: open requests in one town behind the SLA sweep "
                             "(default 100000)")
    parser.add_argument("--sla-towns", type=int, default=DEFAULT_SLA_TOWNS,
                        help="--scale: towns (5 open requests each) in the SLA sweep's "
                             "many-towns scenario (default 2000)")
    parser.add_argument("--alert-subscribers", type=int, default=DEFAULT_ALERT_SUBSCRIBERS,
                        help="--scale: alert subscribers in 10 zones (default 100000)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the JSON results (default .run/bench.json, or "
                             ".run/bench-scale.json; the Markdown goes next to it, as .md, "
                             "and into docs/performance.md)")
    args = parser.parse_args(argv)
    if args.routed is None:
        args.routed = SCALE_ROUTED if args.scale else QUICK_ROUTED
    if args.out is None:
        args.out = ROOT / ".run" / ("bench-scale.json" if args.scale else "bench.json")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.repeat < 1 or args.requests < 4:
        raise SystemExit("--repeat must be at least 1 and --requests at least 4")
    if args.figure_years < 1 or args.export_requests < 1:
        raise SystemExit("--figure-years and --export-requests must be at least 1")
    if args.routed < 10 or args.routed % 10:
        raise SystemExit("--routed must be a positive multiple of 10 (batches of 10)")
    started, load_before = time.perf_counter(), os.getloadavg()
    # Progress goes to a copy of stderr: while measuring, fds 1 and 2 lead to /dev/null.
    progress: TextIO = os.fdopen(os.dup(2), "w", buffering=1)

    def step(message: str) -> None:
        print(f"[bench {time.perf_counter() - started:5.1f}s] {message}", file=progress)

    RECORDER.install()
    from bench.report import Results, console, machine, markdown, write_figures

    results = Results(machine(), load_before, scale=args.scale, repeat=args.repeat,
                      requests=args.requests)
    if args.scale:
        _scale(args, results, step)
    else:
        _quick(args, results, step)
    results.load_after = os.getloadavg()
    results.seconds = time.perf_counter() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results.to_json(), indent=2, default=str) + "\n")
    section = markdown(results)
    args.out.with_suffix(".md").write_text(section)
    write_figures(section, scale=args.scale)
    print(console(results))
    print(f"\nwritten: {args.out}, {args.out.with_suffix('.md')} and docs/performance.md")
    progress.close()
    return 0 if results.passed else 1


def _quick(args: argparse.Namespace, results: Results, step: Step) -> None:
    from bench.calls import measure_calls
    from bench.coldstart import measure_cold_start
    from bench.cost_model import section as cost_section
    from bench.cost_model import totals as cost_totals
    from bench.cost_model import write_section as write_cost_section
    from bench.deployment import deployment
    from bench.exports import ExportCallRecorder, measure_exports
    from bench.figures import measure_figures
    from bench.notices import measure_notice_fanout
    from bench.pages import measure_pages
    from bench.routing import measure_routing_calls, measure_routing_throughput
    from bench.throughput import measure_throughput

    step(f"cold starts: {args.repeat} interleaved rounds after a discarded one, then memory")
    with silenced():
        results.cold = measure_cold_start(args.repeat, args.memory_calls, progress=step)
    step("AWS calls per Open311 operation")
    with silenced(), deployment() as dep:
        results.calls = measure_calls(dep, RECORDER)
    step(f"throughput: {args.requests} POSTs and {args.requests} GETs, app and raw")
    with silenced(), deployment() as dep:
        results.rates = measure_throughput(dep, RECORDER, args.requests)
    step("routing: AWS calls per routed request")
    with silenced(), deployment() as dep:
        results.routing_calls = measure_routing_calls(dep, RECORDER)
    step(f"routing throughput: {args.routed} requests routed per side, app and raw")
    with silenced(), deployment() as dep:
        results.routing_rate = measure_routing_throughput(dep, RECORDER, args.routed)
    step(f"notice fan-out: {args.followers} followers told of a closure")
    with silenced(), deployment() as dep:
        results.notices = measure_notice_fanout(dep, RECORDER, args.followers)
    step("resident pages: weight over the wire and server time")
    with silenced(), deployment() as dep:
        results.pages = measure_pages(dep, RECORDER)
    step(f"figures: dashboard reads over {args.figure_years} years of day items, and the "
         "calls per counted request event")
    with silenced(), deployment() as dep:
        results.figures = measure_figures(dep, RECORDER, args.figure_years)
    step(f"exports: a year's open data and the whole town, {args.export_requests} requests")
    # The exports count calls by "Service.Operation" with their own hook; installed last,
    # it only sees the clients this step's deployment makes.
    exports_recorder = ExportCallRecorder()
    exports_recorder.install()
    with silenced(), deployment() as dep:
        results.exports = measure_exports(dep, exports_recorder, args.export_requests)
    results.export_requests = args.export_requests
    step("cost model: a month for a small town and a large city (its own section too)")
    results.cost_model = cost_totals()
    write_cost_section(cost_section())


def _scale(args: argparse.Namespace, results: Results, step: Step) -> None:
    from bench.alerts import measure_alert_fanout
    from bench.deployment import deployment
    from bench.duplicates import measure_duplicates
    from bench.routing import measure_routing_throughput
    from bench.service_levels import measure_sla_sweep

    step(f"possible duplicates: {args.duplicates} requests stored, then 100 lookups")
    with silenced(), deployment() as dep:
        results.duplicates = measure_duplicates(dep, RECORDER, args.duplicates)
    step(f"SLA sweep: {args.sla_open} open requests in one town, then {args.sla_towns} towns")
    with silenced(), deployment() as dep:
        results.sla_sweep = measure_sla_sweep(dep, RECORDER, args.sla_open,
                                              towns=args.sla_towns)
    step(f"emergency alert fan-out: {args.alert_subscribers} subscribers, 3 of 10 zones")
    with silenced(), deployment() as dep:
        results.alerts = measure_alert_fanout(dep, RECORDER, args.alert_subscribers)
    step(f"routing throughput: {args.routed} requests routed per side, app and raw")
    with silenced(), deployment() as dep:
        results.routing_rate = measure_routing_throughput(dep, RECORDER, args.routed)


if __name__ == "__main__":
    sys.exit(main())
