"""The bench's results as a readable console report and as Markdown for the docs.

Both are rendered from the same ``Results``; the JSON written to ``.run/bench.json`` (or
``bench-scale.json``) is the machine-readable form of the same figures. ``write_figures``
puts the Markdown into ``docs/performance.md`` between the markers of its run: the quick
bench (``make bench``) and the scale bench (``make bench-scale``) each own a section, so
that each keeps the published figures those of its last run, neither erases the other's,
and the page's own text stays as written.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.alerts import AlertBench
from bench.alerts import console_lines as alert_console
from bench.alerts import markdown_lines as alert_markdown
from bench.calls import Operation
from bench.coldstart import ColdStartReport
from bench.coldstart import console_lines as cold_console
from bench.coldstart import markdown_lines as cold_markdown
from bench.duplicates import DuplicateBench, console_lines, markdown_lines
from bench.exports import ExportRun
from bench.exports import checks as export_checks
from bench.exports import markdown_lines as export_markdown
from bench.figures import FiguresBench
from bench.figures import markdown_lines as figures_markdown
from bench.notices import console_lines as notice_console
from bench.notices import markdown_lines as notice_markdown
from bench.pages import PageWeight
from bench.pages import console_lines as page_console
from bench.pages import markdown_lines as page_markdown
from bench.routing import BatchRate, RoutedCalls
from bench.service_levels import SlaBench
from bench.service_levels import console_lines as sla_console
from bench.service_levels import markdown_lines as sla_markdown
from bench.throughput import Rate

PACKAGES = ("boto3", "moto", "pynamodb", "pydantic", "chalice", "aws-lambda-powertools")
PERFORMANCE_DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
BEGIN = "<!-- bench:begin: written by `make bench` (bench/report.py); edit the generator -->"
END = "<!-- bench:end -->"
SCALE_BEGIN = ("<!-- bench-scale:begin: written by `make bench-scale` (bench/report.py); "
               "edit the generator -->")
SCALE_END = "<!-- bench-scale:end -->"


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
    """One run's figures: the quick scenarios, or (``scale``) the 100,000-item ones."""

    machine: dict[str, Any]
    load_before: tuple[float, float, float]
    scale: bool = False
    repeat: int = 0
    requests: int = 0
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    cold: ColdStartReport | None = None
    calls: list[Operation] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    routing_calls: RoutedCalls | None = None
    routing_rate: BatchRate | None = None
    notices: dict[str, Any] | None = None
    duplicates: DuplicateBench | None = None
    sla_sweep: SlaBench | None = None
    alerts: AlertBench | None = None
    pages: list[PageWeight] = field(default_factory=list)
    figures: FiguresBench | None = None
    exports: list[ExportRun] = field(default_factory=list)
    export_requests: int = 0
    cost_model: dict[str, float] = field(default_factory=dict)  # scenario → $ a month

    @property
    def exports_passed(self) -> bool:
        return not self.exports or all(export_checks(self.exports,
                                                     self.export_requests).values())

    @property
    def passed(self) -> bool:
        """Every target met. The cold-start acceptance is reported, not enforced here: the
        bench must finish green while the cold path is being cut."""
        return all(op.passed for op in self.calls) and all(
            p.passed for p in self.pages) and all(
            part.passed for part in (self.routing_calls, self.duplicates, self.sla_sweep,
                                     self.alerts, self.figures) if part is not None) \
            and self.exports_passed

    def to_json(self) -> dict[str, Any]:
        return {"machine": self.machine, "scale": self.scale,
                "load_average_before": self.load_before,
                "load_average_after": self.load_after, "bench_seconds": self.seconds,
                "cold_start": self.cold.to_json() if self.cold else None,
                "calls": [o.to_json() for o in self.calls],
                "throughput": [r.to_json() for r in self.rates],
                "routing": {"calls_per_routed_request": self.routing_calls.to_json()
                            if self.routing_calls else None,
                            "throughput": self.routing_rate.to_json()
                            if self.routing_rate else None},
                "notice_fanout": self.notices,
                "possible_duplicates": self.duplicates.to_json() if self.duplicates else None,
                "sla_sweep": self.sla_sweep.to_json() if self.sla_sweep else None,
                "alert_fanout": self.alerts.to_json() if self.alerts else None,
                "pages": [p.to_json() for p in self.pages],
                "figures": self.figures.to_json() if self.figures else None,
                "exports": {"requests": self.export_requests,
                            "runs": [r.to_json() for r in self.exports]}
                if self.exports else None,
                "cost_model": self.cost_model or None}


def _versions(results: Results) -> str:
    return " · ".join(f"{k} {v}" for k, v in results.machine["packages"].items())


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def console(results: Results) -> str:
    m = results.machine
    out = [
        f"Town311 bench{' (scale)' if results.scale else ''}",
        f"machine: {m['cores']} cores, {m['system']}, Python {m['python']}; "
        f"load average (1/5/15 min) {_load(results.load_before)} before, "
        f"{_load(results.load_after)} after; run took {results.seconds:.0f} s",
        f"versions: {_versions(results)}",
        "",
    ]
    if results.cold:
        out += cold_console(results.cold)
    if results.calls:
        out += ["", "(b) AWS CALLS PER OPEN311 OPERATION — botocore hooks; cold = fresh "
                    "container, warm = the next call (checked; a warm call must create no "
                    "client)"]
    for op in results.calls:
        verdict = "PASS" if op.passed else "FAIL"
        out.append(f"  {op.title:<38} {verdict}   target: {op.target.text}")
        out.append(f"    cold ({len(op.cold)}): {', '.join(op.cold_signatures) or 'none'}")
        out.append(f"      clients created: {op.clients_text()}")
        out.append(f"    warm ({len(op.warm)}): {', '.join(op.warm_signatures) or 'none'}")
        for sig, call in zip(op.warm_signatures, op.warm, strict=True):
            out.append(f"      {sig}  ← {call.via} ← {' ← '.join(call.stack[:3])}")
    if results.rates:
        out += ["", f"(c) THROUGHPUT — in-process, chalice.test.Client vs raw boto3, same moto, "
                    f"{results.requests} calls each after warm-up; emulator = moto's own time"]
    for r in results.rates:
        ms = r.per_request_ms()
        out.append(
            f"  {r.operation:<18} app {r.app_rate:6.1f}/s   raw {r.raw_rate:6.1f}/s   "
            f"app ÷ raw {r.ratio:.2f}   per call: app {ms['app']:.2f} ms (emulator "
            f"{ms['app_emulator']:.2f} + own {ms['app_own']:.2f}; in AWS calls "
            f"{ms['app_inside_aws_calls']:.2f}), raw {ms['raw']:.2f} ms (emulator "
            f"{ms['raw_emulator']:.2f} + own {ms['raw_own']:.2f}); medians "
            f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms [{r.raw_calls}]")
    out += _routing_console(results)
    if results.notices:
        out += notice_console(results.notices)
    if results.duplicates:
        out += console_lines(results.duplicates)
    if results.sla_sweep:
        out += sla_console(results.sla_sweep)
    if results.alerts:
        out += alert_console(results.alerts)
    if results.pages:
        out += page_console(results.pages)
    out += _issue17_lines(results)
    return "\n".join(out)


def _routing_console(results: Results) -> list[str]:
    rc, r = results.routing_calls, results.routing_rate
    if r is None:
        return []
    if rc is None:
        ms = r.per_request_ms()
        return ["", f"(d) ROUTING THROUGHPUT — {r.requests} requests routed per side: app "
                    f"{r.app_rate:.1f}/s, raw {r.raw_rate:.1f}/s, app ÷ raw {r.ratio:.2f}; "
                    f"per request app {ms['app']:.2f} ms, raw {ms['raw']:.2f} ms"]
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
    m = results.machine
    lines = [
        "## Performance",
        "",
        f"Measured with {_command(results)} on a {m['cores']}-core {m['system']} machine, "
        f"Python {m['python']} ({_versions(results)}); load average "
        f"{_load(results.load_before)} at the start, {_load(results.load_after)} at the end; "
        f"the run took {results.seconds:.0f} s.",
        "",
    ]
    if results.cold:
        lines += cold_markdown(results.cold) + [""]
    if results.calls:
        lines += [
            "**AWS calls per Open311 operation** — counted with botocore event hooks on every "
            "client (the app's, pynamodb's and powertools'), on moto in-process; the warm "
            "column is the second call on one container and is checked against the target.",
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
    if results.rates:
        lines += [
            "",
            f"**Throughput** — {results.requests} calls each through `chalice.test.Client`, "
            "after warm-up, against raw boto3 making only the unavoidable calls on the same "
            "in-process moto (the app's own parameters, replayed with fresh per-request "
            "values); table and queue are reset between POSTs, untimed. *Emulator* is the "
            "time moto itself spent answering (timed around its `before-send` handler); "
            "*own* = total − emulator.",
            "",
            "| operation | app req/s | raw req/s | app ms/call: total (emulator + own) | "
            "raw ms/call: total (emulator + own) | own app ÷ raw | app in AWS calls | "
            "medians app / raw |",
            "|---|---:|---:|---|---|---:|---:|---:|",
        ]
    for r in results.rates:
        ms = r.per_request_ms()
        lines.append(
            f"| {r.operation} | {r.app_rate:.0f} | {r.raw_rate:.0f} | {ms['app']:.2f} "
            f"({ms['app_emulator']:.2f} + **{ms['app_own']:.2f}**) | {ms['raw']:.2f} "
            f"({ms['raw_emulator']:.2f} + {ms['raw_own']:.2f}) | "
            f"{ms['app_own'] / ms['raw_own']:.1f} | {ms['app_inside_aws_calls']:.2f} ms | "
            f"{ms['app_median']:.2f} / {ms['raw_median']:.2f} ms |")
    lines += _routing_markdown(results)
    if results.notices:
        lines += notice_markdown(results.notices)
    if results.duplicates:
        lines += markdown_lines(results.duplicates)
    if results.sla_sweep:
        lines += sla_markdown(results.sla_sweep)
    if results.alerts:
        lines += alert_markdown(results.alerts)
    if results.pages:
        lines += page_markdown(results.pages)
    lines += _issue17_lines(results)
    lines += [
        "",
        f"Re-run with {_command(results)}: it prints the full report (with the stack of "
        "every counted call and the clients each cold operation creates), writes the figures "
        f"to `.run/{'bench-scale' if results.scale else 'bench'}.json` and this section to "
        "`docs/performance.md`, and exits non-zero if an operation misses its target.",
    ]
    return "\n".join(lines) + "\n"


def _issue17_lines(results: Results) -> list[str]:
    """The figures, the exports and the cost model (issue 17), the same lines in the
    console and in Markdown: each module renders its own."""
    lines: list[str] = []
    if results.figures:
        lines += figures_markdown(results.figures)
    if results.exports:
        lines += ["", *export_markdown(results.exports, results.export_requests),
                  "", f"(`make bench` writes {results.export_requests:,} requests: moto reads "
                  "the whole table for every index Query, so a larger town only takes "
                  "longer here; `python -m bench.exports --requests 3000` is the bigger "
                  "run.)"]
    if results.cost_model:
        lines += ["", "**Cost model** (`bench/cost_model.py`, the price table in "
                  "chalicelib/config.py) — an estimated month: " + "; ".join(
                      f"{name.lower()} ${total:,.2f}" for name, total in
                      results.cost_model.items()) + ". This run also rewrote the table, "
                  "its sources and assumptions in \"What a town costs\" below."]
    return lines


def write_figures(section: str, document: Path = PERFORMANCE_DOC, scale: bool = False) -> None:
    """Replace what lies between the markers of this run's section of ``document`` (the
    quick bench's, or with ``scale`` the scale bench's) with ``section`` (the output of
    ``markdown`` without its heading: the page has its own). Everything outside the
    markers is kept as it is; a page without both markers, in order, is an error rather
    than a page silently left stale."""
    begin, end = (SCALE_BEGIN, SCALE_END) if scale else (BEGIN, END)
    text = document.read_text(encoding="utf-8")
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"{document} has no {begin!r} ... {end!r} section to rewrite")
    body = section.removeprefix("## Performance\n").strip("\n")
    document.write_text(text[:start + len(begin)] + "\n\n" + body + "\n\n" + text[stop:],
                        encoding="utf-8")


def _command(results: Results) -> str:
    """The command that gives these figures: the make target if it ran with its defaults."""
    from bench.__main__ import _parse

    defaults = _parse(["--scale"] if results.scale else [])
    target = "`make bench-scale`" if results.scale else "`make bench`"
    if results.scale:
        given = {"--duplicates": results.duplicates.count if results.duplicates else None,
                 "--alert-subscribers": results.alerts.subscribers if results.alerts else None,
                 "--routed": results.routing_rate.requests if results.routing_rate else None}
    else:
        given = {"--repeat": results.repeat, "--requests": results.requests,
                 "--figure-years": results.figures.years if results.figures else None,
                 "--export-requests": results.export_requests or None,
                 "--routed": results.routing_rate.requests if results.routing_rate else None,
                 "--memory-calls": results.cold.memory.calls if results.cold else None}
    options = {name: value for name, value in given.items() if value is not None
               and value != getattr(defaults, name[2:].replace("-", "_"))}
    if not options:
        return target
    return ("`python -m bench " + ("--scale " if results.scale else "")
            + " ".join(f"{k} {v}" for k, v in options.items()) + f"` (not {target}'s defaults)")


def _routing_markdown(results: Results) -> list[str]:
    rc, r = results.routing_calls, results.routing_rate
    if r is None:
        return []
    ms = r.per_request_ms()
    if rc is None:
        return ["", f"**Routing at scale** — {r.requests:,} requests routed per side through "
                    "`route_new_requests` (10 per invocation), against raw boto3 making only "
                    f"the unavoidable calls ({r.raw_calls}); each batch stored just before it "
                    "and reset after it, untimed.", "",
                "| routed requests | app req/s | raw req/s | app ÷ raw | app ms/request | "
                "raw ms/request | app AWS calls/request | measurement |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|",
                f"| {r.requests:,} per side | {r.app_rate:.0f} | {r.raw_rate:.0f} | "
                f"{r.ratio:.2f} | {ms['app']:.2f} | {ms['raw']:.2f} | "
                f"{r.app_aws.calls / r.requests:.2f} | {r.measurement_seconds:.0f} s |"]
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
        + f"`make bench` routes {r.requests:,} per side; `make bench-scale` routes the "
        "requirement's 10,000.",
    ]
    return lines
