"""Figures: what a dashboard period reads, and what counting one request event costs.

A. **Reading.** A town with three years of figures (``--years``, default 3) whose day
   items are written directly, as the backfill writes them (``DynamoFigureStore.replace``):
   every day has an item for the town, each of ``--services`` services, ``--departments``
   departments, ``--zones`` zones and ``--channels`` channels. How many requests stood
   behind them does not matter: nothing reads requests. Then ``services.figures.period``
   for this month by service, the month before, the same quarter a year ago by
   department, and the whole three years for the town; per read, the DynamoDB calls and
   the items they read (the Queries' ``ScannedCount`` plus the items GetItem returned).
   The expectation checked: items read = (days from the period's start to the last stored
   day) × (values of the dimension) + 1 (the open counts), whatever the history holds.
B. **Counting.** ``--requests`` requests (default 12) filed and worked through the services
   (local/demo_history.py: intake, routing, acknowledge, start, close), then the table's
   stream read as Lambda would (local/pump.py's StreamSource, the template's filter) into
   the figures function; the calls per counted event by operation, and the items each
   TransactWriteItems wrote. Then the whole stream again: what a redelivered event costs.

Run alone with ``python -m bench.figures [--years N] [--services N] ... [--json]``;
``make bench`` runs it with the defaults (``--figure-years`` there).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment
from bench.dynamo_calls import DynamoCalls
from bench.environment import TOWN_ID

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 12:00 in Maple Falls


@dataclass
class Read:
    label: str
    by: str
    start: date
    end: date
    values: int  # of the dimension, per day
    days_read: int  # from start to the last stored day
    calls: dict[str, int]
    items_read: int
    seconds: float

    @property
    def expected_items(self) -> int:
        return self.days_read * self.values + 1

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "values": self.values, "days_read": self.days_read, "calls": self.calls,
                "items_read": self.items_read, "expected_items": self.expected_items,
                "seconds_in_process": round(self.seconds, 3)}


@dataclass
class Counting:
    requests: int
    stream_records: int  # read from the stream (every write to the table)
    delivered: int  # passed the filter: timeline events and followers
    counted: int  # events that changed a figure
    calls: dict[str, int]
    transaction_items: list[int]
    redelivery_calls: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "stream_records": self.stream_records,
                "delivered": self.delivered, "counted": self.counted, "calls": self.calls,
                "transaction_items": dict(Counter(self.transaction_items)),
                "redelivery_calls": self.redelivery_calls}


@dataclass
class FiguresBench:
    years: int
    day_items: int
    populate_seconds: float
    reads: list[Read] = field(default_factory=list)
    counting: Counting | None = None

    @property
    def checks(self) -> dict[str, bool]:
        c = self.counting
        return {
            "items read = days × values + 1, for every read":
                all(r.items_read == r.expected_items for r in self.reads),
            "one Query per read and one GetItem (open counts)":
                all(r.calls.get("Query") == 1 and r.calls.get("GetItem") == 1
                    for r in self.reads),
            "each counted event: one TransactWriteItems of at most 12 items":
                c is not None and c.calls.get("TransactWriteItems") == c.counted
                and max(c.transaction_items, default=0) <= 12,
            "a redelivered event writes nothing":
                c is not None and "TransactWriteItems" not in c.redelivery_calls,
        }

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {"years": self.years, "day_items": self.day_items,
                "populate_seconds": round(self.populate_seconds, 1), "passed": self.passed,
                "checks": self.checks, "reads": {r.label: r.to_json() for r in self.reads},
                "counting": self.counting.to_json() if self.counting else None}


class _ItemsRead(DynamoCalls):
    """Items the DynamoDB calls of one client read (Query ScannedCount, GetItem items)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.items = 0
        self.calls: Counter[str] = Counter()
        self.transaction_items: list[int] = []

    def seen(self, call: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        self.calls[call] += 1
        if call in ("Query", "Scan"):
            self.items += int(parsed.get("ScannedCount", 0))
        elif call == "GetItem" and "Item" in parsed:
            self.items += 1
        elif call == "TransactWriteItems":
            self.transaction_items.append(len(params.get("TransactItems", [])))


# --- A. reading -----------------------------------------------------------------------------


def populate(dep: Deployment, years: int,
             sizes: dict[str, int]) -> tuple[int, float, date, date]:
    """Three years of day items for Maple Falls, as the backfill writes them."""
    from chalicelib.domain.figures import DayFigures, Figures, Sketch

    today = NOW.astimezone(dep.container.towns.get_town(TOWN_ID).zone).date()
    first = today - timedelta(days=365 * years)
    values = {dimension: ["all"] if dimension == "town" else
              [f"{dimension[:4]}{n:02d}" for n in range(sizes[dimension])]
              for dimension in ("town", "service", "department", "zone", "channel")}
    days = []
    day = first
    n = 0
    while day <= today:
        for dimension, names in values.items():
            for value in names:
                n += 1
                days.append(DayFigures(day, dimension, value, Figures(
                    opened=n % 5, closed=n % 4, to_close=Sketch.of([3600.0 * (n % 90 + 1)]),
                    to_acknowledge=Sketch.of([600.0 * (n % 30 + 1)])), (n % 5) - (n % 4)))
        day += timedelta(days=1)
    open_now = {(d, v): 3 for d, names in values.items() for v in names}
    started = time.perf_counter()
    dep.container.figures.replace(TOWN_ID, days, open_now, {})
    return len(days), time.perf_counter() - started, first, today


def measure_read(dep: Deployment, client: Any, label: str, by: str, start: date, end: date,
                 first: date, today: date, values: int) -> Read:
    from chalicelib.domain.access import Principal, Role
    from chalicelib.services.figures import period

    analyst = Principal(subject="bench", town_id=TOWN_ID, roles=frozenset({Role.ANALYST}))
    with _ItemsRead(client) as seen:
        started = time.perf_counter()
        found = period(dep.container.figure_ports, analyst, start, end, by)
        seconds = time.perf_counter() - started
    assert len(found) == values, (label, len(found))
    return Read(label, by, start, end, values, (today - max(start, first)).days + 1,
                dict(seen.calls), seen.items, seconds)


# --- B. counting ----------------------------------------------------------------------------


def measure_counting(dep: Deployment, client: Any, requests: int) -> Counting:
    from botocore.config import Config

    from chalicelib.events.figures import process_stream
    from local.demo_history import seed_demo_history
    from local.provision import load_template
    from local.pump import StreamSource

    arn = dep.client("dynamodb").describe_table(TableName=dep.table)["Table"][
        "LatestStreamArn"]
    mapping = load_template()["Resources"]["CountFigures"]["Properties"]["Events"][
        "CountFiguresDynamodbEventSource"]["Properties"]
    streams = dep.session.client("dynamodbstreams", region_name="us-east-1",
                                 config=Config(account_id_endpoint_mode="disabled"))
    delivered: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        delivered.append(len(event["Records"]))
        return process_stream(event, context)

    def source(position: str) -> StreamSource:
        made = StreamSource(streams=streams, stream_arn=arn, handler=handler,
                            function_name="CountFigures", batch_size=mapping["BatchSize"],
                            filters=[json.loads(f["Pattern"])
                                     for f in mapping["FilterCriteria"]["Filters"]],
                            starting_position=position)
        made._shards()  # the iterators are taken now (LATEST: what is written after)
        return made

    def drain(stream: StreamSource) -> int:
        read = 0
        while (n := stream.poll_once(wait_seconds=0)):
            read += n
        return read

    # Only the requests' writes: the stream is read from just before they are filed.
    live = source("LATEST")
    seed_demo_history(dep.container, TOWN_ID, NOW, count=requests)
    with _ItemsRead(client) as first:
        records = drain(live)
    events = sum(delivered)
    delivered.clear()
    with _ItemsRead(client) as again:
        drain(source("TRIM_HORIZON"))  # everything again, from the start of the stream
    return Counting(requests, records, events, len(first.transaction_items),
                    dict(first.calls), first.transaction_items, dict(again.calls))


def measure_figures(dep: Deployment, recorder: AwsCallRecorder, years: int = 3,
                    sizes: dict[str, int] | None = None, requests: int = 12) -> FiguresBench:
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb import RequestItem
    from chalicelib.config import settings_from_env

    sizes = sizes or {"service": 12, "department": 5, "zone": 6, "channel": 4}
    dep.container = bootstrap.Container(settings_from_env(), now=lambda: NOW)
    bootstrap.install(dep.container)
    dep.container.requests  # noqa: B018 - binds the item classes (one shared connection)
    client = RequestItem._get_connection().connection.client
    # Counting first, on a table that holds only the town: moto copies the whole table
    # (and its stream) for every TransactWriteItems, so that it can roll one back, which
    # with three years of day items would cost seconds and gigabytes per event.
    counting = measure_counting(dep, client, requests)
    items, seconds, first, today = populate(dep, years, sizes)
    bench = FiguresBench(years, items, seconds, counting=counting)
    month = today - timedelta(days=29)
    reads = [
        ("this month by service", "service", month, today, sizes["service"]),
        ("the month before by service", "service", month - timedelta(days=30),
         month - timedelta(days=1), sizes["service"]),
        ("a quarter a year ago by department", "department", today - timedelta(days=455),
         today - timedelta(days=365), sizes["department"]),
        (f"{years} years, the whole town", "town", today - timedelta(days=365 * years - 1),
         today, 1),
    ]
    for label, by, start, end, values in reads:
        bench.reads.append(measure_read(dep, client, label, by, start, end, first, today,
                                        values))
    return bench


def markdown_lines(b: FiguresBench) -> list[str]:
    lines = [
        "",
        f"**Figures** (`bench/figures.py`) — a town with {b.years} years of day items "
        f"({b.day_items:,}, written directly as the backfill writes them). A period is one "
        "Query of the dimension's day items from its first day to the last stored day (the "
        "backlog at its end is the open count now less what opened since) and one GetItem "
        "(the open counts): items read = days × values + 1, never requests.",
        "",
        "| read | by | days read | values | DynamoDB calls | items read | expected |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for r in b.reads:
        calls = ", ".join(f"{n} {op}" for op, n in sorted(r.calls.items()))
        lines.append(f"| {r.label} | {r.by} | {r.days_read} | {r.values} | {calls} | "
                     f"{r.items_read:,} | {r.expected_items:,} |")
    c = b.counting
    if c is not None:
        per = {op: round(n / max(c.delivered, 1), 2) for op, n in sorted(c.calls.items())}
        lines += [
            "",
            f"Counting: {c.requests} requests filed and worked through the services wrote "
            f"{c.stream_records} stream records; the event source's filter passed "
            f"{c.delivered} (timeline events and followers), of which {c.counted} changed a "
            f"figure. DynamoDB calls per delivered event: "
            + ", ".join(f"{op} {n}" for op, n in per.items())
            + "; each counted event is one conditional TransactWriteItems of "
            + ", ".join(f"{k} items ×{v}" for k, v in sorted(Counter(c.transaction_items)
                                                             .items()))
            + " (the tally, a day item per dimension value, the open counts when the "
            "backlog moves). The same stream delivered again: "
            + ", ".join(f"{n} {op}" for op, n in sorted(c.redelivery_calls.items()))
            + ", nothing written.",
        ]
    lines.append(f"{'PASS' if b.passed else 'FAIL'}.")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.figures",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--services", type=int, default=12)
    parser.add_argument("--departments", type=int, default=5)
    parser.add_argument("--zones", type=int, default=6)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print the JSON figures too")
    args = parser.parse_args(argv)
    RECORDER.install()
    started = time.perf_counter()
    with silenced(), deployment() as dep:
        result = measure_figures(dep, RECORDER, args.years, {
            "service": args.services, "department": args.departments, "zone": args.zones,
            "channel": args.channels}, args.requests)
    print("\n".join(markdown_lines(result)))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    print(f"\ntook {time.perf_counter() - started:.0f} s")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
