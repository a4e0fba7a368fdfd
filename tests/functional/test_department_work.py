"""A department works its requests, and residents see it through Open311."""

from __future__ import annotations

import json

import pytest

from tests.functional.helpers import POTHOLE, TOWN, body, post_request
from tests.functional.test_routing import _pump_router

INBOX = "/departments/public_works/requests"


@pytest.fixture
def routed(api, deployment):
    (receipt,) = body(post_request(api, POTHOLE))
    assert _pump_router(deployment) == {"batchItemFailures": []}
    return receipt["service_request_id"]


def _do(api, headers, path, payload=None, status=200):
    r = api.http.post(path, headers=headers,
                      body=json.dumps(payload).encode() if payload is not None else b"")
    assert r.status_code == status, r.body
    return json.loads(r.body)


def test_a_department_works_a_request_to_closed(api, staff, routed):
    crew = staff.headers("department_worker", departments=("public_works",))
    inbox = json.loads(api.http.get(INBOX, headers=crew).body)
    assert [r["service_request_id"] for r in inbox["requests"]] == [routed]
    assert inbox["requests"][0]["lifecycle"] == "routed"

    assert _do(api, crew, f"{INBOX}/{routed}/acknowledge")["lifecycle"] == "acknowledged"
    assert _do(api, crew, f"{INBOX}/{routed}/accept", {"note": "Crew 4 on site"}
               )["lifecycle"] == "in_progress"
    _do(api, crew, f"{INBOX}/{routed}/notes", {"text": "needs cold patch"})
    _do(api, crew, f"{INBOX}/{routed}/notes", {"text": "Patched tonight", "public": True})
    closed = _do(api, crew, f"{INBOX}/{routed}/close",
                 {"resolution": "fixed", "note": "Filled with hot asphalt"})
    assert (closed["lifecycle"], closed["resolution"], closed["status"]) == (
        "closed", "fixed", "closed")

    (public,) = body(api.http.get(f"{TOWN}/requests/{routed}.json?extensions=true"))
    assert public["status"] == "closed"
    assert public["status_notes"] == "Filled with hot asphalt"
    assert public["agency_responsible"] == "Public Works — Streets"
    assert [n["type"] for n in public["notes"]] == [
        "submitted", "routed", "acknowledged", "in_progress", "note", "closed"]
    assert "needs cold patch" not in json.dumps(public)  # internal stays internal
    assert all(n["summary"] for n in public["notes"])
    assert json.loads(api.http.get(INBOX, headers=crew).body)["requests"] == []

    reopened = _do(api, crew, f"{INBOX}/{routed}/reopen", {"note": "Sinking again"})
    assert (reopened["lifecycle"], reopened["status"]) == ("reopened", "open")


def test_illegal_steps_are_a_clear_409(api, staff, routed):
    crew = staff.headers("department_worker", departments=("public_works",))
    r = api.http.post(f"{INBOX}/{routed}/reopen", headers=crew, body=b"")
    assert r.status_code == 409
    assert "cannot be reopened" in json.loads(r.body)["error"]["message"]
    _do(api, crew, f"{INBOX}/{routed}/close", {"resolution": "duplicate"})
    assert api.http.post(f"{INBOX}/{routed}/accept", headers=crew, body=b"").status_code == 409
    bad = api.http.post(f"{INBOX}/{routed}/close", headers=crew,
                        body=json.dumps({"resolution": "bored"}).encode())
    assert bad.status_code in (400, 409)


def test_declining_sends_it_back_to_triage_with_the_reason(api, staff, routed):
    crew = staff.headers("department_worker", departments=("public_works",))
    declined = _do(api, crew, f"{INBOX}/{routed}/decline", {"reason": "On a state highway"})
    assert declined["department"] == "triage"
    assert declined["agency_responsible"] == "311 Service Desk"
    assert declined["timeline"][-1]["description"] == "On a state highway"
    assert api.http.post(f"{INBOX}/{routed}/accept", headers=crew, body=b"").status_code == 404
    desk = staff.headers("supervisor")
    inbox = json.loads(api.http.get("/departments/triage/requests", headers=desk).body)
    assert [r["service_request_id"] for r in inbox["requests"]] == [routed]


def test_a_hand_off_keeps_the_number_and_reaches_the_other_department(api, staff, routed):
    crew = staff.headers("department_worker", departments=("public_works",))
    moved = _do(api, crew, f"{INBOX}/{routed}/hand-off",
                {"department": "water", "reason": "Water main break under the hole"})
    assert moved["service_request_id"] == routed and moved["department"] == "water"
    water = staff.headers("department_worker", departments=("water",))
    inbox = json.loads(api.http.get("/departments/water/requests", headers=water).body)
    assert [r["service_request_id"] for r in inbox["requests"]] == [routed]
    assert api.http.get("/departments/water/requests", headers=crew).status_code == 403
    (public,) = body(api.http.get(f"{TOWN}/requests/{routed}.json?extensions=true"))
    assert public["agency_responsible"] == "Water & Sewer"
    assert public["notes"][-1]["type"] == "handed_off"


def test_two_departments_acting_at_once_lose_nothing(api, staff, routed, deployment):
    import chalicelib.bootstrap as bootstrap
    from chalicelib.services import work

    c = bootstrap.container()
    store = c.requests
    original_get = store.get
    raced = []

    def get_then_someone_else_writes(town_id, request_id, *, with_timeline):  # noqa: ANN001, ANN202
        found = original_get(town_id, request_id, with_timeline=with_timeline)
        if not raced:  # between our read and our write, the supervisor adds a note
            raced.append(True)
            supervisor = c.tokens.verify(staff.token("supervisor"))
            work.act(c.routing_ports, supervisor, "public_works", request_id,
                     work.Action("note", note="Supervisor: priority", public=False))
        return found

    store.get = get_then_someone_else_writes
    try:
        crew = staff.headers("department_worker", departments=("public_works",))
        _do(api, crew, f"{INBOX}/{routed}/acknowledge")
    finally:
        store.get = original_get
    request = store.get("maplefalls.example", routed, with_timeline=True)
    kinds = [e.kind for e in request.timeline]
    assert kinds.count("note") == 1 and kinds.count("acknowledged") == 1
    assert request.lifecycle == "acknowledged"


def test_only_the_departments_own_people_and_supervisors_work_it(api, staff, routed):
    for headers in (staff.headers("department_worker", departments=("water",)),
                    staff.headers("analyst"), staff.headers("agent"),
                    staff.headers("town_admin", town="riverton.example")):
        r = api.http.post(f"{INBOX}/{routed}/acknowledge", headers=headers, body=b"")
        assert r.status_code in (403, 404), r.body
    assert api.http.post(f"{INBOX}/{routed}/acknowledge", headers=staff.headers("supervisor"),
                         body=b"").status_code == 200
