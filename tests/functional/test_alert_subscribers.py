"""Issue 8, part 1: residents sign up for emergency alerts (double opt-in), see and delete
their subscription, and leave by STOP or by the link, at once."""

from __future__ import annotations

import json
import re

import pytest

BASE = "/towns/maplefalls.example/alerts"
JSON = {"Content-Type": "application/json"}
WARD = {"type": "Polygon", "coordinates": [[[-87.70, 41.80], [-87.60, 41.80],
                                            [-87.60, 41.90], [-87.70, 41.90],
                                            [-87.70, 41.80]]]}


def _post(api, path, payload, headers=None):
    return api.http.post(path, body=json.dumps(payload).encode(),
                         headers={**JSON, **(headers or {})})


@pytest.fixture
def ward3(api, staff, deployment):
    r = api.http.put("/admin/zones/ward-3", headers=staff.headers("town_admin"),
                     body=json.dumps({"name": "Ward 3", "geometry": WARD}).encode())
    assert r.status_code in (200, 201), r.body
    deployment.container.towns.forget()
    return "ward-3"


def _last_code(deployment) -> str:
    return re.search(r"\b(\d{6})\b", deployment.container.outbox.sent[-1]["text"]).group(1)


def test_a_resident_signs_up_confirms_and_stops_by_text(api, deployment, ward3):
    r = _post(api, f"{BASE}/subscribers", {"phone": "(312) 555-0101", "language": "es",
                                          "home": {"lat": 41.85, "long": -87.65}})
    assert r.status_code == 201, r.body
    made = json.loads(r.body)
    assert (made["status"], made["phone"], made["zones"], made["confirm_by"]) == \
        ("pending", "+13125550101", ["ward-3"], "sms")
    sent = deployment.container.outbox.sent[-1]
    assert sent["phone"] == "+13125550101" and "código" in sent["text"]
    store = deployment.container.subscribers
    assert list(store.audience("maplefalls.example", "ward-3")) == []  # not before opt-in
    path = f"{BASE}/subscribers/{made['subscriber_id']}/confirm"
    assert _post(api, path, {"code": "000000" if _last_code(deployment) != "000000"
                             else "111111"}).status_code == 401
    r = _post(api, path, {"code": _last_code(deployment)})
    assert r.status_code == 200 and json.loads(r.body)["status"] == "active"
    (member,) = store.audience("maplefalls.example", "ward-3")
    assert member["phone"] == "+13125550101" and member["language"] == "es"
    assert len(list(store.audience("maplefalls.example", "*"))) == 1

    from chalice.test import Client

    from app import app

    with Client(app) as lambdas:
        lambdas.lambda_.invoke("receive_sms", lambdas.events.generate_sns_event(
            message=json.dumps({"originationNumber": "+13125550101",
                                "messageBody": "STOP"})))
    assert list(store.audience("maplefalls.example", "*")) == []
    assert store.get("maplefalls.example", made["subscriber_id"]) is None


def test_e_mail_sign_up_own_view_delete_and_stop_link(api, deployment, ward3):
    r = _post(api, f"{BASE}/subscribers", {"email": "ana@example.org", "zones": [ward3]})
    made = json.loads(r.body)
    assert made["confirm_by"] == "email"
    assert deployment.container.outbox.sent[-1]["email"] == "ana@example.org"
    _post(api, f"{BASE}/subscribers/{made['subscriber_id']}/confirm",
          {"code": _last_code(deployment)})
    # Her own view, signed in with a one-time code.
    _post(api, "/towns/maplefalls.example/residents/sign-in", {"email": "ana@example.org"})
    session = json.loads(_post(api, "/towns/maplefalls.example/residents/session", {
        "email": "ana@example.org", "code": _last_code(deployment)}).body)["session"]
    me = {"Authorization": f"Bearer {session}"}
    mine = json.loads(api.http.get(f"{BASE}/subscription", headers=me).body)
    assert (mine["status"], mine["zones"]) == ("active", ["ward-3"])
    assert api.http.get(f"{BASE}/subscription").status_code == 401
    # The stop link in an alert e-mail (its own secret, kept hashed): GET asks, POST
    # removes.
    from chalicelib.domain.alerts import Alert
    from chalicelib.services import alerts

    ports = deployment.container.alert_ports
    alert = Alert("maplefalls.example", "A1", {"en": "Test"}, {"en": "Body"}, "en", "minor",
                  "other", deployment.clock[0], ("ward-3",), "emery", deployment.clock[0],
                  status="sending")
    ports.alerts.save(alert, new=True)
    alerts.deliver(ports, "maplefalls.example", "A1", list(ports.subscribers.audience(
        "maplefalls.example", "ward-3")))
    mail = deployment.container.outbox.sent[-1]["text"]
    link = BASE + mail.split(BASE, 1)[1].split()[0]
    assert "?key=A1." in link
    assert b"<form" in api.http.get(link).body
    assert api.http.post(f"{BASE}/subscribers/{made['subscriber_id']}/stop?key=wrong",
                         body=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}
                         ).status_code == 404
    done = api.http.post(link, body=b"",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200
    assert api.http.get(f"{BASE}/subscription", headers=me).status_code == 404
    # Signing up again and deleting it herself.
    made = json.loads(_post(api, f"{BASE}/subscribers", {"email": "ana@example.org"}).body)
    _post(api, f"{BASE}/subscribers/{made['subscriber_id']}/confirm",
          {"code": _last_code(deployment)})
    assert api.http.delete(f"{BASE}/subscription", headers=me).status_code == 200
    assert list(deployment.container.subscribers.audience("maplefalls.example", "*")) == []


def test_bad_sign_ups_are_clear_errors(api, deployment, ward3):
    for payload in ({}, {"phone": "call me"}, {"phone": "+1 555 0100"},
                    {"email": "nope"}, {"email": "a@b.example", "zones": ["ward-99"]},
                    {"email": "a@b.example", "home": {"lat": 91, "long": 0}},
                    {"email": "a@b.example", "extra": True}):
        r = _post(api, f"{BASE}/subscribers", payload)
        assert r.status_code == 400, (payload, r.body)
    made = json.loads(_post(api, f"{BASE}/subscribers", {"email": "a@b.example"}).body)
    path = f"{BASE}/subscribers/{made['subscriber_id']}/confirm"
    assert _post(api, path, {"code": "12"}).status_code == 400
    for _ in range(5):
        _post(api, path, {"code": "999999" if _last_code(deployment) != "999999"
                          else "888888"})
    assert _post(api, path, {"code": _last_code(deployment)}).status_code == 409  # too many
    assert _post(api, f"{BASE}/subscribers/nobody/confirm", {"code": "123456"}
                 ).status_code == 404
