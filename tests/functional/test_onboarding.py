"""A new town goes live through the API alone, and a resident files with its new key."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.functional.helpers import FORM

NEW = "cedarbrook.example"
BASE = f"/towns/{NEW}/open311/v2"
WARD_2 = {"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[-90.10, 38.60], [-90.00, 38.60], [-90.00, 38.70],
                                        [-90.10, 38.70], [-90.10, 38.60]]]}}


def _json(r, status=200):
    assert r.status_code == status, r.body
    return json.loads(r.body)


def _call(api, method, path, headers, body=None):
    return api.http.request(method, path, headers=headers,
                            body=json.dumps(body).encode() if body is not None else b"")


def test_a_town_goes_live_through_the_api_alone(api, staff):
    operator = staff.headers("operator", town=None)
    created = _json(_call(api, "POST", "/platform/towns", operator, {
        "jurisdiction_id": NEW, "name": "Cedarbrook", "timezone": "America/Chicago",
        "pack": "small_town", "admin_email": "clerk@cedarbrook.example",
        "admin_name": "Casey Clerk"}), 201)
    assert created["admin"]["roles"] == ["town_admin"]
    assert NEW in [t["jurisdiction_id"] for t in _json(_call(api, "GET", "/platform/towns",
                                                             operator))]
    first_changeset = _json(api.http.get(f"{BASE}/discovery.json"))["changeset"]

    admin = staff.headers("town_admin", town=NEW)
    town = _json(_call(api, "PATCH", "/admin/town", admin, {
        "name": "City of Cedarbrook", "locales": ["en", "es"],
        "branding": {"display_name": "Cedarbrook 311", "logo_url": "https://cedarbrook.example/l.png",
                     "primary_colour": "#225533"},
        "calendar": {"hours": {"monday": ["07:30", "16:00"], "saturday": None},
                     "holidays": ["2026-12-25", "2027-01-01"]}}))
    assert town["name"] == "City of Cedarbrook" and town["locales"] == ["en", "es"]
    assert town["calendar"]["hours"]["monday"] == ["07:30", "16:00"]
    assert town["calendar"]["hours"]["tuesday"] is None  # the week is what was sent

    _json(_call(api, "PUT", "/admin/departments/lights_contractor", admin,
                {"name": "Bright Lights LLC", "email": "dispatch@brightlights.example"}))
    _json(_call(api, "PUT", "/admin/zones/ward-2", admin,
                {"name": "Ward 2", "kind": "ward", "geometry": WARD_2}))
    _json(_call(api, "PUT", "/admin/services/bulky_pickup", admin, {
        "name": "Bulky item pickup", "description": "Sofas, mattresses, appliances.",
        "group": "Trash & Recycling", "keywords": ["bulky", "sofa"], "department": "sanitation",
        "questions": [{"code": "items", "datatype": "multivaluelist", "required": True,
                       "description": "What needs picking up?",
                       "values": [{"key": "sofa", "name": "Sofa"},
                                  {"key": "mattress", "name": "Mattress"}]}]}))
    _json(_call(api, "POST", "/admin/services/graffiti/retire", admin))
    worker = _json(_call(api, "POST", "/admin/staff", admin, {
        "email": "pat@cedarbrook.example", "name": "Pat", "roles": ["department_worker"],
        "departments": ["lights_contractor"]}), 201)
    assert worker["departments"] == ["lights_contractor"]
    key = _json(_call(api, "POST", "/admin/api-keys", admin,
                      {"name": "Resident app", "rate_limit_per_minute": 30}), 201)
    assert key["secret"].startswith(key["prefix"])

    services = _json(api.http.get(f"{BASE}/services.json"))
    codes = [s["service_code"] for s in services]
    assert "bulky_pickup" in codes and "graffiti" not in codes
    assert _json(api.http.get(f"{BASE}/discovery.json"))["changeset"] >= first_changeset

    filed = api.http.post(f"{BASE}/requests.json", headers=FORM, body=urlencode([
        ("api_key", key["secret"]), ("service_code", "bulky_pickup"), ("lat", "38.65"),
        ("long", "-90.05"), ("attribute[items][]", "sofa")]))
    (receipt,) = _json(filed, 201)
    (request,) = _json(api.http.get(
        f"{BASE}/requests/{receipt['service_request_id']}.json?extensions=true"))
    assert request["extended_attributes"]["zone"] == "ward-2"

    audit = _json(_call(api, "GET", "/admin/audit", admin))["entries"]
    actions = [e["action"] for e in audit]
    for action in ("town.created", "town.settings_changed", "department.saved", "zone.saved",
                   "service.added", "service.retired", "staff.added", "api_key.created",
                   "request.submitted"):
        assert action in actions
    submitted = next(e for e in audit if e["action"] == "request.submitted")
    assert submitted["actor"] == f"api_key:{key['key_id']}"
    assert submitted["target"] == receipt["service_request_id"]
    assert submitted["source_ip"]
    assert audit == sorted(audit, key=lambda e: e["at"], reverse=True)

    export = _call(api, "GET", "/admin/export", admin)
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.body.decode().splitlines()]
    assert any(line.get("SK") == "TOWN" for line in lines)
    assert any(line.get("request_id") == receipt["service_request_id"] for line in lines)
    assert not any("secret" in json.dumps(line) and key["secret"] in json.dumps(line)
                   for line in lines)


def test_a_suspended_town_takes_no_reports_until_resumed(api, staff):
    operator = staff.headers("operator", town=None)
    from tests.conftest import DEMO_KEY
    from tests.functional.helpers import POTHOLE, TOWN, post_request

    _json(_call(api, "POST", "/platform/towns/maplefalls.example/suspend", operator))
    import chalicelib.bootstrap as bootstrap

    bootstrap.container().towns._towns._entries.clear()  # the 60 s cache, for the test
    assert post_request(api, POTHOLE, key=DEMO_KEY).status_code == 403
    assert api.http.get(f"{TOWN}/services.json").status_code == 200  # still readable
    _json(_call(api, "POST", "/platform/towns/maplefalls.example/resume", operator))
    bootstrap.container().towns._towns._entries.clear()
    assert post_request(api, POTHOLE, key=DEMO_KEY).status_code == 201


def test_rotating_a_key_stops_the_old_secret(api, staff):
    admin = staff.headers("town_admin")
    first = _json(_call(api, "POST", "/admin/api-keys", admin, {"name": "Kiosk"}), 201)
    second = _json(_call(api, "POST", f"/admin/api-keys/{first['key_id']}/rotate", admin), 201)
    listed = {k["key_id"]: k for k in _json(_call(api, "GET", "/admin/api-keys", admin))}
    assert listed[first["key_id"]]["revoked"] is True
    assert listed[second["key_id"]]["revoked"] is False
    assert all("secret" not in k for k in listed.values())
    from tests.functional.helpers import POTHOLE, post_request

    assert post_request(api, POTHOLE, key=first["secret"]).status_code == 403
    assert post_request(api, POTHOLE, key=second["secret"]).status_code == 201


def test_an_agent_enters_a_phone_report_that_records_channel_and_agent(api, staff):
    agent = staff.headers("agent")
    receipt = _json(_call(api, "POST", "/staff/requests", agent, {
        "channel": "phone", "service_code": "pothole", "address_string": "4 Oak Ave",
        "attributes": {"size": "large"}, "phone": "+1 312 555 0101",
        "description": "Caller says it is growing"}), 201)
    opened = _json(_call(api, "GET", f"/staff/requests/{receipt['service_request_id']}", agent))
    assert opened["extended_attributes"]["channel"] == "phone"
    assert opened["entered_by"] == "agent@maplefalls.example"
    assert opened["reporter"] == {"phone": "+13125550101", "notify": True}  # E.164
    assert opened["timeline"][0]["actor_role"] == "agent"
    found = _json(_call(api, "GET", "/staff/requests?q=growing", agent))["requests"]
    assert [r["service_request_id"] for r in found] == [receipt["service_request_id"]]


def test_bad_admin_input_is_a_clear_400_and_changes_nothing(api, staff):
    admin = staff.headers("town_admin")
    before = _json(_call(api, "GET", "/admin/town", admin))
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}
    for method, path, body in [
        ("PUT", "/admin/zones/ward-9", {"name": "W", "geometry": bow_tie}),
        ("PUT", "/admin/zones/ward-9", {"name": "W", "geometry": open_ring}),
        ("PUT", "/admin/zones/Bad Code", {"name": "W", "geometry": bow_tie}),
        ("PATCH", "/admin/town", {"jurisdiction_id": "riverton.example", "name": "X"}),
        ("PATCH", "/admin/town", {"timezone": "Mars/Olympus"}),
        ("PATCH", "/admin/town", {"calendar": {"hours": {}, "holidays": ["2026-12-25",
                                                                        "2026-12-25"]}}),
        ("PATCH", "/admin/town", {"surprise": True}),
        ("PUT", "/admin/services/x", {"name": "X", "description": "", "group": "G",
                                      "department": "nowhere"}),
        ("POST", "/admin/staff", {"email": "a@b.example", "name": "A", "roles": ["operator"]}),
        ("POST", "/admin/api-keys", {"name": "K", "rate_limit_per_minute": 0}),
    ]:
        r = _call(api, method, path, admin, body)
        assert r.status_code == 400, (path, body, r.body)
        assert json.loads(r.body)["error"]["problems"], r.body
    r = api.http.request("PATCH", "/admin/town", headers=admin, body=b"{not json")
    assert r.status_code == 400
    assert _json(_call(api, "GET", "/admin/town", admin)) == before


def test_a_key_over_its_rate_gets_429_with_retry_after(api, staff):
    from tests.functional.helpers import POTHOLE, error_descriptions, post_request

    admin = staff.headers("town_admin")
    key = _json(_call(api, "POST", "/admin/api-keys", admin,
                      {"name": "Tiny", "rate_limit_per_minute": 2}), 201)
    assert [post_request(api, POTHOLE, key=key["secret"]).status_code for _ in range(2)] == [
        201, 201]
    r = post_request(api, POTHOLE, key=key["secret"])
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "2 requests a minute" in error_descriptions(r)[0]


def test_a_residents_contact_details_are_erased_from_every_request(api, staff):
    from tests.functional.helpers import POTHOLE, TOWN, post_request

    ids = [_json(post_request(api, {**POTHOLE, "email": "Ana@Example.org",
                                    "phone": "+1 (312) 555-0100", "first_name": "Ana"}),
                 201)[0]["service_request_id"] for _ in range(2)]
    other = _json(post_request(api, {**POTHOLE, "email": "bo@example.org"}), 201)[0]
    admin = staff.headers("town_admin")
    done = _json(_call(api, "POST", "/admin/residents/erase", admin,
                       {"email": "ana@example.org"}))
    assert done == {"requests_anonymised": 2}
    for rid in ids:
        opened = _json(_call(api, "GET", f"/staff/requests/{rid}", admin))
        assert opened["reporter"] == {}
        assert opened["timeline"][-1]["kind"] == "contact_erased"
        assert _json(api.http.get(f"{TOWN}/requests/{rid}.json"))[0]["status"] == "open"
    kept = _json(_call(api, "GET", f"/staff/requests/{other['service_request_id']}", admin))
    assert kept["reporter"] == {"email": "bo@example.org", "notify": True}
    again = _json(_call(api, "POST", "/admin/residents/erase", admin,
                        {"phone": "+13125550100"}))
    assert again == {"requests_anonymised": 0}
    audit = _json(_call(api, "GET", "/admin/audit", admin))["entries"]
    assert "ana@example.org" not in json.dumps(audit).lower()
    r = _call(api, "POST", "/admin/residents/erase", staff.headers("agent"),
              {"email": "bo@example.org"})
    assert r.status_code == 403


def test_an_admins_api_change_reaches_this_servers_resident_pages_at_once(api, staff):
    """Residents' calls keep a town for a minute; the server that took the change drops its
    copy, so the next services.json it serves is the new catalogue."""
    base = "/towns/maplefalls.example/open311/v2"
    before = _json(api.http.get(f"{base}/services.json"))
    assert "graffiti" in [s["service_code"] for s in before]
    _json(_call(api, "POST", "/admin/services/graffiti/retire", staff.headers("town_admin")))
    after = _json(api.http.get(f"{base}/services.json"))
    assert "graffiti" not in [s["service_code"] for s in after]
