"""The staff console's sign-in in the cloud: the user pool's hosted page, authorization code
with PKCE, the code exchanged at a stubbed token endpoint (never the network)."""

from __future__ import annotations

import dataclasses
import io
import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import bootstrap
from chalicelib.adapters.hosted_ui import CognitoSignInCodes
from chalicelib.domain.errors import StorageUnavailable, Unauthenticated
from chalicelib.web.console_signin import challenge_of
from local.tokens import LOCAL_AUDIENCE
from tests.fakes.sign_in_codes import FakeSignInCodes
from tests.web.pages import cookies, csrf, html, post_form, text

DOMAIN = "https://town311-test.auth.us-east-1.amazoncognito.com"
BASE = "https://311.example.gov"


@pytest.fixture
def pool(deployment, monkeypatch) -> FakeSignInCodes:  # noqa: ANN001
    """A deployment whose staff sign in at the pool's hosted page (no development file)."""
    container = bootstrap.container()
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, cognito_domain=DOMAIN, public_base_url=BASE))
    codes = FakeSignInCodes()
    monkeypatch.setattr(container, "sign_in_codes", codes, raising=False)
    return codes


def set_cookies(response) -> list[str]:  # noqa: ANN001
    raw = response.headers.get("Set-Cookie", "")
    return raw if isinstance(raw, list) else [raw] if raw else []


def to_the_pool(api, next_path: str = "/console") -> tuple[dict[str, list[str]], str]:  # noqa: ANN001
    """Follow /console/sign-in to the pool: the authorize query and the PKCE cookie."""
    first = api.http.get(f"/console/sign-in?next={next_path}")
    assert first.status_code == 303
    location = urlsplit(first.headers["Location"])
    assert location.path == "/console/sign-in/pool"
    second = api.http.get(f"{location.path}?{location.query}")
    assert second.status_code == 303
    authorize = urlsplit(second.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == \
        f"{DOMAIN}/oauth2/authorize"
    return parse_qs(authorize.query), cookies(second)["t311_signin"]


def test_sign_in_sends_the_browser_to_the_pool_with_a_pkce_challenge(api, pool) -> None:
    first = api.http.get("/console/sign-in?next=/console/towns")
    second = api.http.get(first.headers["Location"])
    query = parse_qs(urlsplit(second.headers["Location"]).query)
    assert {k: v[0] for k, v in query.items() if k not in ("state", "code_challenge")} == {
        "response_type": "code", "client_id": LOCAL_AUDIENCE,
        "redirect_uri": f"{BASE}/console/callback", "scope": "openid email profile",
        "code_challenge_method": "S256"}
    waiting = [c for c in set_cookies(second) if c.startswith("t311_signin=")][0]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/console/callback",
                 "Max-Age=600"):
        assert flag in waiting
    state, verifier, _ = cookies(second)["t311_signin"].split(".")
    assert query["state"] == [state]
    assert query["code_challenge"] == [challenge_of(verifier)]
    assert verifier not in second.headers["Location"]
    # Each sign-in its own: a second one gets a new state and verifier.
    again, cookie = to_the_pool(api)
    assert again["state"] != [state] and verifier not in cookie


def test_the_pools_code_becomes_a_session_and_the_browser_goes_back(api, pool,
                                                                    staff) -> None:
    query, waiting = to_the_pool(api, "/console/towns")
    pool.issue("code-1", staff.token("operator", town=None), seconds=3600)
    back = api.http.get(f"/console/callback?code=code-1&state={query['state'][0]}",
                        headers={"Cookie": f"t311_signin={waiting}"})
    assert back.status_code == 303 and back.headers["Location"] == "/console/towns"
    assert pool.exchanges == [("code-1", waiting.split(".")[1], f"{BASE}/console/callback")]
    session = [c for c in set_cookies(back) if c.startswith("t311_staff=")][0]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Max-Age=3600"):
        assert flag in session
    cleared = [c for c in set_cookies(back) if c.startswith("t311_signin=")][0]
    assert "Max-Age=0" in cleared and "Path=/console/callback" in cleared
    home = api.http.get("/console", headers={
        "Cookie": f"t311_staff={cookies(back)['t311_staff']}"})
    assert home.status_code == 200 and "Signed in as operator@platform" in text(home)


@pytest.mark.parametrize("state", ["wrong", "A" * 43, ""])
def test_an_answer_with_another_state_is_refused(api, pool, staff, state) -> None:
    _, waiting = to_the_pool(api)
    pool.issue("code-2", staff.token("operator", town=None))
    refused = api.http.get(f"/console/callback?code=code-2&state={state}",
                           headers={"Cookie": f"t311_signin={waiting}"})
    assert refused.status_code == 401 and "sign in again" in text(refused)
    assert pool.exchanges == [] and "t311_staff" not in cookies(refused)


def test_an_answer_without_the_browsers_sign_in_cookie_is_refused(api, pool, staff) -> None:
    query, _ = to_the_pool(api)
    pool.issue("code-3", staff.token("operator", town=None))
    refused = api.http.get(f"/console/callback?code=code-3&state={query['state'][0]}")
    assert refused.status_code == 401 and pool.exchanges == []
    # The pool's own refusal (?error=...) is no sign-in either.
    denied = api.http.get(f"/console/callback?error=access_denied&state={query['state'][0]}")
    assert denied.status_code == 401 and pool.exchanges == []


def test_a_code_the_pool_refuses_is_no_session(api, pool) -> None:
    query, waiting = to_the_pool(api)
    refused = api.http.get(f"/console/callback?code=made-up&state={query['state'][0]}",
                           headers={"Cookie": f"t311_signin={waiting}"})
    assert refused.status_code == 401 and "t311_staff" not in cookies(refused)


def test_a_pool_account_not_on_the_staff_list_is_refused(api, pool, staff) -> None:
    query, waiting = to_the_pool(api)
    pool.issue("code-4", staff.token("town_admin", on_staff=False))
    refused = api.http.get(f"/console/callback?code=code-4&state={query['state'][0]}",
                           headers={"Cookie": f"t311_signin={waiting}"})
    assert refused.status_code == 401
    assert "not on the staff list" in text(refused)
    assert "t311_staff" not in cookies(refused)


def test_a_token_from_another_issuer_is_refused(api, pool, staff) -> None:
    query, waiting = to_the_pool(api)
    pool.issue("code-5", staff.token("operator", town=None, issuer="https://elsewhere"))
    refused = api.http.get(f"/console/callback?code=code-5&state={query['state'][0]}",
                           headers={"Cookie": f"t311_signin={waiting}"})
    assert refused.status_code == 401 and "t311_staff" not in cookies(refused)


def test_the_development_page_never_shows_at_the_pool(api, pool, staff) -> None:
    page = api.http.get("/console/sign-in")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/console/sign-in/pool")
    token = csrf(api.http.get("/towns/maplefalls.example/alerts/sign-up"))
    refused = post_form(api, "/console/sign-in", {"role": "town_admin"}, token)
    assert refused.status_code == 401 and "t311_staff" not in cookies(refused)


def test_a_local_run_keeps_its_development_page_even_with_a_pool_domain(
        api, pool, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    file = tmp_path / "demo.json"
    file.write_text(json.dumps({"logins": {}}))
    container = bootstrap.container()
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, dev_sign_in_file=str(file)))
    assert api.http.get("/console/sign-in").status_code == 503  # no demo people: not set up
    assert api.http.get("/console/sign-in/pool").headers["Location"].startswith(
        "/console/sign-in")


def test_without_a_public_base_url_the_pool_cannot_be_used(api, pool, monkeypatch) -> None:
    container = bootstrap.container()
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, public_base_url=None))
    page = api.http.get("/console/sign-in/pool")
    assert page.status_code == 503 and "not set up" in text(page)


def test_signing_out_at_the_pool_ends_its_session_too(api, pool, staff) -> None:
    token = csrf(api.http.get("/towns/maplefalls.example/alerts/sign-up"))
    out = post_form(api, "/console/sign-out", {}, token)
    assert out.status_code == 303 and out.headers["Location"] == "/console/sign-out/pool"
    assert "t311_staff=;" in str(out.headers["Set-Cookie"])
    logout = urlsplit(api.http.get(out.headers["Location"]).headers["Location"])
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{DOMAIN}/logout"
    assert parse_qs(logout.query) == {"client_id": [LOCAL_AUDIENCE],
                                      "logout_uri": [f"{BASE}/console/signed-out"]}
    page = api.http.get("/console/signed-out")
    assert page.status_code == 200 and "You are signed out." in text(page)
    assert 'href="/console/sign-in"' in html(page)


def test_console_screens_let_the_sign_out_form_reach_the_pool(api, pool, staff) -> None:
    home = api.http.get("/console", headers={
        "Cookie": f"t311_staff={staff.token('analyst')}"})
    assert home.status_code == 200
    assert f"form-action 'self' {DOMAIN}" in home.headers["Content-Security-Policy"]


# --- the token endpoint adapter (urllib stubbed: never the network) ------------------------


class _Answer(io.BytesIO):
    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_the_adapter_talks_only_https_to_the_configured_domain() -> None:
    for wrong in ("http://x.auth.us-east-1.amazoncognito.com", "https://x.example/path",
                  "ftp://x.example", "https://user:pw@x.example", ""):
        with pytest.raises(ValueError, match="TOWN311_COGNITO_DOMAIN"):
            CognitoSignInCodes(wrong, "client")


def test_the_adapter_posts_the_code_and_verifier_form_encoded(monkeypatch) -> None:  # noqa: ANN001
    sent: list[tuple[urllib.request.Request, float]] = []

    def answer(self, request, data=None, timeout=None):  # noqa: ANN001, ANN202
        sent.append((request, timeout))
        return _Answer(json.dumps({"id_token": "a.b.c", "access_token": "x",
                                   "expires_in": 3600, "token_type": "Bearer"}).encode())

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", answer)
    codes = CognitoSignInCodes(DOMAIN + "/", "client-1")
    assert codes.exchange("the-code", "the-verifier", f"{BASE}/console/callback") == \
        ("a.b.c", 3600)
    request, timeout = sent[0]
    assert request.full_url == f"{DOMAIN}/oauth2/token" and request.get_method() == "POST"
    assert request.get_header("Content-type") == "application/x-www-form-urlencoded"
    assert parse_qs(request.data.decode()) == {  # type: ignore[union-attr]
        "grant_type": ["authorization_code"], "client_id": ["client-1"],
        "code": ["the-code"], "redirect_uri": [f"{BASE}/console/callback"],
        "code_verifier": ["the-verifier"]}
    assert timeout and timeout <= 10


def _failing(error: OSError):  # noqa: ANN202
    def fail(self, request, data=None, timeout=None):  # noqa: ANN001, ANN202
        raise error

    return fail


def test_the_adapter_says_a_refused_code_is_a_failed_sign_in(monkeypatch) -> None:  # noqa: ANN001
    refusal = urllib.error.HTTPError(f"{DOMAIN}/oauth2/token", 400, "Bad Request", {},  # type: ignore[arg-type]
                                     io.BytesIO(b'{"error":"invalid_grant"}'))
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", _failing(refusal))
    with pytest.raises(Unauthenticated):
        CognitoSignInCodes(DOMAIN, "client").exchange("c", "v", "https://x/cb")


@pytest.mark.parametrize("error", [
    urllib.error.URLError("timed out"), TimeoutError("timed out"),
    urllib.error.HTTPError(f"{DOMAIN}/oauth2/token", 500, "Oops", {},  # type: ignore[arg-type]
                           io.BytesIO(b"<html>")),
])
def test_the_adapter_says_an_absent_pool_is_unavailable(monkeypatch, error) -> None:  # noqa: ANN001
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", _failing(error))
    with pytest.raises(StorageUnavailable):
        CognitoSignInCodes(DOMAIN, "client").exchange("c", "v", "https://x/cb")


def test_the_adapter_wants_an_id_token_in_the_answer(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(urllib.request.OpenerDirector, "open",
                        lambda self, request, data=None, timeout=None: _Answer(b'{"x": 1}'))
    with pytest.raises(StorageUnavailable):
        CognitoSignInCodes(DOMAIN, "client").exchange("c", "v", "https://x/cb")
