"""``FigureStore``: the in-memory fake and the DynamoDB adapter on moto answer the same
(an event's day changes and the request's tally written together, only over the tally's
version; a period read per dimension over a range of days; the backfill's replacement
and its reading of history)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.figures import (
    FOLLOWED,
    DayChange,
    DayFigures,
    Figures,
    RequestTally,
    Sketch,
)
from chalicelib.domain.followers import FOLLOWER, REPORTER, Follower
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from tests.fakes import FakeFigureStore, StreamedRequests

TOWN, OTHER = "maplefalls.example", "riverton.example"
DAY1, DAY2 = date(2026, 11, 2), date(2026, 11, 3)
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def opened(day: date, dimension: str, value: str, *, close: float | None = None,
           delta: int = 1) -> DayChange:
    return DayChange(day, dimension, value, {"opened": 1}, delta, to_acknowledge=60.0,
                     to_close=close)


class FigureStoreContract:
    @pytest.fixture
    def stores(self):  # (figure store, request store)
        raise NotImplementedError

    def test_an_event_is_written_with_the_tally_and_read_back_per_day(self, stores):
        figures, _ = stores
        before = figures.tally(TOWN, "r1")
        assert before == RequestTally()
        after = RequestTally(frozenset({"e1"}), (("service", "pothole"), ("town", "all")),
                             True, 1)
        figures.record(TOWN, "r1", before, after, [
            opened(DAY1, "service", "pothole"), opened(DAY1, "town", "all")])
        again = RequestTally(frozenset({"e1", "e2"}), None, True, 2)
        figures.record(TOWN, "r1", after, again, [
            DayChange(DAY2, "service", "pothole", {"closed": 1, "sla_met": 1}, -1,
                      to_close=86400.0)])
        assert figures.tally(TOWN, "r1") == again
        days = figures.days(TOWN, "service", DAY1)
        assert [(d.day, d.value, d.open_delta) for d in days] == [
            (DAY1, "pothole", 1), (DAY2, "pothole", -1)]
        assert days[0].figures.opened == 1 and days[0].figures.to_acknowledge.count == 1
        assert days[1].figures.closed == 1 and days[1].figures.sla_met == 1
        assert days[1].figures.median_to_close == pytest.approx(86400, rel=0.05)
        assert days[1].figures.backlog is None
        assert figures.open_now(TOWN) == {("service", "pothole"): 0, ("town", "all"): 1}

    def test_a_write_over_a_stale_tally_is_refused_and_changes_nothing(self, stores):
        figures, _ = stores
        first = RequestTally(frozenset({"e1"}), None, False, 1)
        figures.record(TOWN, "r1", RequestTally(), first, [opened(DAY1, "town", "all")])
        with pytest.raises(Conflict):
            figures.record(TOWN, "r1", RequestTally(), first, [opened(DAY1, "town", "all")])
        assert figures.days(TOWN, "town", DAY1)[0].figures.opened == 1

    def test_days_are_read_over_a_range_per_town_and_dimension(self, stores):
        figures, _ = stores
        for n in range(10):
            day = DAY1 + timedelta(days=n)
            figures.record(TOWN, f"r{n}", RequestTally(),
                           RequestTally(frozenset({"e"}), None, False, 1),
                           [opened(day, "zone", "north"), opened(day, "zone", "south")])
        figures.record(OTHER, "r0", RequestTally(), RequestTally(frozenset({"e"}), None,
                                                                 False, 1),
                       [opened(DAY1, "zone", "north")])
        window = figures.days(TOWN, "zone", DAY1 + timedelta(days=2), DAY1 + timedelta(days=3))
        assert [(d.day.day, d.value) for d in window] == [
            (4, "north"), (4, "south"), (5, "north"), (5, "south")]
        assert len(figures.days(TOWN, "zone", DAY1 + timedelta(days=8))) == 4
        assert figures.days(TOWN, "service", DAY1) == []
        assert figures.open_now(OTHER) == {("zone", "north"): 1}
        assert figures.open_now("nowhere.example") is None

    def test_replace_makes_the_towns_figures_exactly_those_given(self, stores):
        figures, _ = stores
        figures.record(TOWN, "r1", RequestTally(), RequestTally(frozenset({"e"}), None,
                                                                False, 1),
                       [opened(DAY1, "town", "all"), opened(DAY1, "service", "pothole")])
        figures.record(OTHER, "r1", RequestTally(), RequestTally(frozenset({"e"}), None,
                                                                 False, 1),
                       [opened(DAY1, "town", "all")])
        rebuilt = DayFigures(DAY2, "town", "all",
                             Figures(opened=3, closed=1, to_close=Sketch.of([3600, 7200])), 2)
        tally = RequestTally(frozenset({"a", "b"}), (("town", "all"),), True, 2)
        figures.replace(TOWN, [rebuilt], {("town", "all"): 2}, {"r1": tally})
        assert figures.days(TOWN, "service", DAY1) == []
        [day] = figures.days(TOWN, "town", DAY1)
        assert day == rebuilt
        assert figures.open_now(TOWN) == {("town", "all"): 2}
        assert figures.tally(TOWN, "r1") == tally
        assert figures.days(OTHER, "town", DAY1)[0].figures.opened == 1

    def test_history_gives_each_request_with_its_events_and_me_toos(self, stores):
        figures, requests = stores
        request = ServiceRequest(TOWN, "h1", "pothole", "Pothole", T0, T0, Place(),
                                 channel="web", zone="north")
        requests.add(request, TimelineEvent(T0, "e1", "submitted", "Submitted"))
        request.department, request.lifecycle = "roads", "routed"
        requests.record_change(request, TimelineEvent(T0 + timedelta(hours=1), "e2", "routed",
                                                      "Sent to roads"))
        requests.follow(TOWN, "h1", Follower.make(FOLLOWER, T0 + timedelta(hours=2),
                                                  "a@example.org", None, None, ()))
        requests.follow(TOWN, "h1", Follower.make(REPORTER, T0, "b@example.org", None,
                                                  None, ()))
        [history] = [h for h in figures.history(TOWN) if h and h[0].request_id == "h1"]
        kinds = sorted((e.kind, e.facts.department) for e in history)
        assert kinds == [(FOLLOWED, "roads"), ("routed", "roads"), ("submitted", None)]
        assert all(e.facts.service == "pothole" and e.facts.channel == "web" for e in history)
        assert figures.facts(TOWN, "h1").department == "roads"
        assert figures.facts(TOWN, "nobody") is None


class TestFakeFigureStore(FigureStoreContract):
    @pytest.fixture
    def stores(self):
        requests = StreamedRequests()
        return FakeFigureStore(requests), requests


class TestDynamoFigureStore(FigureStoreContract):
    @pytest.fixture
    def stores(self, deployment):
        return deployment.container.figures, deployment.container.requests
