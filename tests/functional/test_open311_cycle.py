"""An Open311 client's whole cycle, in JSON and in XML, on both bases."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.conftest import DEMO_KEY
from tests.functional.helpers import (
    POTHOLE,
    SHARED,
    TOWN,
    body,
    post_request,
    xml,
)

REQUEST_KEYS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
]


def test_discovery_lists_the_town_base_and_the_shared_base(api):
    r = api.http.get(f"{TOWN}/discovery.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    doc = body(r)
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    urls = [e["url"] for e in doc["endpoints"]]
    assert any(u.endswith("/towns/maplefalls.example/open311/v2/") for u in urls)
    assert any(u.endswith("/open311/v2/") and "/towns/" not in u for u in urls)
    for endpoint in doc["endpoints"]:
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["application/json", "text/xml"]
        assert endpoint["type"] == "production"


def test_discovery_in_xml(api):
    root = xml(api.http.get(f"{SHARED}/discovery.xml?jurisdiction_id=maplefalls.example"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == [
        "application/json", "text/xml"]


def test_services_are_grouped_with_keywords_and_metadata(api):
    services = body(api.http.get(f"{TOWN}/services.json"))
    codes = [s["service_code"] for s in services]
    for code in ("pothole", "streetlight_out", "graffiti", "missed_trash", "downed_tree",
                 "illegal_dumping", "abandoned_vehicle", "sidewalk_damage", "water_leak",
                 "traffic_signal", "snow_ice", "other"):
        assert code in codes
    pothole = services[codes.index("pothole")]
    assert pothole == {
        "service_code": "pothole", "service_name": "Pothole",
        "description": "A hole or sunken patch in the road surface.", "metadata": True,
        "type": "realtime", "keywords": "pothole, road, street, hole, pavement",
        "group": "Streets & Sidewalks"}
    assert services[codes.index("other")]["metadata"] is False


def test_services_in_xml_use_true_false_text(api):
    root = xml(api.http.get(f"{TOWN}/services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert first.find("metadata").text in ("true", "false")
    assert api.http.get(f"{TOWN}/services.xml").headers["Content-Type"] == \
        "text/xml; charset=utf-8"


def test_catalogue_uses_every_open311_datatype(api):
    datatypes = set()
    for service in body(api.http.get(f"{TOWN}/services.json")):
        if service["metadata"]:
            definition = body(api.http.get(f"{TOWN}/services/{service['service_code']}.json"))
            datatypes |= {a["datatype"] for a in definition["attributes"]}
    assert datatypes == {"string", "number", "datetime", "text", "singlevaluelist",
                         "multivaluelist"}


def test_service_definition_lists_attributes_in_order(api):
    definition = body(api.http.get(f"{TOWN}/services/pothole.json"))
    assert definition["service_code"] == "pothole"
    size = definition["attributes"][0]
    assert size == {
        "variable": True, "code": "size", "datatype": "singlevaluelist", "required": True,
        "datatype_description": None, "order": 1, "description": "About how big is it?",
        "values": [{"key": "small", "name": "Smaller than a dinner plate"},
                   {"key": "medium", "name": "Up to a car tire"},
                   {"key": "large", "name": "Larger than a car tire"}]}
    root = xml(api.http.get(f"{TOWN}/services/pothole.xml"))
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key").text == "small"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_then_get_by_id_and_token(api, fmt):
    r = post_request(api, POTHOLE, fmt=fmt)
    assert r.status_code == 201, r.body
    if fmt == "json":
        (receipt,) = body(r)
        assert set(receipt) == {"service_request_id", "token", "service_notice", "account_id"}
        request_id, token = receipt["service_request_id"], receipt["token"]
    else:
        root = xml(r)
        assert root.tag == "service_requests"
        request_id = root.find("request/service_request_id").text
        token = root.find("request/token").text

    found = body(api.http.get(f"{TOWN}/requests/{request_id}.json"))
    assert isinstance(found, list) and len(found) == 1
    request = found[0]
    assert list(request) == REQUEST_KEYS
    assert request["service_request_id"] == request_id
    assert request["status"] == "open"
    assert request["service_name"] == "Pothole"
    assert request["lat"] == 41.8781 and request["long"] == -87.6298
    assert request["requested_datetime"] == "2026-11-20T09:30:00-06:00"

    tokens = body(api.http.get(f"{TOWN}/tokens/{token}.json"))
    assert tokens == [{"service_request_id": request_id, "token": token}]
    root = xml(api.http.get(f"{TOWN}/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text == request_id
    assert root.find("request/status_notes").text is None


def test_shared_base_needs_the_jurisdiction_and_finds_the_same_request(api):
    (receipt,) = body(post_request(
        api, [*POTHOLE.items(), ("jurisdiction_id", "maplefalls.example")], base=SHARED))
    rid = receipt["service_request_id"]
    shared = body(api.http.get(f"{SHARED}/requests/{rid}.json?jurisdiction_id=maplefalls.example"))
    town = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert shared == town


def test_api_key_may_come_from_query_or_bearer_header(api):
    fields = dict(POTHOLE)
    r = api.http.post(f"{TOWN}/requests.json?api_key={DEMO_KEY}", body=urlencode(fields),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 201, r.body
    r = api.http.post(f"{TOWN}/requests.json", body=urlencode(fields),
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "Authorization": f"Bearer {DEMO_KEY}"})
    assert r.status_code == 201, r.body


def test_multivaluelist_answers_and_extensions(api):
    fields = [("service_code", "graffiti"), ("address_string", "12 Elm St"),
              ("attribute[surface][]", "building"), ("attribute[surface][]", "sign"),
              ("attribute[offensive]", "no"), ("description", "Tag on the library wall")]
    (receipt,) = body(post_request(api, fields))
    rid = receipt["service_request_id"]
    (plain,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert "extended_attributes" not in plain
    (extended,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    assert extended["attributes"] == {"surface": ["building", "sign"], "offensive": "no"}
    extra = extended["extended_attributes"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}",
                        extra.pop("tracking_number"))
    assert extra == {
        "channel": "open311", "zone": None, "duplicate": False,
        "parent_service_request_id": None, "followers": 0, "state": "submitted",
        "disputed": False, "needs_confirmation": False}
    assert extended["notes"][0]["type"] == "submitted"
    assert extended["address"] == "12 Elm St"
    root = xml(api.http.get(f"{TOWN}/requests/{rid}.xml?extensions=true"))
    values = [v.text for v in root.findall("request/attributes/attribute/value")]
    assert values == ["building", "sign", "no"]


def test_reporter_contact_details_are_never_returned(api):
    fields = {**POTHOLE, "email": "ana@example.org", "phone": "+1 312 555 0100",
              "first_name": "Ana", "last_name": "Diaz", "device_id": "dev-1"}
    (receipt,) = body(post_request(api, fields))
    for path in (f"/requests/{receipt['service_request_id']}.json?extensions=true",
                 "/requests.json?extensions=true"):
        text = api.http.get(TOWN + path).body.decode()
        for secret in ("ana@example.org", "555 0100", "5550100", "Diaz", "dev-1"):
            assert secret not in text


def test_html_is_kept_as_written_and_escaped_in_xml(api):
    script = "<script>alert('x')</script> & \"quotes\""
    (receipt,) = body(post_request(api, {**POTHOLE, "description": script}))
    rid = receipt["service_request_id"]
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert request["description"] == script
    raw = api.http.get(f"{TOWN}/requests/{rid}.xml").body.decode()
    assert "<script>" not in raw
    assert xml(api.http.get(f"{TOWN}/requests/{rid}.xml")).find(
        "request/description").text == script


def test_browsers_may_call_the_api_cross_origin(api):
    r = api.http.get(f"{TOWN}/services.json", headers={"Origin": "https://app.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
