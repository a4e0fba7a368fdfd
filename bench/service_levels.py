"""SLA sweep: what one 15-minute run of ``check_service_levels`` reads and calls.

How the sweep finds its work: it never lists towns and never reads a town's requests.
The sparse ``by_sla`` index holds only open requests with a next SLA step, under the UTC
hour of that step (``GSI5PK = SLA#<hour>``), across every town, sorted by the step's time
(``GSI5SK = <time>#<town>#<request id>``). A run queries each hour bucket from its cursor
(the oldest hour the last run did not finish; 24 hours back on a first run) up to now, with
a key condition ``GSI5SK <= now``: a request whose step is later in the same hour is not
read. Each item the Queries return is one due request, with its town in the key; per due
request the sweep reads the request (GetItem), the town (GetItem, once per town per warm
container), writes the step (a conditional TransactWriteItems of the request and its
timeline event) and publishes to the audience's SNS topic (CreateTopic once per topic per
container). So a run costs one Query per hour bucket plus a few calls per due request;
towns with nothing due, and requests not yet due, cost nothing, however many there are.

Two scenarios on moto, with the container's clock fixed (``NOW``), each on a fresh
container, as a Lambda after a deployment:

A. One big town: ``open_requests`` open requests in Maple Falls (default 100,000), of
   which ``due`` (default 200) have their next step in the last two hours and the rest in
   the coming three weeks (about 200 an hour, so the current hour's bucket also holds
   requests due later this hour, which the key condition leaves unread).
B. Many towns: ``towns`` towns (default 2,000, written as the town items ``create_town``
   writes, without catalogues: the sweep reads only the town) with ``per_town`` open
   requests each (default 5), and the same ``due`` due requests spread over ``due / 2`` of
   the towns.

The requests are written untimed with BatchWriteItem, 25 a call, as exactly the META items
``requests.add`` writes (``request_item`` of a ``ServiceRequest`` whose clock was set by
``start_clock``, with an elapsed-hours target). Each scenario runs one sweep through the
handler (``chalice.test.Client(app).lambda_.invoke``) and then a second one right after,
which must find nothing to do and send nothing. Between the scenarios the table is taken
back to its seeded partitions.

Per sweep: the AWS calls by operation (botocore hooks), the DynamoDB items read (the
Queries' ``ScannedCount`` — no filter, so equal to their ``Count`` — plus the items GetItem
and BatchGetItem return), the SNS publishes and the time in process. Times are the
emulator's: moto answers an index Query by looking at every item of the table (about half a
second each at 100,000 items), and backs up the whole table for every item of a
TransactWriteItems so that it can roll a cancelled one back; that backup would cost seconds
per escalation at 100,000 items, so while sweeping the bench makes it cover only the items
the transaction touches (``_touched_items_backup``: the calls and what they write are
unchanged, and a cancelled transaction is still rolled back). Writing, moto re-measures an
item for each of its attributes; the bench checks each of its items once instead
(``_item_size_checked_once``). On 2 cores the defaults take about two minutes (80 s of it
writing the 100,000 requests, 8 s the 2,000 towns). Run alone with
``python -m bench.service_levels [--open N] [--due N] [--towns N] [--per-town N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment
from bench.dynamo_calls import DynamoCalls
from bench.environment import REGION, TOWN_ID

DEFAULT_OPEN = 100_000
DEFAULT_DUE = 200
DEFAULT_TOWNS = 2_000
DEFAULT_PER_TOWN = 5
# A Monday, 12:40 in Maple Falls: the current hour bucket is 40 minutes old.
NOW = datetime(2026, 11, 16, 18, 40, tzinfo=UTC)
DUE_WITHIN = timedelta(minutes=110)  # due requests' steps: in the last two hours
AHEAD = timedelta(days=21)  # the others': in the next three weeks


@dataclass
class Sweep:
    """One run of the handler: what it answered, called and read."""

    answer: dict[str, int]
    calls: dict[str, int]
    items_read: dict[str, int]
    seconds: float

    @property
    def dynamodb_calls(self) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith("dynamodb"))

    @property
    def items_total(self) -> int:
        return sum(self.items_read.values())

    @property
    def queries(self) -> int:
        return self.calls.get("dynamodb:Query by_sla", 0)

    @property
    def publishes(self) -> int:
        return self.calls.get("sns:Publish", 0)

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "calls": self.calls,
                "dynamodb_calls": self.dynamodb_calls, "items_read": self.items_read,
                "items_read_total": self.items_total, "sns_publishes": self.publishes,
                "seconds_in_process": round(self.seconds, 2)}


@dataclass
class Scenario:
    label: str
    towns: int
    open_requests: int
    due: int
    due_towns: int
    indexed: int  # items in by_sla (counted in moto's memory, to describe the table)
    later_this_hour: int  # in the current hour's bucket, due after now: not to be read
    populate_seconds: float
    first: Sweep
    second: Sweep

    @property
    def checks(self) -> dict[str, bool]:
        f, s = self.first, self.second
        return {
            "every due request escalated once, one alert each":
                f.answer.get("escalated") == self.due == f.publishes,
            "index entries read = due requests": f.items_read.get("by_sla index") == self.due,
            "one GetItem per due request": f.items_read.get("requests") == self.due,
            "towns read ≤ towns with due work": f.items_read.get("towns", 0) <= self.due_towns,
            "second sweep: one Query, nothing read, nothing sent":
                s.queries == 1 and s.items_read.get("by_sla index", 0) == 0
                and s.publishes == 0 and s.answer.get("escalated") == 0,
        }

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {"towns": self.towns, "open_requests": self.open_requests, "due": self.due,
                "towns_with_due_requests": self.due_towns, "items_in_by_sla": self.indexed,
                "in_current_bucket_due_later": self.later_this_hour,
                "populate_seconds": round(self.populate_seconds, 1), "passed": self.passed,
                "checks": self.checks, "first_sweep": self.first.to_json(),
                "second_sweep": self.second.to_json()}


@dataclass
class SlaBench:
    now: datetime
    scenarios: list[Scenario] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        if not self.scenarios or not all(s.passed for s in self.scenarios):
            return False
        # Grows with the due requests, not with towns or stored requests: the same index
        # and request reads in every scenario; the town reads only add towns with due work.
        first = [s.first for s in self.scenarios]
        return len({(f.queries, f.items_read.get("by_sla index"), f.items_read.get("requests"))
                    for f in first}) == 1

    def to_json(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "passed": self.passed,
                "seconds": round(self.seconds, 1),
                "scenarios": {s.label: s.to_json() for s in self.scenarios}}


# --- the requests -------------------------------------------------------------------------


def _request(town: Any, n: int, step_at: datetime, rng: random.Random) -> Any:
    """An open, routed pothole whose next SLA step (80 % of its target) is at ``step_at``;
    its target is long enough that only that one step has passed when it is due."""
    from chalicelib.domain.requests import Place, ServiceRequest
    from chalicelib.domain.sla import SlaTarget
    from chalicelib.services.service_levels import start_clock

    ahead = max(step_at - NOW, timedelta())
    hours = 24 * rng.randint(1, 3) + int(ahead.total_seconds() / 3600 / 0.8) + 1
    target = SlaTarget(float(hours), "hours")
    started = step_at - timedelta(hours=hours) * town.sla_ladder[0][0]
    rid = f"S{n:07d}"
    request = ServiceRequest(
        town_id=town.town_id, request_id=rid, token_hash=f"K{n:07d}", service_code="pothole",
        service_name="Pothole", requested_at=started, updated_at=started,
        place=Place(lat=round(41.85 + rng.random() / 20, 7),
                    long=round(-87.65 + rng.random() / 20, 7), address=f"{n % 900} Elm St"),
        description="Reported in the bench", lifecycle="routed", department="public_works",
        agency_responsible="Public Works", tracking_number=f"SN{n:07d}")
    start_clock(request, target, town, started)
    assert request.next_sla_at is not None and abs(request.next_sla_at - step_at) < \
        timedelta(seconds=1), (request.next_sla_at, step_at)
    return request


def _step_times(count: int, due: int, rng: random.Random) -> list[datetime]:
    due_at = [NOW - timedelta(seconds=rng.uniform(60, DUE_WITHIN.total_seconds()))
              for _ in range(due)]
    later = [NOW + timedelta(seconds=rng.uniform(60, AHEAD.total_seconds()))
             for _ in range(count - due)]
    return due_at + later


class _Writer:
    """BatchWriteItem, 25 items a call, of raw items; UnprocessedItems are re-sent."""

    def __init__(self, dep: Deployment) -> None:
        from botocore.config import Config

        # As pynamodb's client: botocore's parameter validation would cost a third of
        # the writing time; the items are the app's own serialisation.
        self._client = dep.session.client("dynamodb", region_name=REGION,
                                          config=Config(parameter_validation=False))
        self._table = dep.table
        self._batch: list[dict[str, Any]] = []
        self.written = 0

    def put(self, item: Any) -> None:
        if hasattr(item, "version") and item.version is None:
            item.version = 1  # as the conditional save in ``requests.add`` leaves it
        raw = item.serialize()
        if len(json.dumps(raw)) > 400_000:
            raise ValueError(f"{raw['PK']} is over DynamoDB's 400 KB item limit")
        self._batch.append({"PutRequest": {"Item": raw}})
        if len(self._batch) == 25:
            self.flush()

    def flush(self) -> None:
        pending = {self._table: self._batch} if self._batch else {}
        self.written += len(self._batch)
        self._batch = []
        while pending:
            pending = self._client.batch_write_item(
                RequestItems=pending).get("UnprocessedItems") or {}


def populate_one_town(dep: Deployment, open_requests: int, due: int, seed: int) -> int:
    """Scenario A: every request in Maple Falls; returns the towns with due requests."""
    from chalicelib.adapters.dynamodb import request_item

    rng = random.Random(seed)
    town = dep.container.town_store.get_town(TOWN_ID)
    writer = _Writer(dep)
    for n, step_at in enumerate(_step_times(open_requests, due, rng)):
        writer.put(request_item(_request(town, n, step_at, rng)))
    writer.flush()
    return 1 if due else 0


def populate_many_towns(dep: Deployment, towns: int, per_town: int, due: int,
                        seed: int) -> int:
    """Scenario B: ``towns`` towns (their TOWN and platform items) with ``per_town`` open
    requests each; ``due`` of them due, two per town in every (towns ÷ due/2)-th town.
    Returns the towns with due requests."""
    from chalicelib.adapters.dynamodb import platform_town_item, request_item, town_item

    rng = random.Random(seed)
    template = dep.container.town_store.get_town(TOWN_ID)
    due_towns = min(towns, max(1, -(-due // 2))) if due else 0
    if due_towns and -(-due // due_towns) > per_town:
        raise SystemExit(f"{due} due requests do not fit in {due_towns} towns of "
                         f"{per_town} requests")
    with_due = {round(k * towns / due_towns) for k in range(due_towns)}
    due_in = dict.fromkeys(with_due, 0)
    for k in range(due):
        due_in[sorted(with_due)[k % due_towns]] += 1
    writer = _Writer(dep)
    later = iter(_step_times(towns * per_town - due, 0, rng))
    n = 0
    for t in range(towns):
        town = replace(template, town_id=f"town{t:04d}.example", name=f"Town {t:04d}")
        writer.put(town_item(town))
        writer.put(platform_town_item(town))
        for k in range(per_town):
            step_at = NOW - timedelta(seconds=rng.uniform(60, DUE_WITHIN.total_seconds())) \
                if k < due_in.get(t, 0) else next(later)
            writer.put(request_item(_request(town, n, step_at, rng)))
            n += 1
    writer.flush()
    return due_towns


def _indexed(dep: Deployment) -> tuple[int, int]:
    """Items in by_sla, and those in the current hour's bucket but due after now, counted
    in moto's memory (a paged Scan of the index would make moto look at the whole table
    once per page)."""
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.adapters.dynamodb.keys import sla_bucket, sort_time
    from local.provision import DEFAULT_ACCOUNT_ID

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[dep.table]
    keys = [(item.attrs["GSI5PK"].value, item.attrs["GSI5SK"].value)
            for item in table.all_items() if "GSI5PK" in item.attrs]
    bucket, now = sla_bucket(NOW), sort_time(NOW)
    return len(keys), sum(1 for pk, sk in keys if pk == bucket and sk > now)


# --- the emulator ------------------------------------------------------------------------


@contextmanager
def _touched_items_backup() -> Iterator[None]:
    """moto backs up the whole table (``copy.deepcopy``) for each item of a
    TransactWriteItems, to restore it if the transaction is cancelled. Inside the block it
    backs up only the items the transaction touches, and restores those instead."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    backend = models.DynamoDBBackend
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = []
        for action in transact_items:
            op = next(iter(action.values()))
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {name: op["Item"][name] for name in
                                    (table.hash_key_attr, table.range_key_attr) if name}
            current = self.get_item(op["TableName"], key)
            before.append((op["TableName"], key,
                           copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            original(self, transact_items)
        except Exception:
            for name, key, attrs in reversed(before):
                if attrs is None:
                    self.delete_item(name, key)
                else:
                    self.put_item(name, attrs)
            raise

    models.copy = _NoTableCopy  # type: ignore[assignment]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        backend.transact_write_items = original  # type: ignore[method-assign]
        models.copy = copy


@contextmanager
def _item_size_checked_once() -> Iterator[None]:
    """moto checks an item's 400 KB limit as it stores each attribute, measuring the whole
    item again every time (37 attributes: about 700 measurements per request item, most of
    the time writing takes). Inside the block, while the bench writes its own requests,
    ``_Writer`` checks each item once instead (its JSON is about 1.5 KB)."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


class _Partitions:
    """The table's items as seeded; ``restore`` drops every item added since (each
    request, the sweep cursor and the bench towns have partitions of their own; the bench
    towns' platform entries join the platform partition) and checks the seeded ones are
    still there."""

    def __init__(self, table: str) -> None:
        from moto.dynamodb.models import dynamodb_backends

        from local.provision import DEFAULT_ACCOUNT_ID

        self._items = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[table].items
        self._kept = {key: set(items) for key, items in self._items.items()}

    def restore(self) -> None:
        for key in [k for k in self._items if k not in self._kept]:
            del self._items[key]
        for key, ranges in self._kept.items():
            for added in set(self._items[key]) - ranges:
                del self._items[key][added]
        changed = [k for k, ranges in self._kept.items() if set(self._items[k]) != ranges]
        if changed:
            raise RuntimeError(f"seeded items went missing: {changed}")


# --- the sweep ---------------------------------------------------------------------------


class _ItemsRead(DynamoCalls):
    """Items each DynamoDB call of the app's (pynamodb's) client read, by kind."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.read: Counter[str] = Counter()

    def seen(self, call: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        if call in ("Query", "Scan"):
            index = params.get("IndexName")
            self.read[f"{index} index" if index else "table"] += int(parsed.get("ScannedCount", 0))
        elif call == "GetItem" and "Item" in parsed:
            from chalicelib.adapters.dynamodb import keys

            key = {k: v.get("S", "") for k, v in params.get("Key", {}).items()}
            kind = "sweep cursor" if key.get("PK") == keys.SLA_CURSOR_PK else \
                "requests" if key.get("SK") == keys.META_SK else "towns"
            self.read[kind] += 1
        elif call == "BatchGetItem":
            self.read["batch gets"] += sum(len(v) for v in parsed.get("Responses", {}).values())


def _fresh_container(dep: Deployment) -> Any:
    """A cold Lambda's container with the bench's clock; returns pynamodb's client."""
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb import RequestItem
    from chalicelib.config import settings_from_env

    dep.container = bootstrap.Container(settings_from_env(), now=lambda: NOW)
    bootstrap.install(dep.container)
    dep.container.requests  # noqa: B018 - binds the item classes (one shared connection)
    return RequestItem._get_connection().connection.client


def run_sweep(recorder: AwsCallRecorder, client: Any) -> Sweep:
    from chalice.test import Client

    from app import app

    with Client(app) as lambdas:
        tick = lambdas.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
        with _ItemsRead(client) as items, recorder.recording() as seen:
            started = time.perf_counter()
            answer = lambdas.lambda_.invoke("check_service_levels", tick).payload
            seconds = time.perf_counter() - started
    calls = Counter(f"{c.service}:{c.operation}" + (f" {c.index}" if c.index else "")
                    for c in seen.calls)
    return Sweep(answer, dict(sorted(calls.items())), dict(sorted(items.read.items())),
                 seconds)


def _scenario(dep: Deployment, recorder: AwsCallRecorder, label: str, towns: int,
              open_requests: int, due: int, populate: Any) -> Scenario:
    started = time.perf_counter()
    with _item_size_checked_once():
        due_towns = populate()
    populated = time.perf_counter() - started
    indexed, later_this_hour = _indexed(dep)
    client = _fresh_container(dep)
    with _touched_items_backup():
        first = run_sweep(recorder, client)
        second = run_sweep(recorder, client)
    return Scenario(label, towns, open_requests, due, due_towns, indexed, later_this_hour,
                    populated, first, second)


def measure_sla_sweep(dep: Deployment, recorder: AwsCallRecorder,
                      open_requests: int = DEFAULT_OPEN, due: int = DEFAULT_DUE,
                      towns: int = DEFAULT_TOWNS, per_town: int = DEFAULT_PER_TOWN,
                      seed: int = 311) -> SlaBench:
    if not 0 <= due <= open_requests or due > towns * per_town:
        raise SystemExit("--due must fit in --open and in --towns × --per-town")
    started = time.perf_counter()
    result = SlaBench(NOW)
    partitions = _Partitions(dep.table)
    result.scenarios.append(_scenario(
        dep, recorder, "one town", 1, open_requests, due,
        lambda: populate_one_town(dep, open_requests, due, seed)))
    partitions.restore()
    result.scenarios.append(_scenario(
        dep, recorder, "many towns", towns, towns * per_town, due,
        lambda: populate_many_towns(dep, towns, per_town, due, seed)))
    partitions.restore()
    result.seconds = time.perf_counter() - started
    return result


# --- the report ---------------------------------------------------------------------------


def _items_text(s: Sweep) -> str:
    return f"{s.items_total:,} (" + ", ".join(f"{kind} {n}" for kind, n in
                                               s.items_read.items()) + ")" \
        if s.items_read else "0"


def _towns(n: int) -> str:
    return f"{n:,} town{'' if n == 1 else 's'}"


def _calls_text(s: Sweep) -> str:
    return ", ".join(f"{name} {n}" for name, n in s.calls.items()) or "none"


def console_lines(b: SlaBench) -> list[str]:
    out = ["", f"(f) SLA SWEEP — check_service_levels through chalice.test.Client(app).lambda_, "
               f"clock fixed at {b.now:%Y-%m-%d %H:%M} UTC, fresh container per scenario",
           f"  {'PASS' if b.passed else 'FAIL'}   target: one Query per hour bucket and about "
           "one read per due request, whatever the towns or stored requests"]
    for s in b.scenarios:
        out.append(f"  {s.label}: {s.open_requests:,} open requests in {_towns(s.towns)} "
                   f"({s.indexed:,} in by_sla; {s.later_this_hour} in the current hour's "
                   f"bucket but due later), {s.due} due in {_towns(s.due_towns)}; "
                   f"written untimed in {s.populate_seconds:.0f} s")
        for name, sweep in (("first sweep", s.first), ("second sweep", s.second)):
            out.append(f"    {name:<13} escalated {sweep.answer.get('escalated')}, published "
                       f"{sweep.answer.get('published')}; items read {_items_text(sweep)}; "
                       f"{sweep.seconds:.1f} s on moto")
            out.append(f"      calls: {_calls_text(sweep)}")
        failed = [name for name, ok in s.checks.items() if not ok]
        if failed:
            out.append(f"    FAILED: {'; '.join(failed)}")
    return out


def markdown_lines(b: SlaBench) -> list[str]:
    lines = [
        "",
        "**SLA sweep** (`bench/service_levels.py`) — one run of the 15-minute "
        "`check_service_levels` handler on a fresh container, clock fixed at "
        f"{b.now:%H:%M} UTC, then a second run right after. Items read are the by_sla "
        "Queries' `ScannedCount` plus the items GetItem returned; the first run of a "
        "deployment reads 25 hour buckets (24 h back), later runs from their cursor.",
        "",
        "| scenario | sweep | by_sla Queries | items read (index + requests + towns + "
        "cursor) | DynamoDB calls | SNS Publish (CreateTopic) | escalated | s on moto |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in b.scenarios:
        scenario = (f"{s.open_requests:,} open in {_towns(s.towns)}, {s.due} due"
                    + (f" in {_towns(s.due_towns)}" if s.towns > 1 else ""))
        for name, w in (("first", s.first), ("second", s.second)):
            r = w.items_read
            lines.append(
                f"| {scenario if name == 'first' else ''} | {name} | {w.queries} | "
                f"{w.items_total:,} ({r.get('by_sla index', 0)} + {r.get('requests', 0)} + "
                f"{r.get('towns', 0)} + {r.get('sweep cursor', 0)}) | {w.dynamodb_calls} | "
                f"{w.publishes} ({w.calls.get('sns:CreateTopic', 0)}) | "
                f"{w.answer.get('escalated')} | {w.seconds:.1f} |")
    lines += [
        "",
        "The sweep never lists towns or reads a town's requests: the sparse `by_sla` index "
        "holds only open requests with a next step, keyed by the step's UTC hour across all "
        "towns, and each Query stops at now. Towns with nothing due and requests not yet due "
        "cost nothing, not even those in the current hour's bucket due after now ("
        + ", ".join(f"{s.later_this_hour} with {s.label}" for s in b.scenarios)
        + "), which the key condition leaves out; each due request costs a "
        "GetItem, a conditional TransactWriteItems "
        "(level up + timeline event) and a Publish, and each town with due work one GetItem "
        "and one CreateTopic per audience per warm container. The second run reads only the "
        f"current hour and sends nothing. {'PASS' if b.passed else 'FAIL'}.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.service_levels",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=DEFAULT_OPEN, dest="open_requests",
                        help=f"open requests in Maple Falls (default {DEFAULT_OPEN})")
    parser.add_argument("--due", type=int, default=DEFAULT_DUE,
                        help=f"requests due at the sweep (default {DEFAULT_DUE})")
    parser.add_argument("--towns", type=int, default=DEFAULT_TOWNS,
                        help=f"towns in the many-towns scenario (default {DEFAULT_TOWNS})")
    parser.add_argument("--per-town", type=int, default=DEFAULT_PER_TOWN,
                        help=f"open requests per town there (default {DEFAULT_PER_TOWN})")
    parser.add_argument("--json", action="store_true", help="print the JSON figures too")
    args = parser.parse_args(argv)
    RECORDER.install()
    with silenced(), deployment() as dep:
        result = measure_sla_sweep(dep, RECORDER, args.open_requests, args.due, args.towns,
                                   args.per_town)
    print("\n".join(console_lines(result)))
    print("\n".join(markdown_lines(result)))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    print(f"\ntook {result.seconds:.0f} s")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
