"""Staff sign-in: only a valid token of this deployment gets in, and it decides the town."""

from __future__ import annotations

import json
import time

import pytest

from local.tokens import mint, new_signing_key


def _me(api, headers):
    return api.http.get("/staff/me", headers=headers)


def test_a_valid_token_says_who_and_what(api, staff):
    r = _me(api, staff.headers("department_worker", departments=("public_works",)))
    assert r.status_code == 200, r.body
    me = json.loads(r.body)
    assert me["town"] == "maplefalls.example"
    assert me["roles"] == ["department_worker"] and me["departments"] == ["public_works"]
    assert "read_department_requests" in me["permissions"]


def _error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.body
    assert json.loads(r.body)["error"]["code"] == code


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer not.a.jwt", "Bearer " + "a" * 5000])
def test_missing_or_malformed_tokens_are_401(api, header):
    headers = {} if header is None else {"Authorization": header}
    r = _me(api, headers)
    _error(r, 401, "unauthenticated")
    assert "Bearer" in r.headers["WWW-Authenticate"]


def test_expired_token_is_401(api, staff):
    old = staff.token("town_admin", now=time.time() - 13 * 3600)
    _error(_me(api, {"Authorization": f"Bearer {old}"}), 401, "unauthenticated")


def test_forged_token_signed_with_another_key_is_401(api):
    forged = mint(new_signing_key(), subject="x", email="x@y", town="maplefalls.example",
                  roles=["town_admin"])
    _error(_me(api, {"Authorization": f"Bearer {forged}"}), 401, "unauthenticated")


@pytest.mark.parametrize("overrides", [{"audience": "someone-else"},
                                       {"issuer": "https://evil.example"}])
def test_wrong_audience_or_issuer_is_401(api, staff, overrides):
    token = staff.token("town_admin", **overrides)
    _error(_me(api, {"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_unsigned_token_is_401(api):
    import base64

    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    claims = {"sub": "x", "custom:town": "maplefalls.example", "cognito:groups": ["town_admin"],
              "iss": "http://127.0.0.1/town311-local-issuer", "aud": "town311-local",
              "exp": int(time.time()) + 3600, "iat": int(time.time())}
    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    _error(_me(api, {"Authorization": f"Bearer {token}"}), 401, "unauthenticated")


def test_a_token_without_a_role_or_town_is_401(api, staff):
    _error(_me(api, staff.headers()), 401, "unauthenticated")
    _error(_me(api, staff.headers("town_admin", town=None)), 401, "unauthenticated")
