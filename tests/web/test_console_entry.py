"""An agent enters a request for a resident on the console: one form, the place picked
from the gazetteer's suggestions without script, stored with the channel and the agent."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.web.pages import FORM, csrf, html, text

TOWN = "maplefalls.example"
NEW = "/console/requests/new"


@pytest.fixture
def places(deployment) -> None:  # noqa: ANN001
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, TOWN, deployment.clock[0])


class Desk:
    """One member of staff's browser: their session cookie and the CSRF cookie."""

    def __init__(self, api: Any, token: str) -> None:
        self.api = api
        self.session = token
        self.csrf = ""

    def cookie(self) -> str:
        return f"t311_staff={self.session}" + (f"; t311_csrf={self.csrf}" if self.csrf else "")

    def get(self, path: str) -> Any:
        page = self.api.http.get(path, headers={"Cookie": self.cookie()})
        if page.headers.get("Content-Type", "").startswith("text/html") and \
                'name="csrf_token"' in html(page):
            self.csrf = csrf(page)
        return page

    def post(self, path: str, pairs: list[tuple[str, str]], *, token: str | None = None
             ) -> Any:
        body = urlencode([("csrf_token", self.csrf if token is None else token), *pairs])
        return self.api.http.post(path, body=body, headers={**FORM, "Cookie": self.cookie()})


def desk(api: Any, staff: Any, *roles: str, departments: tuple[str, ...] = ()) -> Desk:
    return Desk(api, staff.token(*roles, departments=departments))


def first_place(page: Any) -> str:
    found = re.findall(r'name="place" value="([^"]+)"', html(page))
    return unescape(found[0])


POTHOLE = [("channel", "phone"), ("attribute[size]", "large"),
           ("attribute[depth_inches]", "4"), ("description", "Deep hole by the school"),
           ("first_name", "Ana"), ("last_name", "Ruiz"), ("phone", "(612) 555-0134"),
           ("notify", "no"), ("notify", "yes")]


def test_an_agent_enters_a_phone_request_with_a_picked_place(api, staff, deployment,
                                                             places) -> None:
    agent = desk(api, staff, "agent")
    services = agent.get(NEW)
    assert services.status_code == 200
    assert "Pothole" in text(services) and 'href="/console/requests/new/pothole"' in html(services)
    form = agent.get(f"{NEW}/pothole")
    assert form.status_code == 200
    assert "How did the resident reach us?" in text(form)
    # "Find the address": the suggestions to pick from, everything typed kept.
    found = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                          ("action", "find")])
    assert found.status_code == 200, text(found)
    assert "Which place did the resident mean?" in text(found)
    assert 'value="Deep hole by the school"' not in html(found)  # a textarea, not a field
    assert "Deep hole by the school" in text(found)
    sent = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                         ("place", first_place(found)), ("action", "enter")])
    assert sent.status_code == 303, text(sent)
    where = sent.headers["Location"]
    assert where.startswith("/console/requests/entered/")
    request_id = where.rsplit("/", 1)[1]
    stored = deployment.container.requests.get(TOWN, request_id, with_timeline=False)
    assert stored.channel == "phone"
    assert stored.entered_by and "agent" in stored.entered_by
    assert stored.answers["size"] == "large"
    assert stored.place.lat is not None and "Main" in (stored.place.address or "")
    assert stored.reporter.first_name == "Ana"
    done = agent.get(where)
    assert done.status_code == 200
    assert stored.tracking_number in text(done)
    assert f'href="/console/requests/{request_id}"' in html(done)
    assert "Phone call" in text(done)


def test_a_place_not_in_the_list_is_kept_as_typed(api, staff, deployment, places) -> None:
    agent = desk(api, staff, "supervisor")
    agent.get(f"{NEW}/pothole")
    asked = agent.post(f"{NEW}/pothole", [*POTHOLE, ("channel", "counter"),
                                          ("place_text", "Behind the old mill"),
                                          ("action", "enter")])
    # Typed but not picked: the list to pick from, and a problem next to it.
    assert asked.status_code == 400
    assert "Choose a place from the list" in text(asked)
    sent = agent.post(f"{NEW}/pothole", [*POTHOLE, ("channel", "counter"),
                                         ("place_text", "Behind the old mill"),
                                         ("place", "typed"), ("action", "enter")])
    assert sent.status_code == 303, text(sent)
    stored = deployment.container.requests.get(TOWN, sent.headers["Location"].rsplit("/", 1)[1],
                                               with_timeline=False)
    assert stored.channel == "counter" and stored.place.address == "Behind the old mill"
    assert stored.place.lat is None


def _count(deployment: Any) -> int:
    from chalicelib.domain.requests import OPEN

    store = deployment.container.requests
    return len(store.list_by_status(TOWN, OPEN, limit=500)) \
        if hasattr(store, "list_by_status") else 0


def test_bad_input_is_shown_next_to_each_field_and_nothing_is_stored(api, staff,
                                                                    deployment) -> None:
    agent = desk(api, staff, "agent")
    agent.get(f"{NEW}/pothole")
    bad = agent.post(f"{NEW}/pothole", [("channel", "pigeon"), ("attribute[depth_inches]", "deep"),
                                        ("email", "not-an-address"),
                                        ("first_name", "<script>alert(1)</script>"),
                                        ("action", "enter")])
    assert bad.status_code == 400
    page = text(bad)
    assert "There is a problem" in page
    assert "Choose how the resident reached us" in page
    assert "Enter a number, like 3 or 4.5" in page
    assert "Choose an answer for" in page  # the required size
    assert "Enter an address, an intersection or a place" in page
    assert "Enter an e-mail address like name@example.com" in page
    assert "<script>alert(1)</script>" not in html(bad)
    assert "&lt;script&gt;" in html(bad)
    assert 'id="channel"' in html(bad) and 'href="#channel"' in html(bad)


def test_a_worker_or_an_analyst_is_refused(api, staff) -> None:
    for who in (desk(api, staff, "department_worker", departments=("public_works",)),
                desk(api, staff, "analyst")):
        for path in (NEW, f"{NEW}/pothole"):
            refused = who.get(path)
            assert refused.status_code == 403, path
            assert "Pothole" not in text(refused)
        who.get("/console")
        posted = who.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "x"), ("place", "typed")])
        assert posted.status_code == 403
        assert "Enter a request" not in text(who.get("/console"))


def test_the_menu_offers_entry_to_an_agent(api, staff) -> None:
    home = desk(api, staff, "agent").get("/console")
    assert 'href="/console/requests/new"' in html(home)
    assert 'href="/console/admin/services"' not in html(home)


def test_a_post_without_the_csrf_token_is_refused(api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    agent.get(f"{NEW}/pothole")
    refused = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Elm St"),
                                            ("place", "typed")], token="")
    assert refused.status_code == 403
    forged = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Elm St"),
                                           ("place", "typed")], token="x" * 40)
    assert forged.status_code == 403


def test_an_unknown_service_is_a_404_page(api, staff) -> None:
    page = desk(api, staff, "agent").get(f"{NEW}/no-such-thing")
    assert page.status_code == 404 and html(page)


def test_the_form_in_spanish(api, staff) -> None:
    agent = desk(api, staff, "agent")
    page = agent.api.http.get(f"{NEW}/pothole?lang=es", headers={"Cookie": agent.cookie()})
    assert page.status_code == 200
    assert "¿Cómo nos contactó el residente?" in text(page)
