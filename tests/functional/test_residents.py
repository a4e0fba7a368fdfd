"""A resident follows their own requests with a one-time code, and can erase their details."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.functional.helpers import POTHOLE, body, post_request

BASE = "/towns/maplefalls.example/residents"
JSON = {"Content-Type": "application/json"}


def _post(api, path, payload, headers=None):
    return api.http.post(BASE + path, body=json.dumps(payload).encode(),
                         headers={**JSON, **(headers or {})})


def _code(deployment) -> str:
    (message,) = deployment.container.outbox.sent[-1:]
    return re.search(r"\b(\d{6})\b", message["text"]).group(1)


def _sign_in(api, deployment, email="ana@example.org") -> dict:
    assert _post(api, "/sign-in", {"email": email}).status_code == 202
    r = _post(api, "/session", {"email": email, "code": _code(deployment)})
    assert r.status_code == 201, r.body
    return {"Authorization": f"Bearer {json.loads(r.body)['session']}"}


def test_a_resident_signs_in_and_sees_only_their_requests(api, deployment):
    mine = body(post_request(api, {**POTHOLE, "email": "ana@example.org"}))[0]
    body(post_request(api, {**POTHOLE, "email": "bo@example.org"}))
    session = _sign_in(api, deployment)
    r = api.http.get(BASE + "/requests", headers=session)
    assert r.status_code == 200
    found = json.loads(r.body)
    assert [f["service_request_id"] for f in found] == [mine["service_request_id"]]
    assert "ana@example.org" not in r.body.decode()  # contact details never come back


def test_a_wrong_code_an_expired_code_and_no_session_are_refused(api, deployment):
    assert _post(api, "/sign-in", {"email": "ana@example.org"}).status_code == 202
    good = _code(deployment)
    wrong = "000000" if good != "000000" else "111111"
    assert _post(api, "/session", {"email": "ana@example.org", "code": wrong}).status_code == 401
    deployment.clock[0] += timedelta(minutes=16)
    r = _post(api, "/session", {"email": "ana@example.org", "code": good})
    assert r.status_code == 401
    assert api.http.get(BASE + "/requests").status_code == 401
    assert api.http.get(BASE + "/requests",
                        headers={"Authorization": "Bearer forged"}).status_code == 401


def test_codes_cannot_be_guessed_or_flooded(api, deployment):
    assert _post(api, "/sign-in", {"email": "ana@example.org"}).status_code == 202
    good = _code(deployment)
    assert _post(api, "/sign-in", {"email": "ana@example.org"}).status_code == 429
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        _post(api, "/session", {"email": "ana@example.org", "code": wrong})
    r = _post(api, "/session", {"email": "ana@example.org", "code": good})
    assert r.status_code == 401  # six tries used: the code is gone


def test_a_session_of_one_town_is_nothing_in_another(api, deployment):
    session = _sign_in(api, deployment)
    r = api.http.get("/towns/riverton.example/residents/requests", headers=session)
    assert r.status_code == 401


def test_a_resident_erases_their_own_contact_details(api, deployment, staff):
    rid = body(post_request(api, {**POTHOLE, "email": "ana@example.org",
                                  "phone": "+1 312 555 0100"}))[0]["service_request_id"]
    session = _sign_in(api, deployment)
    r = _post(api, "/erase", {}, session)
    assert json.loads(r.body) == {"requests_anonymised": 1}
    opened = json.loads(api.http.get(f"/staff/requests/{rid}",
                                     headers=staff.headers("town_admin")).body)
    assert opened["reporter"] == {}
    assert json.loads(api.http.get(BASE + "/requests", headers=session).body) == []


def test_bad_contact_input_is_400(api):
    for payload in ({}, {"email": "nope"}, {"email": "a@b.example", "phone": "+1 555 0100"},
                    {"phone": "call me"}):
        r = _post(api, "/sign-in", payload)
        assert r.status_code == 400, payload
    assert api.http.post("/towns/atlantis.example/residents/sign-in", headers=JSON,
                         body=b'{"email": "a@b.example"}').status_code == 404
