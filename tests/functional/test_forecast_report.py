"""Issue 17: the 8-week forecast report, from the town's figures after a generated year
(local/demo_year.py), checked against what the generator made."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from local.demo_year import rebuild_figures, seed_demo_year
from tests.functional.helpers import body


def test_the_forecast_shows_each_weeks_actuals_as_generated_and_eight_weeks_ahead(
        api, staff, deployment) -> None:  # noqa: ANN001
    c = deployment.container
    # A small town's year (the figures' backfill is slow on moto): ~150 requests.
    year = seed_demo_year(c, "maplefalls.example", c.now(), seed=17, per_year=150)
    rebuild_figures(c, "maplefalls.example", year)
    r = api.http.get("/staff/reports/forecast?service=pothole",
                     headers=staff.headers("analyst"))
    assert r.status_code == 200, r.body
    doc = body(r)
    assert list(doc["services"]) == ["pothole"]
    pothole = doc["services"]["pothole"]
    truth = dict(year.truth.weekly("pothole"))
    assert len(pothole["actual"]) == 12
    for week in pothole["actual"]:  # the figures, rebuilt from the stored year, agree
        assert week["opened"] == truth[date.fromisoformat(week["week_start"])]
    assert pothole["method"] == "seasonal" and pothole["history_weeks"] >= 48
    ahead = [date.fromisoformat(w["week_start"]) for w in pothole["weeks"]]
    last = date.fromisoformat(pothole["actual"][-1]["week_start"])
    assert ahead == [last + timedelta(weeks=h) for h in range(1, 9)]
    assert all(0 <= w["low"] <= w["expected"] <= w["high"] for w in pothole["weeks"])

    r = api.http.get("/staff/reports/forecast?weeks=4", headers=staff.headers("supervisor"))
    assert r.status_code == 200, r.body
    services = body(r)["services"]
    assert {"pothole", "snow_ice", "missed_trash", "other"} <= set(services)
    assert all(len(s["weeks"]) == 4 for s in services.values())
    # Late November: the snow the winter before comes round again.
    assert sum(w["expected"] for w in services["snow_ice"]["weeks"]) > 1


@pytest.mark.parametrize("query, field", [("service=no_such", "service"),
                                          ("weeks=0", "weeks"), ("weeks=27", "weeks"),
                                          ("service=BAD!", "service")])
def test_a_bad_question_is_a_400_naming_the_parameter(api, staff, deployment, query,
                                                      field) -> None:  # noqa: ANN001
    r = api.http.get(f"/staff/reports/forecast?{query}", headers=staff.headers("analyst"))
    assert r.status_code == 400, r.body
    assert field in r.body.decode()


def test_only_staff_who_read_the_towns_requests_see_the_forecast(api, staff, deployment) -> None:  # noqa: ANN001
    assert api.http.get("/staff/reports/forecast").status_code == 401
    worker = staff.headers("department_worker", departments=("public_works",))
    assert api.http.get("/staff/reports/forecast", headers=worker).status_code == 403
