"""Hostile staff sign-ins, through HTTP: validly signed tokens of people who are not (or no
longer, or not in that way) on a staff list, and tokens shaped to break the claim parser.

The issuer (Cognito) signs whatever its pool holds, and an ID token cannot be recalled for
its hour; the staff record is what says who is staff now."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta

import pytest

from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER

CACHE_WINDOW = timedelta(seconds=61)
TOWN = "maplefalls.example"


def _status(api, path: str, headers: dict[str, str], method: str = "GET",
            payload: dict | None = None) -> tuple[int, str]:
    data = json.dumps(payload).encode() if payload is not None else b""
    r = api.http.request(method, path, headers=headers, body=data)
    code = json.loads(r.body)["error"]["code"] if r.status_code >= 400 else ""
    return r.status_code, code


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_a_signed_token_of_someone_on_no_staff_list_is_401(api, staff):
    # A pool user made by hand (or left over from a deleted town) with an admin group.
    stray = staff.headers("town_admin", subject="stray", on_staff=False)
    assert _status(api, "/staff/me", stray) == (401, "unauthenticated")
    assert _status(api, "/admin/staff", stray) == (401, "unauthenticated")
    assert _status(api, "/admin/town", stray, "PATCH", {"name": "Owned"}) == (
        401, "unauthenticated")


def test_a_staff_record_in_another_town_does_not_open_this_one(api, staff):
    staff.token("town_admin", town="riverton.example", subject="twotowns")
    claims_maple = staff.headers("town_admin", town=TOWN, subject="twotowns", on_staff=False)
    assert _status(api, "/admin/api-keys", claims_maple) == (401, "unauthenticated")


def test_a_token_claiming_a_role_the_record_lacks_is_401(api, staff):
    # Someone with pool access added the group; Town311's staff list was never changed.
    staff.token("agent", subject="climber")
    climbed = staff.headers("agent", "town_admin", subject="climber", on_staff=False)
    assert _status(api, "/staff/me", climbed) == (401, "unauthenticated")
    assert _status(api, "/admin/api-keys", climbed, "POST", {"name": "Mine"}) == (
        401, "unauthenticated")


def test_a_token_claiming_a_department_the_record_lacks_is_401(api, staff):
    staff.token("department_worker", departments=("water",), subject="wanderer")
    wandered = staff.headers("department_worker", departments=("water", "public_works"),
                             subject="wanderer", on_staff=False)
    assert _status(api, "/departments/public_works/requests", wandered) == (
        401, "unauthenticated")


def test_the_record_decides_roles_and_departments_not_the_token(api, staff, deployment):
    store = deployment.container.town_store
    token = staff.headers("agent", subject="promoted")
    member = store.get_staff(TOWN, "promoted")
    store.save_staff(dataclasses.replace(member, roles=("agent", "analyst")))
    deployment.clock[0] += CACHE_WINDOW
    me = json.loads(api.http.get("/staff/me", headers=token).body)
    assert sorted(me["roles"]) == ["agent", "analyst"]  # a promotion needs no new sign-in
    assert me["email"] == member.email


def test_a_removed_member_is_refused_within_a_minute_on_every_container(api, staff,
                                                                        deployment):
    admin = staff.headers("town_admin")
    agent = staff.headers("agent", subject="leaver")
    assert _status(api, "/staff/requests", agent) == (200, "")
    assert _status(api, "/admin/staff/leaver", admin, "DELETE")[0] == 200
    deployment.clock[0] += CACHE_WINDOW
    assert _status(api, "/staff/requests", agent) == (401, "unauthenticated")
    assert _status(api, "/staff/requests", agent, "POST", {
        "channel": "phone", "service_code": "pothole", "address_string": "1 Main St",
        "lat": 41.88, "long": -87.63}) == (401, "unauthenticated")


def test_a_removed_operator_is_refused(api, staff, deployment):
    store = deployment.container.town_store
    operator = staff.headers("operator", town=None, subject="old-operator")
    assert _status(api, "/platform/towns", operator) == (200, "")
    member = store.get_staff(None, "old-operator")
    store.save_staff(dataclasses.replace(member, active=False))
    deployment.clock[0] += CACHE_WINDOW
    assert _status(api, "/platform/towns", operator) == (401, "unauthenticated")
    assert _status(api, f"/platform/towns/{TOWN}/suspend", operator, "POST") == (
        401, "unauthenticated")


def test_an_operator_needs_a_platform_record_not_a_town_one(api, staff):
    # A town's staff record naming the operator role does not make a platform operator.
    staff.token("operator", town=TOWN, subject="fake-operator")
    claims_platform = staff.headers("operator", town=None, subject="fake-operator",
                                    on_staff=False)
    assert _status(api, "/platform/towns", claims_platform) == (401, "unauthenticated")


@pytest.mark.parametrize(("roles", "town"), [
    (("operator",), TOWN),
    (("operator", "town_admin"), None),
    (("town_admin",), None),
])
def test_identities_that_cannot_exist_are_401(api, staff, roles, town):
    headers = staff.headers(*roles, town=town)  # even with a matching staff record
    assert _status(api, "/platform/towns", headers) == (401, "unauthenticated")
    assert _status(api, "/admin/town", headers) == (401, "unauthenticated")
    assert _status(api, f"/platform/towns/{TOWN}/export", headers) == (401, "unauthenticated")


@pytest.mark.parametrize("claims", [
    {"cognito:groups": [{"role": "town_admin"}], "custom:town": TOWN},
    {"cognito:groups": [["town_admin"]], "custom:town": TOWN},
    {"cognito:groups": {"town_admin": True}, "custom:town": TOWN},
    {"cognito:groups": ["town_admin"], "custom:town": ["maplefalls.example"]},
    {"cognito:groups": ["town_admin"], "custom:town": {"id": TOWN}},
    {"cognito:groups": ["town_admin"], "custom:town": 7},
], ids=["group-object", "group-list", "groups-object", "town-list", "town-object",
        "town-number"])
def test_oddly_shaped_claims_are_401_not_500(api, signing_key, claims):
    import jwt

    now = int(time.time())
    token = jwt.encode({"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "sub": "odd",
                        "token_use": "id", "iat": now, "exp": now + 600, **claims},
                       signing_key.private_pem, algorithm="RS256")
    assert _status(api, "/staff/me", _bearer(token)) == (401, "unauthenticated")
