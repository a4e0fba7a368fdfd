"""The emergency manager's desk in the staff console: compose in every town language,
preview whom it reaches, a second person approves, the fan-out goes through the notice
queue, and the progress is the stored alert's."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from tests.functional.test_emergency_alerts import town  # noqa: F401 - a fixture
from tests.functional.test_tracking_and_notices import notices
from tests.web.pages import FORM, csrf, html, text

TOWN = "maplefalls.example"


class Desk:
    """A browser signed in to the console as one person (the session cookie holds their
    token, as after the development sign-in)."""

    def __init__(self, api, token: str) -> None:  # noqa: ANN001
        self.api = api
        self.token = token
        self.csrf = ""

    def cookie(self, csrf_token: str | None = None) -> dict[str, str]:
        jar = f"t311_staff={self.token}"
        if csrf_token if csrf_token is not None else self.csrf:
            jar += f"; t311_csrf={csrf_token if csrf_token is not None else self.csrf}"
        return {"Cookie": jar}

    def get(self, path: str, **headers: str):  # noqa: ANN201
        page = self.api.http.get(path, headers={**self.cookie(), **headers})
        if page.status_code == 200 and 'name="csrf_token"' in html(page):
            self.csrf = self.csrf or csrf(page)
        return page

    def post(self, path: str, fields: dict[str, str], *, token: str | None = None):  # noqa: ANN201
        if not self.csrf:
            self.get("/console")
        sent = self.csrf if token is None else token
        return self.api.http.post(path, body=urlencode({"csrf_token": sent, **fields}),
                                  headers={**FORM, **self.cookie()})


@pytest.fixture
def desks(api, staff):  # noqa: ANN001, ANN201
    def sign_in(role: str, who: str, **kwargs: object) -> Desk:
        return Desk(api, staff.token(role, subject=who, email=f"{who}@{TOWN}", **kwargs))

    return sign_in


def _fields(deployment, **overrides: str) -> dict[str, str]:  # noqa: ANN001
    ends = (deployment.clock[0] + timedelta(days=2)).astimezone(ZoneInfo("America/Chicago"))
    return {"fallback_language": "en", "title_en": "Boil water order",
            "body_en": "Boil tap water for one minute before drinking.",
            "title_es": "Hervir el agua",
            "body_es": "Hierva el agua del grifo un minuto antes de beberla.",
            "severity": "severe", "category": "water",
            "expires_at": ends.strftime("%Y-%m-%dT%H:%M"), "zone_ward-3": "1", **overrides}


def _alert_id(location: str) -> str:
    found = re.fullmatch(r"/console/alerts/([^/]+)/preview", location)
    assert found, location
    return found.group(1)


def test_compose_preview_second_person_approves_and_it_is_sent(api, deployment, desks,
                                                              town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    form = emery.get("/console/alerts/new")
    assert form.status_code == 200
    shown = text(form)
    # Every town language, the fallback marked; the town's zones to tick.
    assert "In English · fallback" in shown and "In Spanish" in shown
    assert 'name="zone_ward-3"' in html(form) and 'name="zone_ward-9"' in html(form)
    made = emery.post("/console/alerts/new", _fields(deployment))
    assert made.status_code == 303, made.body
    alert_id = _alert_id(made.headers["Location"])
    preview = text(emery.get(made.headers["Location"]))
    # The preview service's numbers: 2 people in ward-3, 1 SMS and 2 e-mails.
    assert "2 people would get this alert" in preview
    assert "Text message Spanish 1" in preview and "E-mail English 1" in preview
    assert re.search(r"Text message segments: \d+\. Estimated cost of the texts: US\$0\.\d\d",
                     preview)
    assert "Ask for approval" in preview
    put_forward = emery.post(f"/console/alerts/{alert_id}/request-approval", {})
    assert put_forward.status_code == 303
    assert put_forward.headers["Location"] == f"/console/alerts/{alert_id}?asked=1"
    asked = text(emery.get(put_forward.headers["Location"]))
    assert "Waiting for approval" in asked and "Awaiting approval" in asked
    # The author cannot approve; nothing is sent.
    before = len(deployment.container.outbox.sent)
    refused = emery.post(f"/console/alerts/{alert_id}/approve", {})
    assert refused.status_code == 403
    assert "a second person must approve" in text(refused)
    assert deployment.container.alert_store.get(TOWN, alert_id).status == "awaiting_approval"
    # The town admin (APPROVE_ALERTS, not SEND_ALERTS) finds it in the queue and approves.
    sam = desks("town_admin", "sam")
    queue = text(sam.get("/console/alerts/approvals"))
    assert "Boil water order" in queue and f"emery@{TOWN}" in queue
    page = sam.get(f"/console/alerts/{alert_id}")
    assert "Hierva el agua del grifo" in text(page) and "Approve and send" in text(page)
    approved = sam.post(f"/console/alerts/{alert_id}/approve", {})
    assert approved.status_code == 303
    assert approved.headers["Location"] == f"/console/alerts/{alert_id}"
    sending = sam.get(approved.headers["Location"])
    assert "State: Sending" in text(sending) and "Refresh" in text(sending)
    assert re.search(r"console_alerts\.[0-9a-f]+\.js", html(sending))  # re-fetches progress
    notices(deployment)  # the fan-out, then the batches
    sent = deployment.container.outbox.sent[before:]
    assert sorted(m["phone"] or m["email"] for m in sent) == [
        "+13125550101", "ana@example.org", "ben@example.org"]
    done = emery.get(f"/console/alerts/{alert_id}")
    shown = text(done)
    assert "State: Sent" in shown and "Messages settled: 3 of 3" in shown
    assert "Text messages sent 1" in shown and "E-mails sent 2" in shown
    assert re.search(r'<progress id="progress-[^"]+" max="3" value="3"', html(done))
    # The script stays (it draws the map) but polls only a region marked live.
    assert "data-alert-progress" in html(done) and "data-live" not in html(done)
    listed = text(emery.get("/console/alerts"))
    assert "Sent (1)" in listed and "Awaiting approval (0)" in listed


def test_the_menu_shows_the_desk_to_whoever_composes_or_approves(api, desks) -> None:
    for role, shown in (("emergency_manager", True), ("town_admin", True),
                        ("department_worker", False), ("analyst", False)):
        home = desks(role, f"someone-{role}").get("/console")
        assert ('href="/console/alerts"' in html(home)) is shown, role


def test_a_department_worker_is_refused_and_nothing_is_stored(api, deployment, desks,
                                                            town) -> None:  # noqa: F811
    worker = desks("department_worker", "dana", departments=("public_works",))
    for path in ("/console/alerts", "/console/alerts/new", "/console/alerts/approvals"):
        page = worker.get(path)
        assert page.status_code == 403, path
    refused = worker.post("/console/alerts/new", _fields(deployment))
    assert refused.status_code == 403
    assert deployment.container.alert_store.list(TOWN) == []


def test_an_emergency_manager_cannot_approve_alone_but_a_colleague_can(
        api, deployment, desks, town) -> None:  # noqa: F811
    emery, sam = desks("emergency_manager", "emery"), desks("emergency_manager", "sam")
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                         .headers["Location"])
    emery.post(f"/console/alerts/{alert_id}/request-approval", {})
    assert "Approve and send" in text(emery.get(f"/console/alerts/{alert_id}"))
    assert emery.post(f"/console/alerts/{alert_id}/approve", {}).status_code == 403
    assert sam.post(f"/console/alerts/{alert_id}/approve", {}).status_code == 303


def test_forms_without_the_csrf_token_are_refused(api, deployment, desks,
                                                 town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    emery.get("/console/alerts/new")
    refused = emery.post("/console/alerts/new", _fields(deployment), token="x" * 43)
    assert refused.status_code == 403
    assert deployment.container.alert_store.list(TOWN) == []
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                         .headers["Location"])
    sam = desks("town_admin", "sam")
    sam.get("/console/alerts/approvals")
    assert sam.post(f"/console/alerts/{alert_id}/approve", {}, token="").status_code == 403
    assert deployment.container.alert_store.get(TOWN, alert_id).status == "draft"


def test_bad_input_is_said_next_to_each_field(api, deployment, desks,
                                             town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    past = (deployment.clock[0] - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = emery.post("/console/alerts/new", _fields(
        deployment, title_en="", severity="apocalyptic", expires_at=past))
    assert page.status_code == 400
    shown = text(page)
    assert "There is a problem" in shown
    assert "Enter a title in the fallback language" in shown
    assert "Choose how severe it is" in shown
    assert 'data-error-summary' in html(page)
    assert "Hierva el agua del grifo" in shown  # what was typed is kept
    assert deployment.container.alert_store.list(TOWN) == []
    # An expiry in the past is the service's refusal, said the same way.
    page = emery.post("/console/alerts/new", _fields(deployment, expires_at=past))
    assert page.status_code == 400 and "a date and time in the future" in text(page)
    page = emery.post("/console/alerts/new", _fields(deployment, expires_at="soon"))
    assert page.status_code == 400 and "a date and time in the future" in text(page)
    assert deployment.container.alert_store.list(TOWN) == []


def test_script_in_the_title_is_shown_as_text(api, deployment, desks,
                                             town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    made = emery.post("/console/alerts/new", _fields(
        deployment, title_en="<script>alert(1)</script> Flood"))
    assert made.status_code == 303  # kept as typed: it is text, escaped wherever shown
    alert_id = _alert_id(made.headers["Location"])
    for path in (f"/console/alerts/{alert_id}", "/console/alerts",
                 f"/console/alerts/{alert_id}/preview"):
        body = html(emery.get(path))
        assert "<script>alert(1)</script>" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Flood" in body, path


def test_the_desk_in_spanish(api, deployment, desks, town) -> None:  # noqa: F811
    emery = desks("emergency_manager", "emery")
    form = text(emery.get("/console/alerts/new?lang=es"))
    assert "Redactar una alerta" in form and "Idioma de respaldo" in form
    alert_id = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                         .headers["Location"])
    page = emery.api.http.get(f"/console/alerts/{alert_id}/preview", headers={
        "Cookie": f"t311_staff={emery.token}; t311_lang=es"})
    assert "Pedir la aprobación" in text(page)
    assert "2 personas recibirían esta alerta" in text(page)


def test_a_sent_alert_is_cancelled_and_corrected(api, deployment, desks,
                                                town) -> None:  # noqa: F811
    emery, sam = desks("emergency_manager", "emery"), desks("town_admin", "sam")
    first = _alert_id(emery.post("/console/alerts/new", _fields(deployment))
                      .headers["Location"])
    sam.post(f"/console/alerts/{first}/approve", {})
    notices(deployment)
    form = emery.get(f"/console/alerts/{first}/correction")
    assert form.status_code == 200 and "Correct an alert" in text(form)
    assert 'value="Boil water order"' in html(form)
    fixed = emery.post(f"/console/alerts/{first}/correction", _fields(
        deployment, title_en="Boil water order lifted", body_en="Tap water is safe again."))
    assert fixed.status_code == 303
    correction = _alert_id(fixed.headers["Location"])
    stored = deployment.container.alert_store.get(TOWN, correction)
    assert (stored.corrects, stored.zones, stored.status) == (first, ("ward-3",), "draft")
    # A draft is discarded (cancelled); a cancelled alert cannot be cancelled again.
    assert emery.post(f"/console/alerts/{correction}/cancel", {}).status_code == 303
    assert deployment.container.alert_store.get(TOWN, correction).status == "cancelled"
    again = emery.post(f"/console/alerts/{correction}/cancel", {})
    assert again.status_code == 409


def test_an_unknown_alert_is_a_404_page(api, desks) -> None:
    page = desks("emergency_manager", "emery").get("/console/alerts/no-such-alert")
    assert page.status_code == 404 and "no alert" in text(page)
