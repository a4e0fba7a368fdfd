"""Cold start and memory: what a resident waits for when their call meets a new Lambda
container, and what each function holds in memory.

Measured side by side in one run, against one moto server in another process
(``bench.emulator``), with the emulator's own time taken out:

1. Every scenario is a fresh interpreter (``bench.coldchild``) that has imported nothing of
   the AWS SDK or the app before its timer (it checks), and times the import of its
   handler's module and its first event:

   - ``baseline``: ``import boto3`` + ``boto3.client("dynamodb")`` + one GetItem of the demo
     town's item — the least any handler that reads DynamoDB can do;
   - ``get-request``, ``get-services``, ``post-request``: ``import app`` +
     ``app.app(event, context)`` with an API Gateway REST proxy event (the acceptance
     figures: each within 1.5× the baseline);
   - each event function: ``import <its module>`` + its first realistic event (a routing
     message for a stored unrouted request, a webhook delivery to a receiver on loopback,
     a receipt notice, the schedules, an inbound STOP text, a photo upload).

   Rounds are interleaved (every scenario once per round, the baseline included, in an
   order that turns round by round, so that the machine's load falls on all alike); the
   first round is discarded (it compiles bytecode and fills the page cache). For each child
   the parent reads the emulator's running total right before starting it and right after
   it exits, so ``own = total − emulator``; the ratio to the baseline is taken per round
   (own ÷ the same round's baseline own) and its median is reported.
2. Memory: a fresh interpreter imports ``app`` and answers 1,000 mixed API requests through
   ``app.app(event, context)``; its RSS after the import and its peak are reported beside
   the memory size each function is configured with (``.chalice/config.json``).
3. ``python -X importtime -c "import app"``: the ten largest cumulative imports, and which
   heavy libraries ``import app`` loads at all.

Run alone: ``python -m bench.coldstart [--repeat N]`` prints the cold-start report.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.environment import POTHOLE, ROOT, TOWN_ID, child_environment

BASELINE = "baseline"
ACCEPTANCE = ("get-request", "get-services", "post-request")
TARGET = 1.5
DEFAULT_REPEAT = 5
MEMORY_CALLS = 1000
TITLES = {
    BASELINE: "baseline: import boto3 + DynamoDB client + GetItem",
    "get-request": "import app + GET one request",
    "get-services": "import app + GET services.json",
    "post-request": "import app + POST requests.json",
}
# Why each function has the memory it has (the sizes themselves are read from the config).
MEMORY_REASONS = {
    "api_handler": "a resident waits for its cold start, which is CPU-bound imports: "
                   "Lambda gives CPU in proportion to memory (one vCPU at 1,769 MB), so "
                   "1,024 MB starts about twice as fast as 512 MB for about the same "
                   "GB-seconds of CPU-bound work; the memory itself is barely used",
    "process_photo": "decoding a 12-megapixel photo peaks at 211 MB (JPEG) to 336 MB "
                     "(HEIC), and the extra CPU share shortens the resize",
}
DEFAULT_REASON = "the default: the peak is far below it; more would buy CPU, not room"
HEAVY = ("boto3", "botocore", "pynamodb", "pydantic", "pydantic_core",
         "aws_lambda_powertools", "chalice", "ulid", "jmespath", "urllib3", "yaml",
         "aws_xray_sdk", "dateutil", "shapely", "numpy", "cryptography", "PIL")
CHILD = "from bench.coldchild import main; main()"
PYTHON = [sys.executable, "-X", "frozen_modules=on"]
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")


@dataclass
class Spread:
    """Median and range of repeated figures (milliseconds, or a ratio)."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def text(self, unit: str = " ms", digits: int = 0) -> str:
        return (f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–"
                f"{self.high:.{digits}f})")

    def to_json(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.low, "max": self.high, "runs": self.values}


@dataclass(frozen=True)
class ColdRun:
    """One child: its own timings, the emulator's time around it, its peak memory."""

    total_ms: float
    import_ms: float
    first_call_ms: float
    emulator_ms: float
    emulator_requests: int
    peak_rss_mb: float
    modules_after: int

    @property
    def own_ms(self) -> float:
        return self.total_ms - self.emulator_ms


@dataclass
class ColdScenario:
    name: str
    function: str
    handler: str
    runs: list[ColdRun] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # own ÷ the round's baseline own

    @property
    def title(self) -> str:
        return TITLES.get(self.name, f"import {self.handler.rpartition('.')[0]} + first "
                                     f"event of {self.name}")

    def spread(self, what: str) -> Spread:
        return Spread([getattr(run, what) for run in self.runs])

    @property
    def ratio(self) -> Spread:
        return Spread(self.ratios)

    @property
    def acceptance(self) -> bool:
        return self.name in ACCEPTANCE

    @property
    def passed(self) -> bool:
        return self.ratio.median <= TARGET

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.name, "title": self.title, "function": self.function,
                "handler": self.handler,
                **{what: self.spread(what + "_ms").to_json()
                   for what in ("total", "emulator", "own", "import", "first_call")},
                "aws_requests": self.runs[0].emulator_requests,
                "ratio_own_to_baseline_own": self.ratio.to_json() if self.ratios else None,
                "acceptance": self.acceptance, "target": TARGET if self.ratios else None,
                "peak_rss_mb": self.spread("peak_rss_mb").to_json(),
                "modules_after": self.runs[0].modules_after}


@dataclass(frozen=True)
class FunctionMemory:
    function: str
    configured_mb: int
    peak_rss_mb: float
    measured_by: str
    reason: str


@dataclass(frozen=True)
class MemoryRun:
    """The API function after ``calls`` mixed requests in one fresh process."""

    calls: int
    mix: dict[str, int]
    rss_after_import_mb: float
    peak_rss_mb: float
    seconds: float


@dataclass(frozen=True)
class ImportProfile:
    total_ms: float
    modules: int
    top: list[dict[str, Any]]
    heavy_loaded: list[str]
    heavy_not_loaded: list[str]


@dataclass
class ColdStartReport:
    rounds: int
    scenarios: dict[str, ColdScenario]
    preloaded: list[str]  # in a child's sys.modules before its timer, beyond a bare python
    memory: MemoryRun
    functions: list[FunctionMemory]
    profile: ImportProfile

    @property
    def passed(self) -> bool:
        return all(self.scenarios[name].passed for name in ACCEPTANCE)

    def flagged(self) -> list[str]:
        """Event functions above the target: reported, not failed."""
        return [s.name for s in self.scenarios.values()
                if s.ratios and not s.acceptance and not s.passed]

    def to_json(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "target": TARGET, "passed": self.passed,
                "flagged_event_functions": self.flagged(),
                "preloaded_before_timer": self.preloaded,
                "scenarios": {k: v.to_json() for k, v in self.scenarios.items()},
                "memory": vars(self.memory),
                "functions": [vars(f) for f in self.functions],
                "import_app_profile": vars(self.profile)}


def configured_memory(functions: list[str]) -> dict[str, int]:
    """Each function's memory size as deployed: its own ``lambda_memory_size`` in
    ``.chalice/config.json``, else the file's default (Chalice's rule, stages aside)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    default = int(config.get("lambda_memory_size", 128))
    own = config.get("lambda_functions", {})
    return {name: int(own.get(name, {}).get("lambda_memory_size", default))
            for name in functions}


def _run(args: list[str], env: dict[str, str], timeout: float = 300
         ) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*PYTHON, *args], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)[:80]} failed:\n{result.stderr[-3000:]}")
    return result


def _result(stdout: str) -> dict[str, Any]:
    from bench.coldchild import MARKER

    line = next(x for x in reversed(stdout.splitlines()) if x.startswith(MARKER + " "))
    return dict(json.loads(line[len(MARKER) + 1:]))


def _bare_modules(env: dict[str, str]) -> set[str]:
    out = _run(["-c", "import sys; print('\\n'.join(sys.modules))"], env).stdout
    return set(out.split())


def import_profile() -> ImportProfile:
    """``-X importtime`` of ``import app`` (run twice; the second, with bytecode cached)."""
    for _ in range(2):
        lines = _run(["-X", "importtime", "-c", "import app"],
                     child_environment()).stderr.splitlines()
    rows: list[dict[str, Any]] = []
    for line in lines:
        match = _IMPORTTIME.match(line)
        if match:
            own, cumulative, indent, name = match.groups()
            rows.append({"module": name, "cumulative_ms": int(cumulative) / 1000,
                         "self_ms": int(own) / 1000, "depth": (len(indent) - 1) // 2})
    top = sorted(rows, key=lambda r: r["cumulative_ms"], reverse=True)[:10]
    names = {r["module"].split(".")[0] for r in rows}
    app_row = next(r for r in rows if r["module"] == "app")
    return ImportProfile(total_ms=app_row["cumulative_ms"], modules=len(rows), top=top,
                         heavy_loaded=sorted(n for n in HEAVY if n in names),
                         heavy_not_loaded=sorted(n for n in HEAVY if n not in names))


def _memory_events(town: Any, count: int) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]],
                                                   dict[str, int]]:
    """A realistic mix of API calls over Maple Falls (fixed seed: the same every run)."""
    from bench.lambda_events import (
        DUPLICATES_RESOURCE,
        LOAD_KEY,
        REQUEST_RESOURCE,
        SERVICE_RESOURCE,
        TOWN_RESOURCE,
        TRACK_RESOURCE,
        api_event,
        form_post,
    )

    rng = random.Random(14)

    def somewhere() -> list[tuple[str, str]]:
        """A pothole somewhere in town (within about 2 km of the centre), not all on one
        spot: a lookup of duplicates then finds the neighbours it would find in a town."""
        return [*{**POTHOLE, "lat": f"{41.8781 + rng.uniform(-0.02, 0.02):.6f}",
                  "long": f"{-87.6298 + rng.uniform(-0.02, 0.02):.6f}"}.items()]

    stored = [town.post(form_post(somewhere(), api_key=LOAD_KEY)) for _ in range(20)]
    numbers = [str(town.dep.container.requests.get(TOWN_ID, rid, with_timeline=False)
                   .tracking_number) for rid in stored]
    town_parameters = {"town": TOWN_ID}

    def list_query() -> list[tuple[str, str]]:
        """What an Open311 client asks for: a page (of 20: apps show a screenful) of a
        town's requests, often filtered."""
        return [*rng.choice([[("service_code", "pothole"), ("status", "open")],
                             [("status", "open")], [("service_code", "pothole")], []]),
                ("page_size", "20")]

    makers = {
        "GET services.json": (25, lambda: (api_event("GET", TOWN_RESOURCE, {
            **town_parameters, "resource": "services.json"}), 200)),
        "GET one request": (25, lambda: (api_event("GET", REQUEST_RESOURCE, {
            **town_parameters, "request_id": rng.choice(stored) + ".json"}), 200)),
        "GET requests.json with filters": (10, lambda: (api_event("GET", TOWN_RESOURCE, {
            **town_parameters, "resource": "requests.json"}, list_query()), 200)),
        "POST requests.json": (10, lambda: (form_post(somewhere(), api_key=LOAD_KEY), 201)),
        "GET tracking page": (10, lambda: (api_event("GET", TRACK_RESOURCE, {
            **town_parameters, "number": rng.choice(numbers)}), 200)),
        "GET possible duplicates": (10, lambda: (api_event("GET", DUPLICATES_RESOURCE,
            town_parameters, [("service_code", "pothole"),
                              ("lat", f"{41.8781 + rng.uniform(-0.02, 0.02):.6f}"),
                              ("long", f"{-87.6298 + rng.uniform(-0.02, 0.02):.6f}")]), 200)),
        "GET service definition": (10, lambda: (api_event("GET", SERVICE_RESOURCE, {
            **town_parameters, "code": "pothole.json"}), 200)),
    }
    names = list(makers)
    weights = [makers[name][0] for name in names]
    mix: dict[str, int] = dict.fromkeys(names, 0)
    events = []
    for name in rng.choices(names, weights, k=count):
        event, status = makers[name][1]()
        mix[name] += 1
        events.append((event, {"status": status}))
    return events, mix


def _measure_memory(town: Any, env: dict[str, str], memory_mb: int, workdir: Path,
                    count: int) -> MemoryRun:
    import time

    events, mix = _memory_events(town, count)
    # Each kind is tried once here first, so a wrong event fails before the long run.
    seen: set[str] = set()
    for event, expected in events:
        kind = f"{event['httpMethod']} {event['resource']}"
        if kind not in seen and event["httpMethod"] == "GET":
            seen.add(kind)
            status = town.call(event)["statusCode"]
            if status != expected["status"]:
                raise RuntimeError(f"{kind}: HTTP {status} in the parent")
    lines = workdir / "memory-events.jsonl"
    lines.write_text("".join(json.dumps(pair) + "\n" for pair in events), encoding="utf-8")
    job = workdir / "memory.json"
    job.write_text(json.dumps({"events_file": str(lines)}))
    started = time.perf_counter()
    result = _result(_run(["-c", CHILD, "app.app", "api_handler", str(memory_mb), str(job),
                           "{}"], env, timeout=900).stdout)
    return MemoryRun(result["calls"], mix, result["rss_after_import_mb"],
                     result["peak_rss_mb"], time.perf_counter() - started)


def measure_cold_start(repeat: int = DEFAULT_REPEAT, memory_calls: int = MEMORY_CALLS,
                       progress: Any = None) -> ColdStartReport:
    """Every cold-start scenario, ``repeat`` interleaved rounds after a discarded one, then
    the memory run; all against one emulator process started here."""
    from bench.emulator import emulator
    from bench.lambda_events import API_FUNCTION, Job, cold_town, event_handlers
    from chalicelib.adapters.dynamodb import keys

    handlers = event_handlers()
    memory = configured_memory([API_FUNCTION, *handlers])
    with emulator() as server, cold_town(server) as (town, town_env, receiver), \
            tempfile.TemporaryDirectory(prefix="town311-cold-") as tmp:
        env = child_environment(town_env)
        workdir = Path(tmp)
        baseline = Job(API_FUNCTION, "boto3", {
            "TableName": town_env["TOWN311_TABLE"],
            "Key": {"PK": {"S": keys.town_pk(TOWN_ID)}, "SK": {"S": keys.TOWN_SK}}},
            {"item": True})
        scenarios: dict[str, ColdScenario] = {}
        bare = _bare_modules(env)
        preloaded: set[str] = set()
        for round_ in range(repeat + 1):
            jobs = {BASELINE: baseline, **town.api_jobs(), **town.event_jobs(handlers)}
            names = list(jobs)
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            runs: dict[str, ColdRun] = {}
            for name in order:
                job = jobs[name]
                path = workdir / f"{name}.json"
                path.write_text(json.dumps(job.event), encoding="utf-8")
                delivered = receiver.received
                before = server.total()
                result = _result(_run(["-c", CHILD, job.handler, job.function,
                                       str(memory[job.function]), str(path),
                                       json.dumps(job.check)], env).stdout)
                spent = server.total() - before
                if name == "deliver_webhooks" and receiver.received != delivered + 1:
                    raise RuntimeError("deliver_webhooks answered well but delivered nothing")
                preloaded |= set(result["modules_before"]) - bare
                runs[name] = ColdRun(result["total_ms"], result["import_ms"],
                                     result["first_call_ms"], spent.seconds * 1000,
                                     spent.requests, result["peak_rss_mb"],
                                     result["modules_after"])
            if progress is not None:
                progress(f"cold-start round {round_}/{repeat}"
                         f"{' (warm-up, discarded)' if round_ == 0 else ''}")
            if round_ == 0:
                continue
            for name, run in runs.items():
                scenario = scenarios.setdefault(
                    name, ColdScenario(name, jobs[name].function, jobs[name].handler))
                scenario.runs.append(run)
                if name != BASELINE:
                    scenario.ratios.append(run.own_ms / runs[BASELINE].own_ms)
        if progress is not None:
            progress(f"memory: import app, then {memory_calls} mixed API requests")
        memory_run = _measure_memory(town, env, memory[API_FUNCTION], workdir, memory_calls)

    functions = [FunctionMemory(API_FUNCTION, memory[API_FUNCTION], memory_run.peak_rss_mb,
                                f"after {memory_run.calls} mixed API requests",
                                MEMORY_REASONS.get(API_FUNCTION, DEFAULT_REASON))]
    functions += [FunctionMemory(name, memory[name],
                                 scenarios[name].spread("peak_rss_mb").high,
                                 "after its first event (highest of the rounds)",
                                 MEMORY_REASONS.get(name, DEFAULT_REASON))
                  for name in handlers]
    return ColdStartReport(repeat, scenarios, sorted(preloaded), memory_run, functions,
                           import_profile())


def console_lines(cold: ColdStartReport) -> list[str]:
    base = cold.scenarios[BASELINE]
    out = [f"(a) COLD START — fresh interpreters against moto's server in another process; "
           f"{cold.rounds} interleaved rounds after a discarded one; medians (range); "
           "own = total − emulator",
           f"  before each timer, beyond a bare interpreter: {', '.join(cold.preloaded)}",
           f"  {'scenario':<27}{'total':>8}{'emulator':>10}{'own (range)':>20}"
           f"{'import':>8}{'1st call':>10}{'own ÷ baseline (range)':>26}{'peak RSS':>10}"]
    for s in cold.scenarios.values():
        verdict = ("PASS" if s.passed else "FAIL") if s.acceptance else \
            ("flag" if s.ratios and not s.passed else "")
        ratio = s.ratio.text("×", 2) if s.ratios else "1"
        out.append(f"  {s.name:<27}{s.spread('total_ms').median:>8.0f}"
                   f"{s.spread('emulator_ms').median:>10.0f}{s.spread('own_ms').text():>20}"
                   f"{s.spread('import_ms').median:>8.0f}"
                   f"{s.spread('first_call_ms').median:>10.0f}{ratio:>26}"
                   f"{s.spread('peak_rss_mb').median:>7.0f} MB {verdict}")
    out.append(f"  acceptance (GET one request, GET services, POST request ≤ {TARGET}× "
               f"baseline own {base.spread('own_ms').median:.0f} ms): "
               f"{'PASS' if cold.passed else 'FAIL'}; event functions above {TARGET}×: "
               f"{', '.join(cold.flagged()) or 'none'}")
    m = cold.memory
    out.append(f"  memory: API after {m.calls} mixed requests: peak RSS {m.peak_rss_mb:.0f} MB "
               f"(after import {m.rss_after_import_mb:.0f} MB); {m.seconds:.0f} s")
    for f in cold.functions:
        out.append(f"    {f.function:<28}{f.configured_mb:>6} MB configured, peak "
                   f"{f.peak_rss_mb:.0f} MB {f.measured_by}")
    p = cold.profile
    out.append(f"  python -X importtime -c 'import app': {p.total_ms:.0f} ms, {p.modules} "
               f"modules; loads {', '.join(p.heavy_loaded)}; top 10 cumulative:")
    out += [f"    {row['cumulative_ms']:7.1f} ms  {'  ' * row['depth']}{row['module']}"
            for row in p.top]
    return out


def markdown_lines(cold: ColdStartReport) -> list[str]:
    base = cold.scenarios[BASELINE]
    lines = [
        f"**Cold start** — each run a fresh interpreter (`python -X frozen_modules=on`) that "
        "has imported nothing of the AWS SDK or the app before its timer (checked; beyond a "
        f"bare interpreter it holds only {', '.join(f'`{m}`' for m in cold.preloaded)}), "
        "against moto's server in another process on loopback. The emulator's time (what "
        "moto spent answering the child's calls, added up by a middleware in the server) is "
        "taken out: **own = total − emulator**. The scenarios run interleaved, "
        f"{cold.rounds} rounds after a discarded one, the baseline in every round; the ratio "
        "is own ÷ the same round's baseline own, and its median is shown. Medians (range), "
        "ms.",
        "",
        "| scenario | total | emulator | own | import | first call | own ÷ baseline | "
        "AWS calls | peak RSS | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in cold.scenarios.values():
        verdict = ("**PASS**" if s.passed else "**FAIL**") if s.acceptance else \
            ("above 1.5×" if s.ratios and not s.passed else "")
        ratio = s.ratio.text("×", 2) if s.ratios else "1"
        lines.append(
            f"| {s.title} | {s.spread('total_ms').text('')} | "
            f"{s.spread('emulator_ms').text('')} | {s.spread('own_ms').text('')} | "
            f"{s.spread('import_ms').median:.0f} | {s.spread('first_call_ms').median:.0f} | "
            f"{ratio} | {s.runs[0].emulator_requests} | "
            f"{s.spread('peak_rss_mb').median:.0f} MB | {verdict} |")
    lines += [
        "",
        f"Acceptance (GET one request, GET services, POST a request, each ≤ {TARGET}× the "
        f"baseline's own {base.spread('own_ms').median:.0f} ms): "
        f"**{'PASS' if cold.passed else 'FAIL'}**. Event functions above {TARGET}× "
        f"(flagged, not failed): {', '.join(cold.flagged()) or 'none'}. "
        "`import app` loads " + ", ".join(cold.profile.heavy_loaded) + " and none of "
        + ", ".join(cold.profile.heavy_not_loaded) + "; its largest cumulative imports "
        "(`python -X importtime -c 'import app'`, "
        f"{cold.profile.total_ms:.0f} ms there): "
        + ", ".join(f"{r['module']} {r['cumulative_ms']:.0f} ms" for r in cold.profile.top[:6])
        + ".",
        "",
        f"**Memory** — a fresh interpreter imports `app` ({cold.memory.rss_after_import_mb:.0f}"
        f" MB RSS after it) and answers {cold.memory.calls:,} mixed requests through "
        "`app.app(event, context)` as Lambda calls it ("
        + ", ".join(f"{n} {k}" for k, n in cold.memory.mix.items())
        + f"): peak RSS **{cold.memory.peak_rss_mb:.0f} MB**. The event functions' peaks are "
        "those of their cold-start runs above. Sizes are read from `.chalice/config.json`.",
        "",
        "| function | configured | peak RSS | measured | why this size |",
        "|---|---:|---:|---|---|",
    ]
    lines += [f"| {f.function} | {f.configured_mb} MB | {f.peak_rss_mb:.0f} MB | "
              f"{f.measured_by} | {f.reason} |" for f in cold.functions]
    return lines


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--memory-calls", type=int, default=MEMORY_CALLS)
    args = parser.parse_args(argv)
    from bench.environment import silenced

    with silenced():
        report = measure_cold_start(args.repeat, args.memory_calls)
    print("\n".join(console_lines(report)))


if __name__ == "__main__":
    main()
