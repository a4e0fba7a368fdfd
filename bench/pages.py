"""The resident pages: what each weighs over the wire and what it costs the server.

A resident on a cheap phone and a slow network pays for every kilobyte, so each page is
weighed as a browser without a cache fetches it: its HTML and every stylesheet and script
it links (fetched from the app itself), each gzip-compressed as API Gateway sends it
(``minimum_compression_size`` in app.py). Images are inlined in the CSS, so there are no
others; the map page's tiles come from OpenStreetMap and are not counted. The report
screens (without the map) must stay under 150 kB.

Server time is the app's own milliseconds per page on a warm container, through
``chalice.test.Client`` on in-process moto, with moto's own time taken out (as the
throughput bench does): the median of ``repeat`` renders, and the AWS calls one render
makes.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment
from bench.environment import API_KEY
from bench.throughput import EmulatorClock

TOWN = "maplefalls.example"
REPORT_BUDGET = 150_000  # bytes over the wire, the report screens without the map
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "Accept-Encoding": "gzip"}
_LINKED = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')


@dataclass
class PageWeight:
    """One page: its weight over the wire (gzip) and its server time."""

    name: str
    path: str
    status: int
    html_bytes: int
    html_gzip: int
    assets: list[tuple[str, int, int]]  # (path, bytes, gzip bytes)
    server_ms: list[float] = field(default_factory=list)
    aws_calls: int = 0
    budget: int | None = None

    @property
    def total_gzip(self) -> int:
        return self.html_gzip + sum(g for _, _, g in self.assets)

    @property
    def passed(self) -> bool:
        return self.status == 200 and (self.budget is None or self.total_gzip <= self.budget)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "status": self.status,
                "html_bytes": self.html_bytes, "html_gzip": self.html_gzip,
                "assets": [{"path": p, "bytes": b, "gzip": g} for p, b, g in self.assets],
                "total_gzip": self.total_gzip, "budget": self.budget,
                "server_ms_median": statistics.median(self.server_ms),
                "aws_calls_warm": self.aws_calls, "passed": self.passed}


def _body(response: Any) -> bytes:
    body = response.body
    return body if isinstance(body, bytes) else body.encode("utf-8")


def _gzip(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))  # what API Gateway sends, about


def _csrf(html: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form"
    return found.group(1).decode()


def _filed_number(dep: Deployment) -> str:
    form = urlencode({"service_code": "pothole", "lat": "44.97781", "long": "-93.26365",
                      "address_string": "120 Main St", "attribute[size]": "large",
                      "description": "Deep hole at the crossing", "api_key": API_KEY})
    made = dep.http.post(f"/towns/{TOWN}/open311/v2/requests.json", body=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    request_id = json.loads(made.body)[0]["service_request_id"]
    found = dep.http.get(f"/towns/{TOWN}/open311/v2/requests/{request_id}.json"
                         "?extensions=true")
    return str(json.loads(found.body)[0]["extended_attributes"]["tracking_number"])


def _pages(dep: Deployment) -> list[tuple[str, str, str, dict[str, str] | None, int | None]]:
    """(name, method, path, form, budget): the pages a resident meets."""
    number = _filed_number(dep)
    questions = f"/towns/{TOWN}/report/pothole"
    return [
        ("home", "GET", f"/towns/{TOWN}", None, None),
        ("report: choose the service", "GET", f"/towns/{TOWN}/report?q=hole", None,
         REPORT_BUDGET),
        ("report: the questions", "GET", questions, None, REPORT_BUDGET),
        ("report: where (typed address)", "POST", questions,
         {"step": "questions", "attribute[size][]": "large"}, REPORT_BUDGET),
        ("report: pick the place", "POST", questions,
         {"step": "location", "attribute[size][]": "large", "place_text": "main and 3rd"},
         REPORT_BUDGET),
        ("track a request", "GET", f"/towns/{TOWN}/track/{number}", None, None),
        ("map and list", "GET", f"/towns/{TOWN}/requests", None, None),
        ("alerts in force", "GET", f"/towns/{TOWN}/alerts", None, None),
        ("alert sign-up", "GET", f"/towns/{TOWN}/alerts/sign-up", None, None),
    ]


def measure_pages(dep: Deployment, recorder: AwsCallRecorder, repeat: int = 20
                  ) -> list[PageWeight]:
    """Every page's weight, and its server time over ``repeat`` warm renders."""
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(dep.container.gazetteer_store, TOWN, dep.container.now())
    token = _csrf(_body(dep.http.get(f"/towns/{TOWN}/report/pothole", headers=BROWSER)))
    cookie = {"Cookie": f"t311_csrf={token}"}
    weights = []
    for name, method, path, form, budget in _pages(dep):
        def call(method: str = method, path: str = path, form: dict[str, str] | None = form
                 ) -> Any:
            if method == "GET":
                return dep.http.get(path, headers={**BROWSER, **cookie})
            return dep.http.post(path, body=urlencode({"csrf_token": token, **(form or {})}),
                                 headers={**BROWSER, **cookie, "Content-Type":
                                          "application/x-www-form-urlencoded"})

        first = call()  # warms the container: catalogue, templates, this page's module
        html = _body(first)
        assets = []
        for linked in dict.fromkeys(_LINKED.findall(html.decode("utf-8", "replace"))):
            data = _body(dep.http.get(linked))
            assets.append((linked, len(data), _gzip(data)))
        weight = PageWeight(name, path, first.status_code, len(html), _gzip(html), assets,
                            budget=budget)
        emulator = EmulatorClock()
        with emulator.running():
            for _ in range(repeat):
                before, started = emulator.seconds, time.perf_counter()
                with recorder.recording() as seen:
                    call()
                spent = time.perf_counter() - started - (emulator.seconds - before)
                weight.server_ms.append(spent * 1000)
                weight.aws_calls = len(seen.calls)
        weights.append(weight)
    return weights


def console_lines(pages: list[PageWeight]) -> list[str]:
    out = ["", "(g) RESIDENT PAGES — weight over the wire (gzip, no cache: HTML + linked CSS "
               "and JS) and the app's own ms per warm render (moto's time taken out)"]
    for p in pages:
        verdict = "" if p.budget is None else ("PASS" if p.passed else "FAIL")
        out.append(f"  {p.name:<32} {p.status}  {p.total_gzip / 1000:6.1f} kB (HTML "
                   f"{p.html_gzip / 1000:.1f} kB)  {statistics.median(p.server_ms):6.1f} ms  "
                   f"{p.aws_calls} AWS calls  {verdict}")
    return out


def markdown_lines(pages: list[PageWeight]) -> list[str]:
    lines = [
        "",
        "**Resident pages** (`bench/pages.py`) — each page as a browser without a cache "
        "fetches it: its HTML and every stylesheet and script it links, gzip-compressed as "
        "API Gateway sends them (images are inlined in the CSS; map tiles not counted); the "
        "app's own milliseconds per render on a warm container (median of 20, through "
        "`chalice.test.Client` on in-process moto, moto's time taken out) and the AWS calls "
        "one render makes. Target: every report screen under 150 kB.",
        "",
        "| page | status | over the wire | of which HTML | uncompressed | server ms | AWS "
        "calls | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in pages:
        raw = p.html_bytes + sum(b for _, b, _ in p.assets)
        verdict = "" if p.budget is None else ("PASS" if p.passed else "FAIL")
        lines.append(f"| {p.name} | {p.status} | {p.total_gzip / 1000:.1f} kB | "
                     f"{p.html_gzip / 1000:.1f} kB | {raw / 1000:.0f} kB | "
                     f"{statistics.median(p.server_ms):.1f} | {p.aws_calls} | {verdict} |")
    return lines
