"""The bench's results as a readable console report and as a Markdown "Performance" section.

Both are rendered from the same ``Results``; the JSON written to ``.run/bench.json`` is the
machine-readable form of the same figures. ``write_figures`` puts the Markdown into
``docs/performance.md``, between its two bench markers, so that ``make bench`` keeps the
published figures those of the last run while the page's own text stays as written.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.alerts import DEFAULT_SUBSCRIBERS as DEFAULT_ALERT_SUBSCRIBERS
from bench.alerts import AlertBench
from bench.alerts import console_lines as alert_console
from bench.alerts import markdown_lines as alert_markdown
from bench.calls import Operation
from bench.coldstart import TITLES, ColdStartReport
from bench.duplicates import DEFAULT_COUNT as DEFAULT_DUPLICATES
from bench.duplicates import DuplicateBench, console_lines, markdown_lines
from bench.notices import console_lines as notice_console
from bench.notices import markdown_lines as notice_markdown
from bench.routing import DEFAULT_ROUTED, BatchRate, RoutedCalls
from bench.service_levels import DEFAULT_OPEN as DEFAULT_SLA_OPEN
from bench.service_levels import DEFAULT_TOWNS as DEFAULT_SLA_TOWNS
from bench.service_levels import SlaBench
from bench.service_levels import console_lines as sla_console
from bench.service_levels import markdown_lines as sla_markdown
from bench.throughput import Rate

PACKAGES = ("boto3", "moto", "pynamodb", "pydantic", "chalice", "aws-lambda-powertools")
PERFORMANCE_DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN = "<!-- bench:begin: written by `make bench` (bench/report.py); edit the generator -->"
END = "<!-- bench:end -->"


def machine() -> dict[str, Any]:
    import os

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {"cores": os.cpu_count(), "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "packages": versions}


@dataclass
class Results:
    machine: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    seconds: float
    cold: ColdStartReport
    calls: list[Operation]
    rates: list[Rate]
    repeat: int
    requests: int
    routing_calls: RoutedCalls
    routing_rate: BatchRate
    duplicates: DuplicateBench | None = None
    notices: dict[str, Any] | None = None
    sla_sweep: SlaBench | None = None
    alerts: AlertBench | None = None

    def to_json(self) -> dict[str, Any]:
        return {"machine": self.machine, "load_average_before": self.load_before,
                "load_average_after": self.load_after, "bench_seconds": self.seconds,
                "repeat": self.repeat, "cold_start": self.cold.to_json(),
                "calls": [o.to_json() for o in self.calls],
                "throughput": [r.to_json() for r in self.rates],
                "routing": {"calls_per_routed_request": self.routing_calls.to_json(),
                            "throughput": self.routing_rate.to_json()},
                "possible_duplicates": self.duplicates.to_json() if self.duplicates else None,
                "notice_fanout": self.notices,
                "sla_sweep": self.sla_sweep.to_json() if self.sla_sweep else None,
                "alert_fanout": self.alerts.to_json() if self.alerts else None}


def _versions(results: Results) -> str:
    return " · ".join(f"{k} {v}" for k, v in results.machine["packages"].items())


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def console(results: Results) -> str:
    m, cold = results.machine, results.cold
    out = [
        "Town311 bench",
        f"machine: {m['cores']} cores, {m['system']}, Python {m['python']}; "
        f"load average (1/5/15 min) {_load(results.load_before)} before, "
        f"{_load(results.load_after)} after; run took {results.seconds:.0f} s",
        f"versions: {_versions(results)}",
        "",
        f"(a) COLD START — fresh interpreter, mock_aws, median of {results.repeat} (range)",
    ]
    for key, scenario in cold.scenarios.items():
        ratio = "" if key == "boto3" else f"   ×{cold.ratio(key):.1f} baseline"
        split = "" if key == "boto3" else (f"   = import {scenario.import_app.median:.0f}"
                                           f" + first call {scenario.first_call.median:.0f}")
        out.append(f"  {TITLES[key]:<44}{scenario.total.text()}{split}{ratio}")
    preloaded = ", ".join(cold.scenarios["boto3"].preloaded)
    estimate = cold.estimates()
    out += [
        f"  moto had already imported: {preloaded} (in every child, app and baseline)",
        f"  estimate with nothing preloaded (SDK import + import app + first call): "
        f"GET {estimate['app-get']:.0f} ms, POST {estimate['app-post']:.0f} ms, "
        f"baseline {estimate['boto3']:.0f} ms → ×{estimate['app-get ratio']:.1f} and "
        f"×{estimate['app-post ratio']:.1f}",
        f"  import app loads: {', '.join(cold.scenarios['app-get'].imported_by_import)}"
        f"; not: {', '.join(cold.profile.heavy_not_loaded)}",
        f"  first GET services loads: "
        f"{', '.join(cold.scenarios['app-get'].imported_by_first_call) or '-'}; "
        f"first POST loads: {', '.join(cold.scenarios['app-post'].imported_by_first_call)}",
        "  import alone, no moto (median):",
    ]
    out += [f"    {label:<40}{spread.text()}" for label, spread in cold.imports.items()]
    out.append(f"  python -X importtime -c 'import app': {cold.profile.total_ms:.0f} ms, "
               f"{cold.profile.modules} modules; top 10 cumulative:")
    out += [f"    {row['cumulative_ms']:7.1f} ms  {'  ' * row['depth']}{row['module']}"
            for row in cold.profile.top]

    out += ["", "(b) AWS CALLS PER OPEN311 OPERATION — botocore hooks; cold = fresh container, "
                "warm = the next call (checked; a warm call must create no client)"]
    for op in results.calls:
        verdict = "PASS" if op.passed else "FAIL"
        out.append(f"  {op.title:<38} {verdict}   target: {op.target.text}")
        out.append(f"    cold ({len(op.cold)}): {', '.join(op.cold_signatures) or 'none'}")
        out.append(f"      clients created: {op.clients_text()}")
        out.append(f"    warm ({len(op.warm)}): {', '.join(op.warm_signatures) or 'none'}")
        for sig, call in zip(op.warm_signatures, op.warm, strict=True):
            out.append(f"      {sig}  ← {call.via} ← {' ← '.join(call.stack[:3])}")

    out += ["", f"(c) THROUGHPUT — in-process, chalice.test.Client vs raw boto3, same moto, "
                f"{results.requests} calls each after warm-up"]
    for r in results.rates:
        ms = r.per_request_ms()
        out.append(
            f"  {r.operation:<18} app {r.app_rate:6.1f}/s   raw {r.raw_rate:6.1f}/s   "
            f"app ÷ raw {r.ratio:.2f}   per call: app {ms['app']:.2f} ms "
            f"(AWS calls {ms['app_inside_aws_calls']:.2f} + rest "
            f"{ms['app_outside_aws_calls']:.2f}), raw {ms['raw']:.2f} ms; medians "
            f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms [{r.raw_calls}]")
    duplicates = console_lines(results.duplicates) if results.duplicates else []
    fanout = notice_console(results.notices) if results.notices else []
    sla = sla_console(results.sla_sweep) if results.sla_sweep else []
    alert = alert_console(results.alerts) if results.alerts else []
    return "\n".join(out + _routing_console(results) + duplicates + fanout + sla + alert)


def _routing_console(results: Results) -> list[str]:
    rc, r = results.routing_calls, results.routing_rate
    out = ["", "(d) ROUTING — route_new_requests through chalice.test.Client(app).lambda_, "
               "Lambda-shaped SQS events",
           f"  rules: {'; '.join(rc.setup.rules)} (zone ward-3 is the Ward 3 polygon); "
           f"the request went to {rc.department}",
           f"  {rc.setup.note()}",
           f"  calls per routed request, warm router  {'PASS' if rc.passed else 'FAIL'}   "
           f"target: {rc.target_text()}"]
    for check in rc.checks:
        out.append(f"    {check.label:<40} {check.target:<40} "
                   f"{', '.join(check.calls) or 'none':<48} {check.status}")
    out.append(f"    cold ({len(rc.cold)}): {', '.join(rc.cold_signatures) or 'none'}")
    out.append("      clients created: " + (", ".join(
        f"{c.service} ({c.label}) {c.seconds * 1000:.0f} ms" for c in rc.cold_clients)
        or "none"))
    out.append(f"    warm ({len(rc.warm)}): {', '.join(rc.warm_signatures) or 'none'}")
    for sig, call in zip(rc.warm_signatures, rc.warm, strict=True):
        out.append(f"      {sig}  ← {call.via} ← {' ← '.join(call.stack[:3])}")
    ms = r.per_request_ms()
    out += [
        f"  throughput: {r.requests} requests routed per side, {r.batch} per invocation, "
        f"each batch stored untimed just before it and reset after it",
        f"    app {r.app_rate:6.1f}/s   raw {r.raw_rate:6.1f}/s   app ÷ raw {r.ratio:.2f}   "
        f"per request: app {ms['app']:.2f} ms (AWS calls {ms['app_inside_aws_calls']:.2f} + "
        f"rest {ms['app_outside_aws_calls']:.2f}), raw {ms['raw']:.2f} ms; medians "
        f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms; app AWS calls per request "
        f"{r.app_aws.calls / r.requests:.2f} [raw: {r.raw_calls}]",
        f"    measurement took {r.measurement_seconds:.0f} s (timed {r.app_seconds:.0f} s app + "
        f"{r.raw_seconds:.0f} s raw; storing and resetting {r.untimed_seconds:.0f} s)",
    ]
    return out


def markdown(results: Results) -> str:
    m, cold = results.machine, results.cold
    base = cold.scenarios["boto3"].total.median
    estimate = cold.estimates()
    lines = [
        "## Performance",
        "",
        f"Measured with `make bench` (`python -m bench`) on a {m['cores']}-core "
        f"{m['system']} machine, Python {m['python']} ({_versions(results)}); load average "
        f"{_load(results.load_before)} at the start. Everything runs against moto in-process "
        "(`mock_aws`, no network), so absolute times are the emulator's; the ratios and the "
        "call counts are what to watch.",
        "",
        "**Cold start** — a fresh interpreter per run, resources provisioned and the demo "
        "town loaded before the timer; median of "
        f"{results.repeat} runs (range). The baseline is `import boto3` + a DynamoDB client "
        "+ one GetItem.",
        "",
        "| measured | median | range | × baseline |",
        "|---|---:|---:|---:|",
    ]
    for key, scenario in cold.scenarios.items():
        t = scenario.total
        lines.append(f"| {TITLES[key]} | {t.median:.0f} ms | {min(t.values):.0f}–"
                     f"{max(t.values):.0f} ms | {t.median / base:.1f} |")
    for key in ("app-get", "app-post"):
        s = cold.scenarios[key]
        lines.append(f"| … of which `import app` / first call ({key[4:].upper()}) | "
                     f"{s.import_app.median:.0f} / {s.first_call.median:.0f} ms | | |")
    lines.append(f"| `import app` alone, no moto | {cold.imports['app'].median:.0f} ms | "
                 f"{min(cold.imports['app'].values):.0f}–{max(cold.imports['app'].values):.0f}"
                 " ms | |")
    lines += [
        "",
        f"moto imports {', '.join(cold.scenarios['boto3'].preloaded)} before any timer, in the "
        f"app's runs and the baseline's alike. Putting the SDK import back (measured alone: "
        f"boto3 {cold.imports['boto3'].median:.0f} ms, botocore "
        f"{cold.imports['botocore'].median:.0f} ms, then `import app` on top of it) gives "
        f"an estimate of {estimate['app-get']:.0f} ms (GET, ×{estimate['app-get ratio']:.1f})"
        f" and {estimate['app-post']:.0f} ms (POST, ×{estimate['app-post ratio']:.1f}) "
        f"against {estimate['boto3']:.0f} ms. `import app` loads "
        f"{', '.join(cold.scenarios['app-get'].imported_by_import)} and none of "
        f"{', '.join(cold.profile.heavy_not_loaded)}; the first GET adds "
        f"{', '.join(cold.scenarios['app-get'].imported_by_first_call) or 'nothing'}, the "
        f"first POST {', '.join(cold.scenarios['app-post'].imported_by_first_call)}. "
        "Largest cumulative imports (`python -X importtime -c 'import app'`): "
        + ", ".join(f"{r['module']} {r['cumulative_ms']:.0f} ms" for r in cold.profile.top[:6])
        + ".",
        "",
        "**AWS calls per Open311 operation** — counted with botocore event hooks on every "
        "client (the app's, pynamodb's and powertools'); the warm column is the second "
        "call on one container and is checked against the target.",
        "",
        "| operation | warm calls | target | | cold container: calls, clients created |",
        "|---|---|---|---|---|",
    ]
    for op in results.calls:
        warm = "<br>".join(op.warm_signatures) or "none"
        lines.append(f"| {op.title} | {warm} | {op.target.text} | "
                     f"{'PASS' if op.passed else 'FAIL'} | {len(op.cold)}; "
                     f"{', '.join(f'{c.service} ({c.label})' for c in op.cold_clients) or 'none'}"
                     " |")
    lines += [
        "",
        f"**Throughput** — {results.requests} calls each through `chalice.test.Client`, "
        "after warm-up, against raw boto3 making only the unavoidable calls on the same "
        "moto (the app's own parameters, replayed with fresh ids); table and queue are "
        "reset between POSTs, untimed.",
        "",
        "| operation | app req/s | raw req/s | app ÷ raw | app ms/call (in AWS calls + rest) "
        "| raw ms/call | medians app / raw |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in results.rates:
        ms = r.per_request_ms()
        lines.append(f"| {r.operation} | {r.app_rate:.0f} | {r.raw_rate:.0f} | "
                     f"{r.ratio:.2f} | {ms['app']:.2f} ({ms['app_inside_aws_calls']:.2f} + "
                     f"{ms['app_outside_aws_calls']:.2f}) | {ms['raw']:.2f} | "
                     f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms |")
    lines += _routing_markdown(results)
    if results.duplicates:
        lines += markdown_lines(results.duplicates)
    if results.notices:
        lines += notice_markdown(results.notices)
    if results.sla_sweep:
        lines += sla_markdown(results.sla_sweep)
    if results.alerts:
        lines += alert_markdown(results.alerts)
    lines += [
        "",
        f"Re-run with {_rerun(results)}; it took "
        f"{results.seconds:.0f} s here, prints the full report (with the stack of every "
        "counted call and the clients each cold operation creates), writes the figures to "
        "`.run/bench.json` and this section to `docs/performance.md` (and `.run/bench.md`), "
        "and exits non-zero if an operation misses its target.",
    ]
    return "\n".join(lines) + "\n"


def write_figures(section: str, document: Path = PERFORMANCE_DOC) -> None:
    """Replace what lies between the bench markers of ``document`` with ``section`` (the
    output of ``markdown`` without its heading: the page has its own). Everything outside
    the markers is kept as it is; a page without both markers, in order, is an error
    rather than a page silently left stale."""
    text = document.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{document} has no {BEGIN!r} ... {END!r} section to rewrite")
    body = section.removeprefix("## Performance\n").strip("\n")
    document.write_text(text[:start + len(BEGIN)] + "\n\n" + body + "\n\n" + text[end:],
                        encoding="utf-8")


def _rerun(results: Results) -> str:
    stored = results.duplicates.count if results.duplicates else DEFAULT_DUPLICATES
    extra = f" --duplicates {stored}" if stored != DEFAULT_DUPLICATES else ""
    if results.sla_sweep and len(results.sla_sweep.scenarios) == 2:
        one, many = results.sla_sweep.scenarios
        if one.open_requests != DEFAULT_SLA_OPEN:
            extra += f" --sla-open {one.open_requests}"
        if many.towns != DEFAULT_SLA_TOWNS:
            extra += f" --sla-towns {many.towns}"
    if results.alerts and results.alerts.subscribers != DEFAULT_ALERT_SUBSCRIBERS:
        extra += f" --alert-subscribers {results.alerts.subscribers}"
    command = (f"`python -m bench --repeat {results.repeat} --requests {results.requests} "
               f"--routed {results.routing_rate.requests}{extra}`")
    if (results.repeat, results.requests, results.routing_rate.requests, extra) == \
            (7, 200, DEFAULT_ROUTED, ""):
        return f"`make bench` ({command})"
    return f"{command} (`make bench` is `--repeat 7 --requests 200 --routed {DEFAULT_ROUTED}`)"


def _routing_markdown(results: Results) -> list[str]:
    rc, r = results.routing_calls, results.routing_rate
    ms = r.per_request_ms()
    channels = ("the department has its own queue and a webhook, so both channel sends "
                "are counted" if rc.setup.channels else
                "the app has no delivery channels yet, so no channel send is counted")
    lines = [
        "",
        "**Routing** — `route_new_requests` invoked through `chalice.test.Client(app).lambda_`"
        " with Lambda-shaped SQS events. Maple Falls gets a Ward 3 polygon, a department of "
        f"its own and the rules {'; '.join(f'`{rule}`' for rule in rc.setup.rules)}, so the "
        f"zone lookup runs; {channels}. Calls for one routed request on a warm router (the "
        "second request it routes; its first, on a fresh container, is shown below):",
        "",
        "| per routed request | target | warm calls | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {c.label} | {c.target} | {'<br>'.join(c.calls) or 'none'} | {c.status} |"
              for c in rc.checks]
    lines += [
        "",
        f"A fresh router container makes {len(rc.cold)} calls for its first request "
        f"({', '.join(rc.cold_signatures)}) and creates "
        f"{', '.join(f'{c.service} ({c.label})' for c in rc.cold_clients) or 'no client'}.",
        "",
        f"Routing throughput — {r.requests:,} requests routed in-process, {r.batch} per "
        "invocation as Lambda batches them, against raw boto3 making only the unavoidable "
        f"calls per request ({r.raw_calls}, the app's own parameters replayed with each "
        "request's ids) on the same moto. Each batch's requests are stored just before it "
        "with the items `requests.add` writes and the table and queues are reset after it, "
        "untimed: moto copies the whole table for every item of a TransactWriteItems, so "
        "with all the requests stored at once each routed request would cost seconds.",
        "",
        "| routed requests | app req/s | raw req/s | app ÷ raw | app ms/request (in AWS calls "
        "+ rest) | raw ms/request | medians app / raw | app AWS calls/request |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {r.requests:,} per side | {r.app_rate:.0f} | {r.raw_rate:.0f} | {r.ratio:.2f} | "
        f"{ms['app']:.2f} ({ms['app_inside_aws_calls']:.2f} + "
        f"{ms['app_outside_aws_calls']:.2f}) | {ms['raw']:.2f} | "
        f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms | "
        f"{r.app_aws.calls / r.requests:.2f} |",
        "",
        f"The measurement took {r.measurement_seconds:.0f} s ({r.app_seconds:.0f} s routing, "
        f"{r.raw_seconds:.0f} s raw, {r.untimed_seconds:.0f} s storing and resetting). "
        + (f"This run routed the requirement's {r.requests:,} per side (`--routed "
           f"{r.requests}`); `make bench` routes {DEFAULT_ROUTED:,}, to stay within about "
           "five minutes on 2 cores." if r.requests >= 10_000 else
           f"This run routed {r.requests:,} per side, to stay within about five minutes "
           "on 2 cores; `python -m bench --routed 10000` routes the requirement's 10,000 "
           "(about six minutes more)."),
    ]
    return lines
