"""Every malformed or hostile parameter gets an Open311 error, never a 500, and nothing
already stored changes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.conftest import DEMO_KEY, OTHER_KEY
from tests.functional.helpers import (
    FORM,
    POTHOLE,
    SHARED,
    TOWN,
    body,
    error_descriptions,
    post_request,
    xml,
)


def _count(api) -> int:
    return len(body(api.http.get(f"{TOWN}/requests.json?page_size=500")))


@pytest.mark.parametrize(("change", "status", "mentions"), [
    ({"service_code": "unicorns"}, 400, "service_code"),
    ({"lat": "91"}, 400, "lat"),
    ({"long": "NaN"}, 400, "long"),
    ({"long": "-181"}, 400, "long"),
    ({"lat": "north"}, 400, "lat"),
    ({"description": "x" * 4001}, 400, "description"),
    ({"description": "bell\x07 in text"}, 400, "control characters"),
    ({"attribute[size]": "enormous"}, 400, "attribute[size]"),
    ({"attribute[size]": ""}, 400, "attribute[size]: is required"),
    ({"attribute[depth_inches]": "deep"}, 400, "attribute[depth_inches]"),
    ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
    ({"email": "not-an-address"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
])
def test_bad_fields_are_refused_with_open311_errors(api, change, status, mentions):
    before = _count(api)
    r = post_request(api, {**POTHOLE, **change})
    assert r.status_code == status, r.body
    assert any(mentions in d for d in error_descriptions(r)), r.body
    assert _count(api) == before


def test_lat_without_long_is_refused(api):
    fields = {k: v for k, v in POTHOLE.items() if k != "long"}
    r = post_request(api, fields)
    assert r.status_code == 400
    assert any("long" in d for d in error_descriptions(r))


def test_a_location_is_required(api):
    fields = {k: v for k, v in POTHOLE.items() if k not in ("lat", "long")}
    r = post_request(api, fields)
    assert r.status_code == 400
    assert any("location is required" in d for d in error_descriptions(r))


def test_several_problems_are_reported_at_once(api):
    r = post_request(api, {**POTHOLE, "lat": "91", "long": "NaN", "description": "y" * 4001})
    assert r.status_code == 400
    assert len(error_descriptions(r)) >= 3


def test_a_4000_character_description_is_accepted(api):
    r = post_request(api, {**POTHOLE, "description": "é" * 4000})
    assert r.status_code == 201, r.body


def test_line_breaks_are_allowed_in_descriptions(api):
    r = post_request(api, {**POTHOLE, "description": "line one\r\nline two\ttabbed"})
    assert r.status_code == 201, r.body


@pytest.mark.parametrize("key", [None, "", "t311_wrong", OTHER_KEY])
def test_missing_wrong_or_other_towns_api_key_is_403(api, key):
    r = post_request(api, POTHOLE, key=key)
    assert r.status_code == 403
    error_descriptions(r)


def test_unknown_jurisdiction_is_404(api):
    r = api.http.get(f"{SHARED}/services.json?jurisdiction_id=atlantis.example")
    assert r.status_code == 404
    error_descriptions(r)
    assert api.http.get("/towns/atlantis.example/open311/v2/services.json").status_code == 404


def test_missing_jurisdiction_on_the_shared_base_is_400(api):
    r = api.http.get(f"{SHARED}/services.json")
    assert r.status_code == 400
    assert any("jurisdiction_id" in d for d in error_descriptions(r))


def test_unknown_service_definition_is_404(api):
    r = api.http.get(f"{TOWN}/services/unicorns.json")
    assert r.status_code == 404
    error_descriptions(r)


@pytest.mark.parametrize("path", ["/services.yaml", "/requests.html", "/services/pothole.csv",
                                  "/discovery.php"])
def test_unknown_format_suffix_is_404_with_an_error_body(api, path):
    r = api.http.get(TOWN + path)
    assert r.status_code == 404
    error_descriptions(r)


def test_unknown_resource_is_404(api):
    r = api.http.get(f"{TOWN}/widgets.json")
    assert r.status_code == 404
    error_descriptions(r)


def test_errors_come_in_xml_when_xml_was_asked_for(api):
    r = post_request(api, {**POTHOLE, "lat": "91"}, fmt="xml")
    assert r.status_code == 400
    root = xml(r)
    assert root.tag == "errors"
    assert root.find("error/code").text == "400"
    assert "lat" in root.find("error/description").text


def test_a_20_mb_body_is_refused(api):
    big = urlencode({**POTHOLE, "api_key": DEMO_KEY, "description": "x" * (20 * 2**20)})
    r = api.http.post(f"{TOWN}/requests.json", body=big, headers=FORM)
    assert r.status_code == 400
    assert any("body" in d for d in error_descriptions(r))


def test_non_utf8_bytes_are_refused(api):
    raw = b"service_code=pothole&lat=41.8&long=-87.6&attribute%5Bsize%5D=large&api_key=" + \
        DEMO_KEY.encode() + b"&description=caf\xe9"
    r = api.http.post(f"{TOWN}/requests.json", body=raw, headers=FORM)
    assert r.status_code == 400
    assert any("UTF-8" in d for d in error_descriptions(r))
    raw_percent = raw.replace(b"caf\xe9", b"caf%E9")
    r = api.http.post(f"{TOWN}/requests.json", body=raw_percent, headers=FORM)
    assert r.status_code == 400


def test_malformed_multipart_is_refused(api):
    r = api.http.post(f"{TOWN}/requests.json", body=b"--nope\r\ngarbage",
                      headers={"Content-Type": "multipart/form-data; boundary=zzz"})
    assert r.status_code == 400
    error_descriptions(r)


def test_an_unsupported_body_type_gets_an_open311_error(api):
    r = api.http.post(f"{TOWN}/requests.json", body=b"<x/>",
                      headers={"Content-Type": "application/xml"})
    assert r.status_code == 400
    error_descriptions(r)


@pytest.mark.parametrize("query", [
    "status=pending", "start_date=yesterday", "page=two", "page_size=lots",
    "service_request_id=../../etc", "updated_after=2026-13-45T00:00:00Z",
    "start_date=2026-11-20T00:00:00Z&end_date=2026-11-01T00:00:00Z",
])
def test_bad_list_parameters_are_400(api, query):
    r = api.http.get(f"{TOWN}/requests.json?{query}")
    assert r.status_code == 400, r.body
    error_descriptions(r)


def test_unknown_request_and_token_are_404(api):
    for path in ("/requests/01JDOESNOTEXIST0000000000.json", "/tokens/nope.json",
                 "/requests/%3Cscript%3E.json"):
        r = api.http.get(TOWN + path)
        assert r.status_code == 404, path
        error_descriptions(r)


def test_one_towns_requests_are_invisible_to_another_town(api):
    (receipt,) = body(post_request(api, POTHOLE))
    rid, token = receipt["service_request_id"], receipt["token"]
    other = "/towns/riverton.example/open311/v2"
    assert api.http.get(f"{other}/requests/{rid}.json").status_code == 404
    assert api.http.get(f"{other}/tokens/{token}.json").status_code == 404
    assert body(api.http.get(f"{other}/requests.json")) == []
    assert body(api.http.get(f"{other}/requests.json?service_request_id={rid}")) == []
    assert api.http.get(
        f"{SHARED}/requests/{rid}.json?jurisdiction_id=riverton.example").status_code == 404
    # ... while its own town sees it on both bases.
    assert api.http.get(f"{TOWN}/requests/{rid}.json").status_code == 200


def test_a_town_key_cannot_post_into_another_town_through_the_shared_base(api):
    r = post_request(api, [*POTHOLE.items(), ("jurisdiction_id", "riverton.example")],
                     base=SHARED, key=DEMO_KEY)
    assert r.status_code == 403


def test_a_town_base_refuses_to_answer_for_another_jurisdiction(api):
    r = api.http.get(f"{TOWN}/services.json?jurisdiction_id=riverton.example")
    assert r.status_code == 404
    error_descriptions(r)
    assert api.http.get(f"{TOWN}/services.json?jurisdiction_id=maplefalls.example"
                        ).status_code == 200
