"""Every staff, admin and platform route, tried with another town's token and with every
role that may not use it: each answer is 401/403/404, no byte of Maple Falls leaks, and
nothing stored changes. Likewise every Open311 call that needs an API key, with every key
whose scopes do not allow it."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

from tests.conftest import DEMO_KEY, OTHER_KEY, UPDATES_KEY
from tests.functional.helpers import FORM, POTHOLE, TOWN, body, post_request
from tests.lambda_events import sqs_event, sqs_record

TOWN_ROLES = ("town_admin", "agent", "department_worker", "supervisor", "emergency_manager",
              "analyst")
READERS = {"town_admin", "agent", "supervisor", "analyst", "department_worker"}
EVERYONE = set(TOWN_ROLES)
ZONE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
ARTICLE = {"question": "Hijacked?", "answer": "Hijacked.", "owner": {"name": "Evil County"}}
SERVICE = {"name": "X", "description": "x", "group": "G", "department": "public_works"}

# (method, path, body, roles of Maple Falls that may call it). {rid} is a Maple Falls
# request routed to public_works.
ROUTES = [
    ("GET", "/staff/me", None, EVERYONE),
    ("GET", "/staff/requests", None, READERS),
    ("GET", "/staff/requests/{rid}", None, READERS),
    ("POST", "/staff/requests", {"channel": "phone", "service_code": "other",
                                 "address_string": "1 Main St"},
     {"town_admin", "agent", "supervisor"}),
    ("GET", "/staff/possible-duplicates", None, {"town_admin", "agent", "supervisor"}),
    ("POST", "/staff/requests/{rid}/merge", {"into": "01JNOTAREQUEST0000000000000"},
     {"town_admin", "agent", "supervisor"}),
    ("POST", "/staff/requests/{rid}/confirm", {"service_code": "pothole", "lat": 44.9778,
                                               "long": -93.265}, {"town_admin", "supervisor"}),
    ("POST", "/staff/requests/{rid}/photos", {"content_type": "image/jpeg"},
     {"town_admin", "agent", "supervisor"}),
    ("POST", "/staff/requests/{rid}/photos/{photo_id}/hide", None, {"town_admin", "supervisor"}),
    ("POST", "/staff/requests/{rid}/photos/{photo_id}/show", None, {"town_admin", "supervisor"}),
    ("GET", "/staff/reports/service-levels", None,
     {"town_admin", "agent", "supervisor", "analyst"}),
    ("GET", "/staff/reports/figures", None, {"town_admin", "agent", "supervisor", "analyst"}),
    ("GET", "/staff/reports/forecast", None, {"town_admin", "agent", "supervisor", "analyst"}),
    ("GET", "/admin/escalations", None, {"town_admin"}),
    ("POST", "/admin/escalations/subscriptions", {
        "audience": "supervisor", "protocol": "email", "endpoint": "x@evil.example"},
     {"town_admin"}),
    ("GET", "/staff/reports/feedback", None, {"town_admin", "agent", "supervisor", "analyst"}),
    ("POST", "/staff/alerts", {"title": {"en": "Hijacked"}, "body": {"en": "x"},
                               "severity": "minor", "category": "other",
                               "expires_at": "2030-01-01T00:00:00Z"}, {"emergency_manager"}),
    ("GET", "/staff/alerts", None, {"emergency_manager"}),
    ("GET", "/staff/alerts/{alert_id}", None, {"emergency_manager"}),
    ("GET", "/staff/alerts/{alert_id}/preview", None, {"emergency_manager"}),
    ("POST", "/staff/alerts/{alert_id}/approve", None, {"emergency_manager", "town_admin"}),
    ("POST", "/staff/alerts/{alert_id}/request-approval", None, {"emergency_manager"}),
    ("POST", "/staff/alerts/{alert_id}/cancel", None, {"emergency_manager"}),
    ("POST", "/staff/alerts/{alert_id}/correction", {"title": {"en": "x"}, "body": {"en": "x"},
                                                     "severity": "minor", "category": "other",
                                                     "expires_at": "2030-01-01T00:00:00Z"},
     {"emergency_manager"}),
    ("GET", "/admin/town", None, EVERYONE),
    ("PATCH", "/admin/town", {"name": "Hijacked"}, {"town_admin"}),
    ("PUT", "/admin/departments/{code}", {"name": "Hijacked"}, {"town_admin"}),
    ("DELETE", "/admin/departments/{code}", None, {"town_admin"}),
    ("GET", "/admin/departments/{code}/queue", None, {"town_admin"}),
    ("GET", "/admin/zones/{code}", None, EVERYONE),
    ("PUT", "/admin/zones/{code}", {"name": "Z", "geometry": ZONE}, {"town_admin"}),
    ("DELETE", "/admin/zones/{code}", None, {"town_admin"}),
    ("GET", "/admin/routing", None, EVERYONE),
    ("PUT", "/admin/routing", {"rules": [{"service_code": "pothole",
                                          "department": "water"}]}, {"town_admin"}),
    ("POST", "/admin/routing/dry-run", {"service_code": "pothole"}, EVERYONE),
    ("PUT", "/admin/services/{code}", SERVICE, {"town_admin"}),
    ("POST", "/admin/services/{code}/retire", None, {"town_admin"}),
    ("POST", "/admin/services/{code}/restore", None, {"town_admin"}),
    ("POST", "/admin/catalogue/packs", {"pack": "small_town"}, {"town_admin"}),
    ("GET", "/admin/api-keys", None, {"town_admin"}),
    ("POST", "/admin/api-keys", {"name": "Stolen"}, {"town_admin"}),
    ("POST", "/admin/api-keys/{key_id}/rotate", None, {"town_admin"}),
    ("DELETE", "/admin/api-keys/{key_id}", None, {"town_admin"}),
    ("GET", "/admin/staff", None, {"town_admin"}),
    ("POST", "/admin/staff", {"email": "x@evil.example", "name": "X", "roles": ["town_admin"]},
     {"town_admin"}),
    ("DELETE", "/admin/staff/{user_id}", None, {"town_admin"}),
    ("GET", "/admin/audit", None, {"town_admin"}),
    ("GET", "/admin/messaging", None, {"town_admin"}),
    ("GET", "/admin/export", None, {"town_admin"}),
    ("POST", "/admin/exports", None, {"town_admin"}),
    ("GET", "/admin/exports/{job}", None, {"town_admin"}),
    ("POST", "/admin/residents/erase", {"email": "ana@example.org"}, {"town_admin"}),
    ("GET", "/admin/articles", None, {"town_admin"}),
    ("POST", "/admin/articles", ARTICLE, {"town_admin"}),
    ("GET", "/admin/articles/{article_id}", None, {"town_admin"}),
    ("PUT", "/admin/articles/{article_id}", ARTICLE, {"town_admin"}),
    ("DELETE", "/admin/articles/{article_id}", None, {"town_admin"}),
    ("GET", "/admin/gazetteer", None, EVERYONE),
    ("PUT", "/admin/gazetteer", b"kind,label,lat,long\nlandmark,Hijacked,44.97,-93.26\n",
     {"town_admin"}),
    ("GET", "/departments/public_works/requests", None, {"town_admin", "supervisor"}),
    *[("POST", f"/departments/public_works/requests/{{rid}}/{step}", payload,
       {"town_admin", "supervisor"})
      for step, payload in (("acknowledge", None), ("accept", None), ("hold", None),
                            ("notes", {"text": "x"}), ("decline", {"reason": "x"}),
                            ("hand-off", {"department": "water"}),
                            ("close", {"resolution": "fixed"}), ("reopen", None))],
    ("GET", "/platform/towns", None, set()),
    ("POST", "/platform/towns", {"jurisdiction_id": "evil.example", "name": "Evil",
                                 "timezone": "UTC", "admin_email": "a@evil.example",
                                 "admin_name": "A"}, set()),
    ("POST", "/platform/towns/{town}/suspend", None, set()),
    ("POST", "/platform/towns/{town}/resume", None, set()),
    ("GET", "/platform/towns/{town}/export", None, set()),
    ("GET", "/platform/usage", None, set()),
    ("GET", "/platform/towns/{town}/usage", None, set()),
    ("POST", "/platform/towns/{town}/migrations/phones", None, set()),
    ("PUT", "/platform/towns/{town}/web-domain", {"domain": "311.evil.example"}, set()),
]


def test_the_matrix_covers_every_staff_admin_and_platform_route():
    from app import app

    served = {(method, path) for path, methods in app.routes.items()
              if path.startswith(("/staff", "/admin", "/platform", "/departments"))
              for method in methods
              if method != "OPTIONS"}
    listed = {(method, path.replace("{rid}", "{request_id}")
               .replace("/departments/public_works/", "/departments/{department}/"))
              for method, path, _, _ in ROUTES}
    assert served == listed


def _fingerprint(deployment) -> str:
    """Everything stored for both towns (audit log included), as one digest."""
    store = deployment.container.town_store
    lines = [json.dumps(item, sort_keys=True) for town in ("maplefalls.example",
                                                            "riverton.example")
             for item in store.export(town)]
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


@pytest.fixture
def maple_request(api, deployment):
    from chalice.test import Client

    from app import app

    (receipt,) = body(post_request(api, POTHOLE))
    sqs = deployment.client("sqs")
    url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    with Client(app) as lambdas:  # routed to public_works, as in production
        lambdas.lambda_.invoke("route_new_requests",
                               sqs_event(sqs_record(message["Body"], message_id="m1")))
    return receipt["service_request_id"]


def _path(template: str, rid: str) -> str:
    return (template.replace("{rid}", rid).replace("{code}", "public_works")
            .replace("{key_id}", "first-key").replace("{user_id}", "demo-agent")
            .replace("{town}", "maplefalls.example").replace("{photo_id}", "nophoto")
            .replace("{alert_id}", "noalert").replace("{job}", "nojob")
            .replace("{article_id}", "leaf-pickup"))


def _call(api, method, path, headers, payload):
    if isinstance(payload, bytes):  # a CSV upload
        return api.http.request(method, path, headers={**headers, "Content-Type": "text/csv"},
                                body=payload)
    data = json.dumps(payload).encode() if payload is not None else b""
    return api.http.request(method, path, headers=headers, body=data)


def _no_leak(response, rid: str) -> None:  # noqa: ARG001 - kept for the message
    text = response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) \
        else str(response.body)
    # The request's id may be echoed back in a 404 (the caller sent it); its data may not.
    for secret in ("maplefalls", "Maple Falls", POTHOLE["description"], DEMO_KEY):
        assert secret not in text, (response.status_code, text[:300])


def test_another_towns_tokens_reach_nothing_of_maple_falls(api, staff, deployment,
                                                          maple_request):
    riverton_everything = staff.headers(*TOWN_ROLES, town="riverton.example",
                                        departments=("public_works",))
    before = _fingerprint(deployment)  # after minting: the token's staff record is Riverton's
    for method, template, payload, _ in ROUTES:
        path = _path(template, maple_request)
        r = _call(api, method, path, riverton_everything, payload)
        if template.startswith("/platform"):
            assert r.status_code == 403, (method, path, r.body)
        _no_leak(r, maple_request)
    # Riverton's own writes above changed Riverton only; Maple Falls is untouched.
    after_maple = [json.dumps(i, sort_keys=True)
                   for i in deployment.container.town_store.export("maplefalls.example")]
    assert not any("Hijacked" in line or "Stolen" in line for line in after_maple)
    assert before != _fingerprint(deployment)  # the calls did act, on Riverton


@pytest.mark.parametrize("role", TOWN_ROLES)
def test_each_role_is_refused_what_it_may_not_do_and_nothing_changes(api, staff, deployment,
                                                                     maple_request, role):
    departments = ("water",) if role == "department_worker" else ()
    headers = staff.headers(role, departments=departments)
    before = _fingerprint(deployment)
    for method, template, payload, allowed in ROUTES:
        if role in allowed and not (role == "department_worker" and "{rid}" in template):
            continue
        r = _call(api, method, _path(template, maple_request), headers, payload)
        assert r.status_code in (403, 404), (role, method, template, r.status_code, r.body)
        assert json.loads(r.body)["error"]["code"] in ("forbidden", "not_found")
    assert _fingerprint(deployment) == before


def test_a_department_worker_sees_only_their_departments(api, staff, maple_request):
    own = staff.headers("department_worker", departments=("public_works",))
    other = staff.headers("department_worker", departments=("water",))
    assert api.http.get(f"/staff/requests/{maple_request}", headers=own).status_code == 200
    assert api.http.get(f"/staff/requests/{maple_request}", headers=other).status_code == 403
    listed = json.loads(api.http.get("/staff/requests", headers=other).body)["requests"]
    assert listed == []
    r = api.http.get("/staff/requests?department=public_works", headers=other)
    assert r.status_code == 403
    mine = json.loads(api.http.get("/staff/requests", headers=own).body)["requests"]
    assert [m["service_request_id"] for m in mine] == [maple_request]


def test_the_operator_cannot_use_town_routes(api, staff):
    operator = staff.headers("operator", town=None)
    for path in ("/staff/requests", "/admin/town", "/admin/api-keys"):
        assert api.http.get(path, headers=operator).status_code == 403


# --- the staff record, not the token, decides who is staff now ------------------------------

CACHE_WINDOW = timedelta(seconds=61)  # a container remembers a staff record at most 60 s


def _refused_everywhere(api, deployment, rid: str, headers: dict[str, str]) -> None:
    """Every route answers 401 and nothing stored changes."""
    before = _fingerprint(deployment)
    for method, template, payload, _ in ROUTES:
        r = _call(api, method, _path(template, rid), headers, payload)
        assert r.status_code == 401, (method, template, r.status_code, r.body)
        assert json.loads(r.body)["error"]["code"] == "unauthenticated"
        _no_leak(r, rid)
    assert _fingerprint(deployment) == before


def test_a_removed_members_unexpired_token_stops_within_a_minute(api, staff, deployment,
                                                                 maple_request):
    admin = staff.headers("town_admin")
    leaving = staff.headers(*TOWN_ROLES, departments=("public_works",), subject="sub-leaving")
    assert api.http.get("/staff/requests", headers=leaving).status_code == 200
    r = api.http.delete("/admin/staff/sub-leaving", headers=admin)
    assert r.status_code == 200, r.body

    deployment.clock[0] += CACHE_WINDOW
    _refused_everywhere(api, deployment, maple_request, leaving)


def test_a_demoted_member_loses_the_role_within_a_minute(api, staff, deployment,
                                                        maple_request):
    import dataclasses

    store = deployment.container.town_store
    as_admin = staff.headers("town_admin", subject="sub-demoted")
    assert api.http.patch("/admin/town", headers=as_admin,
                          body=json.dumps({"name": "Maple Falls"})).status_code == 200
    member = store.get_staff("maplefalls.example", "sub-demoted")
    store.save_staff(dataclasses.replace(member, roles=("agent",)))

    deployment.clock[0] += CACHE_WINDOW
    # The old token claims a role the record no longer has: refused outright (sign in again).
    _refused_everywhere(api, deployment, maple_request, as_admin)
    # A fresh token (Cognito's groups follow the record) gets the agent's rights only.
    as_agent = staff.headers("agent", subject="sub-demoted", on_staff=False)
    assert api.http.get("/staff/requests", headers=as_agent).status_code == 200
    for method, template, payload, allowed in ROUTES:
        if "agent" not in allowed:
            r = _call(api, method, _path(template, maple_request), as_agent, payload)
            assert r.status_code in (403, 404), (method, template, r.status_code, r.body)


def test_a_worker_moved_off_a_department_loses_it_within_a_minute(api, staff, deployment,
                                                                 maple_request):
    import dataclasses

    store = deployment.container.town_store
    crew = staff.headers("department_worker", departments=("public_works",), subject="sub-mo")
    assert api.http.get(f"/staff/requests/{maple_request}", headers=crew).status_code == 200
    member = store.get_staff("maplefalls.example", "sub-mo")
    store.save_staff(dataclasses.replace(member, departments=("water",)))

    deployment.clock[0] += CACHE_WINDOW
    _refused_everywhere(api, deployment, maple_request, crew)
    water = staff.headers("department_worker", departments=("water",), subject="sub-mo",
                          on_staff=False)
    assert api.http.get(f"/staff/requests/{maple_request}", headers=water).status_code == 403


@pytest.mark.parametrize(("roles", "town"), [
    (("operator",), "maplefalls.example"),  # an operator token that claims a town
    (("operator", "town_admin"), "maplefalls.example"),
    (("town_admin",), None),  # a town role without a town
    (("operator", "town_admin"), None),
    (TOWN_ROLES, None),
], ids=["operator-with-town", "operator-and-admin-with-town", "admin-without-town",
        "operator-and-admin-without-town", "every-town-role-without-town"])
def test_identities_that_cannot_exist_are_refused_everywhere(api, staff, deployment,
                                                             maple_request, roles, town):
    # Even with a staff record that says the same (a hand-made entry, a bad import).
    headers = staff.headers(*roles, town=town)
    _refused_everywhere(api, deployment, maple_request, headers)


# Open311 calls that need an API key: (resource, form fields, the scope it needs).
# ``{rid}`` is a Maple Falls request routed to public_works.
KEY_ROUTES = [
    ("requests", POTHOLE, "submit"),
    ("servicerequestupdates", {"service_request_id": "{rid}", "update_id": "matrix",
                               "status": "FIXED", "description": "Hijacked",
                               "updated_datetime": "2026-11-20T10:00:00-06:00"}, "updates"),
]
# Maple Falls' keys by what they may do; Riverton's key may do nothing in Maple Falls.
KEYS = [(DEMO_KEY, {"submit"}), (UPDATES_KEY, {"updates"}), (OTHER_KEY, set())]


def _key_call(api, resource: str, fields: dict, key: str, rid: str, fmt: str):
    from urllib.parse import urlencode

    form = {name: value.replace("{rid}", rid) for name, value in fields.items()}
    return api.http.post(f"{TOWN}/{resource}.{fmt}", headers=FORM,
                         body=urlencode({**form, "api_key": key}))


def test_the_key_matrix_covers_every_resource_that_takes_a_post(api, deployment,
                                                                maple_request):
    from chalicelib.domain.towns import API_KEY_SCOPES, ApiKey

    everything = "t311_test_every_scope_key_000000"
    deployment.container.towns.add_api_key(ApiKey(
        town_id="maplefalls.example", key_id="everything", name="Everything",
        scopes=frozenset(API_KEY_SCOPES)), everything)
    assert {scope for _, _, scope in KEY_ROUTES} == set(API_KEY_SCOPES)
    for resource, fields, _ in KEY_ROUTES:
        r = _key_call(api, resource, fields, everything, maple_request, "json")
        assert r.status_code in (200, 201), (resource, r.body)
    for resource in ("services", "discovery", "tokens", "nothing"):
        r = _key_call(api, resource, {}, everything, maple_request, "json")
        assert r.status_code == 404, (resource, r.body)


@pytest.mark.parametrize(("key", "scopes"), KEYS, ids=["submit", "updates", "riverton"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_each_key_is_refused_what_its_scopes_do_not_allow_and_nothing_changes(
        api, deployment, maple_request, key, scopes, fmt):
    before = _fingerprint(deployment)
    refused = [(resource, fields) for resource, fields, scope in KEY_ROUTES
               if scope not in scopes]
    assert refused
    for resource, fields in refused:
        r = _key_call(api, resource, fields, key, maple_request, fmt)
        assert r.status_code == 403, (resource, r.body)
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        if fmt == "json":
            assert [e["code"] for e in json.loads(text)] == [403]
        else:
            assert "<errors><error><code>403</code>" in text
        _no_leak(r, maple_request)
    assert _fingerprint(deployment) == before
