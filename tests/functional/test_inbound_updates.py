"""A work-order system posts status changes FixMyStreet-style, once, and can fetch them."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.conftest import DEMO_KEY, OTHER_KEY, UPDATES_KEY
from tests.functional.helpers import (
    FORM,
    POTHOLE,
    TOWN,
    body,
    error_descriptions,
    post_request,
    xml,
)
from tests.functional.test_routing import _pump_router


@pytest.fixture
def routed(api, deployment):
    (receipt,) = body(post_request(api, POTHOLE))
    _pump_router(deployment)
    return receipt["service_request_id"]


def _update(api, rid, update_id, status, description=None, key=UPDATES_KEY, fmt="json"):
    fields = {"api_key": key, "service_request_id": rid, "update_id": update_id,
              "status": status, "updated_datetime": "2026-11-20T10:00:00-06:00"}
    if description:
        fields["description"] = description
    return api.http.post(f"{TOWN}/servicerequestupdates.{fmt}", body=urlencode(fields),
                         headers=FORM)


def _public(api, rid):
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    return request


def test_a_work_order_system_moves_the_request_to_fixed(api, routed):
    r = _update(api, routed, "wo-1", "IN_PROGRESS", "Crew dispatched")
    assert r.status_code == 200 and body(r) == [{"update_id": "wo-1"}]
    r = _update(api, routed, "wo-2", "FIXED", "Patched", fmt="xml")
    assert xml(r).find("request_update/update_id").text == "wo-2"
    request = _public(api, routed)
    assert (request["status"], request["status_notes"]) == ("closed", "Patched")
    assert [n["type"] for n in request["notes"]][-2:] == ["in_progress", "closed"]
    assert request["notes"][-1]["description"] == "Patched"


def test_the_same_update_twice_changes_nothing(api, routed):
    _update(api, routed, "wo-9", "IN_PROGRESS", "Crew dispatched")
    again = _update(api, routed, "wo-9", "IN_PROGRESS", "Crew dispatched")
    assert body(again) == [{"update_id": "wo-9"}]
    notes = [n["type"] for n in _public(api, routed)["notes"]]
    assert notes.count("in_progress") == 1


def test_a_status_it_already_has_only_adds_the_note(api, routed):
    _update(api, routed, "a", "ACTION_SCHEDULED")
    _update(api, routed, "b", "INVESTIGATING", "Waiting for parts")
    request = _public(api, routed)
    assert request["notes"][-1]["type"] == "note"
    assert request["notes"][-1]["description"] == "Waiting for parts"


def test_bad_updates_get_open311_errors(api, routed):
    assert _update(api, routed, "x", "EXPLODED").status_code == 400
    assert _update(api, "01NOSUCHREQUEST0000000000", "x", "FIXED").status_code == 404
    assert _update(api, routed, "x", "FIXED", key=OTHER_KEY).status_code == 403
    assert _update(api, routed, "x", "FIXED", key="nope").status_code == 403
    assert _update(api, routed, "x", "FIXED", key=DEMO_KEY).status_code == 403  # submit only
    r = api.http.post(f"{TOWN}/servicerequestupdates.json",
                      body=urlencode({"api_key": UPDATES_KEY}), headers=FORM)
    assert r.status_code == 400 and len(error_descriptions(r)) >= 3
    _update(api, routed, "c1", "FIXED")
    r = _update(api, routed, "c2", "IN_PROGRESS")  # a closed request cannot be worked on
    assert r.status_code == 409


def test_reopening_through_an_update(api, routed):
    _update(api, routed, "c1", "CLOSED")
    _update(api, routed, "o1", "OPEN", "Resident says it is back")
    assert _public(api, routed)["status"] == "open"


def test_updates_can_be_fetched_for_a_window(api, routed, deployment):
    _update(api, routed, "wo-1", "FIXED", "Patched")
    found = body(api.http.get(f"{TOWN}/servicerequestupdates.json"))
    assert [u["service_request_id"] for u in found] == [routed] * len(found)
    assert {u["status"] for u in found} == {"open", "closed"}
    assert set(found[0]) == {"update_id", "service_request_id", "status", "updated_datetime",
                             "description", "media_url"}
    root = xml(api.http.get(f"{TOWN}/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    assert root.find("request_update/service_request_id").text == routed
