"""The API's OpenAPI document is valid, is served, names every route, and the app keeps to it.

The schemathesis run sends generated requests for every documented operation through
``chalice.test.Client`` (no socket, no thread: a ``requests`` transport adapter hands each
prepared request to Chalice's local gateway), under the moto ``deployment`` fixture, and
checks each answer: no 5xx, a documented status, a documented content type, a body that
matches the documented schema, and the format the path's suffix asked for.

Generation is positive (requests the document allows), derandomized and bounded so that CI
runs the same cases every time. Purely random values would almost all end in 404 (an
unknown town) or 400 (an unknown service), so each case is steered: most get a real town,
service code, request id or token, the town's API key and a valid set of attribute answers,
while the rest keep their generated values. Operations that need a caller get one most of
the time: a staff token of a role drawn from a pool weighted towards the role the route is
for, a resident session, or the town's API key with the scope the route needs.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
import schemathesis
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.api.errors import is_open311_path
from tests.conftest import DEMO_KEY, OTHER_KEY, UPDATES_KEY

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

BASE_URL = "http://town311.test"
DEMO_TOWN, OTHER_TOWN = "maplefalls.example", "riverton.example"
KEYS = {DEMO_TOWN: DEMO_KEY, OTHER_TOWN: OTHER_KEY}
# Cases per operation. The Open311 operations (the public API most clients use, with the
# most input to get wrong) get 40; the other operations 10 each, which reaches their
# refusals and, with the steering below, their successes. Each operation gets a fresh moto
# deployment (about 1.5 s of the cost per operation).
MAX_EXAMPLES = 40
MAX_EXAMPLES_JSON_API = 10

# Submissions that pass the small_town catalogue's checks (lat/long in Maple Falls).
VALID_SUBMISSIONS: list[dict[str, Any]] = [
    {"service_code": "pothole", "lat": "44.9778", "long": "-93.2650",
     "attribute[size]": "medium", "attribute[depth_inches]": "3.5"},
    {"service_code": "streetlight_out", "address_string": "12 Elm St",
     "attribute[problem]": "flickering", "attribute[pole_number]": "ML-0042"},
    {"service_code": "graffiti", "address_id": "parcel-1187",
     "attribute[surface][]": ["building", "sign"], "attribute[offensive]": "no"},
    {"service_code": "missed_trash", "address_string": "3 Oak Ave", "zipcode": "55401",
     "attribute[cart_type][]": "recycling", "attribute[set_out_at]": "2026-11-20T06:15:00-06:00"},
    {"service_code": "other", "lat": "44.98", "long": "-93.27",
     "description": "Bench broken\nnear the library"},
]
SERVICE_CODES = ["pothole", "streetlight_out", "graffiti", "missed_trash", "downed_tree",
                 "water_leak", "other"]


# --- transport: requests -> chalice.test.Client ------------------------------------------


class ChaliceClientAdapter(requests.adapters.BaseAdapter):
    """A ``requests`` transport that hands each prepared request to Chalice's local
    gateway, so schemathesis can call the app without a server."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        url = urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        # http.client would add Host; the app builds discovery URLs from it.
        headers = {"Host": url.netloc, **request.headers}
        answer = self._client.http.request(request.method, path, headers=headers, body=body)
        content = answer.body if isinstance(answer.body, bytes) else \
            (answer.body or "").encode("utf-8")
        raw = urllib3.HTTPResponse(body=io.BytesIO(content), headers=answer.headers,
                                   status=answer.status_code, preload_content=False,
                                   decode_content=False)
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


# --- what the steering may use -------------------------------------------------------------


@dataclass
class KnownData:
    """Real ids in the emulated deployment, created before generation starts."""

    request_ids: dict[str, list[str]]
    tokens: dict[str, list[str]]
    tracking_numbers: list[str] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)
    subscriber_ids: list[str] = field(default_factory=list)
    resident_session: str | None = None
    staff_tokens: dict[str, str] = field(default_factory=dict)  # by role, made once


def _submit(api: Any, town: str, fields: dict[str, str]) -> dict[str, str]:
    response = api.http.post(
        f"/towns/{town}/open311/v2/requests.json",
        body=urlencode({**fields, "api_key": KEYS[town]}, doseq=True).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.body
    return json.loads(response.body)[0]


def _seed(api: Any) -> KnownData:
    known = KnownData({DEMO_TOWN: [], OTHER_TOWN: []}, {DEMO_TOWN: [], OTHER_TOWN: []})
    for town, fields in ((DEMO_TOWN, VALID_SUBMISSIONS[0]), (DEMO_TOWN, VALID_SUBMISSIONS[2]),
                         (OTHER_TOWN, VALID_SUBMISSIONS[1])):
        receipt = _submit(api, town, fields)
        known.request_ids[town].append(receipt["service_request_id"])
        known.tokens[town].append(receipt["token"])
    return known


JSON = {"Content-Type": "application/json"}


def _needs(operation: Any) -> set[str]:
    """What an operation's steering can use: its path parameters and security schemes."""
    names = set(re.findall(r"\{(\w+)\}", operation.path))
    names |= {name for requirement in operation.definition.raw.get("security", [])
              for name in requirement}
    return names | ({"request_id"} if _is_updates(operation.path) else set())


def _seed_beyond_open311(api: Any, deployment: Any, staff: Any, known: KnownData,
                         needs: set[str]) -> None:
    """What the JSON APIs' steering points at, made only for the operations that use it
    (each call costs moto time): tracking numbers, an alert draft, an alert subscriber,
    and a resident session (Ana's, who reported a request)."""
    if "resident_session" in needs:
        ana = _submit(api, DEMO_TOWN, {**VALID_SUBMISSIONS[4], "email": "ana@example.org"})
        known.request_ids[DEMO_TOWN].append(ana["service_request_id"])
        known.tokens[DEMO_TOWN].append(ana["token"])
        signed = api.http.post(f"/towns/{DEMO_TOWN}/residents/sign-in", headers=JSON,
                               body=b'{"email": "ana@example.org"}')
        assert signed.status_code == 202, signed.body
        text = deployment.container.outbox.sent[-1]["text"]
        code = re.search(r"\b(\d{6})\b", text).group(1)
        session = api.http.post(f"/towns/{DEMO_TOWN}/residents/session", headers=JSON,
                                body=json.dumps({"email": "ana@example.org",
                                                 "code": code}).encode())
        assert session.status_code == 201, session.body
        known.resident_session = json.loads(session.body)["session"]
    if needs & {"reference", "number"}:
        for request_id in known.request_ids[DEMO_TOWN]:
            answer = api.http.get(f"/towns/{DEMO_TOWN}/open311/v2/requests/{request_id}.json"
                                  "?extensions=true")
            known.tracking_numbers.append(
                json.loads(answer.body)[0]["extended_attributes"]["tracking_number"])
    if "alert_id" in needs:
        alert = api.http.post("/staff/alerts", headers=staff.headers("emergency_manager"),
                              body=json.dumps({
                                  "title": {"en": "Boil water"}, "body": {"en": "Boil it."},
                                  "severity": "severe", "category": "water",
                                  "expires_at": "2026-11-22T18:00:00Z"}).encode())
        assert alert.status_code == 201, alert.body
        known.alert_ids.append(json.loads(alert.body)["alert_id"])
    if needs & {"request_id", "reference", "department"}:
        # Routed, so that department work, merges and photos find them where they belong.
        from tests.functional.test_routing import _pump_router

        assert _pump_router(deployment) == {"batchItemFailures": []}
    if "code" in needs:
        zone = api.http.put("/admin/zones/ward-3", headers=staff.headers("town_admin"),
                            body=json.dumps(ZONE).encode())
        assert zone.status_code == 200, zone.body
    if "user_id" in needs:
        _staff_token(staff, "agent", known)
    if "subscriber_id" in needs:
        subscriber = api.http.post(f"/towns/{DEMO_TOWN}/alerts/subscribers", headers=JSON,
                                   body=b'{"email": "ben@example.org"}')
        assert subscriber.status_code == 201, subscriber.body
        known.subscriber_ids.append(json.loads(subscriber.body)["subscriber_id"])


_KEEP = object()  # leave the generated value as it is


def _suffix(value: str) -> str:
    return value[value.rfind("."):] if "." in value else ""


def _steer(case: Any, data: st.DataObject, known: KnownData) -> None:
    """Point most cases at real data; the rest keep what schemathesis generated."""
    params = dict(case.path_parameters or {})
    query = dict(case.query or {})
    shared = "town" not in params

    town = data.draw(st.sampled_from([DEMO_TOWN, DEMO_TOWN, OTHER_TOWN, _KEEP]), label="town")
    real_town = None if town is _KEEP else town
    if real_town and shared and "jurisdiction_id" in query:
        query["jurisdiction_id"] = real_town
    elif real_town and not shared:
        params["town"] = real_town

    for name, pool in (("request_id", known.request_ids), ("token", known.tokens)):
        if name in params and real_town and data.draw(st.booleans(), label=f"real {name}"):
            # Half of them belong to the other town: those must be 404s.
            ids = pool[DEMO_TOWN] + pool[OTHER_TOWN]
            params[name] = data.draw(st.sampled_from(ids), label=name) + _suffix(params[name])
    if "code" in params and data.draw(st.booleans(), label="real code"):
        params["code"] = data.draw(st.sampled_from(SERVICE_CODES), label="code") + \
            _suffix(params["code"])
    if case.path.endswith(("/possible_duplicates.json", "/possible_duplicates.xml")) and \
            data.draw(st.booleans(), label="real service_code"):
        # A real service, so that the lookup itself runs (poles and antimeridian included).
        query["service_code"] = data.draw(st.sampled_from(SERVICE_CODES), label="service")
    if "service_request_id" in query and real_town and data.draw(st.booleans(), label="ids"):
        query["service_request_id"] = ",".join(known.request_ids[DEMO_TOWN]
                                               + known.request_ids[OTHER_TOWN])

    if case.method == "POST" and isinstance(case.body, dict):
        how = data.draw(st.sampled_from(["valid", "valid+generated", "generated"]), label="form")
        if how != "generated":
            _make_submission_valid(case, data, query, how, real_town, shared)

    if case.path_parameters is not None:
        case.path_parameters = params
    case.query = query or None


# The role most calls of a route family are for; the pool adds every other role, another
# town's admin and no token at all, so refusals are exercised too.
_ROLE_FOR = (("/platform/", "operator"), ("/staff/alerts", "emergency_manager"),
             ("/departments/", "supervisor"), ("/admin/", "town_admin"),
             ("/staff/", "agent"))
_ROLES = ["town_admin", "agent", "supervisor", "department_worker", "emergency_manager",
          "analyst", "operator", "other town", None]
DEPARTMENTS = ["public_works", "parks", "triage"]
AGENT_SUBJECT = "sub-agent@maplefalls.example"  # the subject tests.conftest.Staff gives
ZONE = {"name": "Ward 3", "kind": "ward", "geometry": {"type": "Polygon", "coordinates": [
    [[-93.28, 44.97], [-93.25, 44.97], [-93.25, 44.99], [-93.28, 44.99], [-93.28, 44.97]]]}}


def _mostly(data: st.DataObject, label: str) -> bool:
    """True three times in four. Hypothesis leans towards small draws, so the common case
    (use the real thing) is the smallest value."""
    return data.draw(st.integers(0, 3), label=label) < 3


def _staff_token(staff: Any, role: str, known: KnownData) -> str:
    if role not in known.staff_tokens:
        if role == "operator":
            token = staff.token("operator", town=None)
        elif role == "other town":
            token = staff.token("town_admin", town=OTHER_TOWN)
        elif role == "department_worker":
            token = staff.token(role, departments=("public_works",))
        else:
            token = staff.token(role)
        known.staff_tokens[role] = token
    return known.staff_tokens[role]


def _steer_beyond_open311(case: Any, data: st.DataObject, known: KnownData,
                          staff: Any) -> None:
    """Point JSON-API cases at real ids and give most of them a caller."""
    params = dict(case.path_parameters or {})
    schemes = {name for requirement in case.operation.definition.raw.get("security", [])
               for name in requirement}
    headers = dict(case.headers or {})
    if "staff" in schemes:
        preferred = next((role for prefix, role in _ROLE_FOR
                          if case.path.startswith(prefix)), "town_admin")
        role = data.draw(st.sampled_from([preferred] * 4 + _ROLES), label="role")
        if role is not None:
            headers["Authorization"] = f"Bearer {_staff_token(staff, role, known)}"
    elif "resident_session" in schemes and _mostly(data, "session"):
        headers["Authorization"] = f"Bearer {known.resident_session}"
    if "town" in params and _mostly(data, "real town"):
        params["town"] = data.draw(st.sampled_from([DEMO_TOWN, DEMO_TOWN, OTHER_TOWN]),
                                   label="town")
    pools = {"request_id": known.request_ids[DEMO_TOWN] + known.request_ids[OTHER_TOWN],
             "reference": known.request_ids[DEMO_TOWN] + known.tracking_numbers,
             "number": known.tracking_numbers, "alert_id": known.alert_ids,
             "subscriber_id": known.subscriber_ids, "department": DEPARTMENTS,
             "code": SERVICE_CODES + DEPARTMENTS + ["ward-3"],
             "key_id": ["work-orders"], "user_id": [AGENT_SUBJECT],
             "article_id": ["leaf-pickup", "leaf-pickup-es", "property-tax"]}
    for name, pool in pools.items():
        if name in params and pool and _mostly(data, f"real {name}"):
            params[name] = data.draw(st.sampled_from(pool), label=name)
    if case.path.startswith("/staff/possible-duplicates") or \
            case.path.endswith("/possible-duplicates"):
        query = dict(case.query or {})
        if data.draw(st.booleans(), label="real service_code"):
            query["service_code"] = data.draw(st.sampled_from(SERVICE_CODES), label="service")
        case.query = query
    case.headers = headers or None
    if case.path_parameters is not None:
        case.path_parameters = params


def _steer_updates(case: Any, data: st.DataObject, known: KnownData) -> None:
    """``servicerequestupdates``: the work-order key, a real request, a real town."""
    query = dict(case.query or {})
    shared = case.path.startswith("/open311/")
    if shared and _mostly(data, "real jurisdiction"):
        query["jurisdiction_id"] = DEMO_TOWN
    if case.path_parameters is not None and _mostly(data, "real town"):
        case.path_parameters = {**case.path_parameters, "town": DEMO_TOWN}
    if case.method == "POST" and isinstance(case.body, dict):
        body = dict(case.body)
        key = data.draw(st.sampled_from([UPDATES_KEY, UPDATES_KEY, DEMO_KEY, None]),
                        label="key")
        if key:
            body["api_key"] = key
        if _mostly(data, "real request"):
            body["service_request_id"] = data.draw(
                st.sampled_from(known.request_ids[DEMO_TOWN]), label="request")
        if shared and "jurisdiction_id" in query and data.draw(st.booleans(), label="in form"):
            body["jurisdiction_id"] = query.pop("jurisdiction_id")
        case.body = body
    case.query = query or None


def _make_submission_valid(case: Any, data: st.DataObject, query: dict[str, Any], how: str,
                           town: str | None, shared: bool) -> None:
    """A submission the catalogue accepts, with the town's key in the form, the query or an
    Authorization header; ``valid+generated`` keeps the generated optional fields."""
    submission = dict(data.draw(st.sampled_from(VALID_SUBMISSIONS), label="submission"))
    if "multipart" in (case.media_type or ""):
        # A multipart dict body holds one value per field name: one answer per attribute.
        submission = {k.removesuffix("[]"): v[0] if isinstance(v, list) else v
                      for k, v in submission.items()}
    where = data.draw(st.sampled_from(["form", "query", "bearer"]), label="key")
    if town and where == "form":
        submission["api_key"] = KEYS[town]
    elif town and where == "query":
        query["api_key"] = KEYS[town]
    elif town:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEYS[town]}"}
    if how == "valid":
        kept = {k: v for k, v in case.body.items() if k == "media"}
    else:
        kept = {k: v for k, v in case.body.items()
                if not k.startswith("attribute[") and k != "api_key"}
    case.body = {**kept, **submission}
    if shared and town and data.draw(st.booleans(), label="jurisdiction in form"):
        case.body["jurisdiction_id"] = town
        query.pop("jurisdiction_id", None)
    elif shared and town:
        query["jurisdiction_id"] = town


# --- checks beyond schemathesis's own ------------------------------------------------------

_SUFFIX_PARAMETER = re.compile(r"\{(\w+)\}$")
_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
_COLLECTION_SCHEMAS = {"discovery": "Discovery", "services": "ServiceList",
                       "requests": "ServiceRequestList"}
_COLLECTION_ROOTS = {"discovery": "discovery", "services": "services",
                     "requests": "service_requests"}


def _component_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                 "components": DOCUMENT["components"]})


_VALIDATORS = {name: _component_validator(name) for name in _COLLECTION_SCHEMAS.values()}


def format_follows_suffix(ctx: Any, response: Any, case: Any) -> bool | None:
    """``.json`` answers JSON, ``.xml`` answers XML with the declaration and the right root,
    an unknown suffix is a JSON 404; ``{resource}`` answers the schema of that resource."""
    match = _SUFFIX_PARAMETER.search(case.path)
    if match is None or not is_open311_path(case.path):
        return None
    segment = (case.path_parameters or {})[match.group(1)]
    name, dot, suffix = segment.rpartition(".")
    fmt = suffix.lower() if dot else "json"
    content_type = (response.headers.get("content-type") or [""])[0]
    if fmt not in ("json", "xml"):
        assert response.status_code == 404, f"suffix {suffix!r} answered {response.status_code}"
        fmt = "json"
    if fmt == "json":
        assert content_type == "application/json; charset=utf-8", content_type
    else:
        assert content_type == "text/xml; charset=utf-8", content_type
        text = response.content.decode("utf-8")
        assert text.startswith(_XML_DECLARATION), text[:80]
        root = ElementTree.fromstring(text.encode("utf-8")).tag
        if response.status_code >= 400:
            expected = "errors"
        elif match.group(1) == "resource" and case.method == "GET":
            expected = _COLLECTION_ROOTS[name]
        elif match.group(1) == "code":
            expected = "service_definition"
        else:
            expected = "service_requests"
        assert root == expected, f"XML root <{root}>, expected <{expected}>"
    if fmt == "json" and response.status_code == 200 and match.group(1) == "resource":
        validator = _VALIDATORS[_COLLECTION_SCHEMAS[name]]
        errors = sorted(validator.iter_errors(json.loads(response.content)), key=str)
        assert not errors, f"{name} is not a {_COLLECTION_SCHEMAS[name]}: {errors[0].message}"
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, format_follows_suffix]


# --- the tests ----------------------------------------------------------------------------


def test_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1.")
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary") and operation.get("description"), (method, path)


def test_app_serves_the_document(api: Any) -> None:
    response = api.http.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.body) == DOCUMENT


def _served_routes() -> set[tuple[str, str]]:
    """The JSON, XML and feed routes: the resident pages (chalicelib.web) are HTML for
    people, not an API, and are left out of the document, except the track page, which
    answers JSON too (to anything but a browser) as it did before pages existed, and the
    alert pages that do the same."""
    from chalicelib.api.route_table import ROUTE_TABLE

    # Routes a page module serves that answer API clients as before (JSON unless a browser
    # asks for HTML; the stop link of an alert e-mail).
    negotiated = {("/towns/{town}/track/{number}", "GET"), ("/towns/{town}/alerts", "GET"),
                  ("/towns/{town}/alerts/subscribers/{subscriber_id}/stop", "GET"),
                  ("/towns/{town}/alerts/subscribers/{subscriber_id}/stop", "POST")}
    return {(path, method.lower()) for path, method, module, *_ in ROUTE_TABLE
            if not module.startswith("chalicelib.web.") or (path, method) in negotiated}


def _served_by(path: str, method: str, routes: set[tuple[str, str]]) -> bool:
    """True when ``path`` is a route, or a literal path a ``{parameter}`` route serves
    (``servicerequestupdates.json`` is served by ``.../{resource}``)."""
    if (path, method) in routes:
        return True
    parts = path.split("/")
    return any(m == method and len(p.split("/")) == len(parts) and all(
        a == b or (b.startswith("{") and not a.startswith("{"))
        for a, b in zip(parts, p.split("/"), strict=True)) for p, m in routes)


def test_document_describes_every_route_with_its_methods() -> None:
    routes = _served_routes()
    documented = {(path, method) for path, item in DOCUMENT["paths"].items()
                  for method in item if method != "parameters"}

    assert sorted(routes - documented) == [], "served but not documented"
    assert sorted(d for d in documented if not _served_by(*d, routes)) == [], \
        "documented but not served"


def test_every_json_api_operation_documents_its_errors_and_callers() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if is_open311_path(path) or path in ("/openapi.json",
                                                 "/photos/{town}/{request_id}/{name}"):
                continue
            assert "security" in operation, (method, path)
            json_answers = [s for s, r in operation["responses"].items()
                            if "application/json" in r.get("content", {})
                            or "$ref" in r]
            if any(s.startswith("2") for s in json_answers):
                assert "400" in operation["responses"], (method, path)


def _is_updates(path: str) -> bool:
    return "/servicerequestupdates." in path


@pytest.mark.parametrize("operation", [pytest.param(o, id=o.label) for o in OPERATIONS])
def test_app_keeps_to_the_document(api: Any, deployment: Any, staff: Any,
                                   operation: Any) -> None:
    session = requests.Session()
    session.mount(BASE_URL, ChaliceClientAdapter(api))
    open311 = is_open311_path(operation.path) and not _is_updates(operation.path)
    needs = _needs(operation)
    if open311 or needs & {"request_id", "reference", "number", "department",
                            "resident_session"}:
        known = _seed(api)
    else:
        known = KnownData({DEMO_TOWN: [], OTHER_TOWN: []}, {DEMO_TOWN: [], OTHER_TOWN: []})
    if not open311:
        _seed_beyond_open311(api, deployment, staff, known, needs)

    @settings(max_examples=MAX_EXAMPLES if open311 else MAX_EXAMPLES_JSON_API,
              derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=operation.as_strategy(GenerationMode.POSITIVE), data=st.data())
    def answers_as_documented(case: Any, data: st.DataObject) -> None:
        if _is_updates(case.path):
            _steer_updates(case, data, known)
        elif open311 or case.path in ("/openapi.json", "/photos/{town}/{request_id}/{name}"):
            _steer(case, data, known)
        else:
            _steer_beyond_open311(case, data, known, staff)
        # Never follow a redirect: the photo route points at S3.
        response = case.call(base_url=BASE_URL, session=session, allow_redirects=False)
        case.validate_response(response, checks=CHECKS)

    answers_as_documented()


# --- bugs the fuzzer found once, kept as regression tests ----------------------------------


@pytest.mark.parametrize("setting", ["name", "timezone", "locale", "photo_limit",
                                     "alert_sms_per_second", "sms_monthly_cap_usd",
                                     "alert_test_self_approval", "anonymous_messages_per_hour"])
def test_a_null_for_a_town_setting_that_cannot_be_empty_is_a_400(
        api: Any, staff: Any, setting: str) -> None:
    admin = staff.headers("town_admin")

    response = api.http.patch("/admin/town", headers=admin,
                              body=json.dumps({setting: None}).encode())

    assert response.status_code == 400, response.body
    assert api.http.get("/admin/messaging", headers=admin).status_code == 200
    assert api.http.get(f"/towns/{DEMO_TOWN}/open311/v2/requests.json").status_code == 200


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
A_VALID_FORM = f"api_key={DEMO_KEY}&service_code=other&address_string=1+Main+St"


@pytest.mark.parametrize("blank", ["zipcode=", "email=", "description=", "media_url=",
                                   "first_name=+", "lat=&long="])
def test_blank_optional_form_field_means_absent(api: Any, blank: str) -> None:
    response = api.http.post(f"/towns/{DEMO_TOWN}/open311/v2/requests.json",
                             body=f"{A_VALID_FORM}&{blank}".encode(), headers=FORM)

    assert response.status_code == 201, response.body


@pytest.mark.parametrize("query", ["start_date=9999-12-31T23:00:00-12:00",
                                   "start_date=9999-12-01T00:00:00Z",
                                   "end_date=0001-01-01T00:00:00Z",
                                   "updated_before=0001-01-01T00:00:00%2B01:00"])
def test_dates_near_the_ends_of_the_calendar_are_a_400(api: Any, query: str) -> None:
    response = api.http.get(f"/towns/{DEMO_TOWN}/open311/v2/requests.json?{query}")

    assert response.status_code in (200, 400), response.body


def test_coordinates_too_small_for_dynamodb_are_not_a_503(api: Any) -> None:
    response = api.http.post(
        f"/towns/{DEMO_TOWN}/open311/v2/requests.json",
        body=f"api_key={DEMO_KEY}&service_code=other&lat=44.98&long=1e-200".encode(),
        headers=FORM)

    assert response.status_code in (201, 400), response.body


@pytest.mark.parametrize("method, headers", [("POST", {"Content-Type": "image/png"}),
                                             ("PUT", FORM)])
def test_errors_chalice_answers_itself_follow_the_xml_suffix(
        api: Any, method: str, headers: dict[str, str]) -> None:
    response = api.http.request(method, f"/towns/{DEMO_TOWN}/open311/v2/requests.xml",
                                headers=headers, body=b"service_code=other")

    assert response.status_code in (400, 405)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8", response.body


def test_text_xml_cannot_carry_is_refused_so_xml_answers_stay_well_formed(api: Any) -> None:
    response = api.http.post(
        f"/towns/{DEMO_TOWN}/open311/v2/requests.xml",
        body=urlencode({"api_key": DEMO_KEY, "service_code": "other",
                        "address_string": "1 Main St",
                        "description": "sign says \ufffe\uffff"}).encode(), headers=FORM)

    assert response.status_code == 400
    root = ElementTree.fromstring(response.body)
    assert "description" in root.find("error/description").text


def test_every_problem_of_a_submission_is_reported_at_once(api: Any) -> None:
    response = api.http.post(
        f"/towns/{DEMO_TOWN}/open311/v2/requests.json",
        body=f"api_key={DEMO_KEY}&service_code=pothole&email=not-an-email&lat=44.9"
             f"&attribute[size]=enormous".encode(), headers=FORM)

    assert response.status_code == 400
    described = " ".join(e["description"] for e in json.loads(response.body))
    assert "email" in described and "long" in described and "attribute[size]" in described
