"""Residents' sign-in by a one-time code through the pages, the session cookie, "my
requests" (their own only) and erasing their contact details."""

from __future__ import annotations

import pytest

from tests.web.pages import TOWN_PAGE, cookies, html, text
from tests.web.track_steps import (
    browser_token,
    code_from,
    make_outbox,
    page,
    post,
    report,
    sign_in,
    token_of,
)


@pytest.fixture
def outbox(deployment):  # noqa: ANN001, ANN201 - local.outbox.Outbox
    return make_outbox(deployment)


def _set_cookie(response, name: str) -> str:
    raw = response.headers.get("Set-Cookie", "")
    values = raw if isinstance(raw, list) else [raw]
    (found,) = [v for v in values if v.startswith(f"{name}=")]
    return found


def test_signing_in_with_a_code_keeps_the_session_in_an_httponly_cookie(api, outbox) -> None:
    token, jar = browser_token(api)
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": " Ana@Example.org "}, jar, token)
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"{TOWN_PAGE}/sign-in/code"
    kept = _set_cookie(sent, "t311_signin")
    assert "HttpOnly" in kept and "SameSite=Strict" in kept and "Max-Age=900" in kept
    assert "Ana" not in sent.headers["Location"]  # the contact never rides in the URL
    jar += f"; t311_signin={cookies(sent)['t311_signin']}"
    asked = page(api, f"{TOWN_PAGE}/sign-in/code", jar)
    assert "We have sent a six-digit code to Ana@Example.org" in text(asked)

    code = code_from(outbox, "Ana@Example.org")
    done = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": code}, jar, token)
    assert done.status_code == 303 and done.headers["Location"] == f"{TOWN_PAGE}/my-requests"
    session = _set_cookie(done, "t311_resident")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Max-Age=3600", "Path=/"):
        assert flag in session, flag
    assert "Max-Age=0" in _set_cookie(done, "t311_signin")  # the contact is forgotten
    # The session is the bearer token the JSON API accepts, never shown in the page.
    value = cookies(done)["t311_resident"]
    mine = api.http.get(f"{TOWN_PAGE}/residents/requests",
                        headers={"Authorization": f"Bearer {value}"})
    assert mine.status_code == 200
    listing = page(api, f"{TOWN_PAGE}/my-requests", f"t311_csrf={token}; t311_resident={value}")
    assert value not in html(listing)


def test_signing_in_from_a_track_page_comes_back_to_it(api, outbox) -> None:
    ana = report(api, {"email": "ana@example.org"})
    shown = page(api, f"{TOWN_PAGE}/sign-in?number={ana['number']}")
    assert f'name="number" value="{ana["number"]}"' in html(shown)
    token, jar = browser_token(api)
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org",
                                              "number": ana["number"]}, jar, token)
    jar += f"; t311_signin={cookies(sent)['t311_signin']}"
    done = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": code_from(
        outbox, "ana@example.org"), "number": ana["number"]}, jar, token)
    assert done.headers["Location"] == f"{TOWN_PAGE}/track/{ana['number']}"
    # Only a tracking number is a way back: nothing can send the resident elsewhere.
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org",
                                              "number": "//evil.example/x"}, jar, token)
    assert "evil" not in sent.headers.get("Location", "")


def test_a_wrong_code_is_shown_next_to_the_field_and_opens_no_session(api, outbox) -> None:
    token, jar = browser_token(api)
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org"}, jar, token)
    jar += f"; t311_signin={cookies(sent)['t311_signin']}"
    right = code_from(outbox, "ana@example.org")
    wrong = "000000" if right != "000000" else "111111"
    for typed in (wrong, "12ab", ""):
        refused = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": typed}, jar, token)
        assert refused.status_code == 400, typed
        assert 'id="code-error"' in html(refused) and 'href="#code"' in html(refused)
        assert "t311_resident" not in cookies(refused)
    # The code still works after a few wrong tries (five are allowed).
    done = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": right}, jar, token)
    assert done.status_code == 303 and "t311_resident" in cookies(done)


def test_the_code_page_without_a_contact_goes_back_to_sign_in(api) -> None:
    moved = page(api, f"{TOWN_PAGE}/sign-in/code")
    assert moved.status_code == 303 and moved.headers["Location"] == f"{TOWN_PAGE}/sign-in"


def test_a_contact_that_is_neither_e_mail_nor_phone_is_refused(api, outbox) -> None:
    token, jar = browser_token(api)
    for typed in ("", "not a contact", "<script>alert(1)</script>"):
        refused = post(api, f"{TOWN_PAGE}/sign-in", {"contact": typed}, jar, token)
        assert refused.status_code == 400, typed
        assert 'id="contact-error"' in html(refused)
        assert "<script>alert(1)</script>" not in html(refused)
    assert outbox.new_messages() == []


def test_asking_for_codes_too_often_is_a_friendly_429(api, outbox) -> None:
    token, jar = browser_token(api)
    first = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org"}, jar, token)
    assert first.status_code == 303
    again = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org"}, jar, token)
    assert again.status_code == 429 and again.headers["Retry-After"]
    assert "Please try again in about 1 min." in text(again)
    assert len(outbox.new_messages()) == 1


def test_a_sign_in_post_without_its_csrf_token_sends_no_code(api, outbox) -> None:
    token, jar = browser_token(api)
    refused = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org"}, jar, None)
    assert refused.status_code == 403
    # Another site's post is refused even with the right token.
    elsewhere = api.http.post(
        f"{TOWN_PAGE}/sign-in", body=f"csrf_token={token}&contact=a%40b.example",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": jar,
                 "Sec-Fetch-Site": "cross-site"})
    assert elsewhere.status_code == 403
    assert outbox.new_messages() == []


def test_a_resident_sees_only_their_own_requests(api, outbox) -> None:
    ana = report(api, {"email": "ana@example.org"})
    ben = report(api, {"email": "ben@example.org"})
    jar = sign_in(api, outbox, "ana@example.org")
    listing = page(api, f"{TOWN_PAGE}/my-requests", jar)
    assert listing.status_code == 200
    assert ana["number"] in text(listing) and ben["number"] not in text(listing)
    assert "Received" in text(listing)
    nobody = sign_in(api, outbox, "eve@example.org")
    assert "No request reported with this e-mail or phone." in text(
        page(api, f"{TOWN_PAGE}/my-requests", nobody))


def test_my_requests_without_a_session_asks_to_sign_in(api) -> None:
    for cookie in ("", "t311_resident=" + "x" * 43):
        moved = page(api, f"{TOWN_PAGE}/my-requests", cookie)
        assert moved.status_code == 303 and moved.headers["Location"] == f"{TOWN_PAGE}/sign-in"
    moved = page(api, f"{TOWN_PAGE}/my-requests/erase")
    assert moved.headers["Location"] == f"{TOWN_PAGE}/sign-in"


def test_erasing_contact_details_needs_confirmation_then_removes_them(
        api, deployment, outbox) -> None:
    ana = report(api, {"email": "ana@example.org", "phone": "+1 312 555 0100"})
    jar = sign_in(api, outbox, "ana@example.org")
    asked = page(api, f"{TOWN_PAGE}/my-requests/erase", jar)
    assert "This cannot be undone." in text(asked)
    path = f"{TOWN_PAGE}/my-requests/erase"
    unticked = post(api, path, {}, jar, token_of(jar))
    assert unticked.status_code == 400 and 'id="confirm-error"' in html(unticked)
    store = deployment.container.requests
    assert store.get("maplefalls.example", ana["id"], with_timeline=False).reporter.email
    without_token = post(api, path, {"confirm": "yes"}, jar, None)
    assert without_token.status_code == 403
    assert store.get("maplefalls.example", ana["id"], with_timeline=False).reporter.email

    done = post(api, path, {"confirm": "yes"}, jar, token_of(jar))
    assert done.status_code == 303
    assert done.headers["Location"] == f"{TOWN_PAGE}/my-requests?erased=1"
    reporter = store.get("maplefalls.example", ana["id"], with_timeline=False).reporter
    assert (reporter.email, reporter.phone) == (None, None)
    after = page(api, done.headers["Location"], jar)
    assert "Your contact details are erased" in text(after)
    assert ana["number"] not in text(after)  # no longer theirs on record


def test_signing_out_clears_the_cookie(api, outbox) -> None:
    jar = sign_in(api, outbox, "ana@example.org")
    assert "You are signed in." in text(page(api, f"{TOWN_PAGE}/my-requests", jar))
    out = post(api, f"{TOWN_PAGE}/sign-out", {}, jar, token_of(jar))
    assert out.status_code == 303
    cleared = _set_cookie(out, "t311_resident")
    assert cleared.startswith("t311_resident=;") and "Max-Age=0" in cleared
    refused = post(api, f"{TOWN_PAGE}/sign-out", {}, jar, None)
    assert refused.status_code == 403


def test_the_sign_in_pages_in_spanish(api, outbox) -> None:
    shown = page(api, f"{TOWN_PAGE}/sign-in?lang=es")
    seen = text(shown)
    assert "Iniciar sesión" in seen and "Correo electrónico o celular" in seen
    assert "Envíenme un código" in seen
    token, jar = browser_token(api)
    jar += "; t311_lang=es"
    refused = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "nope"}, jar, token)
    assert "Escriba su correo electrónico" in text(refused)
    sent = post(api, f"{TOWN_PAGE}/sign-in", {"contact": "ana@example.org"}, jar, token)
    jar += f"; t311_signin={cookies(sent)['t311_signin']}"
    assert "Enviamos un código de seis dígitos a ana@example.org" in text(
        page(api, f"{TOWN_PAGE}/sign-in/code", jar))
    wrong = post(api, f"{TOWN_PAGE}/sign-in/code", {"code": "12"}, jar, token)
    assert "Ese código no es correcto" in text(wrong)
