"""Possible duplicates: what one lookup costs with a town of 100,000 stored requests.

The lookup (``GET /towns/{town}/possible-duplicates``, the same service as the staff and
Open311 routes) reads the sparse ``by_place`` index: one Query per geohash-7 cell the
circle can reach (1 to 4 for the default 50 m, at most 9), in parallel. Its cost should
depend on the open requests of that service in those cells and that window, not on how
many requests the town has stored. This section checks that with a crowded table.

Populating: ``count`` requests in Maple Falls (default 100,000), written untimed with
BatchWriteItem (25 items a call) of exactly the items ``requests.add`` writes for META
(``request_item``), spread over a 6 km x 6 km town around the demo point: about 300 open
potholes in the 30-day window (half of them in 60 hot spots of 1 to 4 reports within
25 m, as residents report the same hole; half scattered), about 60 open potholes older than
the window, about 5 % open requests of other services, and everything else closed (closed
requests are not in the index at all). Then ``lookups`` lookups (default 100): half at
hot spots (a resident about to report a known hole), half at random points in town.

Per lookup: the DynamoDB calls (all must be Queries on ``by_place``, at most 9, and no
other call on a warm container), the items those Queries read (their ``ScannedCount``;
with no filter expression it equals their ``Count``), the items returned (within the
radius), and read ÷ returned. Times are the emulator's and say little: moto answers an
index Query by looking at every item of the table (about 0.4 s each at 100,000 items), where
DynamoDB reads only the index partition. On 2 cores, writing 100,000 requests takes about
100 s and 100 lookups about 2 minutes. Run alone with
``python -m bench.duplicates [--count N] [--lookups N]``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment
from bench.environment import TOWN_ID

DEFAULT_COUNT = 100_000
DEFAULT_LOOKUPS = 100
CENTRE = (41.8781, -87.6298)
HALF_SIDE_M = 3_000
OPEN_IN_WINDOW, OPEN_OLD, HOT_SPOTS = 300, 60, 60
OTHER_OPEN_SHARE = 0.05
OTHER_SERVICES = ("streetlight_out", "graffiti", "missed_trash", "downed_tree", "water_leak",
                  "other")
MAX_CELL_QUERIES = 9


@dataclass
class Lookup:
    kind: str  # "hot spot" or "random point"
    queries: int
    other_calls: list[str]
    items_read: int
    items_returned: int
    seconds: float


@dataclass
class DuplicateBench:
    count: int
    populate_seconds: float
    open_potholes_in_window: int
    indexed_items: int
    lookups: list[Lookup] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(1 <= x.queries <= MAX_CELL_QUERIES and not x.other_calls
                   for x in self.lookups)

    def summary(self, kind: str | None = None) -> dict[str, Any]:
        chosen = [x for x in self.lookups if kind is None or x.kind == kind]
        read = sum(x.items_read for x in chosen)
        returned = sum(x.items_returned for x in chosen)

        def spread(values: list[float]) -> dict[str, float]:
            return {"mean": statistics.fmean(values), "median": statistics.median(values),
                    "max": max(values)}

        return {"lookups": len(chosen), "queries": spread([x.queries for x in chosen]),
                "items_read": spread([x.items_read for x in chosen]),
                "items_returned": spread([x.items_returned for x in chosen]),
                "read_per_returned": read / returned if returned else None,
                "emulator_ms": spread([x.seconds * 1000 for x in chosen])}

    def to_json(self) -> dict[str, Any]:
        return {"stored_requests": self.count, "populate_seconds": self.populate_seconds,
                "open_potholes_in_window": self.open_potholes_in_window,
                "items_in_place_index": self.indexed_items, "passed": self.passed,
                "all": self.summary(), "hot_spots": self.summary("hot spot"),
                "random_points": self.summary("random point")}


# --- the town's requests ---------------------------------------------------------------


def _offset(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat = point[0] + north_m / 111_195
    return lat, point[1] + east_m / (111_195 * math.cos(math.radians(point[0])))


def _in_town(rng: random.Random) -> tuple[float, float]:
    return _offset(CENTRE, rng.uniform(-HALF_SIDE_M, HALF_SIDE_M),
                   rng.uniform(-HALF_SIDE_M, HALF_SIDE_M))


def _near(rng: random.Random, point: tuple[float, float], metres: float) -> tuple[float, float]:
    bearing, distance = rng.uniform(0, 2 * math.pi), metres * math.sqrt(rng.random())
    return _offset(point, distance * math.cos(bearing), distance * math.sin(bearing))


Point = tuple[float, float]


def _layout(count: int, rng: random.Random) -> tuple[list[tuple[Any, ...]], list[Point]]:
    """(service, status, age in days, point) for each request, and the hot spots."""
    spots = [_in_town(rng) for _ in range(HOT_SPOTS)]
    rows: list[tuple[Any, ...]] = []
    clustered = OPEN_IN_WINDOW // 2
    for n in range(OPEN_IN_WINDOW):
        point = _near(rng, spots[n % HOT_SPOTS], 25) if n < clustered else _in_town(rng)
        rows.append(("pothole", "open", rng.uniform(0, 29.9), point))
    rows += [("pothole", "open", rng.uniform(31, 180), _in_town(rng)) for _ in range(OPEN_OLD)]
    others = int(count * OTHER_OPEN_SHARE)
    rows += [(rng.choice(OTHER_SERVICES), "open", rng.uniform(0, 60), _in_town(rng))
             for _ in range(others)]
    while len(rows) < count:
        service = "pothole" if rng.random() < 0.3 else rng.choice(OTHER_SERVICES)
        rows.append((service, "closed", rng.uniform(0, 720), _in_town(rng)))
    return rows[:count], spots


def populate(dep: Deployment, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Write ``count`` requests (the META items ``requests.add`` writes) with
    BatchWriteItem; returns the hot spots."""
    from chalicelib.adapters.dynamodb import request_item
    from chalicelib.domain.requests import Place, ServiceRequest

    now = dep.container.now()
    rows, spots = _layout(count, rng)
    client = dep.client("dynamodb")
    batch: list[dict[str, Any]] = []
    for n, (service, status, age_days, (lat, long)) in enumerate(rows):
        at = now - timedelta(days=age_days)
        request = ServiceRequest(
            town_id=TOWN_ID, request_id=f"B{n:07d}", token_hash=f"K{n:07d}",
            service_code=service, service_name=service.replace("_", " ").title(),
            requested_at=at, updated_at=at, status=status,
            lifecycle="closed" if status == "closed" else "submitted",
            place=Place(lat=round(lat, 7), long=round(long, 7), address=f"{n % 900} Elm St"),
            description="Reported in the bench", tracking_number=f"BN{n:07d}",
            department="public_works")
        batch.append({"PutRequest": {"Item": request_item(request).serialize()}})
        if len(batch) == 25:
            _write(client, dep.table, batch)
            batch = []
    if batch:
        _write(client, dep.table, batch)
    return spots


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    pending = {table: batch}
    while pending:
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _indexed(dep: Deployment) -> int:
    """Items in ``by_place`` (bench only: a Scan of the index, to describe the table)."""
    client = dep.client("dynamodb")
    return sum(page["Count"] for page in client.get_paginator("scan").paginate(
        TableName=dep.table, IndexName="by_place", Select="COUNT"))


# --- the lookups ------------------------------------------------------------------------


def measure_duplicates(dep: Deployment, recorder: AwsCallRecorder,
                       count: int = DEFAULT_COUNT, lookups: int = DEFAULT_LOOKUPS,
                       seed: int = 311) -> DuplicateBench:
    import json

    from chalicelib.adapters.dynamodb import RequestItem

    rng = random.Random(seed)
    started = time.perf_counter()
    spots = populate(dep, count, rng)
    populated = time.perf_counter() - started
    open_in_window = OPEN_IN_WINDOW if count >= OPEN_IN_WINDOW else count
    result = DuplicateBench(count, populated, open_in_window, _indexed(dep))

    # The Queries' own answers: how many items each read (the recorder sees parameters).
    reads: list[int] = []
    dep.http.get(f"/towns/{TOWN_ID}/possible-duplicates?service_code=pothole"
                 f"&lat={CENTRE[0]}&long={CENTRE[1]}")  # warm: town, catalogue, client
    client = RequestItem._get_connection().connection.client
    client.meta.events.register(
        "after-call.dynamodb.Query",
        lambda parsed, **_: reads.append(int(parsed.get("ScannedCount", 0))))
    points = [("hot spot", _near(rng, spots[i % len(spots)], 10)) for i in range(lookups // 2)]
    points += [("random point", _in_town(rng)) for _ in range(lookups - len(points))]
    for kind, (lat, long) in points:
        reads.clear()
        with recorder.recording() as seen:
            t0 = time.perf_counter()
            answer = dep.http.get(f"/towns/{TOWN_ID}/possible-duplicates?service_code=pothole"
                                  f"&lat={lat:.7f}&long={long:.7f}")
            elapsed = time.perf_counter() - t0
        assert answer.status_code == 200, answer.body
        place_queries = [c for c in seen.calls
                         if c.operation == "Query" and c.index == "by_place"]
        others = [c.name for c in seen.calls if c not in place_queries]
        result.lookups.append(Lookup(kind, len(place_queries), others, sum(reads),
                                     len(json.loads(answer.body)["requests"]), elapsed))
    return result


def console_lines(b: DuplicateBench) -> list[str]:
    out = ["", f"(e) POSSIBLE DUPLICATES — {b.count:,} requests stored in Maple Falls "
               f"(populated untimed in {b.populate_seconds:.0f} s; {b.indexed_items:,} in "
               f"the by_place index), {len(b.lookups)} lookups through "
               "GET /towns/{town}/possible-duplicates",
           f"  {'PASS' if b.passed else 'FAIL'}   target: only Queries on by_place, 1 to "
           f"{MAX_CELL_QUERIES} per lookup (one per cell, in parallel), nothing else"]
    for label, kind in (("all lookups", None), ("at hot spots", "hot spot"),
                        ("at random points", "random point")):
        s = b.summary(kind)
        ratio = f"{s['read_per_returned']:.2f}" if s["read_per_returned"] else "n/a"
        out.append(
            f"  {label:<17} queries mean {s['queries']['mean']:.1f} (max "
            f"{s['queries']['max']:.0f}); items read mean {s['items_read']['mean']:.2f} "
            f"(max {s['items_read']['max']:.0f}); returned mean "
            f"{s['items_returned']['mean']:.2f} (max {s['items_returned']['max']:.0f}); "
            f"read ÷ returned {ratio}; emulator ms median {s['emulator_ms']['median']:.0f}")
    return out


def markdown_lines(b: DuplicateBench) -> list[str]:
    lines = [
        "",
        f"**Possible duplicates** — {b.count:,} requests stored in Maple Falls (about "
        f"{b.open_potholes_in_window} open potholes in the 30-day window, half of them in 60 "
        "hot spots; 5 % open requests of other services; the rest closed), "
        f"{len(b.lookups)} lookups of potholes within 50 m through "
        "`GET /towns/{town}/possible-duplicates` on a warm container. Items read are the "
        "Queries' `ScannedCount`; the lookup made no call but those Queries (town and "
        "catalogue cached). Closed requests and other services are never read: they are not "
        "under the Queries' keys.",
        "",
        "| lookups | Queries on `by_place` (mean / max) | items read (mean / max) | "
        "items returned (mean / max) | read ÷ returned | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, kind in (("all", None), ("at hot spots", "hot spot"),
                        ("at random points", "random point")):
        s = b.summary(kind)
        ratio = f"{s['read_per_returned']:.2f}" if s["read_per_returned"] else "n/a"
        lines.append(
            f"| {label} ({s['lookups']}) | {s['queries']['mean']:.1f} / "
            f"{s['queries']['max']:.0f} | {s['items_read']['mean']:.2f} / "
            f"{s['items_read']['max']:.0f} | {s['items_returned']['mean']:.2f} / "
            f"{s['items_returned']['max']:.0f} | {ratio} | "
            f"{'PASS' if b.passed else 'FAIL'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.duplicates",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT,
                        help=f"requests stored in the town (default {DEFAULT_COUNT})")
    parser.add_argument("--lookups", type=int, default=DEFAULT_LOOKUPS,
                        help=f"lookups measured (default {DEFAULT_LOOKUPS})")
    args = parser.parse_args(argv)
    RECORDER.install()
    with silenced(), deployment() as dep:
        result = measure_duplicates(dep, RECORDER, args.count, args.lookups)
    print("\n".join(console_lines(result)))
    print("\n".join(markdown_lines(result)))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
