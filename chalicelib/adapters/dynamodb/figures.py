"""A town's figures (chalicelib.domain.figures): day items, open counts, request tallies.

- Day items: ``PK=TOWN#<town>#FIG#<dimension>, SK=<yyyy-mm-dd>#<value>``, one per town-time
  day and dimension value: the counters, ``open_delta`` (requests opened minus closed
  there that day) and the two sketches, flattened into ``a_<bucket>`` (to acknowledge)
  and ``c_<bucket>`` (to close) number attributes. Flat, because an UpdateItem can ADD to
  a top-level attribute that does not exist yet, never to a key of a map that does not:
  so one event is one ADD per item, whatever was counted before. A period is one Query
  per dimension over its days.
- ``PK=TOWN#<town>, SK=FIG#OPEN``: how many requests are open now under each dimension
  value (attributes ``<dimension>#<value>``), moved in the same transaction as the day
  items' ``open_delta``. So the backlog at the end of any day is the count now minus
  the deltas after it: a period's backlog never reads the days before it.
- ``PK=TOWN#<town>#ANSWERED#<sha256 of a mark>, SK=ANSWERED`` (TTL ``expires_at``): an
  answered question counted in ``information`` (chalicelib.services.knowledge), put in
  the same transaction as the two day items' ADD, only if new.
- ``PK=TOWN#<town>#REQ#<id>, SK=TALLIED``: the request's part in the figures (the
  events counted, where its open count sits, whether its first response was timed).
  Every event is counted by one transaction conditional on the tally's version: an event
  delivered again finds its mark in the tally and is not counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import CONDITION_FAILED, reasons, storage_errors
from chalicelib.adapters.dynamodb.keys import parse_sort_time
from chalicelib.adapters.dynamodb.service_requests import RequestItem
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain.errors import Conflict
from chalicelib.domain.figures import (
    ALL,
    DIMENSIONS,
    FOLLOWED,
    DayChange,
    DayFigures,
    FigureEvent,
    Figures,
    RequestFacts,
    RequestTally,
    Sketch,
    bucket_of,
)
from chalicelib.domain.followers import FOLLOWER

OPEN_DELTA = "open_delta"
_SKETCHES = (("a_", "to_acknowledge"), ("c_", "to_close"))


def _numbers(data: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in data.items() if "N" in value}


class FigureDayItem(TableItem):
    """A day item. Its number attributes are named at run time (counters, sketch buckets):
    not declared, so read from and written to the raw item."""

    numbers: dict[str, int]

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> FigureDayItem:
        item = super().from_raw_data(data)
        item.numbers = _numbers(data)
        return item

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        data = super().serialize(null_check)
        data.update({name: {"N": str(n)} for name, n in getattr(self, "numbers", {}).items()})
        return data

    @classmethod
    def of(cls, pk: str, sk: str, numbers: Mapping[str, int]) -> FigureDayItem:
        item = cls(pk, sk)
        item.numbers = dict(numbers)
        return item


class OpenCountItem(FigureDayItem):
    """The open counts of a town (``<dimension>#<value>`` number attributes)."""


class AnsweredMarkItem(TableItem):
    """An answered question already counted (``count_answered``): kept a while, then
    removed by the table's TTL. Its mark is unique to what it counts (a message, a
    browser's day), so an expired mark is never asked about again."""

    expires_at = NumberAttribute()


class RequestTallyItem(TableItem):
    """A request's part in its town's figures (``RequestTally``)."""

    applied = UnicodeSetAttribute(null=True)
    open_in = JSONAttribute(null=True)
    acknowledged = BooleanAttribute(default=False)
    version = NumberAttribute(default=0)


# --- mappers --------------------------------------------------------------------------------


def day_figures(pk: str, data: Mapping[str, Any]) -> DayFigures:
    """A day item's figures (raw DynamoDB map)."""
    day, value = keys.figures_day_of(data["SK"]["S"])
    dimension = pk.rsplit("#FIG#", 1)[1]
    numbers = {name: int(v["N"]) for name, v in data.items() if "N" in v}
    sketches = [Sketch.from_map({name[2:]: n for name, n in numbers.items()
                                 if name.startswith(prefix)}) for prefix, _ in _SKETCHES]
    figures = Figures.of(numbers, to_acknowledge=sketches[0], to_close=sketches[1])
    return DayFigures(day, dimension, value, figures, numbers.get(OPEN_DELTA, 0))


def facts(doc: Mapping[str, Any]) -> RequestFacts:
    """The facts an event item carries (service_requests.facts_doc)."""
    return RequestFacts(
        service=doc["service"], department=doc.get("department"), zone=doc.get("zone"),
        channel=doc.get("channel") or "open311",
        requested_at=parse_sort_time(doc["requested"]),
        expected_at=parse_sort_time(doc["expected"]) if doc.get("expected") else None,
        rating=int(doc["rating"]) if doc.get("rating") is not None else None,
        resolution=doc.get("resolution"))


def request_facts(item: RequestItem) -> RequestFacts:
    """The facts of a request as it is now (events stored before figures were kept, and
    "me too"s, which are not timeline events)."""
    return RequestFacts(
        service=item.service_code, department=item.department, zone=item.zone,
        channel=item.channel or "open311", requested_at=parse_sort_time(item.requested_at),
        expected_at=parse_sort_time(item.expected_at) if item.expected_at else None,
        rating=int(item.rating) if item.rating is not None else None,
        resolution=item.resolution)


def figure_event(image: Mapping[str, Any]) -> FigureEvent | None:
    """The figure event of a stream record's new image (an item as plain values, as
    powertools deserialises it): a timeline event, or a "me too" follower. None for any
    other item."""
    pk, sk = str(image.get("PK", "")), str(image.get("SK", ""))
    if "#REQ#" not in pk:
        return None
    town_id, request_id = keys.request_of(pk)
    if sk.startswith(keys.EVENT_PREFIX):
        doc = image.get("facts")
        known = facts(json.loads(doc)) if isinstance(doc, str) else None
        return FigureEvent(town_id, request_id, str(image["event_id"]), str(image["kind"]),
                           parse_sort_time(str(image["at"])), known)
    if sk.startswith(keys.FOLLOWER_PREFIX) and image.get("role") == FOLLOWER:
        return FigureEvent(town_id, request_id, f"follower#{keys.follower_of(sk)}", FOLLOWED,
                           parse_sort_time(str(image["since"])), None)
    return None


def _tally(item: RequestTallyItem | None) -> RequestTally:
    if item is None:
        return RequestTally()
    open_in = tuple((d, v) for d, v in item.open_in) if item.open_in is not None else None
    return RequestTally(applied=frozenset(item.applied or ()), open_in=open_in,
                        acknowledged=bool(item.acknowledged), version=int(item.version or 0))


def _day_actions(change: DayChange) -> list[Action]:
    amounts: dict[str, int] = {name: n for name, n in change.counters.items() if n}
    if change.open_delta:
        amounts[OPEN_DELTA] = change.open_delta
    for (prefix, _), seconds in zip(_SKETCHES, (change.to_acknowledge, change.to_close),
                                    strict=True):
        if seconds is not None:
            amounts[prefix + bucket_of(seconds)] = 1
    return [NumberAttribute(attr_name=name).add(n) for name, n in sorted(amounts.items())]


def _day_attributes(f: DayFigures) -> dict[str, int]:
    amounts = {name: n for name, n in f.figures.counters().items() if n}
    if f.open_delta:
        amounts[OPEN_DELTA] = f.open_delta
    for prefix, field in _SKETCHES:
        sketch: Sketch = getattr(f.figures, field)
        amounts.update({prefix + b: n for b, n in sketch.to_map().items()})
    return amounts


class DynamoFigureStore:
    """A town's figures: counted per event, read per period, rebuilt by the backfill."""

    def tally(self, town_id: str, request_id: str) -> RequestTally:
        with storage_errors():
            try:
                item = RequestTallyItem.get(keys.request_pk(town_id, request_id), keys.TALLIED_SK,
                                     consistent_read=True)
            except RequestTallyItem.DoesNotExist:
                item = None
        return _tally(item)

    def facts(self, town_id: str, request_id: str) -> RequestFacts | None:
        with storage_errors():
            try:
                item = RequestItem.get(keys.request_pk(town_id, request_id), keys.META_SK)
            except RequestItem.DoesNotExist:
                return None
        return request_facts(item)

    def record(self, town_id: str, request_id: str, before: RequestTally,
               after: RequestTally, changes: list[DayChange]) -> None:
        """Write an event's day changes and the request's new tally in one transaction, if
        the tally is still at ``before.version``; else Conflict (read it again)."""
        pk = keys.request_pk(town_id, request_id)
        tally_actions: list[Action] = [
            RequestTallyItem.applied.add(set(after.applied - before.applied)),
            RequestTallyItem.acknowledged.set(after.acknowledged),
            RequestTallyItem.version.set(after.version),
            RequestTallyItem.open_in.set([list(p) for p in after.open_in])
            if after.open_in is not None else RequestTallyItem.open_in.remove(),
        ]
        condition = RequestTallyItem.version == before.version if before.version \
            else RequestTallyItem.PK.does_not_exist()
        moves = {keys.open_count_name(c.dimension, c.value): c.open_delta
                 for c in changes if c.open_delta}
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.update(RequestTallyItem(pk, keys.TALLIED_SK), actions=tally_actions,
                              condition=condition)
                    for change in changes:
                        tx.update(FigureDayItem(keys.figures_pk(town_id, change.dimension),
                                                keys.figures_sk(change.day, change.value)),
                                  actions=_day_actions(change))
                    if moves:
                        tx.update(OpenCountItem(keys.town_pk(town_id), keys.FIGURES_OPEN_SK),
                                  actions=[NumberAttribute(attr_name=name).add(n)
                                           for name, n in sorted(moves.items())])
            except TransactWriteError as e:
                if CONDITION_FAILED in reasons(e) or e.cause_response_code == \
                        "TransactionConflictException" or "TransactionConflict" in reasons(e):
                    raise Conflict("the request's figures changed meanwhile") from e
                raise

    def count_answered(self, town_id: str, day: date, channel: str, mark: str,
                       keep_until: datetime) -> bool:
        """One answered question: ``information`` + 1 on the town's and the channel's day
        items, with the mark put only if new, in one transaction (a retried handler or a
        second click finds the mark and counts nothing)."""
        adds: list[Action] = [NumberAttribute(attr_name="information").add(1)]
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.save(AnsweredMarkItem(keys.answered_pk(town_id, mark), keys.ANSWERED_SK,
                                             expires_at=int(keep_until.timestamp())),
                            condition=AnsweredMarkItem.PK.does_not_exist())
                    for dimension, value in (("town", ALL), ("channel", channel)):
                        tx.update(FigureDayItem(keys.figures_pk(town_id, dimension),
                                                keys.figures_sk(day, value)), actions=adds)
            except TransactWriteError as e:
                if CONDITION_FAILED in reasons(e):
                    return False
                raise
        return True

    def days(self, town_id: str, dimension: str, start: date,
             end: date | None = None) -> list[DayFigures]:
        """The day items of one dimension from ``start`` to ``end`` (None: every later
        day), in day order: one Query."""
        pk = keys.figures_pk(town_id, dimension)
        upper = keys.figures_sk(end, "~") if end is not None else "~"
        condition = TableItem.SK.between(keys.figures_sk(start, ""), upper)
        connection = TableItem._get_connection()
        found: list[DayFigures] = []
        page_start: dict[str, Any] | None = None
        with storage_errors():
            while True:
                page = connection.query(pk, range_key_condition=condition,
                                        exclusive_start_key=page_start)
                found += [day_figures(pk, raw) for raw in page.get("Items", [])]
                page_start = page.get("LastEvaluatedKey")
                if not page_start:
                    return found

    def open_now(self, town_id: str) -> dict[tuple[str, str], int] | None:
        """How many requests are open now under each (dimension, value); None if the town's
        figures were never counted."""
        with storage_errors():
            try:
                item = OpenCountItem.get(keys.town_pk(town_id), keys.FIGURES_OPEN_SK)
            except OpenCountItem.DoesNotExist:
                return None
        return {(name.split("#", 1)[0], name.split("#", 1)[1]): n
                for name, n in item.numbers.items() if "#" in name}

    def history(self, town_id: str) -> Iterator[list[FigureEvent]]:
        """Each request of the town with its figure events (timeline and "me too"s), read
        through the town's index of requests and one Query per request: the backfill's
        reading, never a Scan."""
        with storage_errors():
            for item in RequestItem.by_requested.query(keys.town_pk(town_id)):
                now = request_facts(item)
                events: list[FigureEvent] = []
                for raw in query_items(keys.request_pk(town_id, item.request_id)):
                    image = {name: next(iter(v.values())) for name, v in raw.items()}
                    event = figure_event(image)
                    if event is not None:
                        events.append(event if event.facts is not None else
                                      FigureEvent(event.town_id, event.request_id,
                                                  event.mark, event.kind, event.at, now))
                yield events

    def replace(self, town_id: str, days: Iterable[DayFigures],
                open_now: Mapping[tuple[str, str], int],
                tallies: Mapping[str, RequestTally]) -> None:
        """Put the town's figures as the backfill rebuilt them: every day item (and none
        left of before), the open counts and every request's tally."""
        kept = {(keys.figures_pk(town_id, d.dimension), keys.figures_sk(d.day, d.value)): d
                for d in days}
        with storage_errors(), TableItem.batch_write() as batch:
            for dimension in DIMENSIONS:
                pk = keys.figures_pk(town_id, dimension)
                for raw in query_items(pk):
                    if (pk, raw["SK"]["S"]) not in kept:
                        batch.delete(TableItem(pk, raw["SK"]["S"]))
            for (pk, sk), d in kept.items():
                batch.save(FigureDayItem.of(pk, sk, _day_attributes(d)))
            batch.save(OpenCountItem.of(keys.town_pk(town_id), keys.FIGURES_OPEN_SK, {
                keys.open_count_name(*k): n for k, n in open_now.items()}))
            for request_id, t in tallies.items():
                batch.save(RequestTallyItem(
                    keys.request_pk(town_id, request_id), keys.TALLIED_SK,
                    applied=set(t.applied) or None, acknowledged=t.acknowledged,
                    version=t.version,
                    open_in=[list(p) for p in t.open_in] if t.open_in is not None else None))
