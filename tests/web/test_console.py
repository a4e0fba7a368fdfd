"""The staff console's foundation: the session cookie checked like a bearer token, the
development sign-in of `make run`, and the menu by role."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib import bootstrap
from tests.web.pages import cookies, csrf, html, post_form, text


@pytest.fixture
def demo_people(tmp_path, staff, deployment, monkeypatch):  # noqa: ANN001, ANN201
    """What `make run` writes: the demo people's tokens, by role."""
    logins = {role: {"email": f"{role}@maplefalls.example", "roles": [role],
                     "departments": ["public_works"] if role == "department_worker" else [],
                     "token": staff.token(role, departments=("public_works",) if role ==
                                          "department_worker" else ())}
              for role in ("town_admin", "department_worker", "analyst")}
    file = tmp_path / "demo.json"
    file.write_text(json.dumps({"logins": logins}))
    container = bootstrap.container()
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, dev_sign_in_file=str(file)))
    return logins


def test_the_console_sends_a_stranger_to_sign_in_and_back(api) -> None:
    first = api.http.get("/console")
    assert first.status_code == 303
    assert first.headers["Location"] == "/console/sign-in?next=%2Fconsole"


def test_without_the_local_runner_there_is_no_development_sign_in(api) -> None:
    page = api.http.get("/console/sign-in")
    assert page.status_code == 503
    assert "not set up" in text(page)
    refused = post_form(api, "/console/sign-in", {"role": "town_admin"}, csrf(
        api.http.get("/towns/maplefalls.example/alerts/sign-up")))
    assert refused.status_code == 401


def test_a_demo_person_signs_in_and_sees_their_console(api, demo_people) -> None:
    page = api.http.get("/console/sign-in?next=/console")
    assert "town_admin@maplefalls.example" in text(page)
    token = csrf(page)
    signed = post_form(api, "/console/sign-in", {"role": "town_admin", "next": "/console"},
                       token)
    assert signed.status_code == 303 and signed.headers["Location"] == "/console"
    session = [c for c in (signed.headers["Set-Cookie"] if isinstance(
        signed.headers["Set-Cookie"], list) else [signed.headers["Set-Cookie"]])
        if c.startswith("t311_staff=")][0]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure"):
        assert flag in session
    home = api.http.get("/console", headers={
        "Cookie": f"t311_csrf={token}; t311_staff={cookies(signed)['t311_staff']}"})
    assert home.status_code == 200
    assert "Signed in as town_admin@maplefalls.example" in text(home)


def test_sign_in_never_sends_anyone_off_the_console(api, demo_people) -> None:
    token = csrf(api.http.get("/console/sign-in"))
    for elsewhere in ("https://evil.example/", "//evil.example", "/towns/x", "/console/../x"):
        signed = post_form(api, "/console/sign-in", {"role": "analyst", "next": elsewhere},
                           token)
        assert signed.headers["Location"] == "/console", elsewhere


def test_a_removed_member_of_staff_is_signed_out_by_the_staff_record(api, demo_people,
                                                                    deployment) -> None:
    token = csrf(api.http.get("/console/sign-in"))
    signed = post_form(api, "/console/sign-in", {"role": "analyst"}, token)
    jar = {"Cookie": f"t311_csrf={token}; t311_staff={cookies(signed)['t311_staff']}"}
    assert api.http.get("/console", headers=jar).status_code == 200
    store = deployment.container.town_store
    member = store.get_staff("maplefalls.example", "sub-analyst@maplefalls.example")
    store.save_staff(dataclasses.replace(member, active=False))
    bootstrap.container().roster.forget()  # every container forgets within its minute
    refused = api.http.get("/console", headers=jar)
    assert refused.status_code == 303
    assert refused.headers["Location"].startswith("/console/sign-in")


def test_a_forged_cookie_is_no_session(api) -> None:
    forged = api.http.get("/console", headers={"Cookie": "t311_staff=eyJhbGciOiJub25lIn0.e30."})
    assert forged.status_code == 303


def test_signing_out_forgets_the_session(api, demo_people) -> None:
    token = csrf(api.http.get("/console/sign-in"))
    out = post_form(api, "/console/sign-out", {}, token)
    assert out.status_code == 303 and "Max-Age=0" in str(out.headers["Set-Cookie"])
    assert "t311_staff=;" in str(out.headers["Set-Cookie"])
    assert html(api.http.get("/console/sign-in?signed_out=1"))
