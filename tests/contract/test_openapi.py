"""The public API's OpenAPI document is valid, is served, and the app keeps to it.

The schemathesis run sends generated requests for every documented operation through
``chalice.test.Client`` (no socket, no thread: a ``requests`` transport adapter hands each
prepared request to Chalice's local gateway), under the moto ``deployment`` fixture, and
checks each answer: no 5xx, a documented status, a documented content type, a body that
matches the documented schema, and the format the path's suffix asked for.

Generation is positive (requests the document allows), derandomized and bounded so that CI
runs the same cases every time. Purely random values would almost all end in 404 (an
unknown town) or 400 (an unknown service), so each case is steered: most get a real town,
service code, request id or token, the town's API key and a valid set of attribute answers,
while the rest keep their generated values.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
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

from tests.conftest import DEMO_KEY, OTHER_KEY

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

BASE_URL = "http://town311.test"
DEMO_TOWN, OTHER_TOWN = "maplefalls.example", "riverton.example"
KEYS = {DEMO_TOWN: DEMO_KEY, OTHER_TOWN: OTHER_KEY}
# Cases per operation: 12 operations x 40 cases take about 25 s on 2 cores.
MAX_EXAMPLES = 40

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
    if match is None or not case.path.startswith(("/open311/", "/towns/")):
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


def test_document_covers_every_open311_route() -> None:
    from app import app
    from chalicelib.api.errors import is_open311_path

    routes = {(path, method.lower()) for path, methods in app.routes.items()
              for method in methods}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items()
                  for method in item}
    assert documented <= routes, "documented but not served"
    assert {(p, m) for p, m in routes if is_open311_path(p)} <= documented, "not documented"


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_app_keeps_to_the_document(api: Any, operation: Any) -> None:
    session = requests.Session()
    session.mount(BASE_URL, ChaliceClientAdapter(api))
    known = _seed(api)

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=operation.as_strategy(GenerationMode.POSITIVE), data=st.data())
    def answers_as_documented(case: Any, data: st.DataObject) -> None:
        _steer(case, data, known)
        # Never follow a redirect: the photo route points at S3.
        response = case.call(base_url=BASE_URL, session=session, allow_redirects=False)
        case.validate_response(response, checks=CHECKS)

    answers_as_documented()


# --- bugs the fuzzer found once, kept as regression tests ----------------------------------

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
