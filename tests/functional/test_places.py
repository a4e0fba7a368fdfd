"""The gazetteer through the app: a town admin uploads a CSV, residents get suggestions as
they type and the nearest place to their location, with plain JSON errors for bad input,
and another town sees none of it."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from chalicelib.services.demo_gazetteer import DEMO_CENTRE

TOWN, OTHER = "maplefalls.example", "riverton.example"
PLACES = f"/towns/{TOWN}/places"
CSV_TYPE = {"Content-Type": "text/csv"}
UPLOAD = (b"kind,label,lat,long,zone\n"
          b"address,12 Oak Street,44.9778,-93.2650,ward-1\n"
          b"address,120 Oak Street,44.9778,-93.2637,\n"
          b"intersection,Oak St & 3rd Ave,44.9778,-93.2610,\n"
          b"landmark,Maple Falls Public Library,44.9770,-93.2645,\n"
          b"landmark,Corner Shop,44.9770,east,\n")


def _json(response, status: int = 200):  # noqa: ANN001, ANN202
    assert response.status_code == status, response.body
    return json.loads(response.body)


def _upload(api, staff, body: bytes = UPLOAD, town: str = TOWN, role: str = "town_admin"):  # noqa: ANN001, ANN202
    headers = {**staff.headers(role, town=town), **CSV_TYPE}
    return api.http.put("/admin/gazetteer", body=body, headers=headers)


def _suggest(api, query: dict, town: str = TOWN):  # noqa: ANN001, ANN202
    return api.http.get(f"/towns/{town}/places?{urlencode(query)}")


def test_an_admin_uploads_and_residents_find_places_by_typing(api, staff) -> None:
    report = _json(_upload(api, staff))
    assert report["kept"] == 4 and report["layout"] == "gazetteer"
    assert report["refused"] == [{"line": 6, "reason": "long is not a number"}]
    assert report["gazetteer"]["counts"] == {"address": 2, "intersection": 1, "landmark": 1}

    found = _suggest(api, {"q": "12 oak"})
    assert found.headers["Cache-Control"] == "public, max-age=60"
    places = _json(found)["places"]
    assert places[0] == {"kind": "address", "label": "12 Oak Street", "lat": 44.9778,
                         "long": -93.265, "zone": "ward-1"}
    assert _json(_suggest(api, {"q": "oak and 3rd"}))["places"][0]["label"] == \
        "Oak St & 3rd Ave"
    assert [p["label"] for p in _json(_suggest(api, {"q": "lib"}))["places"]] == \
        ["Maple Falls Public Library"]
    assert len(_json(_suggest(api, {"q": "oak", "limit": "1"}))["places"]) == 1
    assert _json(_suggest(api, {"q": "libary"}))["places"] == []

    summary = _json(api.http.get("/admin/gazetteer", headers=staff.headers("town_admin")))
    assert summary["uploaded"] is True and summary["total"] == 4
    assert summary["uploaded_at"] == "2026-11-20T15:30:00Z"


def test_use_my_location_finds_the_nearest_place_or_says_none_is_near(api, staff) -> None:
    _json(_upload(api, staff))
    near = _json(api.http.get(f"{PLACES}/nearest?lat=44.97781&long=-93.26365"))
    assert near["place"]["label"] == "120 Oak Street" and near["distance_m"] < 10
    far = _json(api.http.get(f"{PLACES}/nearest?lat=44.99&long=-93.2650"), 404)
    assert far["error"]["message"] == "no address within 250 m of here"


def test_another_town_sees_nothing_of_this_towns_gazetteer(api, staff) -> None:
    _json(_upload(api, staff))
    assert _json(_suggest(api, {"q": "oak"}, town=OTHER))["places"] == []
    _json(api.http.get(f"/towns/{OTHER}/places/nearest?lat=44.9778&long=-93.2650"), 404)
    theirs = _json(api.http.get("/admin/gazetteer", headers=staff.headers("town_admin",
                                                                           town=OTHER)))
    assert theirs == {"uploaded": False, "total": 0, "counts": {}}
    # Their upload replaces only their own.
    _json(_upload(api, staff, b"kind,label,lat,long\nlandmark,Riverton Mill,41.5,-73.9\n",
                  town=OTHER))
    assert [p["label"] for p in _json(_suggest(api, {"q": "lib"}))["places"]] == \
        ["Maple Falls Public Library"]
    assert _json(_suggest(api, {"q": "mill"}))["places"] == []


@pytest.mark.parametrize(("query", "field"), [
    ({}, "q"),
    ({"q": "a"}, "q"),
    ({"q": "x" * 101}, "q"),
    ({"q": "oak\x00"}, "q"),
    ({"q": "oak", "limit": "0"}, "limit"),
    ({"q": "oak", "limit": "21"}, "limit"),
    ({"q": "oak", "limit": "lots"}, "limit"),
])
def test_bad_suggestion_queries_get_a_json_400(api, query: dict, field: str) -> None:
    error = _json(_suggest(api, query), 400)["error"]
    assert [p["field"] for p in error["problems"]] == [field]


@pytest.mark.parametrize("query", ["lat=44.97", "lat=north&long=-93.2", "lat=91&long=0",
                                   "lat=44.9&long=-181", "lat=nan&long=0", "lat=inf&long=0"])
def test_bad_locations_get_a_json_400(api, query: str) -> None:
    assert _json(api.http.get(f"{PLACES}/nearest?{query}"), 400)["error"]["problems"]


def test_an_unknown_town_is_a_json_404(api) -> None:
    _json(_suggest(api, {"q": "oak"}, town="nowhere.example"), 404)
    _json(api.http.get("/towns/nowhere.example/places/nearest?lat=1&long=2"), 404)


def test_only_the_towns_admin_may_upload(api, staff) -> None:
    assert _upload(api, staff, role="agent").status_code == 403
    assert api.http.put("/admin/gazetteer", body=UPLOAD, headers=CSV_TYPE).status_code == 401
    assert api.http.get("/admin/gazetteer").status_code == 401
    assert _json(api.http.get("/admin/gazetteer", headers=staff.headers("analyst")))[
        "uploaded"] is False
    assert _json(_suggest(api, {"q": "oak"}))["places"] == []


def test_the_demo_town_has_its_gazetteer_when_seeded_with_one(api, deployment) -> None:
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, TOWN, deployment.clock[0])
    assert _json(_suggest(api, {"q": "town hall"}))["places"][0]["label"] == "Town Hall"
    lat, long = DEMO_CENTRE
    assert _json(api.http.get(f"{PLACES}/nearest?lat={lat}&long={long}"))["place"][
        "label"] == "Main St & 3rd Ave"
