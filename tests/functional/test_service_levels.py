"""Issue 7: due dates residents see, the clock through hold and reopen, the 15-minute
sweep up the escalation ladder with escalations on SNS (read from moto's record), and SLA
figures."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.functional.helpers import POTHOLE, TOWN, body, post_request

CHICAGO = ZoneInfo("America/Chicago")
JSON = {"Content-Type": "application/json"}
WORKER = {"departments": ("public_works",)}


def _sweep(deployment) -> dict:
    from chalice.test import Client

    from app import app

    with Client(app) as lambdas:
        tick = lambdas.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
        return lambdas.lambda_.invoke("check_service_levels", tick).payload


def _route(deployment) -> None:
    from tests.functional.test_tracking_and_notices import route

    route(deployment)


def _escalations(deployment) -> list[tuple[str, str, str]]:
    """(audience topic suffix, subject, message) of every SNS topic publish so far."""
    from moto.sns.models import sns_backends

    found = []
    for arn, topic in sns_backends["123456789012"]["us-east-1"].topics.items():
        if "-escalations-" in arn:
            audience = arn.split("-escalations-", 1)[1].split("-", 1)[1]
            found += [(audience, subject, message)
                      for _, message, subject, _, _ in topic.sent_notifications]
    return found


def _expected(api, rid) -> datetime:
    (doc,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    return datetime.fromisoformat(doc["expected_datetime"])


def _post(api, path, payload, headers):
    return api.http.post(path, body=json.dumps(payload).encode(), headers=headers)


def test_a_pothole_filed_on_friday_afternoon_before_labor_day(api, deployment):
    # Friday 4 September 2026, 15:00 in Maple Falls; Monday 7 September is Labor Day.
    deployment.clock[0] = datetime(2026, 9, 4, 15, 0, tzinfo=CHICAGO)
    (plain,) = body(post_request(api, POTHOLE))
    (in_lane,) = body(post_request(api, {**POTHOLE, "attribute[in_traffic_lane]": "yes"}))
    # 3 business days: Friday, Tuesday, Wednesday at closing time.
    assert _expected(api, plain["service_request_id"]) == \
        datetime(2026, 9, 9, 17, 0, tzinfo=CHICAGO)
    # In a traffic lane: 8 business hours: Friday 15-17, Tuesday 08-14.
    assert _expected(api, in_lane["service_request_id"]) == \
        datetime(2026, 9, 8, 14, 0, tzinfo=CHICAGO)
    (doc,) = body(api.http.get(f"{TOWN}/requests/{plain['service_request_id']}.json"))
    assert doc["expected_datetime"] == "2026-09-09T17:00:00-05:00"


def test_the_sweep_climbs_the_ladder_once_per_rung(api, deployment, staff):
    deployment.clock[0] = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)  # a Monday
    (receipt,) = body(post_request(api, {**POTHOLE, "attribute[in_traffic_lane]": "yes"}))
    rid = receipt["service_request_id"]
    _route(deployment)
    due = _expected(api, rid)
    assert due == datetime(2026, 11, 16, 17, 0, tzinfo=CHICAGO)  # 8 business hours
    admin = staff.headers("town_admin")
    r = _post(api, "/admin/escalations/subscriptions", {
        "audience": "supervisor", "protocol": "email",
        "endpoint": "supervisor@maplefalls.example"}, admin)
    assert r.status_code == 201, r.body

    deployment.clock[0] = datetime(2026, 11, 16, 15, 0, tzinfo=CHICAGO)  # 75%: nothing
    assert _sweep(deployment)["escalated"] == 0
    deployment.clock[0] = datetime(2026, 11, 16, 15, 30, tzinfo=CHICAGO)  # 81%: warning
    assert _sweep(deployment)["published"] == 1
    assert _sweep(deployment)["published"] == 0  # the same sweep again: nothing twice
    deployment.clock[0] = datetime(2026, 11, 16, 17, 15, tzinfo=CHICAGO)  # overdue
    assert _sweep(deployment)["published"] == 1
    deployment.clock[0] = datetime(2026, 11, 16, 21, 30, tzinfo=CHICAGO)  # 1.5 × the SLA
    assert _sweep(deployment)["published"] == 1
    deployment.clock[0] += timedelta(days=3)
    assert _sweep(deployment)["published"] == 0  # the ladder has three rungs

    alerts = {audience: (subject, message) for audience, subject, message in
              _escalations(deployment)}
    assert sorted(alerts) == ["dept-public_works", "supervisor", "town_admin"]
    assert "due in 1 h" in alerts["dept-public_works"][0]
    assert "overdue by 15 min" in alerts["supervisor"][0]
    assert "overdue by 4 h" in alerts["town_admin"][0]
    assert "Public Works" in alerts["supervisor"][1]
    assert f"/staff/requests/{rid}" in alerts["supervisor"][1]
    timeline = body(api.http.get(f"/staff/requests/{rid}", headers=admin))["timeline"]
    assert [e["summary"].split(":")[0] for e in timeline if e["kind"] == "escalated"] == [
        "Escalation level 1", "Escalation level 2", "Escalation level 3"]


def test_a_sweep_that_dies_half_way_sends_nothing_twice(api, deployment, monkeypatch):
    from chalicelib.domain.errors import StorageUnavailable

    deployment.clock[0] = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)
    ids = [body(post_request(api, {**POTHOLE, "attribute[in_traffic_lane]": "yes"}))[0][
        "service_request_id"] for _ in range(3)]
    _route(deployment)
    deployment.clock[0] = datetime(2026, 11, 16, 15, 30, tzinfo=CHICAGO)
    store = deployment.container.requests
    real = store.record_change
    calls = []

    def dies_on_the_second(request, event, *args, **kwargs):  # noqa: ANN001, ANN202
        calls.append(request.request_id)
        if len(calls) == 2:
            raise StorageUnavailable("the Lambda ran out of time")
        return real(request, event, *args, **kwargs)

    monkeypatch.setattr(store, "record_change", dies_on_the_second)
    first = _sweep(deployment)
    assert (first["published"], first["skipped"]) == (2, 1)
    monkeypatch.setattr(store, "record_change", real)
    second = _sweep(deployment)
    assert second["published"] == 1  # only the one the first run could not finish
    assert len(_escalations(deployment)) == 3 == len(ids)


def test_hold_pauses_the_due_date_and_reopening_restarts_it(api, deployment, staff):
    deployment.clock[0] = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)
    (receipt,) = body(post_request(api, {**POTHOLE, "attribute[in_traffic_lane]": "yes"}))
    rid = receipt["service_request_id"]
    _route(deployment)
    worker = staff.headers("department_worker", **WORKER)
    base = f"/departments/public_works/requests/{rid}"
    deployment.clock[0] = datetime(2026, 11, 16, 11, 0, tzinfo=CHICAGO)  # 6 h left
    assert _post(api, f"{base}/acknowledge", {}, worker).status_code == 200
    assert _post(api, f"{base}/hold", {"note": "Waiting for asphalt"}, worker
                 ).status_code == 200
    (doc,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    assert doc["expected_datetime"] is None
    assert doc["notes"][-1]["summary"] == "On hold; due date paused"
    deployment.clock[0] = datetime(2026, 11, 18, 9, 0, tzinfo=CHICAGO)  # two days later
    assert _post(api, f"{base}/accept", {}, worker).status_code == 200
    assert _expected(api, rid) == datetime(2026, 11, 18, 15, 0, tzinfo=CHICAGO)
    assert _post(api, f"{base}/close", {"resolution": "fixed"}, worker).status_code == 200
    (doc,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert doc["status"] == "closed"
    assert _sweep(deployment)["due"] == 0  # closed: out of the index
    deployment.clock[0] = datetime(2026, 11, 19, 10, 0, tzinfo=CHICAGO)
    assert _post(api, f"{base}/reopen", {"note": "Patch failed"}, worker).status_code == 200
    # 8 business hours again from Thursday 10:00: Thursday 10-17, Friday 08-09.
    assert _expected(api, rid) == datetime(2026, 11, 20, 9, 0, tzinfo=CHICAGO)
    timeline = body(api.http.get(f"/staff/requests/{rid}",
                                 headers=staff.headers("town_admin")))["timeline"]
    assert any("now expected by" in e["summary"] for e in timeline if e["kind"] == "reopened")


def test_sla_figures_per_service_and_department(api, deployment, staff):
    deployment.clock[0] = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)
    ids = [body(post_request(api, {**POTHOLE, "attribute[in_traffic_lane]": "yes"}))[0][
        "service_request_id"] for _ in range(3)]
    _route(deployment)
    worker = staff.headers("department_worker", **WORKER)
    deployment.clock[0] = datetime(2026, 11, 16, 12, 0, tzinfo=CHICAGO)  # on time
    _post(api, f"/departments/public_works/requests/{ids[0]}/close", {"resolution": "fixed"},
          worker)
    deployment.clock[0] = datetime(2026, 11, 17, 12, 0, tzinfo=CHICAGO)  # late
    _post(api, f"/departments/public_works/requests/{ids[1]}/close", {"resolution": "fixed"},
          worker)
    r = api.http.get("/staff/reports/service-levels", headers=staff.headers("analyst"))
    assert r.status_code == 200, r.body
    pothole = body(r)["services"]["pothole"]
    assert pothole == {"closed": 2, "met": 1, "share_met": 0.5,
                       "median_hours_to_close": 15.0, "p90_hours_to_close": 27.0,
                       "open_overdue": 1}
    assert body(r)["departments"]["public_works"]["closed"] == 2
    bad = api.http.get("/staff/reports/service-levels?start_date=2026-11-20&end_date=2026-01-01",
                       headers=staff.headers("analyst"))
    assert bad.status_code == 400


def test_emergency_mode_pauses_or_shortens_new_requests(api, deployment, staff):
    deployment.clock[0] = datetime(2026, 11, 16, 9, 0, tzinfo=CHICAGO)
    r = api.http.patch("/admin/town", headers=staff.headers("town_admin"), body=json.dumps(
        {"sla": {"ladder": [{"at": 0.8, "notify": "department"}, {"at": 1, "notify":
                 "supervisor"}], "emergency": {"active": True, "services": {
                     "pothole": None, "downed_tree": {"amount": 1, "unit": "hours"}}}}}
    ).encode())
    assert r.status_code == 200, r.body
    deployment.container.towns.forget()
    (pothole,) = body(post_request(api, POTHOLE))
    (doc,) = body(api.http.get(f"{TOWN}/requests/{pothole['service_request_id']}.json"))
    assert doc["expected_datetime"] is None  # paused during the storm
    (tree,) = body(post_request(api, {"service_code": "downed_tree", "lat": "41.87",
                                      "long": "-87.62", "attribute[blocking]": "road",
                                      "attribute[dangerous]": "no"}))
    assert _expected(api, tree["service_request_id"]) == \
        datetime(2026, 11, 16, 10, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize("payload, field", [
    ({"sla": {"amount": 0}}, "sla.amount"),
    ({"sla": {"amount": -3, "unit": "hours"}}, "sla.amount"),
    ({"sla": {"amount": 2, "unit": "fortnights"}}, "sla.unit"),
    ({"sla": {"amount": 2, "priorities": [{"question": "nope", "answer": "yes",
                                           "amount": 1}]}}, "sla.priorities.0.question"),
])
def test_bad_sla_targets_are_refused(api, staff, payload, field):
    service = {"name": "X", "description": "x", "group": "G", **payload}
    r = api.http.put("/admin/services/xsvc", headers=staff.headers("town_admin"),
                     body=json.dumps(service).encode())
    assert r.status_code == 400, r.body
    assert field in json.dumps(body(r))


def test_holiday_lists_are_checked_and_the_federal_set_can_be_added(api, staff):
    admin = staff.headers("town_admin")
    hours = {d: ["08:00", "17:00"] for d in ("monday", "tuesday", "wednesday", "thursday",
                                              "friday")}
    for calendar in ({"hours": hours, "holidays": ["2027-07-05", "2027-07-05"]},
                     {"hours": hours, "year": 2027, "holidays": ["2026-12-24"]},
                     {"hours": hours, "us_federal_holidays": True}):
        r = api.http.patch("/admin/town", headers=admin,
                           body=json.dumps({"calendar": calendar}).encode())
        assert r.status_code == 400, (calendar, r.body)
    r = api.http.patch("/admin/town", headers=admin, body=json.dumps({"calendar": {
        "hours": hours, "year": 2028, "holidays": ["2028-03-17"],
        "us_federal_holidays": True}}).encode())
    assert r.status_code == 200, r.body
    holidays = body(r)["calendar"]["holidays"]
    assert "2028-03-17" in holidays and "2028-11-23" in holidays  # St Patrick's, Thanksgiving
    assert "2026-11-26" in holidays  # other years kept
    bad = api.http.patch("/admin/town", headers=admin, body=json.dumps(
        {"sla": {"ladder": [{"at": 1.0, "notify": "supervisor"},
                            {"at": 0.8, "notify": "department"}]}}).encode())
    assert bad.status_code == 400


def test_alert_subscriptions_are_checked(api, staff):
    admin = staff.headers("town_admin")
    topics = body(api.http.get("/admin/escalations", headers=admin))["topics"]
    assert {"supervisor", "town_admin", "department:public_works"} <= {
        t["audience"] for t in topics}
    for payload in ({"audience": "mayor", "protocol": "email", "endpoint": "a@b.example"},
                    {"audience": "supervisor", "protocol": "sms", "endpoint": "555-0100"},
                    {"audience": "supervisor", "protocol": "email", "endpoint": "nope"},
                    {"audience": "department:nope", "protocol": "email",
                     "endpoint": "a@b.example"}):
        r = _post(api, "/admin/escalations/subscriptions", payload, admin)
        assert r.status_code == 400, (payload, r.body)
