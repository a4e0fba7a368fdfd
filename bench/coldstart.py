"""Cold start: what a resident waits for when their call meets a new Lambda container.

Three measurements, each in fresh interpreters (``sys.executable``, the project on
``PYTHONPATH``, the isolated environment of ``bench.environment``):

1. ``import app`` and the first Open311 call against the same least a handler must do
   (``import boto3`` + a client + one GetItem), in ``bench.coldchild`` under ``mock_aws``
   with the resources provisioned and the demo town loaded before the timer starts. The
   scenarios run interleaved, ``repeat`` times after one discarded round (which also
   compiles the bytecode), and the median is reported with the range.
2. What importing alone costs, without moto: ``app``, and for reference the libraries a
   first call pulls in (moto preloads botocore and boto3 in the children above, so their
   import cost is not in those timings; it is here). The "estimate" puts the pieces back
   together as a Lambda would pay them: the SDK import, ``import app`` on top of it (timed
   so), and the first call as measured under moto.
3. ``python -X importtime -c "import app"``: the ten largest cumulative imports, and which
   heavy libraries (boto3, pynamodb, pydantic, powertools...) ``import app`` loads at all.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from bench.coldchild import HEAVY, MARKER
from bench.environment import ROOT, TOWN_ID, child_environment

SCENARIOS = ("app-get", "app-post", "boto3")
TITLES = {
    "app-get": "import app + first GET services.json",
    "app-post": "import app + first POST requests.json",
    "boto3": "baseline: import boto3 + client + GetItem",
}
BOTOCORE = "botocore.session, botocore.client"
# label: (imported before the timer, timed import)
REFERENCE_IMPORTS: dict[str, tuple[str, str]] = {
    "app": ("", "app"),
    "boto3": ("", "boto3"),
    "botocore": ("", BOTOCORE),
    "app after botocore": (BOTOCORE, "app"),
    "app after boto3": ("boto3", "app"),
    "pynamodb after botocore": (BOTOCORE, "pynamodb.models"),
    "powertools idempotency after boto3": (
        "boto3", "aws_lambda_powertools.utilities.idempotency"),
}
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")


@dataclass
class Spread:
    """Median and range of repeated timings, in milliseconds."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self) -> str:
        return f"{self.median:7.1f} ms  ({min(self.values):.0f}–{max(self.values):.0f})"

    def to_json(self) -> dict[str, Any]:
        return {"median_ms": self.median, "min_ms": min(self.values),
                "max_ms": max(self.values), "runs_ms": self.values}


@dataclass
class ColdScenario:
    scenario: str
    total: Spread
    import_app: Spread
    first_call: Spread
    preloaded: list[str]
    imported_by_import: list[str]
    imported_by_first_call: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "title": TITLES[self.scenario],
                "total": self.total.to_json(), "import": self.import_app.to_json(),
                "first_call": self.first_call.to_json(), "preloaded_by_moto": self.preloaded,
                "imported_by_import": self.imported_by_import,
                "imported_by_first_call": self.imported_by_first_call}


@dataclass
class ImportProfile:
    total_ms: float
    modules: int
    top: list[dict[str, Any]]
    heavy_loaded: list[str]
    heavy_not_loaded: list[str]


@dataclass
class ColdStartReport:
    scenarios: dict[str, ColdScenario]
    imports: dict[str, Spread]
    profile: ImportProfile
    notes: list[str] = field(default_factory=list)

    def ratio(self, scenario: str) -> float:
        return self.scenarios[scenario].total.median / self.scenarios["boto3"].total.median

    def estimates(self) -> dict[str, float]:
        """What a Lambda, where moto has preloaded nothing, would roughly see: importing
        what the call needs from the AWS SDK (botocore for pynamodb; boto3 for SQS and
        powertools), then ``import app`` on top of it, then the first call as measured."""
        imports = {k: v.median for k, v in self.imports.items()}
        first_get = self.scenarios["app-get"].first_call.median
        first_post = self.scenarios["app-post"].first_call.median
        estimate = {
            "app-get": imports["botocore"] + imports["app after botocore"] + first_get,
            "app-post": imports["boto3"] + imports["app after boto3"] + first_post,
            "boto3": imports["boto3"] + self.scenarios["boto3"].total.median,
        }
        estimate["app-get ratio"] = estimate["app-get"] / estimate["boto3"]
        estimate["app-post ratio"] = estimate["app-post"] / estimate["boto3"]
        return estimate

    def to_json(self) -> dict[str, Any]:
        return {
            "scenarios": {k: v.to_json() for k, v in self.scenarios.items()},
            "ratio_get_to_boto3": self.ratio("app-get"),
            "ratio_post_to_boto3": self.ratio("app-post"),
            "estimate_without_moto_preload_ms": self.estimates(),
            "import_only": {k: v.to_json() for k, v in self.imports.items()},
            "import_app_profile": vars(self.profile),
        }


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, *args], input=stdin, capture_output=True,
                            text=True, cwd=ROOT, env=child_environment(), timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)[:80]} failed:\n{result.stderr[-2000:]}")
    return result


def _town_key() -> str:
    """The demo town item's key, which the baseline reads (JSON, for ``bench.coldchild``)."""
    from chalicelib.adapters.dynamodb import keys

    return json.dumps({"PK": {"S": keys.town_pk(TOWN_ID)}, "SK": {"S": keys.TOWN_SK}})


def _child(scenario: str, seed: str) -> dict[str, Any]:
    out = _run(["-m", "bench.coldchild", scenario, _town_key()], stdin=seed).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith(MARKER + " "))
    return dict(json.loads(line[len(MARKER) + 1:]))


def _import_ms(before: str, module: str) -> float:
    code = (f"import time\n{'import ' + before if before else ''}\n"
            f"t = time.perf_counter()\nimport {module}\n"
            "print((time.perf_counter() - t) * 1000)")
    return float(_run(["-c", code]).stdout.strip().splitlines()[-1])


def import_profile() -> ImportProfile:
    """``-X importtime`` of ``import app`` (run twice; the second, with bytecode cached)."""
    for _ in range(2):
        lines = _run(["-X", "importtime", "-c", "import app"]).stderr.splitlines()
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


def measure_cold_start(seed_items: list[dict[str, Any]], repeat: int) -> ColdStartReport:
    seed = json.dumps(seed_items)
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in SCENARIOS}
    for round_ in range(repeat + 1):
        for scenario in SCENARIOS:
            result = _child(scenario, seed)
            if round_ > 0:  # the first round warms bytecode and the page cache
                runs[scenario].append(result)
    scenarios = {
        s: ColdScenario(
            s, Spread([r["total_ms"] for r in rs]), Spread([r["import_ms"] for r in rs]),
            Spread([r["first_call_ms"] for r in rs]), rs[0]["preloaded"],
            rs[0]["imported_by_import"], rs[0]["imported_by_first_call"])
        for s, rs in runs.items()
    }
    imports = {label: Spread([_import_ms(before, module) for _ in range(repeat)])
               for label, (before, module) in REFERENCE_IMPORTS.items()}
    return ColdStartReport(scenarios, imports, import_profile())
