"""Possible duplicates before a request is made: residents on the web, agents on the phone,
and apps through the Open311 extension on both bases."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import OTHER_KEY
from tests.functional.helpers import (
    POTHOLE,
    SHARED,
    TOWN,
    body,
    error_descriptions,
    post_request,
    xml,
)

LAT, LONG = float(POTHOLE["lat"]), float(POTHOLE["long"])
WEB = "/towns/maplefalls.example/possible-duplicates"
STAFF = "/staff/possible-duplicates"
ASK = f"service_code=pothole&lat={LAT}&long={LONG}"
ITEM_KEYS = {"service_request_id", "tracking_number", "service_code", "service_name",
             "status", "address", "lat", "long", "requested_datetime", "distance_m",
             "followers"}


def _north(metres: float) -> dict[str, str]:
    return {"lat": f"{LAT + metres / 111_195:.7f}", "long": f"{LONG:.7f}"}


def _east(metres: float) -> dict[str, str]:
    return {"lat": f"{LAT:.7f}",
            "long": f"{LONG + metres / (111_195 * math.cos(math.radians(LAT))):.7f}"}


def _post(api, where: dict[str, str], **extra) -> str:
    r = post_request(api, {**POTHOLE, **where, **extra})
    assert r.status_code == 201, r.body
    return body(r)[0]["service_request_id"]


@pytest.fixture
def potholes(api):
    """Maple Falls potholes 30 m north, 8 m east and 90 m east of the point, a streetlight
    on it, and a Riverton pothole on it."""
    ids = {"north_30": _post(api, _north(30), email="ana@example.org", first_name="Ana"),
           "east_8": _post(api, _east(8)),
           "east_90": _post(api, _east(90))}
    streetlight = {"service_code": "streetlight_out", "lat": str(LAT), "long": str(LONG),
                   "attribute[problem]": "flickering"}
    assert post_request(api, streetlight).status_code == 201
    riverton = post_request(api, {**POTHOLE, "lat": str(LAT), "long": str(LONG)},
                            base="/towns/riverton.example/open311/v2", key=OTHER_KEY)
    assert riverton.status_code == 201, riverton.body
    ids["riverton"] = body(riverton)[0]["service_request_id"]
    return ids


def test_residents_see_open_requests_within_50_m_nearest_first(api, potholes):
    r = api.http.get(f"{WEB}?{ASK}")
    assert r.status_code == 200, r.body
    doc = body(r)
    assert (doc["radius_m"], doc["window_days"]) == (50, 30)
    ids = [item["service_request_id"] for item in doc["requests"]]
    assert ids == [potholes["east_8"], potholes["north_30"]]  # not 90 m, not Riverton's
    first = doc["requests"][0]
    assert set(first) == ITEM_KEYS  # nothing about who reported
    assert "ana@example.org" not in r.body.decode() and "Ana" not in r.body.decode()
    assert first["distance_m"] == 8 and first["status"] == "open"
    assert first["service_code"] == "pothole" and first["followers"] == 0
    assert first["tracking_number"] and first["requested_datetime"].endswith("-06:00")


def test_other_towns_requests_are_never_offered(api, potholes):
    r = api.http.get(f"/towns/riverton.example/possible-duplicates?{ASK}")
    assert [i["service_request_id"] for i in body(r)["requests"]] == [potholes["riverton"]]


def test_a_closed_or_old_request_is_not_offered(api, deployment, potholes):
    store = deployment.container.requests
    closed = store.get("maplefalls.example", potholes["east_8"], with_timeline=False)
    closed.status = "closed"
    from chalicelib.domain.requests import TimelineEvent

    store.record_change(closed, TimelineEvent(deployment.clock[0], "EX", "closed", "Fixed"))
    ids = [i["service_request_id"] for i in body(api.http.get(f"{WEB}?{ASK}"))["requests"]]
    assert ids == [potholes["north_30"]]
    from datetime import timedelta

    deployment.clock[0] += timedelta(days=31)
    assert body(api.http.get(f"{WEB}?{ASK}"))["requests"] == []


def test_a_towns_own_radius_widens_the_search(api, deployment, staff, potholes):
    admin = staff.headers("town_admin")
    service = {"name": "Pothole", "description": "A hole.", "group": "Streets",
               "department": "public_works", "duplicate_radius_m": 120,
               "duplicate_window_days": 60}
    r = api.http.put("/admin/services/pothole", headers=admin, body=json.dumps(service))
    assert r.status_code == 200, r.body
    assert (body(r)["duplicate_radius_m"], body(r)["duplicate_window_days"]) == (120, 60)
    del deployment.container.towns  # a warm Lambda sees the edit after cache_seconds
    doc = body(api.http.get(f"{WEB}?{ASK}"))
    assert (doc["radius_m"], doc["window_days"]) == (120, 60)
    assert [i["service_request_id"] for i in doc["requests"]] == [
        potholes["east_8"], potholes["north_30"], potholes["east_90"]]


@pytest.mark.parametrize(("field", "value"), [
    ("duplicate_radius_m", 9), ("duplicate_radius_m", 151), ("duplicate_radius_m", "50"),
    ("duplicate_window_days", 0), ("duplicate_window_days", 366)])
def test_a_radius_or_window_out_of_bounds_is_a_clear_400(api, staff, field, value):
    service = {"name": "Pothole", "description": "A hole.", "group": "Streets", field: value}
    r = api.http.put("/admin/services/pothole", headers=staff.headers("town_admin"),
                     body=json.dumps(service))
    assert r.status_code == 400, r.body
    (problem,) = body(r)["error"]["problems"]
    assert problem["field"] == field


@pytest.mark.parametrize("query", [
    "service_code=pothole&lat=41.8781",  # no long
    "service_code=pothole&lat=95&long=-87.6",
    "service_code=pothole&lat=abc&long=-87.6",
    "service_code=nope&lat=41.8781&long=-87.6298",
    "service_code=graffiti_old&lat=41.8781&long=-87.6298",
    "lat=41.8781&long=-87.6298",
])
def test_bad_input_is_a_clear_400(api, query):
    r = api.http.get(f"{WEB}?{query}")
    assert r.status_code == 400, r.body
    error = body(r)["error"]
    assert error["code"] == "invalid_input" and error["problems"]


def test_an_unknown_town_is_a_404(api):
    assert api.http.get(f"/towns/nowhere.example/possible-duplicates?{ASK}").status_code == 404


def test_agents_see_their_own_towns_duplicates(api, staff, potholes):
    r = api.http.get(f"{STAFF}?{ASK}", headers=staff.headers("agent"))
    assert r.status_code == 200, r.body
    assert [i["service_request_id"] for i in body(r)["requests"]] == [
        potholes["east_8"], potholes["north_30"]]
    riverton = api.http.get(f"{STAFF}?{ASK}",
                            headers=staff.headers("agent", town="riverton.example"))
    assert [i["service_request_id"] for i in body(riverton)["requests"]] == [
        potholes["riverton"]]


def test_the_staff_route_needs_a_token_and_the_right_to_enter_requests(api, staff):
    r = api.http.get(f"{STAFF}?{ASK}")
    assert r.status_code == 401 and body(r)["error"]["code"] == "unauthenticated"
    assert api.http.get(f"{STAFF}?{ASK}",
                        headers=staff.headers("analyst")).status_code == 403
    assert api.http.get(STAFF, headers=staff.headers("agent")).status_code == 400


@pytest.mark.parametrize(("base", "extra"), [
    (TOWN, ""), (SHARED, "&jurisdiction_id=maplefalls.example")])
def test_apps_get_the_same_answer_through_open311(api, potholes, base, extra):
    r = api.http.get(f"{base}/possible_duplicates.json?{ASK}{extra}")
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body(r) == body(api.http.get(f"{WEB}?{ASK}"))


def test_apps_can_ask_in_xml(api, potholes):
    r = api.http.get(f"{TOWN}/possible_duplicates.xml?{ASK}")
    assert r.status_code == 200, r.body
    root = xml(r)
    assert root.tag == "possible_duplicates" and root.findtext("radius_m") == "50"
    ids = [e.findtext("service_request_id") for e in root.findall("requests/request")]
    assert ids == [potholes["east_8"], potholes["north_30"]]


def test_open311_refusals_are_open311_error_arrays(api):
    r = api.http.get(f"{SHARED}/possible_duplicates.json?{ASK}")
    assert r.status_code == 400
    assert any("jurisdiction_id" in d for d in error_descriptions(r))
    r = api.http.get(f"{TOWN}/possible_duplicates.json?service_code=nope&lat=95&long=0")
    assert r.status_code == 400
    described = " ".join(error_descriptions(r))
    assert "lat" in described
    r = api.http.get(f"{TOWN}/possible_duplicates.json?service_code=nope&lat=1&long=0")
    assert "service_code" in " ".join(error_descriptions(r))
    r = api.http.get(f"{TOWN}/possible_duplicates.json?{ASK}&jurisdiction_id=riverton.example")
    assert r.status_code == 404 and error_descriptions(r)
    r = api.http.get(f"{TOWN}/possible_duplicates.xml?service_code=pothole")
    assert r.status_code == 400
    assert xml(r).tag == "errors"
    r = api.http.get(f"/towns/nowhere.example/open311/v2/possible_duplicates.json?{ASK}")
    assert r.status_code == 404 and error_descriptions(r)
