"""Entering a request for a caller, continued: the open requests of the same service near
the place are offered before the request is made (the caller may follow one instead), and
the form's idempotency key makes a double click file one request."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from tests.web.pages import html, text
from tests.web.test_console_entry import (  # noqa: F401 - places: a fixture
    NEW,
    POTHOLE,
    TOWN,
    desk,
    first_place,
    places,
)

pytestmark = pytest.mark.usefixtures("places")  # the demo gazetteer: Main St & 3rd


def _key(page: Any) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html(page))
    assert found, "the form carries no idempotency key"
    return unescape(found.group(1))


def _open_requests(deployment: Any) -> list[Any]:
    from chalicelib.domain.queries import RequestQuery

    now = deployment.clock[0]
    return deployment.container.requests.find(TOWN, RequestQuery(
        start=now - timedelta(days=1), end=now + timedelta(days=1), page_size=100)).items


def _entered(agent: Any, extra: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """One pothole at the first place the gazetteer offers for Main St & 3rd; its id."""
    form = agent.get(f"{NEW}/pothole")
    found = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                          ("action", "find")])
    sent = agent.post(f"{NEW}/pothole", [*POTHOLE, *extra, ("place_text", "Main St & 3rd"),
                                         ("place", first_place(found)),
                                         ("idempotency_key", _key(form)), ("action", "enter")])
    assert sent.status_code == 303, text(sent)
    return sent.headers["Location"].rsplit("/", 1)[1]


def _again(agent: Any, deployment: Any, *pairs: tuple[str, str]
           ) -> tuple[Any, list[tuple[str, str]]]:
    """The same place entered again, for the next caller (a minute later, on a new form):
    the form answered, and what it carries to send on."""
    deployment.clock[0] += timedelta(minutes=1)
    form = agent.get(f"{NEW}/pothole")
    found = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                          ("action", "find")])
    sent = [*POTHOLE, *pairs, ("place_text", "Main St & 3rd"), ("place", first_place(found)),
            ("idempotency_key", _key(form))]
    return agent.post(f"{NEW}/pothole", [*sent, ("action", "enter")]), sent


def test_the_form_carries_a_key_and_a_double_click_files_one_request(
        api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    form = agent.get(f"{NEW}/pothole")
    key = _key(form)
    assert len(key) >= 16 and key != _key(agent.get(f"{NEW}/pothole"))
    found = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                          ("idempotency_key", key), ("action", "find")])
    assert _key(found) == key  # carried through the address search
    sent = [*POTHOLE, ("place_text", "Main St & 3rd"), ("place", first_place(found)),
            ("idempotency_key", key), ("action", "enter")]
    first, second = agent.post(f"{NEW}/pothole", sent), agent.post(f"{NEW}/pothole", sent)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_open_requests(deployment)) == 1


def test_the_same_key_with_other_answers_asks_before_a_second_request(
        api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    form = agent.get(f"{NEW}/pothole")
    key = _key(form)
    found = agent.post(f"{NEW}/pothole", [*POTHOLE, ("place_text", "Main St & 3rd"),
                                          ("action", "find")])
    place = [("place_text", "Main St & 3rd"), ("place", first_place(found))]
    assert agent.post(f"{NEW}/pothole", [*POTHOLE, *place, ("idempotency_key", key),
                                         ("action", "enter")]).status_code == 303
    # Back to the sent form, answers changed, sent again a minute later: the same key.
    deployment.clock[0] += timedelta(minutes=1)
    changed = [(k, "Another hole" if k == "description" else v) for k, v in POTHOLE]
    again = agent.post(f"{NEW}/pothole", [*changed, *place, ("idempotency_key", key),
                                          ("action", "enter")])
    assert again.status_code == 400
    assert "This form was sent before with other answers" in text(again)
    assert _key(again) != key
    assert len(_open_requests(deployment)) == 1
    # Sent on with the new key: the first request is offered as a duplicate first.
    carried = [("place_text", _hidden(again, "place_text")),
               ("address_string", _hidden(again, "address_string")),
               ("lat", _hidden(again, "lat")), ("long", _hidden(again, "long")),
               ("idempotency_key", _key(again))]
    offered = agent.post(f"{NEW}/pothole", [*changed, *carried, ("action", "enter")])
    assert "Has someone reported this already?" in text(offered)
    made = agent.post(f"{NEW}/pothole", [*changed, *carried,
                                         ("checked_near", _checked(offered)), ("action", "enter")])
    assert made.status_code == 303, text(made)
    assert len(_open_requests(deployment)) == 2


def _hidden(page: Any, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html(page))
    assert found, f"no {name} carried"
    return unescape(found.group(1))


def _checked(page: Any) -> str:
    found = re.search(r'name="checked_near" value="([^"]+)"', html(page))
    assert found, "no checked_near carried"
    return unescape(found.group(1))


def test_nearby_open_requests_of_the_service_are_shown_before_entering(
        api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    first = _entered(agent)
    number = deployment.container.requests.get(TOWN, first, with_timeline=False).tracking_number
    shown, sent = _again(agent, deployment)
    assert shown.status_code == 200
    page = text(shown)
    assert "Has someone reported this already?" in page
    assert number in page and "Deep hole by the school" in page
    assert f'value="follow:{first}"' in html(shown)
    assert "None of these: enter the request" in page
    assert "1 open request like this one is close to the place" in page
    assert 'href="#duplicates"' in html(shown)
    assert len(_open_requests(deployment)) == 1  # nothing made yet
    # "None of these": the same form, sent on, makes the request.
    made = agent.post(f"{NEW}/pothole", [*sent, ("checked_near", _checked(shown)),
                                         ("action", "enter")])
    assert made.status_code == 303, text(made)
    assert len(_open_requests(deployment)) == 2


def test_the_caller_follows_the_nearby_request_instead(api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    first = _entered(agent)
    shown, sent = _again(agent, deployment, ("email", "caller@example.org"))
    followed = agent.post(f"{NEW}/pothole", [*sent, ("checked_near", _checked(shown)),
                                             ("action", f"follow:{first}")])
    assert followed.status_code == 303, text(followed)
    assert followed.headers["Location"] == f"/console/requests/{first}?done=followed"
    assert len(_open_requests(deployment)) == 1  # no new request
    stored = deployment.container.requests.get(TOWN, first, with_timeline=False)
    assert stored.followers == 1
    page = agent.get(followed.headers["Location"])
    assert "The caller follows this request now" in text(page)


def test_following_needs_the_callers_contact(api, staff, deployment) -> None:
    agent = desk(api, staff, "agent")
    first = _entered(agent)
    shown, sent = _again(agent, deployment)
    bare = [(k, v) for k, v in sent if k not in ("phone", "email")]
    refused = agent.post(f"{NEW}/pothole", [*bare, ("checked_near", _checked(shown)),
                                            ("action", f"follow:{first}")])
    assert refused.status_code == 400
    assert "Give the caller's e-mail or phone to add them as a follower" in text(refused)
    assert 'href="#email"' in html(refused)
    stored = deployment.container.requests.get(TOWN, first, with_timeline=False)
    assert stored.followers == 0


def test_following_another_services_or_an_unknown_request_is_refused(
        api, staff, deployment) -> None:
    from tests.functional.helpers import body, post_request
    from tests.web.test_console_work import TRASH

    agent = desk(api, staff, "agent")
    (trash,) = body(post_request(api, TRASH))
    shown, sent = _again(agent, deployment, ("email", "caller@example.org"))
    other = agent.post(f"{NEW}/pothole",
                       [*sent, ("action", f"follow:{trash['service_request_id']}")])
    assert other.status_code == 400
    unknown = agent.post(f"{NEW}/pothole",
                         [*sent, ("action", "follow:01JNOTAREQUEST0000000000000")])
    assert unknown.status_code == 400
    assert "<h1" in html(unknown)
    assert len(_open_requests(deployment)) == 2  # the pothole and the trash; nothing new
    assert all(r.followers == 0 for r in _open_requests(deployment))


def test_the_suggestions_in_spanish(api, staff, deployment) -> None:
    from urllib.parse import urlencode

    from tests.web.pages import FORM

    agent = desk(api, staff, "agent")
    _entered(agent)
    _, sent = _again(agent, deployment)
    shown = api.http.post(f"{NEW}/pothole", body=urlencode(
        [("csrf_token", agent.csrf), *sent, ("action", "enter")]),
        headers={**FORM, "Cookie": agent.cookie() + "; t311_lang=es"})
    page = text(shown)
    assert "¿Alguien ya lo reportó?" in page
    assert "Añadir a quien llama como seguidor de esta en su lugar" in page
    assert "Ninguna de estas: registrar la solicitud" in page
    assert "1 solicitud abierta como esta está cerca del lugar" in page


def test_a_busy_desk_adds_more_callers_than_a_stranger_could_from_one_address(
        api, staff, deployment) -> None:
    """An agent is signed in and audited, not an anonymous caller: the per-address budget
    for strangers (PER_SOURCE_PER_HOUR) does not stop the desk in an hour of calls."""
    from chalicelib.services.outreach import PER_SOURCE_PER_HOUR

    agent = desk(api, staff, "agent")
    first = _entered(agent)
    for n in range(PER_SOURCE_PER_HOUR + 1):
        shown, sent = _again(agent, deployment, ("email", f"caller{n}@example.org"))
        # each call is a different caller: no phone of the first caller's form
        sent = [(k, v) for k, v in sent if k != "phone"]
        followed = agent.post(f"{NEW}/pothole", [*sent, ("checked_near", _checked(shown)),
                                                 ("action", f"follow:{first}")])
        assert followed.status_code == 303, (n, text(followed))
    stored = deployment.container.requests.get(TOWN, first, with_timeline=False)
    assert stored.followers == PER_SOURCE_PER_HOUR + 1
