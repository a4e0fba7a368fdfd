"""The demo year (local/demo_year.py): seeded, seasonal, and its truth is what it wrote."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.queries import RequestQuery
from local.demo_year import generate_year, seed_demo_year

END = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
TOWN_TIME = ZoneInfo("America/Chicago")


@pytest.fixture(scope="module")
def year():  # noqa: ANN201
    return generate_year(END, seed=11)


def test_the_same_seed_makes_the_same_year_and_another_seed_another() -> None:
    one, again = generate_year(END, seed=5, days=60), generate_year(END, seed=5, days=60)
    assert [(r.request_id, r.service_code, r.requested_at, r.status) for r in one.requests] \
        == [(r.request_id, r.service_code, r.requested_at, r.status) for r in again.requests]
    other = generate_year(END, seed=6, days=60)
    assert [r.request_id for r in other.requests] != [r.request_id for r in one.requests]


def test_a_year_is_about_what_a_town_of_eight_thousand_files(year) -> None:  # noqa: ANN001
    assert 2_100 < len(year.requests) < 2_700
    assert year.truth.opened() == len(year.requests)
    assert all(year.truth.start <= r.requested_at < END for r in year.requests)


def test_potholes_come_in_spring_snow_in_winter_and_leaves_in_autumn(year) -> None:  # noqa: ANN001
    def months(code: str, *wanted: int) -> int:
        per_month = year.truth.opened_per_month[code]
        return sum(n for month, n in per_month.items() if int(month[5:]) in wanted)

    assert months("pothole", 3, 4, 5) > 2 * months("pothole", 9, 10, 11)
    assert months("snow_ice", 12, 1, 2) > 10 * max(months("snow_ice", 6, 7, 8), 1)
    assert months("missed_trash", 10, 11) > 1.4 * months("missed_trash", 6, 7)


def test_weekdays_are_busier_than_weekends(year) -> None:  # noqa: ANN001
    by_day = Counter(r.requested_at.astimezone(TOWN_TIME).weekday() for r in year.requests)
    assert min(by_day[d] for d in range(5)) > max(by_day[5], by_day[6])


def test_the_truth_counts_what_the_requests_say(year) -> None:  # noqa: ANN001
    requests = year.requests
    closed = Counter(r.service_code for r in requests if r.status == "closed")
    assert closed == year.truth.closed
    assert Counter(r.channel for r in requests) == year.truth.opened_by_channel
    assert sum(year.truth.disputes.values()) == sum(
        any(e.kind == "disputed" for e in r.timeline) for r in requests) > 0
    assert sum(year.truth.duplicates.values()) == sum(
        r.resolution == "duplicate" for r in requests) > 0
    assert sum(year.truth.ratings.values()) > 0
    assert set(year.truth.opened_by_zone) <= {"north-end", "hilltop", "old-town",
                                              "riverside", "none"}
    # Close times follow each service: a traffic signal is fixed far sooner than a sidewalk.
    assert year.truth.median_hours_to_close("traffic_signal") < 24 < \
        year.truth.median_hours_to_close("sidewalk_damage")


def test_every_request_is_routed_and_its_timeline_in_order(year) -> None:  # noqa: ANN001
    for r in year.requests:
        assert r.department and r.tracking_number
        times = [e.at for e in r.timeline]
        assert times == sorted(times)
        assert r.timeline[0].kind == "submitted" and r.timeline[1].kind == "routed"
        if r.status == "closed":
            assert r.closed_at is not None and r.closed_at > r.requested_at


def test_only_the_last_weeks_leave_a_backlog(year) -> None:  # noqa: ANN001
    still_open = [r for r in year.requests if r.status == "open"]
    assert still_open
    public_works = [r for r in still_open if r.department == "public_works"]
    # The console inbox shows 200 a department: the demo's own month and tests' filings fit.
    assert len(public_works) < 100
    assert sum(r.requested_at < END - timedelta(days=120) for r in still_open) < 10


def test_the_seeded_year_reads_back_by_the_towns_index(deployment) -> None:  # noqa: ANN001
    c = deployment.container
    now = c.now()
    year = seed_demo_year(c, "maplefalls.example", now, seed=3, per_year=600)
    stored: list = []
    page = 1
    while True:
        found = c.requests.find("maplefalls.example", RequestQuery(
            start=now - timedelta(days=370), end=now, page=page, page_size=500))
        stored += found.items
        if not found.has_more:
            break
        page += 1
    assert len(stored) == len(year.requests) == year.truth.opened()
    per_month: dict[str, Counter[str]] = {}
    for r in stored:
        per_month.setdefault(r.service_code, Counter())[
            r.requested_at.astimezone(TOWN_TIME).strftime("%Y-%m")] += 1
    assert per_month == {code: +counts for code, counts in year.truth.opened_per_month.items()
                         if +counts}
    assert Counter(r.service_code for r in stored if r.status == "closed") == year.truth.closed
    one = next(r for r in year.requests if r.status == "closed"
               and r.requested_at > now - timedelta(days=30))
    again = c.requests.get("maplefalls.example", one.request_id, with_timeline=True)
    assert again is not None and [e.kind for e in again.timeline] == [
        e.kind for e in one.timeline]
    assert c.requests.request_id_for_tracking("maplefalls.example",
                                              one.tracking_number) == one.request_id
    disputes = c.requests.tallies("maplefalls.example", "disputes#")
    assert sum(disputes.values()) == sum(year.truth.disputes.values())


def test_the_years_figure_events_from_memory_are_those_its_stored_items_give(
        deployment) -> None:  # noqa: ANN001
    from local.demo_year import _KnownHistory

    c = deployment.container
    year = seed_demo_year(c, "maplefalls.example", c.now(), seed=9, per_year=40)
    stored = sorted((sorted(h, key=repr) for h in c.figures.history("maplefalls.example")
                     if h), key=repr)
    known = sorted((sorted(h, key=repr) for h in _KnownHistory(
        c.figures, year.requests).history("maplefalls.example") if h), key=repr)
    assert len(known) == len(year.requests) and known == stored
