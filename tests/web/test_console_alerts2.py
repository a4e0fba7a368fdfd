"""The emergency desk, part two: asking for approval as its own step, zones and a drawn
area (pasted as GeoJSON without JavaScript), test alerts marked TEST and the staff test
list, and subscriber counts per zone."""

from __future__ import annotations

import json

from tests.functional.test_emergency_alerts import town  # noqa: F401 - a fixture
from tests.functional.test_tracking_and_notices import notices
from tests.web.pages import html, text
from tests.web.test_console_alerts import TOWN, _alert_id, _fields, desks  # noqa: F401

# Inside ward-3 (the fixture's zone, -87.70..-87.60 × 41.80..41.90), its west half.
AREA = {"type": "Polygon", "coordinates": [[[-87.70, 41.80], [-87.65, 41.80],
                                             [-87.65, 41.90], [-87.70, 41.90],
                                             [-87.70, 41.80]]]}


def test_a_draft_reaches_the_queue_only_when_someone_asks(  # noqa: F811
        api, deployment, desks, town) -> None:  # noqa: F811
    emery, sam = desks("emergency_manager", "emery"), desks("town_admin", "sam")
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                         .headers["Location"])
    assert "No alert is waiting for approval." in text(sam.get("/console/alerts/approvals"))
    waiting = text(sam.get(f"/console/alerts/{alert_id}"))
    assert "nobody has asked for its approval" in waiting and "Approve and send" not in waiting
    mine = text(emery.get(f"/console/alerts/{alert_id}"))
    assert "This draft is not in the approvals queue yet" in mine
    assert "Draft (1)" in text(emery.get("/console/alerts"))
    asked = emery.post(f"/console/alerts/{alert_id}/request-approval", {})
    assert asked.status_code == 303
    queue = text(sam.get("/console/alerts/approvals"))
    assert "Boil water order" in queue and f"Approval asked by emery@{TOWN}" in queue
    assert "Awaiting approval (1)" in text(emery.get("/console/alerts"))
    entries = deployment.container.audit.page(TOWN, None, 10)
    (entry,) = [e for e in entries if e.action == "alert.approval_requested"]
    assert (entry.actor, entry.target) == (f"emery@{TOWN}", alert_id)
    # Asking twice is a conflict page; nothing changes.
    again = emery.post(f"/console/alerts/{alert_id}/request-approval", {})
    assert again.status_code == 409
    assert sam.post(f"/console/alerts/{alert_id}/approve", {}).status_code == 303
    assert deployment.container.alert_store.get(TOWN, alert_id).status == "sending"


def test_asking_for_approval_needs_the_csrf_token_and_the_right_to_compose(
        api, deployment, desks, town) -> None:  # noqa: F811
    emery, sam = desks("emergency_manager", "emery"), desks("town_admin", "sam")
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                         .headers["Location"])
    assert emery.post(f"/console/alerts/{alert_id}/request-approval", {},
                      token="x" * 43).status_code == 403
    sam.get("/console/alerts")
    assert sam.post(f"/console/alerts/{alert_id}/request-approval", {}).status_code == 403
    assert deployment.container.alert_store.get(TOWN, alert_id).status == "draft"


def test_the_json_api_asks_for_approval_too(api, deployment, staff, town) -> None:  # noqa: F811
    from tests.functional.test_emergency_alerts import _alert, _post

    made = json.loads(_post(api, "/staff/alerts", _alert(deployment),
                            staff.headers("emergency_manager")).body)
    asked = _post(api, f"/staff/alerts/{made['alert_id']}/request-approval", {},
                  staff.headers("emergency_manager"))
    assert asked.status_code == 200, asked.body
    document = json.loads(asked.body)
    assert document["status"] == "awaiting_approval"
    assert document["approval_requested_by"]
    assert _post(api, f"/staff/alerts/{made['alert_id']}/request-approval", {},
                 staff.headers("emergency_manager")).status_code == 409


def test_a_drawn_area_is_stored_and_shown_and_a_bad_one_is_said_clearly(
        api, deployment, desks, town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    form = emery.get("/console/alerts/new")
    page = html(form)
    # The map's data in a JSON block (no inline script), the text box without JavaScript.
    assert '<script type="application/json" id="alert-compose-shapes">' in page
    assert 'id="area"' in page and "Draw an area" in text(form)
    assert 'id="alert-map-tools" hidden' in page  # shown by the script only
    bad = emery.post("/console/alerts/new", _fields(deployment, **{
        "zone_ward-3": "", "area": '{"type": "Polygon", "coordinates": [[[-87.7, 41.8]]]}'}))
    assert bad.status_code == 400
    assert "The area must be a GeoJSON polygon" in text(bad)
    assert "-87.7, 41.8" in text(bad)  # what was pasted is kept
    garbled = emery.post("/console/alerts/new", _fields(deployment, area="not json {"))
    assert garbled.status_code == 400 and "The area must be a GeoJSON polygon" in text(garbled)
    assert deployment.container.alert_store.list(TOWN) == []
    made = emery.post("/console/alerts/new", _fields(deployment, **{
        "zone_ward-3": "", "area": json.dumps(AREA)}))
    assert made.status_code == 303, made.body
    alert_id = _alert_id(made.headers["Location"])
    stored = deployment.container.alert_store.get(TOWN, alert_id)
    assert stored.area == AREA and stored.zones == ("ward-3",)
    preview = emery.get(made.headers["Location"])
    shown = text(preview)
    assert "only homes inside the drawn area" in shown and "A polygon of 4 points" in shown
    assert '<script type="application/json" id="alert-area-shapes">' in html(preview)


def test_a_test_alert_is_marked_and_goes_only_to_the_test_list(  # noqa: F811
        api, deployment, desks, town) -> None:  # noqa: F811
    emery, sam = desks("emergency_manager", "emery"), desks("town_admin", "sam")
    assert "The test list is empty" in text(emery.get("/console/alerts/new"))
    # The town admin fills the list in on the desk; an emergency manager cannot.
    assert "Change the staff test list" not in text(emery.get("/console/alerts"))
    assert emery.post("/console/alerts/test-list",
                      {"test_list": "qa@maplefalls.example"}).status_code == 403
    bad = sam.post("/console/alerts/test-list", {"test_list": "not a number"})
    assert bad.status_code == 400 and "each a phone number or an e-mail address" in text(bad)
    saved = sam.post("/console/alerts/test-list",
                     {"test_list": "qa@maplefalls.example\n(312) 555-0142\n"})
    assert saved.status_code == 303
    desk = text(sam.get(saved.headers["Location"]))
    assert "The staff test list is saved." in desk and "+13125550142" in desk
    form = text(emery.get("/console/alerts/new"))
    assert "Send as a test (only to the town's test list)" in form
    assert "qa@maplefalls.example, +13125550142" in form
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment, test="1"))
                         .headers["Location"])
    assert deployment.container.alert_store.get(TOWN, alert_id).test
    for path in (f"/console/alerts/{alert_id}/preview", f"/console/alerts/{alert_id}"):
        assert "TEST: " in text(emery.get(path)) and "alert-test-banner" in html(
            emery.get(path)), path
    emery.post(f"/console/alerts/{alert_id}/request-approval", {})
    assert "alert-test-tag" in html(sam.get("/console/alerts/approvals"))
    assert "alert-test-tag" in html(sam.get("/console/alerts"))
    before = len(deployment.container.outbox.sent)
    assert sam.post(f"/console/alerts/{alert_id}/approve", {}).status_code == 303
    notices(deployment)
    sent = deployment.container.outbox.sent[before:]
    assert sorted(m["phone"] or m["email"] for m in sent) == [
        "+13125550142", "qa@maplefalls.example"]
    assert all(m["text"].startswith("TEST") for m in sent)


def test_subscriber_counts_per_zone_on_the_desk_and_the_compose_form(
        api, deployment, desks, town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    shown = text(emery.get("/console/alerts"))
    assert "Subscribers per zone" in shown
    # Zone, people, by text, by e-mail: ana (phone and e-mail) and ben in ward-3, a phone
    # in ward-9.
    for row in ("The whole town 3 2 2", "ward-3 2 1 2", "ward-9 1 1 0"):
        assert row in shown, row
    form = text(emery.get("/console/alerts/new"))
    assert "2 subscribers · 1 by text, 2 by e-mail" in form
    assert "1 subscriber · 1 by text, 0 by e-mail" in form
    assert "whole town (3 confirmed subscribers)" in form
    # A STOP from the phone in ward-9 moves the count.
    from chalicelib.services import subscribers

    subscribers.stop_by_phone(deployment.container.subscribers, "+13125550199")
    assert "ward-9 0 0 0" in text(emery.get("/console/alerts"))


def test_the_new_desk_words_in_spanish(api, deployment, desks, town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    cookie = {"Cookie": f"t311_staff={emery.token}; t311_lang=es"}
    form = text(emery.api.http.get("/console/alerts/new", headers=cookie))
    assert "Dibujar un área" in form and "Enviar como prueba" in form
    desk = text(emery.api.http.get("/console/alerts", headers=cookie))
    assert "Suscriptores por zona" in desk
