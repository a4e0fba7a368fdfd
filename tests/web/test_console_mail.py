"""The console and e-mail drafts: triage's inbox and the list flag them, the request's page
shows what was guessed, and the "Confirm service and location" form sets both and routes
the request (drafts.confirm_draft, the service of POST /staff/requests/{id}/confirm); bad
input is said on the form, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.functional.test_mail_intake import _deliver, _mail, _route, mailroom  # noqa: F401
from tests.web.pages import html, text
from tests.web.test_console_work import Session


@pytest.fixture
def draft(api, staff, mailroom) -> str:  # noqa: ANN001, F811
    outcome, _ = _deliver(mailroom, _mail())  # a pothole outside 112 Oak St
    assert outcome == {"drafted": 1}
    found = json.loads(api.http.get("/staff/requests?channel=email",
                                    headers=staff.headers("town_admin")).body)["requests"]
    rid = found[0]["service_request_id"]
    assert _route(mailroom, rid) == "triage"
    return rid


@pytest.fixture
def triage(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("department_worker", departments=("triage",)))


def _stored(api, staff, rid: str) -> dict:  # noqa: ANN001
    return json.loads(api.http.get(f"/staff/requests/{rid}",
                                   headers=staff.headers("supervisor")).body)


def test_triages_inbox_and_the_list_flag_email_drafts(api, staff, triage, draft) -> None:
    inbox = triage.get("/console/inbox")
    assert inbox.status_code == 200
    assert "data-needs-confirmation" in html(inbox) and "E-mail draft: confirm" in text(inbox)
    supervisor = Session(api, staff.token("supervisor"))
    listed = supervisor.get("/console/requests?channel=email")
    assert "E-mail draft: confirm" in text(listed)


def test_the_request_page_shows_the_guesses_and_the_way_to_confirm(triage, draft) -> None:
    page = triage.get(f"/console/requests/{draft}")
    words = text(page)
    assert "E-mail draft: confirm its service and place" in words
    assert "Pothole" in words and "112 Oak St (found in the town's addresses)" in words
    assert f"/console/requests/{draft}/confirm" in html(page)


def test_confirming_on_the_form_sets_service_and_place_and_routes_it(api, staff, triage,
                                                                      draft) -> None:
    form = triage.get(f"/console/requests/{draft}/confirm")
    assert form.status_code == 200
    page = html(form)
    # The guessed service first, marked; the guessed address offered, already picked.
    assert page.index('value="pothole"') < page.index('value="graffiti"')
    assert "Guessed" in text(form) and "112 Oak St" in text(form)
    picked = page.split('name="place" value="')[1].split('"')[0]
    done = triage.post(f"/console/requests/{draft}/confirm",
                       {"action": "confirm", "service_code": "pothole", "place": picked})
    assert done.status_code == 303, text(done)
    assert done.headers["Location"].endswith(f"/console/requests/{draft}?done=confirmed")
    stored = _stored(api, staff, draft)
    assert stored["extended_attributes"]["needs_confirmation"] is False
    assert stored["department"] == "public_works" and stored["address"] == "112 Oak St"
    assert [e["kind"] for e in stored["timeline"]][-2:] == ["confirmed", "routed"]
    # It is public_works' now: triage may no longer open it; for a supervisor the form is
    # gone (nothing to confirm), and the request's page no longer asks.
    assert triage.get(f"/console/requests/{draft}/confirm").status_code == 403
    supervisor = Session(api, staff.token("supervisor"))
    assert supervisor.get(f"/console/requests/{draft}/confirm").status_code == 404
    assert "E-mail draft" not in text(supervisor.get(f"/console/requests/{draft}"))


def test_a_point_typed_instead_of_an_address_confirms_too(api, staff, triage, draft) -> None:
    done = triage.post(f"/console/requests/{draft}/confirm",
                       {"action": "confirm", "service_code": "graffiti", "lat": "44.9781",
                        "long": "-93.2650"})
    assert done.status_code == 303, text(done)
    stored = _stored(api, staff, draft)
    assert stored["service_code"] == "graffiti" and stored["lat"] == pytest.approx(44.9781)


@pytest.mark.parametrize(("fields", "said"), [
    ({"service_code": "nosuch", "lat": "44.97", "long": "-93.26"},
     "Choose one of the town's services"),
    ({"service_code": "pothole"}, "Choose the place"),
    ({"service_code": "pothole", "lat": "95", "long": "-93.26"},
     "Give a latitude between -90 and 90"),
    ({"service_code": "pothole", "lat": "north", "long": "-93.26"},
     "Give a latitude between -90 and 90"),
    ({}, "Choose one of the town's services"),
])
def test_bad_input_is_said_on_the_form_and_changes_nothing(api, staff, triage, draft, fields,
                                                           said) -> None:
    r = triage.post(f"/console/requests/{draft}/confirm", {"action": "confirm", **fields})
    assert r.status_code == 400, text(r)
    assert "There is a problem" in text(r) and said in text(r)
    assert _stored(api, staff, draft)["extended_attributes"]["needs_confirmation"] is True


def test_finding_the_address_offers_the_towns_places(triage, draft) -> None:
    found = triage.post(f"/console/requests/{draft}/confirm",
                        {"action": "find", "place_text": "Oak St & 3rd"})
    assert found.status_code == 200
    assert "Oak St &amp; 3rd Ave" in html(found)
    short = triage.post(f"/console/requests/{draft}/confirm",
                        {"action": "find", "place_text": "O"})
    assert short.status_code == 400 and "at least two letters" in text(short)


def test_only_who_works_triage_may_open_the_form(api, staff, draft) -> None:
    for who in (Session(api, staff.token("agent")), Session(api, staff.token("analyst")),
                Session(api, staff.token("department_worker", departments=("water",)))):
        assert who.get(f"/console/requests/{draft}/confirm").status_code == 403
        r = who.post(f"/console/requests/{draft}/confirm",
                     {"action": "confirm", "service_code": "pothole", "lat": "44.97",
                      "long": "-93.26"})
        assert r.status_code == 403
    assert _stored(api, staff, draft)["extended_attributes"]["needs_confirmation"] is True


def test_the_form_speaks_spanish(triage, draft) -> None:
    page = triage.get(f"/console/requests/{draft}/confirm?lang=es")
    assert "Confirmar servicio y ubicación" in text(page)
    inbox = triage.get("/console/inbox?lang=es")
    assert "Borrador por correo: confirmar" in text(inbox)


def test_the_form_offers_the_mails_words_to_edit_into_what_the_public_reads(
        api, staff, triage, draft) -> None:
    form = triage.get(f"/console/requests/{draft}/confirm")
    textarea = html(form).split('id="description"')[1].split("</textarea>")[0]
    assert "112 Oak St" in textarea  # the mail's words, ready to trim
    assert "What the public reads" in text(form)
    picked = html(form).split('name="place" value="')[1].split('"')[0]
    done = triage.post(f"/console/requests/{draft}/confirm",
                       {"action": "confirm", "service_code": "pothole", "place": picked,
                        "description": "Deep pothole by the curb."})
    assert done.status_code == 303, text(done)
    public = json.loads(api.http.get(
        f"/towns/maplefalls.example/open311/v2/requests/{draft}.json").body)[0]
    assert public["description"] == "Deep pothole by the curb."
