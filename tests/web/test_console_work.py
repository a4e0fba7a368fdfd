"""The console's work screens: a department's inbox, the town-wide list, one request's
page and every department action taken from it, through the same services as the API."""

from __future__ import annotations

import json

import pytest

from tests.functional.helpers import POTHOLE, body, post_request
from tests.functional.test_routing import _pump_router
from tests.web.pages import FORM, html, text

TOWN = "maplefalls.example"
TRASH = {**{k: v for k, v in POTHOLE.items() if not k.startswith("attribute")},
         "service_code": "missed_trash", "description": "Bins left full on Elm St",
         "attribute[cart_type]": "trash"}


def _file(api, deployment, fields: dict[str, str]) -> str:  # noqa: ANN001
    (receipt,) = body(post_request(api, fields))
    assert _pump_router(deployment) == {"batchItemFailures": []}
    return receipt["service_request_id"]


@pytest.fixture
def pothole(api, deployment) -> str:  # noqa: ANN001
    return _file(api, deployment, POTHOLE)


class Session:
    """A browser signed in to the console: the staff cookie and its CSRF token."""

    def __init__(self, api, token: str) -> None:  # noqa: ANN001
        self.api = api
        self.csrf = "c" * 43
        self.cookie = f"t311_csrf={self.csrf}; t311_staff={token}"

    def get(self, path: str, **headers: str):  # noqa: ANN201
        return self.api.http.get(path, headers={"Cookie": self.cookie, **headers})

    def post(self, path: str, fields: dict[str, str], *, token: str | None = None):  # noqa: ANN201
        from urllib.parse import urlencode

        sent = {"csrf_token": self.csrf if token is None else token, **fields}
        return self.api.http.post(path, body=urlencode(sent),
                                  headers={**FORM, "Cookie": self.cookie})


@pytest.fixture
def crew(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("department_worker", departments=("public_works",)))


def _stored(api, staff, request_id: str) -> dict:  # noqa: ANN001
    found = api.http.get(f"/staff/requests/{request_id}", headers=staff.headers("supervisor"))
    assert found.status_code == 200, found.body
    return json.loads(found.body)


def test_the_inbox_shows_only_my_departments_requests_oldest_first(api, deployment, crew,
                                                                  pothole) -> None:
    trash = _file(api, deployment, TRASH)
    deployment.clock[0] = deployment.clock[0].replace(hour=16)
    second = _file(api, deployment, POTHOLE)
    page = crew.get("/console/inbox")
    assert page.status_code == 200
    shown = html(page)
    assert pothole in shown and second in shown
    assert trash not in shown
    assert shown.index(pothole) < shown.index(second)
    assert "Public Works — Streets" in text(page)
    assert "2 open" in text(page) and "2 With the department" in text(page)


def test_the_menu_offers_each_screen_by_permission(api, staff, crew) -> None:
    assert "My inbox" in text(crew.get("/console"))
    reader = Session(api, staff.token("analyst"))
    home = text(reader.get("/console"))
    assert "All requests" in home and "My inbox" not in home


def test_a_stranger_is_sent_to_sign_in_and_back(api, pothole) -> None:
    first = api.http.get(f"/console/requests/{pothole}")
    assert first.status_code == 303
    assert first.headers["Location"] == f"/console/sign-in?next=%2Fconsole%2Frequests%2F{pothole}"


def test_another_departments_request_is_refused_without_showing_it(api, deployment, crew
                                                                   ) -> None:
    trash = _file(api, deployment, TRASH)
    page = crew.get(f"/console/requests/{trash}")
    assert page.status_code == 403
    shown = text(page)
    assert "not assigned to your department" in shown
    assert "Bins left full" not in shown and "missed" not in shown.lower()
    acted = crew.post(f"/console/requests/{trash}/act",
                      {"action": "close", "department": "sanitation", "resolution": "fixed"})
    assert acted.status_code == 403
    inbox = crew.get("/console/inbox?department=sanitation")
    assert inbox.status_code == 403 and "Bins left full" not in text(inbox)
    assert body(api.http.get(f"/towns/{TOWN}/open311/v2/requests/{trash}.json"))[0][
        "status"] == "open"


def test_the_request_page_shows_what_the_staff_document_has(api, deployment, staff, crew
                                                            ) -> None:
    request_id = _file(api, deployment, {**POTHOLE, "email": "ria@example.org",
                                         "first_name": "Ria",
                                         "description": "<script>alert(1)</script> hole"})
    page = crew.get(f"/console/requests/{request_id}")
    assert page.status_code == 200
    shown = text(page)
    assert "ria@example.org" in shown and "Ria" in shown
    assert "<script>alert(1)</script> hole" in shown  # as text
    assert "<script>alert(1)" not in html(page)
    assert "Neighbours following it 0" in shown
    assert "State: With the department" in shown
    stored = _stored(api, staff, request_id)
    assert stored["expected_datetime"]  # the pothole service has a service level
    assert "Overdue" not in shown
    for button in ("Acknowledge", "Start work", "Close the request", "Add the note",
                   "Hand off", "Decline"):
        assert f">{button}</button>" in html(page), button
    for refused in ("Put on hold", "Reopen"):
        assert f">{refused}</button>" not in html(page), refused


def test_a_request_past_its_due_time_is_flagged_overdue(api, deployment, staff, crew,
                                                        pothole) -> None:
    from datetime import datetime, timedelta

    due = datetime.fromisoformat(_stored(api, staff, pothole)["expected_datetime"])
    deployment.clock[0] = due + timedelta(hours=1)
    assert "Overdue" in text(crew.get(f"/console/requests/{pothole}"))
    assert "Overdue" in text(crew.get("/console/inbox"))


def test_a_reader_who_does_not_work_requests_gets_no_forms(api, staff, pothole) -> None:
    reader = Session(api, staff.token("analyst"))
    page = reader.get(f"/console/requests/{pothole}")
    assert page.status_code == 200
    assert "Work on it" not in text(page)
    refused = reader.post(f"/console/requests/{pothole}/act",
                          {"action": "acknowledge", "department": "public_works"})
    assert refused.status_code == 403


def _act(crew: Session, request_id: str, action: str, **fields: str) -> None:
    done = crew.post(f"/console/requests/{request_id}/act",
                     {"action": action, "department": "public_works", **fields})
    assert done.status_code == 303, text(done)


def test_each_action_changes_the_request_and_its_timeline(api, staff, crew, pothole) -> None:
    steps = [("acknowledge", {}, "acknowledged", "acknowledged"),
             ("accept", {"note": "Crew 4 on site"}, "in_progress", "in_progress"),
             ("hold", {"note": "Waiting for asphalt"}, "on_hold", "on_hold"),
             ("accept", {}, "in_progress", "in_progress"),
             ("note", {"text": "needs cold patch"}, "in_progress", "note"),
             ("note", {"text": "Patching tonight", "public": "yes"}, "in_progress", "note"),
             ("close", {"resolution": "fixed", "note": "Filled with hot asphalt"}, "closed",
              "closed"),
             ("reopen", {"note": "Sinking again"}, "reopened", "reopened")]
    for action, fields, state, kind in steps:
        _act(crew, pothole, action, **fields)
        stored = _stored(api, staff, pothole)
        assert stored["extended_attributes"]["state"] == state, action
        assert stored["timeline"][-1]["kind"] == kind, action
    timeline = _stored(api, staff, pothole)["timeline"]
    internal = [e for e in timeline if e["description"] == "needs cold patch"]
    assert internal and internal[0]["public"] is False
    assert [e["public"] for e in timeline if e["description"] == "Patching tonight"] == [True]
    assert any(e["description"] == "Filled with hot asphalt" for e in timeline)
    page = text(crew.get(f"/console/requests/{pothole}?done=reopen"))
    assert "needs cold patch" in page and "Internal" in page and "Done." in page


def test_closing_records_the_resolution_and_the_track_page_shows_it(api, staff, crew,
                                                                    pothole) -> None:
    _act(crew, pothole, "close", resolution="not_ours", note="State highway")
    stored = _stored(api, staff, pothole)
    assert (stored["status"], stored["status_notes"]) == ("closed", "State highway")
    public = body(api.http.get(f"/towns/{TOWN}/open311/v2/requests/{pothole}.json"))[0]
    assert public["status"] == "closed"


def test_handing_off_and_declining_move_the_request_out_of_my_inbox(api, deployment, staff,
                                                                   crew, pothole) -> None:
    moved = crew.post(f"/console/requests/{pothole}/act",
                      {"action": "hand_off", "department": "public_works",
                       "to": "utilities", "reason": "It is the streetlight's base"})
    assert moved.status_code == 303
    assert moved.headers["Location"] == "/console/inbox?done=hand_off"
    assert _stored(api, staff, pothole)["department"] == "utilities"
    assert pothole not in html(crew.get("/console/inbox"))
    assert crew.get(f"/console/requests/{pothole}").status_code == 403
    second = _file(api, deployment, POTHOLE)
    _act(crew, second, "decline", reason="On a state highway")
    assert _stored(api, staff, second)["department"] == "triage"
    desk = Session(api, staff.token("supervisor"))
    assert second in html(desk.get("/console/inbox?department=triage"))


def test_a_step_the_lifecycle_refuses_is_explained_and_nothing_changes(api, staff, crew,
                                                                       pothole) -> None:
    before = _stored(api, staff, pothole)
    refused = crew.post(f"/console/requests/{pothole}/act",
                        {"action": "reopen", "department": "public_works"})
    assert refused.status_code == 409
    assert "cannot be reopened" in text(refused)
    assert "State: With the department" in text(refused)
    bad = crew.post(f"/console/requests/{pothole}/act",
                    {"action": "close", "department": "public_works", "resolution": "bored"})
    assert bad.status_code == 400
    assert "resolution" in text(bad)
    empty = crew.post(f"/console/requests/{pothole}/act",
                      {"action": "decline", "department": "public_works", "reason": " "})
    assert empty.status_code == 400
    assert _stored(api, staff, pothole)["timeline"] == before["timeline"]


def test_a_form_without_its_csrf_token_is_refused(api, staff, crew, pothole) -> None:
    before = _stored(api, staff, pothole)
    refused = crew.post(f"/console/requests/{pothole}/act",
                        {"action": "acknowledge", "department": "public_works"}, token="")
    assert refused.status_code == 403
    forged = crew.post(f"/console/requests/{pothole}/act",
                       {"action": "acknowledge", "department": "public_works"},
                       token="x" * 43)
    assert forged.status_code == 403
    assert _stored(api, staff, pothole)["timeline"] == before["timeline"]


def test_the_list_filters_and_a_department_worker_sees_only_theirs(api, deployment, staff,
                                                                  crew, pothole) -> None:
    trash = _file(api, deployment, TRASH)
    mine = html(crew.get("/console/requests"))
    assert pothole in mine and trash not in mine
    desk = Session(api, staff.token("supervisor"))
    everything = html(desk.get("/console/requests"))
    assert pothole in everything and trash in everything
    only = html(desk.get("/console/requests?department=sanitation&status=open&q=Bins"))
    assert trash in only and pothole not in only
    assert html(desk.get("/console/requests?status=closed")).count(trash) == 0
    assert crew.get("/console/requests?department=sanitation").status_code == 403


def test_a_bad_date_in_the_filters_is_shown_next_to_the_field(api, staff) -> None:
    desk = Session(api, staff.token("supervisor"))
    page = desk.get("/console/requests?start_date=yesterday")
    assert page.status_code == 400
    assert "data-error-summary" in html(page)
    assert 'value="yesterday"' in html(page)


def test_the_screens_speak_spanish(api, crew, pothole) -> None:
    inbox = crew.get("/console/inbox?lang=es")
    assert "Mi bandeja de entrada" in text(inbox)
    page = crew.get(f"/console/requests/{pothole}", Cookie=crew.cookie + "; t311_lang=es")
    assert "Acusar recibo" in text(page) and "Cronología" in text(page)
    listed = crew.get("/console/requests?lang=es")
    assert "Todas las solicitudes" in text(listed)


def test_a_photo_is_hidden_from_the_public_and_shown_again(api, deployment, staff, crew,
                                                           pothole) -> None:
    from tests.functional.test_photos import _jpeg_with_gps, _process, _upload

    key = f"incoming/{TOWN}/{pothole}/first"
    _upload(deployment, key, _jpeg_with_gps())
    _process(deployment, [key])
    page = html(crew.get(f"/console/requests/{pothole}"))
    assert f"/photos/{TOWN}/{pothole}/first-thumb.jpg" in page
    hidden = crew.post(f"/console/requests/{pothole}/photos/first", {"hidden": "yes"})
    assert hidden.status_code == 303
    assert [p["hidden"] for p in _stored(api, staff, pothole)["photos"]] == [True]
    assert api.http.get(f"/photos/{TOWN}/{pothole}/first.jpg").status_code == 404
    assert "Hidden from the public" in text(crew.get(f"/console/requests/{pothole}"))
    crew.post(f"/console/requests/{pothole}/photos/first", {"hidden": "no"})
    assert [p["hidden"] for p in _stored(api, staff, pothole)["photos"]] == [False]
    reader = Session(api, staff.token("analyst"))
    assert reader.post(f"/console/requests/{pothole}/photos/first",
                       {"hidden": "yes"}).status_code == 403
