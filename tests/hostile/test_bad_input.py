"""Issue 12, item 11: never a 5xx on bad input, through HTTP.

A stranger (or a careless integration) sends JSON nested 50,000 deep, dates at the ends of
the calendar or without an offset, an alert whose title lacks the fallback language, and
control characters in text that ends up published. Each is a clear 400 (or is cleaned),
and afterwards the town's Open311 XML still parses.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from tests.functional.helpers import POTHOLE, TOWN, body, post_request
from tests.functional.test_tracking_and_notices import (  # noqa: F401 - outbox is a fixture
    _close,
    _report,
    _resident_session,
    outbox,
    route,
)

JSON = {"Content-Type": "application/json"}
TOWN_BASE = "/towns/maplefalls.example"
DEEP_ARRAY = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


def _send(api, method, path, raw, headers=None):
    return api.http.request(method, path, body=raw, headers={**JSON, **(headers or {})})


def _problems(response) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body(response)["error"]["problems"]}


def _alert(deployment, **overrides) -> dict:
    return {"title": {"en": "Boil water order", "es": "Hervir el agua"},
            "body": {"en": "Boil tap water for one minute.", "es": "Hierva el agua."},
            "severity": "severe", "category": "water",
            "expires_at": (deployment.clock[0] + timedelta(days=2)).isoformat(), **overrides}


def _requests_xml(api) -> ElementTree.Element:
    r = api.http.get(f"{TOWN}/requests.xml?extensions=true")
    assert r.status_code == 200, r.body
    return ElementTree.fromstring(r.body)  # raises if one stored character broke it


# --- one body reader ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_50000_deep_is_a_400_on_every_json_route(api, staff, raw):
    admin = staff.headers("town_admin")
    calls = [
        ("POST", "/staff/alerts", staff.headers("emergency_manager")),
        ("PATCH", "/admin/town", admin),
        ("PUT", "/admin/zones/ward-7", admin),
        ("POST", "/staff/requests/abc/merge", staff.headers("agent")),
        ("POST", "/staff/requests", staff.headers("agent")),
        ("POST", f"{TOWN_BASE}/alerts/subscribers", {}),
        ("POST", f"{TOWN_BASE}/requests/abc/followers", {}),
        ("POST", f"{TOWN_BASE}/residents/sign-in", {}),
    ]
    for method, path, headers in calls:
        r = _send(api, method, path, raw, headers)
        assert r.status_code == 400, (path, r.status_code, r.body[:200])
        assert "deep" in _problems(r)["body"], path


def test_the_stop_link_answers_a_deep_json_body_with_a_400_page(api):
    r = _send(api, "POST", f"{TOWN_BASE}/requests/abc/followers/def/stop?key=k", DEEP_ARRAY)
    assert r.status_code == 400 and b"<h1>" in r.body
    r = api.http.post(f"{TOWN_BASE}/requests/abc/followers/def/stop?key=k", body=b"\xff",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


@pytest.mark.parametrize("raw", [b'{"name": NaN}', b'{"name": 1e999}',
                                 b'{"name": "\\ud800"}', b'{"name": "caf\xe9"}'])
def test_what_no_store_could_hold_is_a_400(api, staff, raw):
    r = _send(api, "POST", "/admin/api-keys", raw, staff.headers("town_admin"))
    assert r.status_code == 400, r.body
    assert "body" in _problems(r)


# --- one date reader ---------------------------------------------------------------------

BAD_DATES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "yesterday",
             "2026-11-20T10:00:00+99:00", "2100-01-01T00:00:00Z", "1" * 200]
NAIVE = "2026-11-20T10:00:00"


@pytest.mark.parametrize("value", [*BAD_DATES, NAIVE])
def test_service_level_report_dates_are_checked(api, staff, value):
    r = api.http.get("/staff/reports/service-levels?" + urlencode({"start_date": value}),
                     headers=staff.headers("analyst"))
    assert r.status_code == 400, r.body
    assert "start_date" in _problems(r)
    r = api.http.get("/staff/reports/service-levels?" + urlencode({"end_date": value}),
                     headers=staff.headers("analyst"))
    assert r.status_code == 400 and "end_date" in _problems(r)


@pytest.mark.parametrize("value", [*BAD_DATES, NAIVE])
def test_audit_before_is_checked(api, staff, value):
    r = api.http.get("/admin/audit?" + urlencode({"before": value}),
                     headers=staff.headers("town_admin"))
    assert r.status_code == 400, r.body
    assert "before" in _problems(r)


def test_audit_paging_still_round_trips(api, staff):
    admin = staff.headers("town_admin")
    r = api.http.get("/admin/audit?" + urlencode({"before": "2026-11-20T15:30:00-06:00"}),
                     headers=admin)
    assert r.status_code == 200, r.body


@pytest.mark.parametrize("value", [*BAD_DATES, NAIVE, 253402300799, 1e300, None, [2026]])
def test_alert_expiry_is_checked(api, deployment, staff, value):
    r = _send(api, "POST", "/staff/alerts", json.dumps(_alert(deployment, expires_at=value)),
              staff.headers("emergency_manager"))
    assert r.status_code == 400, r.body
    assert "expires_at" in _problems(r)


@pytest.mark.parametrize("value", BAD_DATES)
def test_open311_and_staff_windows_are_checked(api, staff, value):
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        r = api.http.get(f"{TOWN}/requests.json?" + urlencode({name: value}))
        assert r.status_code == 400, (name, r.body)
    r = api.http.get(f"{TOWN}/servicerequestupdates.xml?" + urlencode({"start_date": value}))
    assert r.status_code == 400, r.body
    ElementTree.fromstring(r.body)
    r = api.http.get("/staff/requests?" + urlencode({"start_date": value}),
                     headers=staff.headers("agent"))
    assert r.status_code == 400, r.body


def test_open311_reads_a_time_without_an_offset_as_the_towns(api, staff):
    # Open311 clients may leave the offset out; the documentation says whose time it is.
    assert api.http.get(f"{TOWN}/requests.json?" + urlencode({"start_date": NAIVE})
                        ).status_code == 200
    assert api.http.get("/staff/requests?" + urlencode({"start_date": NAIVE}),
                        headers=staff.headers("agent")).status_code == 200


def test_a_holiday_in_year_9999_is_a_400(api, staff):
    r = _send(api, "PATCH", "/admin/town", json.dumps(
        {"calendar": {"hours": {}, "holidays": ["9999-12-31"]}}), staff.headers("town_admin"))
    assert r.status_code == 400, r.body


# --- alerts need their fallback language --------------------------------------------------


def test_an_alert_title_without_the_fallback_language_is_refused_at_compose(
        api, deployment, staff):
    manager = staff.headers("emergency_manager")
    r = _send(api, "POST", "/staff/alerts", json.dumps(
        _alert(deployment, title={"es": "Hervir el agua"})), manager)
    assert r.status_code == 400, r.body
    assert "fallback" in _problems(r)["title"]
    r = _send(api, "POST", "/staff/alerts", json.dumps(
        _alert(deployment, fallback_language="fr")), manager)
    assert r.status_code == 400 and {"title", "body"} <= set(_problems(r))


def test_an_alert_stored_without_a_fallback_title_still_renders(api, deployment, staff):
    """Alerts composed before the check: preview, Atom and CAP still answer."""
    from chalicelib.domain.alerts import SENT, Alert

    now = deployment.clock[0]
    deployment.container.alert_store.save(Alert(
        town_id="maplefalls.example", alert_id="old1", title={"es": "Hervir el agua"},
        body={"en": "Boil water.", "es": "Hierva el agua."}, fallback_language="en",
        severity="severe", category="water", expires_at=now + timedelta(days=1), zones=(),
        created_by="staff:someone", created_at=now, status=SENT, sent_at=now,
        approved_by="staff:another"), new=True)
    manager = staff.headers("emergency_manager")
    assert api.http.get("/staff/alerts/old1/preview", headers=manager).status_code == 200
    feed = api.http.get(f"{TOWN_BASE}/alerts/feed.atom")
    assert feed.status_code == 200
    assert "Hervir" in ElementTree.fromstring(feed.body).find(
        "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title").text
    cap = api.http.get(f"{TOWN_BASE}/alerts/old1/cap.xml")
    assert cap.status_code == 200
    ElementTree.fromstring(cap.body)


# --- one text cleaner ---------------------------------------------------------------------


def test_control_characters_in_an_alert_are_refused(api, deployment, staff):
    manager = staff.headers("emergency_manager")
    for field, texts in (("body", {"en": "Boil\x00 water", "es": "x"}),
                         ("title", {"en": "Boil\x1b[31m", "es": "x"}),
                         ("body", {"en": "Boil \ufffe water", "es": "x"})):
        r = _send(api, "POST", "/staff/alerts", json.dumps(_alert(deployment, **{field: texts})),
                  manager)
        assert r.status_code == 400, r.body
        assert any(name.startswith(field) for name in _problems(r)), _problems(r)


def test_control_characters_in_a_merge_note_are_refused_and_xml_still_parses(
        api, deployment, staff):
    first = _report(api, deployment)
    second = _report(api, deployment, contact={"email": "ben@example.org"})
    agent = staff.headers("agent")
    path = f"/staff/requests/{second['id']}/merge"
    for note in ("Same\x0b hole", "Same \x1b[2J hole", "Same\ufffe", "Same\x85hole"):
        r = _send(api, "POST", path, json.dumps({"into": first["id"], "note": note}), agent)
        assert r.status_code == 400, r.body
        assert "note" in _problems(r)
    r = _send(api, "POST", path, json.dumps({"into": first["id"],
                                             "note": "  Same hole\r\nby the school  "}), agent)
    assert r.status_code == 200, r.body
    (closed,) = body(api.http.get(f"{TOWN}/requests/{second['id']}.json?extensions=true"))
    assert closed["notes"][-1]["description"] == "Same hole\nby the school"
    _requests_xml(api)


def test_control_characters_in_a_dispute_note_are_refused(api, deployment, staff, request):
    mail = request.getfixturevalue("outbox")  # the tracking tests' SES/SNS reader
    ana = _report(api, deployment, contact={"email": "ana@example.org"})
    route(deployment)
    _close(api, staff, ana["id"])
    session = _resident_session(api, deployment, mail, "ana@example.org")
    path = f"{TOWN_BASE}/requests/{ana['number']}/dispute"
    for note in ("Not fixed\ufffe", "Not fixed\x9b", "Not\x00 fixed"):
        r = _send(api, "POST", path, json.dumps({"note": note}), session)
        assert r.status_code == 400, r.body
    r = api.http.post(path, body=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
                      b"Not fixed\x01\r\n--b--\r\n",
                      headers={**session, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 400, r.body
    r = _send(api, "POST", path, json.dumps({"note": "Still a hole"}), session)
    assert r.status_code == 201, r.body
    _requests_xml(api)


def test_control_characters_in_open311_text_are_refused_or_cleaned(api):
    for field in ("description", "first_name", "address_string"):
        r = post_request(api, {**POTHOLE, field: "hole\x1b[31m"})
        assert r.status_code == 400, (field, r.body)
    r = post_request(api, {**POTHOLE, "description": "  Deep hole\r\nby the school \t"})
    assert r.status_code == 201, r.body
    (receipt,) = body(r)
    (made,) = body(api.http.get(f"{TOWN}/requests/{receipt['service_request_id']}.json"))
    assert made["description"] == "Deep hole\nby the school"
    _requests_xml(api)


def test_text_stored_before_the_cleaner_cannot_break_the_xml(api, deployment):
    """Nothing already stored is lost or rewritten: the XML writer drops what XML 1.0
    cannot carry, the JSON keeps it."""
    from chalicelib.domain.requests import TimelineEvent

    (receipt,) = body(post_request(api, POTHOLE))
    store = deployment.container.requests
    request = store.get("maplefalls.example", receipt["service_request_id"], with_timeline=True)
    event = TimelineEvent(at=deployment.clock[0], event_id="legacy1", kind="note",
                          summary="Crew\x0b note", description="old\x01 text\ufffe",
                          public=True)
    request.description = "legacy\x1b[31m description"
    request.timeline.append(event)
    store.record_change(request, event)

    root = _requests_xml(api)
    assert "legacy[31m description" in {e.text for e in root.iter("description")}
    (kept,) = body(api.http.get(f"{TOWN}/requests/{receipt['service_request_id']}.json"))
    assert kept["description"] == "legacy\x1b[31m description"


# --- a sweep: every JSON write route, a handful of hostile bodies --------------------------

HOSTILE_BODIES = [DEEP_ARRAY, DEEP_OBJECT, b"[]", b'"text"', b"null", b"{}", b"\xff\xfe",
                  b'{"a": NaN}', b'{"a": "\\udfff"}', b'{"note": "\\u0000", "name": "\\u001b",'
                  b' "title": {"en": "\\ufffe"}, "text": "\\u0085", "into": "\\u0000"}',
                  b'{"expires_at": "9999-12-31T23:59:59-12:00", "start_date": 1e308}']
PARAMS = {"town": "maplefalls.example", "resource": "requests.json", "code": "ward-7",
          "department": "public_works"}


def test_no_json_write_route_answers_a_hostile_body_with_a_5xx(api, staff):
    from app import app

    headers = staff.headers("town_admin", "agent", "emergency_manager",
                            departments=("public_works",))
    swept = 0
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if method not in ("POST", "PUT", "PATCH", "DELETE") or \
                    "application/json" not in entry.content_types:
                continue
            url = path
            for name in entry.view_args:
                url = url.replace(f"{{{name}}}", PARAMS.get(name, "x1"))
            for raw in HOSTILE_BODIES:
                r = api.http.request(method, url, body=raw, headers=headers)
                assert r.status_code < 500, (method, url, raw[:60], r.status_code, r.body[:300])
            swept += 1
    assert swept > 40
