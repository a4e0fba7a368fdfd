"""``GET /staff/reports/figures``: the town's figures as JSON for those who read reports,
a period by a dimension or one value day by day, and a 400 (never a 500) for anything
that is not a period, a dimension or a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.figures import FigureEvent, RequestFacts
from chalicelib.services.figures import record_event
from tests.functional.helpers import body

TOWN = "maplefalls.example"
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # the clock is 2026-11-20 15:30 UTC


def counted(deployment, request_id: str, kind: str, at: datetime, service: str) -> None:
    facts = RequestFacts(service, "public_works", None, "web", T0, T0 + timedelta(days=2))
    record_event(deployment.container.figure_ports,
                 FigureEvent(TOWN, request_id, f"{request_id}-{kind}", kind, at, facts))


@pytest.fixture
def figures(deployment):
    counted(deployment, "a", "submitted", T0, "pothole")
    counted(deployment, "b", "submitted", T0, "pothole")
    counted(deployment, "c", "submitted", T0 + timedelta(days=1), "graffiti")
    counted(deployment, "a", "closed", T0 + timedelta(days=1), "pothole")


def test_readers_get_a_period_by_service(api, staff, figures):
    r = api.http.get("/staff/reports/figures?start=2026-11-16&end=2026-11-20&by=service",
                     headers=staff.headers("analyst"))
    assert r.status_code == 200, r.body
    found = body(r)
    assert (found["start"], found["end"], found["by"]) == ("2026-11-16", "2026-11-20",
                                                           "service")
    rows = {row["value"]: row for row in found["figures"]}
    assert set(rows) == {"graffiti", "pothole"}
    assert rows["pothole"]["opened"] == 2 and rows["pothole"]["closed"] == 1
    assert rows["pothole"]["backlog"] == 1 and rows["pothole"]["sla_met_share"] == 1.0
    assert rows["pothole"]["median_to_close"] == pytest.approx(86400, rel=0.05)
    assert rows["graffiti"]["median_to_close"] is None


def test_the_default_period_is_the_last_30_days_of_the_whole_town(api, staff, figures):
    found = body(api.http.get("/staff/reports/figures", headers=staff.headers("supervisor")))
    assert (found["start"], found["end"], found["by"]) == ("2026-10-22", "2026-11-20", "town")
    [row] = found["figures"]
    assert (row["value"], row["opened"], row["backlog"]) == ("all", 3, 2)


def test_one_value_day_by_day(api, staff, figures):
    r = api.http.get("/staff/reports/figures?start=2026-11-15&end=2026-11-18&by=service"
                     "&value=pothole&daily=true", headers=staff.headers("analyst"))
    assert r.status_code == 200, r.body
    days = body(r)["days"]
    assert [(d["day"], d["opened"], d["closed"], d["backlog"]) for d in days] == [
        ("2026-11-15", 0, 0, 0), ("2026-11-16", 2, 0, 2), ("2026-11-17", 0, 1, 1),
        ("2026-11-18", 0, 0, 1)]


def test_only_those_who_read_reports_may(api, staff, figures):
    assert api.http.get("/staff/reports/figures").status_code == 401
    worker = staff.headers("department_worker", departments=("public_works",))
    assert api.http.get("/staff/reports/figures", headers=worker).status_code == 403
    other = staff.headers("analyst", town="riverton.example")
    found = body(api.http.get("/staff/reports/figures", headers=other))
    assert found["figures"] == []  # Riverton's own figures: nothing of Maple Falls


@pytest.mark.parametrize("query", [
    "by=colour", "start=2026-13-01", "start=yesterday", "start=2026-11-20&end=2026-11-01",
    "start=2020-01-01&end=2026-11-01", "daily=true", "daily=maybe", "end=9999-12-31",
    "start=0001-01-01", "end=0001-01-01", "value=" + "x" * 101,
])
def test_bad_input_is_a_400_naming_the_problem(api, staff, query):
    r = api.http.get(f"/staff/reports/figures?{query}", headers=staff.headers("analyst"))
    assert r.status_code == 400, (query, r.status_code, r.body)
    assert body(r)
