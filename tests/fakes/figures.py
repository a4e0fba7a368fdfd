"""A town's figures in memory (``FigureStore``), and a request store that records the
figure events the table's stream would carry (``StreamedRequests``).

Other tests can seed figures directly: ``store.put(town, DayFigures(...))`` and
``store.set_open(town, {("service", "pothole"): 3})``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime

from chalicelib.domain.errors import Conflict
from chalicelib.domain.figures import (
    ALL,
    FOLLOWED,
    DayChange,
    DayFigures,
    FigureEvent,
    Figures,
    RequestFacts,
    RequestTally,
    Sketch,
    facts_of,
)
from chalicelib.domain.followers import FOLLOWER, Follower
from chalicelib.domain.queries import Quota
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import AuditEntry
from tests.fakes.requests import FakeRequestStore


class StreamedRequests(FakeRequestStore):
    """The fake request store, and the figure events each write would put on the table's
    stream (``stream``), with the facts of the request as written."""

    def __init__(self) -> None:
        super().__init__()
        self.stream: list[FigureEvent] = []
        self.event_facts: dict[tuple[str, str, str], RequestFacts] = {}

    def _emit(self, request: ServiceRequest, event: TimelineEvent) -> None:
        facts = facts_of(request)
        self.event_facts[(request.town_id, request.request_id, event.event_id)] = facts
        self.stream.append(FigureEvent(request.town_id, request.request_id, event.event_id,
                                       event.kind, event.at, facts))

    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        super().add(request, first_event, quota, audit, reporter)
        self._emit(request, first_event)

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        super().record_change(request, event, once, tally)
        self._emit(request, event)

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        new = super().follow(town_id, request_id, follower)
        if new and follower.role == FOLLOWER:
            # A follower item carries no facts: the updater reads the request's.
            self.stream.append(FigureEvent(town_id, request_id,
                                           f"follower#{follower.follower_id}", FOLLOWED,
                                           follower.since, None))
        return new


class FakeFigureStore:
    """FigureStore in memory. ``requests`` (a StreamedRequests, or any FakeRequestStore)
    is what ``facts`` and ``history`` read; ``conflicts`` makes the next writes lose a race
    that many times (another event of the same request written first)."""

    def __init__(self, requests: FakeRequestStore | None = None) -> None:
        self.requests = requests
        self.items: dict[tuple[str, str, date, str], DayFigures] = {}
        self.open: dict[str, dict[tuple[str, str], int]] = {}
        self.tallies: dict[tuple[str, str], RequestTally] = {}
        self.conflicts = 0
        self.writes = 0
        self.marks: dict[tuple[str, str], datetime] = {}  # answered questions counted

    # --- seeding, for tests that read figures -------------------------------------------

    def put(self, town_id: str, day: DayFigures) -> None:
        self.items[(town_id, day.dimension, day.day, day.value)] = day

    def set_open(self, town_id: str, counts: Mapping[tuple[str, str], int]) -> None:
        self.open[town_id] = dict(counts)

    # --- the port -----------------------------------------------------------------------

    def tally(self, town_id: str, request_id: str) -> RequestTally:
        return self.tallies.get((town_id, request_id), RequestTally())

    def facts(self, town_id: str, request_id: str) -> RequestFacts | None:
        found = self.requests.requests.get((town_id, request_id)) if self.requests else None
        return facts_of(found) if found is not None else None

    def record(self, town_id: str, request_id: str, before: RequestTally,
               after: RequestTally, changes: list[DayChange]) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict("the request's figures changed meanwhile")
        if self.tally(town_id, request_id).version != before.version:
            raise Conflict("the request's figures changed meanwhile")
        self.writes += 1
        self.tallies[(town_id, request_id)] = after
        for c in changes:
            key = (town_id, c.dimension, c.day, c.value)
            was = self.items.get(key) or DayFigures(c.day, c.dimension, c.value, Figures())
            added = Figures.of(c.counters,
                               to_acknowledge=Sketch.of([c.to_acknowledge]
                                                        if c.to_acknowledge is not None
                                                        else []),
                               to_close=Sketch.of([c.to_close] if c.to_close is not None
                                                  else []))
            self.items[key] = DayFigures(c.day, c.dimension, c.value,
                                         was.figures.merge(added), was.open_delta + c.open_delta)
            if c.open_delta:
                counts = self.open.setdefault(town_id, {})
                counts[(c.dimension, c.value)] = counts.get((c.dimension, c.value), 0) \
                    + c.open_delta

    def days(self, town_id: str, dimension: str, start: date,
             end: date | None = None) -> list[DayFigures]:
        return [d for (t, dim, day, _), d in sorted(self.items.items(),
                                                    key=lambda kv: (kv[0][2], kv[0][3]))
                if t == town_id and dim == dimension and day >= start
                and (end is None or day <= end)]

    def open_now(self, town_id: str) -> dict[tuple[str, str], int] | None:
        found = self.open.get(town_id)
        return dict(found) if found is not None else None

    def history(self, town_id: str) -> Iterator[list[FigureEvent]]:
        store = self.requests
        if store is None:
            return
        known = getattr(store, "event_facts", {})
        for (town, request_id), request in sorted(store.requests.items()):
            if town != town_id:
                continue
            now = facts_of(request)
            events = [FigureEvent(town, request_id, e.event_id, e.kind, e.at,
                                  known.get((town, request_id, e.event_id), now))
                      for e in store.events[(town, request_id)]]
            events += [FigureEvent(town, request_id, f"follower#{f.follower_id}", FOLLOWED,
                                   f.since, now)
                       for f in store.followers.get((town, request_id), {}).values()
                       if f.role == FOLLOWER]
            yield events

    def count_answered(self, town_id: str, day: date, channel: str, mark: str,
                       keep_until: datetime) -> bool:
        if (town_id, mark) in self.marks:
            return False
        self.marks[(town_id, mark)] = keep_until
        for dimension, value in (("town", ALL), ("channel", channel)):
            key = (town_id, dimension, day, value)
            was = self.items.get(key) or DayFigures(day, dimension, value, Figures())
            self.items[key] = DayFigures(day, dimension, value,
                                         was.figures.merge(Figures(information=1)),
                                         was.open_delta)
        return True

    def replace(self, town_id: str, days: Iterable[DayFigures],
                open_now: Mapping[tuple[str, str], int],
                tallies: Mapping[str, RequestTally]) -> None:
        self.items = {k: v for k, v in self.items.items() if k[0] != town_id}
        for d in days:
            self.put(town_id, dataclasses.replace(d))
        self.open[town_id] = dict(open_now)
        self.tallies = {k: v for k, v in self.tallies.items() if k[0] != town_id}
        self.tallies.update({(town_id, r): t for r, t in tallies.items()})
