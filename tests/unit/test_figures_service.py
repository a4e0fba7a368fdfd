"""Figures counted as request events happen (chalicelib.services.figures) on fakes: each
kind of event adds what it should to its town-time day, an event delivered twice is
counted once, the backlog of any period comes out of the open counts, and the backfill
rebuilds exactly what live counting kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, Conflict, InvalidInput
from chalicelib.domain.figures import (
    FOLLOWED,
    DayFigures,
    FigureEvent,
    Figures,
    RequestFacts,
    Sketch,
)
from chalicelib.domain.towns import Town
from chalicelib.services import figures
from chalicelib.services.figures import FigurePorts
from tests.fakes import FakeFigureStore, FakeTownDirectory, StreamedRequests

TOWN = "maple"
# 2026-11-02 is a Monday; 23:30 on the 2nd in Chicago is the 3rd in UTC.
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def analyst(town: str = TOWN) -> Principal:
    return Principal(subject="ana", town_id=town, roles=frozenset({Role.ANALYST}))


@pytest.fixture
def ports():
    towns = FakeTownDirectory()
    towns.towns[TOWN] = Town(TOWN, "Maple Falls", "America/Chicago", "c1")
    return FigurePorts(towns=towns, figures=FakeFigureStore(StreamedRequests()),
                       now=lambda: T0 + 30 * DAY)


def facts(service="pothole", department="roads", zone="north", channel="web",
          requested=T0, expected=None, rating=None, resolution=None) -> RequestFacts:
    return RequestFacts(service, department, zone, channel, requested, expected, rating,
                        resolution)


def event(kind, at, request="r1", mark=None, **kw) -> FigureEvent:
    return FigureEvent(TOWN, request, mark or f"{request}-{kind}-{at.isoformat()}", kind, at,
                       facts(**kw) if kw.get("service", True) is not None else None)


def day_of(ports, dimension, value, day) -> DayFigures | None:
    found = [d for d in ports.figures.days(TOWN, dimension, day, day) if d.value == value]
    return found[0] if found else None


def test_a_new_request_is_opened_in_every_dimension_on_its_town_day(ports):
    late = datetime(2026, 11, 3, 4, 30, tzinfo=UTC)  # 22:30 on the 2nd in Chicago
    assert figures.record_event(ports, event("submitted", late, requested=late))
    for dimension, value in (("town", "all"), ("service", "pothole"), ("department", "roads"),
                             ("zone", "north"), ("channel", "web")):
        stored = day_of(ports, dimension, value, date(2026, 11, 2))
        assert stored is not None and stored.figures.opened == 1 and stored.open_delta == 1
    assert day_of(ports, "town", "all", date(2026, 11, 3)) is None
    assert ports.figures.open_now(TOWN)[("service", "pothole")] == 1


def test_an_event_delivered_twice_is_counted_once(ports):
    first = event("submitted", T0)
    assert figures.record_event(ports, first)
    assert not figures.record_event(ports, first)
    assert day_of(ports, "town", "all", T0.date()).figures.opened == 1
    assert ports.figures.open_now(TOWN)[("town", "all")] == 1


def test_closing_times_the_close_and_first_response_and_judges_the_sla(ports):
    figures.record_event(ports, event("submitted", T0))
    figures.record_event(ports, event("acknowledged", T0 + 2 * HOUR))
    figures.record_event(ports, event("in_progress", T0 + 3 * HOUR))  # not a first response
    figures.record_event(ports, event("closed", T0 + 2 * DAY, expected=T0 + 3 * DAY))
    opened_day = day_of(ports, "service", "pothole", T0.date()).figures
    assert opened_day.to_acknowledge.count == 1
    assert opened_day.median_to_acknowledge == pytest.approx(7200, rel=0.05)
    closed = day_of(ports, "service", "pothole", (T0 + 2 * DAY).date())
    assert closed.figures.closed == 1 and closed.figures.sla_met == 1
    assert closed.figures.median_to_close == pytest.approx(2 * 86400, rel=0.05)
    assert closed.open_delta == -1
    assert ports.figures.open_now(TOWN)[("town", "all")] == 0


def test_a_late_closing_misses_the_sla_and_a_duplicate_is_counted(ports):
    figures.record_event(ports, event("submitted", T0))
    figures.record_event(ports, event("closed", T0 + 5 * DAY, expected=T0 + DAY,
                                      resolution="duplicate"))
    closed = day_of(ports, "town", "all", (T0 + 5 * DAY).date()).figures
    assert (closed.sla_missed, closed.sla_met, closed.duplicates) == (1, 0, 1)
    # Closed without any other response: the closing is its first response.
    assert closed.to_acknowledge.count == 1


def test_disputes_reopenings_ratings_and_followers(ports):
    figures.record_event(ports, event("submitted", T0))
    figures.record_event(ports, event("closed", T0 + DAY))
    figures.record_event(ports, event("disputed", T0 + 2 * DAY))
    figures.record_event(ports, event("closed", T0 + 3 * DAY))
    figures.record_event(ports, event("reopened", T0 + 4 * DAY))
    figures.record_event(ports, event("closed", T0 + 5 * DAY))
    figures.record_event(ports, event("rated", T0 + 6 * DAY, rating=4))
    ports.figures.requests.add(_request("r1"), _first("r1"))
    figures.record_event(ports, FigureEvent(TOWN, "r1", "follower#f1", FOLLOWED, T0 + 6 * DAY,
                                            None))
    week = figures.period(ports, analyst(), T0.date(), (T0 + 6 * DAY).date(), "town")["all"]
    assert (week.opened, week.closed, week.reopened, week.disputes) == (1, 3, 2, 1)
    assert (week.ratings, week.mean_rating, week.followers) == (1, 4.0, 1)
    assert week.backlog == 0


def test_a_hand_off_moves_the_open_count_to_the_new_department(ports):
    figures.record_event(ports, event("submitted", T0, department=None))
    figures.record_event(ports, event("routed", T0 + HOUR, department="roads"))
    figures.record_event(ports, event("handed_off", T0 + DAY, department="parks"))
    figures.record_event(ports, event("note", T0 + DAY + HOUR, department="parks"))
    by_department = figures.period(ports, analyst(), T0.date(), (T0 + DAY).date(),
                                   "department")
    assert by_department["parks"].backlog == 1
    assert by_department["parks"].opened == 0  # opened before it was theirs
    assert by_department["none"].opened == 1 and by_department["none"].backlog == 0
    assert "roads" not in by_department or by_department["roads"].backlog == 0
    # At the end of the first day it was the roads department's.
    first_day = figures.period(ports, analyst(), T0.date(), T0.date(), "department")
    assert first_day["roads"].backlog == 1 and first_day["none"].backlog == 0


def test_a_lost_race_on_the_tally_is_tried_again(ports):
    ports.figures.conflicts = 2
    assert figures.record_event(ports, event("submitted", T0))
    assert day_of(ports, "town", "all", T0.date()).figures.opened == 1
    ports.figures.conflicts = 10
    with pytest.raises(Conflict):
        figures.record_event(ports, event("closed", T0 + DAY))


def test_an_event_without_facts_reads_the_request_and_one_of_a_gone_town_is_dropped(ports):
    assert not figures.record_event(ports, FigureEvent(TOWN, "nobody", "m", FOLLOWED, T0, None))
    gone = FigureEvent("elsewhere", "r1", "m", "submitted", T0, facts())
    assert not figures.record_event(ports, gone)
    assert ports.figures.writes == 0


def test_the_backlog_of_a_past_period_is_the_open_count_less_what_came_after(ports):
    for n in range(4):
        figures.record_event(ports, event("submitted", T0 + n * DAY, request=f"r{n}"))
    figures.record_event(ports, event("closed", T0 + 5 * DAY, request="r0"))
    first_two_days = figures.period(ports, analyst(), T0.date(), (T0 + DAY).date(), "town")
    assert first_two_days["all"].backlog == 2 and first_two_days["all"].opened == 2
    trend = figures.daily(ports, analyst(), T0.date(), (T0 + 6 * DAY).date(), "town", "all")
    assert [f.backlog for _, f in trend] == [1, 2, 3, 4, 4, 3, 3]
    assert [f.opened for _, f in trend] == [1, 1, 1, 1, 0, 0, 0]


def test_weekly_opened_counts_complete_monday_weeks(ports):
    for n in range(15):  # 2 Nov (Mon) .. 16 Nov (Mon)
        figures.record_event(ports, event("submitted", T0 + n * DAY, request=f"r{n}"))
    figures.record_event(ports, event("submitted", T0, request="s1", service="streetlight"))
    weeks = figures.weekly_opened(ports, TOWN, "pothole", 3, date(2026, 11, 16))
    assert weeks == [(date(2026, 10, 26), 0), (date(2026, 11, 2), 7), (date(2026, 11, 9), 7)]
    with pytest.raises(InvalidInput):
        figures.weekly_opened(ports, TOWN, "pothole", 0, date(2026, 11, 16))


def test_every_services_weeks_come_from_one_read_of_the_service_figures(ports, monkeypatch):
    """A day's items hold every service: the forecast of all of them reads them once."""
    for n in range(15):
        figures.record_event(ports, event("submitted", T0 + n * DAY, request=f"r{n}"))
    figures.record_event(ports, event("submitted", T0, request="s1", service="streetlight"))
    reads = []
    days = ports.figures.days
    monkeypatch.setattr(ports.figures, "days", lambda *a: reads.append(a) or days(*a))
    both = figures.weekly_opened_by_service(ports, TOWN, 3, date(2026, 11, 16),
                                            ("pothole", "streetlight", "graffiti"))
    assert len(reads) == 1
    assert both["pothole"] == figures.weekly_opened(ports, TOWN, "pothole", 3,
                                                    date(2026, 11, 16))
    assert [n for _, n in both["streetlight"]] == [0, 1, 0]
    assert [n for _, n in both["graffiti"]] == [0, 0, 0]


def test_reading_needs_the_report_permission_and_sound_input(ports):
    worker = Principal(subject="w", town_id=TOWN, roles=frozenset({Role.DEPARTMENT_WORKER}),
                       departments=frozenset({"roads"}))
    with pytest.raises(AccessDenied):
        figures.period(ports, worker, T0.date(), T0.date(), "town")
    with pytest.raises(InvalidInput, match="by"):
        figures.period(ports, analyst(), T0.date(), T0.date(), "colour")
    with pytest.raises(InvalidInput, match="start"):
        figures.period(ports, analyst(), T0.date(), T0.date() - DAY, "town")
    with pytest.raises(InvalidInput, match="at most"):
        figures.period(ports, analyst(), T0.date() - 4 * 365 * DAY, T0.date(), "town")


def test_nothing_counted_yet_has_no_backlog(ports):
    assert figures.period(ports, analyst(), T0.date(), T0.date(), "service") == {}
    trend = figures.daily(ports, analyst(), T0.date(), T0.date(), "service", "pothole")
    assert trend == [(T0.date(), Figures(backlog=None))]


def test_the_public_page_sees_only_services_the_town_offers(ports):
    from chalicelib.services.towns import seed_demo_town

    demo = seed_demo_town(ports.towns, api_key="k")
    town = demo.town.town_id
    catalogue = ports.towns.get_catalogue(town, demo.town.changeset)
    offered = catalogue.services[0].code
    for code in (offered, "retired_service"):
        ports.figures.put(town, DayFigures(T0.date(), "service", code, Figures(opened=2)))
    found = figures.public_period(ports, town, T0.date(), T0.date(), "service")
    assert list(found) == [offered] and found[offered].opened == 2


# --- live == backfill ---------------------------------------------------------------------


def _request(request_id, **kw):
    from chalicelib.domain.requests import Place, ServiceRequest

    fields = {"service_code": "pothole", "service_name": "Pothole", "requested_at": T0,
              "updated_at": T0, "place": Place(), "department": None, "zone": "north",
              "channel": "web"} | kw
    return ServiceRequest(town_id=TOWN, request_id=request_id, **fields)


def _first(request_id, at=T0):
    from chalicelib.domain.requests import TimelineEvent

    return TimelineEvent(at=at, event_id=f"{request_id}-e0", kind="submitted",
                         summary="Submitted")


def _history(store: StreamedRequests) -> None:
    """A few requests through their lives, written as the services write them."""
    from dataclasses import replace

    from chalicelib.domain.followers import FOLLOWER, Follower
    from chalicelib.domain.requests import TimelineEvent

    def change(request_id, kind, at, **fields):
        current = store.get(TOWN, request_id, with_timeline=False)
        changed = replace(current, updated_at=at, **fields)
        store.record_change(changed, TimelineEvent(at=at, event_id=f"{request_id}-{kind}-{at}",
                                                   kind=kind, summary=kind))

    for n, service in enumerate(("pothole", "pothole", "streetlight", "graffiti")):
        rid, at = f"r{n}", T0 + n * 7 * HOUR
        store.add(_request(rid, service_code=service, requested_at=at, updated_at=at),
                  _first(rid, at))
        change(rid, "routed", at + HOUR, department="roads", lifecycle="routed")
    change("r0", "acknowledged", T0 + 3 * HOUR)
    change("r0", "closed", T0 + 2 * DAY, status="closed", lifecycle="closed",
           expected_at=T0 + DAY, resolution="fixed")
    change("r0", "disputed", T0 + 3 * DAY, status="open", lifecycle="reopened",
           disputed=True, resolution=None)
    change("r0", "closed", T0 + 4 * DAY, status="closed", lifecycle="closed",
           resolution="fixed")
    change("r0", "rated", T0 + 5 * DAY, rating=2)
    change("r1", "handed_off", T0 + DAY, department="parks")
    change("r1", "closed", T0 + 6 * DAY, status="closed", lifecycle="closed",
           expected_at=T0 + 10 * DAY, resolution="fixed")
    store.follow(TOWN, "r2", Follower.make(FOLLOWER, T0 + 2 * DAY, "a@example.org", None,
                                            None, ()))
    change("r3", "closed", T0 + 2 * DAY, status="closed", lifecycle="closed",
           resolution="duplicate", parent_request_id="r2")


def _everything(ports) -> tuple[dict, dict]:
    stored = {dimension: ports.figures.days(TOWN, dimension, T0.date() - DAY)
              for dimension in ("town", "service", "department", "zone", "channel")}
    # A value whose requests all closed counts 0 open: as good as absent.
    return stored, {k: n for k, n in (ports.figures.open_now(TOWN) or {}).items() if n}


def test_backfill_rebuilds_what_live_counting_kept(ports):
    store = ports.figures.requests
    _history(store)
    for streamed in store.stream:
        figures.record_event(ports, streamed)
    live = _everything(ports)
    assert live[0]["town"] and live[1][("department", "roads")] == 1  # r2, still open

    rebuilt = FakeFigureStore(store)
    rebuilt_ports = FigurePorts(ports.towns, rebuilt, ports.now)
    done = figures.backfill(rebuilt_ports, TOWN)
    assert done.requests == 4 and done.events == len(store.stream)
    assert _everything(rebuilt_ports) == live

    # The stream delivering everything again after a backfill counts nothing twice.
    for streamed in store.stream:
        assert not figures.record_event(rebuilt_ports, streamed)
    assert _everything(rebuilt_ports) == live


def test_backfill_replaces_what_was_stored_before(ports):
    store = ports.figures.requests
    _history(store)
    ports.figures.put(TOWN, DayFigures(T0.date() - 30 * DAY, "town", "all",
                                       Figures(opened=99)))
    figures.backfill(ports, TOWN)
    assert ports.figures.days(TOWN, "town", T0.date() - 30 * DAY, T0.date() - DAY) == []
    month = figures.period(ports, analyst(), T0.date(), (T0 + 29 * DAY).date(), "service")
    assert month["pothole"].opened == 2 and month["pothole"].closed == 3
    assert month["pothole"].backlog == 0 and month["streetlight"].backlog == 1
    # r0 closed late twice (its due time was not moved in this story), r1 in time.
    assert month["pothole"].sla_met == 1 and month["pothole"].sla_missed == 2
    assert month["graffiti"].duplicates == 1
    assert month["streetlight"].followers == 1
    assert month["pothole"].to_close.count == 3


def test_document_gives_seconds_and_shares():
    f = Figures(closed=2, sla_met=1, sla_missed=1, ratings=1, rating_total=3, backlog=5,
                to_close=Sketch.of([3600, 7200]))
    doc = figures.document(f)
    assert doc["backlog"] == 5 and doc["sla_met_share"] == 0.5 and doc["mean_rating"] == 3.0
    assert doc["median_to_close"] == pytest.approx(3600, rel=0.05)
    assert doc["median_to_acknowledge"] is None
