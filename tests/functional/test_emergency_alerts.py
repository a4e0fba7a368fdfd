"""Issue 8, part 2: compose, preview, second-person approval, fan-out with one message
per person and channel, cancel, public list, Atom and CAP."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from tests.functional.test_alert_subscribers import WARD
from tests.functional.test_tracking_and_notices import notices

JSON = {"Content-Type": "application/json"}
BASE = "/towns/maplefalls.example/alerts"
OTHER = {"type": "Polygon", "coordinates": [[[-87.50, 41.80], [-87.40, 41.80],
                                             [-87.40, 41.90], [-87.50, 41.90],
                                             [-87.50, 41.80]]]}


def _post(api, path, payload, headers=None):
    return api.http.post(path, body=json.dumps(payload).encode(),
                         headers={**JSON, **(headers or {})})


@pytest.fixture
def town(api, staff, deployment):
    admin = staff.headers("town_admin")
    for code, geometry in (("ward-3", WARD), ("ward-9", OTHER)):
        r = api.http.put(f"/admin/zones/{code}", headers=admin,
                         body=json.dumps({"name": code, "geometry": geometry}).encode())
        assert r.status_code in (200, 201), r.body
    deployment.container.towns.forget()

    def subscribe(zone: str, **contact) -> str:
        made = json.loads(_post(api, f"{BASE}/subscribers", {**contact, "zones": [zone]}).body)
        code = re.search(r"\b(\d{6})\b", deployment.container.outbox.sent[-1]["text"])[1]
        r = _post(api, f"{BASE}/subscribers/{made['subscriber_id']}/confirm", {"code": code})
        assert r.status_code == 200, r.body
        return made["subscriber_id"]

    subscribe("ward-3", phone="+13125550101", email="ana@example.org", language="es")
    subscribe("ward-3", email="ben@example.org")
    subscribe("ward-9", phone="+13125550199")  # outside the alert's zone
    return subscribe


def _alert(deployment, **overrides) -> dict:
    return {"title": {"en": "Boil water order", "es": "Hervir el agua"},
            "body": {"en": "Boil tap water for one minute before drinking.",
                     "es": "Hierva el agua del grifo un minuto antes de beberla."},
            "severity": "severe", "category": "water",
            "expires_at": (deployment.clock[0] + timedelta(days=2)).isoformat(),
            "zones": ["ward-3"], **overrides}


def test_compose_preview_approve_deliver_once(api, deployment, staff, town):
    emery = staff.headers("emergency_manager", subject="emery", email="emery@maplefalls.example")
    sam = staff.headers("emergency_manager", subject="sam", email="sam@maplefalls.example")
    r = _post(api, "/staff/alerts", _alert(deployment), emery)
    assert r.status_code == 201, r.body
    alert_id = json.loads(r.body)["alert_id"]
    preview = json.loads(api.http.get(f"/staff/alerts/{alert_id}/preview", headers=emery).body)
    assert preview["recipients"] == 2
    assert preview["by_channel"] == {"sms": {"es": 1}, "email": {"es": 1, "en": 1}}
    assert preview["estimated_sms_cost_usd"] > 0
    # The author cannot approve their own real alert; a second manager can.
    assert _post(api, f"/staff/alerts/{alert_id}/approve", {}, emery).status_code == 403
    before = len(deployment.container.outbox.sent)
    r = _post(api, f"/staff/alerts/{alert_id}/approve", {}, sam)
    assert r.status_code == 200 and json.loads(r.body)["status"] == "sending"
    notices(deployment)
    sent = deployment.container.outbox.sent[before:]
    assert sorted((m["phone"] or m["email"]) for m in sent) == [
        "+13125550101", "ana@example.org", "ben@example.org"]
    assert any("Hierva" in m["text"] for m in sent if m["email"] == "ana@example.org")
    assert all(m["phone"] != "+13125550199" for m in sent)  # outside the zone: nothing
    # A redelivered batch sends nobody anything twice.
    from chalicelib.services import alerts

    people = list(alerts.recipients(deployment.container.alert_ports,
                                    deployment.container.alert_store.get(
                                        "maplefalls.example", alert_id)))
    again = alerts.deliver(deployment.container.alert_ports, "maplefalls.example",
                           alert_id, people)
    assert (again["sent"], again["repeated"]) == (0, 3)
    shown = json.loads(api.http.get(f"/staff/alerts/{alert_id}", headers=emery).body)
    assert shown["progress"] == {"recipients": 2, "messages": 3, "settled": 3,
                                 "sent_sms": 1, "sent_email": 2, "opted_out": 0,
                                 "over_cap": 0, "off_test_list": 0, "refused": 0,
                                 "failed_tries": 0}
    assert shown["status"] == "sent"  # its last message is settled
    audit = json.loads(api.http.get("/admin/audit", headers=staff.headers("town_admin")).body)
    assert any(e["action"] == "alert.approved" for e in audit["entries"])
    listed = json.loads(api.http.get("/staff/alerts", headers=emery).body)["alerts"]
    assert [(a["alert_id"], a["progress"]["sent_email"]) for a in listed] == [(alert_id, 2)]
    # Public record: list, Atom, CAP 1.2.
    listed = json.loads(api.http.get(BASE).body)["alerts"]
    assert [a["alert_id"] for a in listed] == [alert_id]
    feed = ElementTree.fromstring(api.http.get(f"{BASE}/feed.atom").body)
    assert feed.find("{http://www.w3.org/2005/Atom}entry") is not None
    cap = ElementTree.fromstring(api.http.get(f"{BASE}/{alert_id}/cap.xml").body)
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert cap.find("cap:msgType", ns).text == "Alert"
    assert {i.find("cap:language", ns).text for i in cap.findall("cap:info", ns)} == \
        {"en", "es"}
    assert cap.find("cap:info/cap:severity", ns).text == "Severe"


def test_a_crash_mid_send_then_retry_duplicates_nothing(api, deployment, staff, town):
    from chalicelib.domain.errors import StorageUnavailable

    emery = staff.headers("emergency_manager", subject="emery", email="emery@x.example")
    sam = staff.headers("town_admin")
    alert_id = json.loads(_post(api, "/staff/alerts", _alert(deployment), emery).body)[
        "alert_id"]
    messenger = deployment.container.outbox
    real = messenger.send
    calls = []

    def flaky(**kwargs):  # noqa: ANN003, ANN202
        calls.append(kwargs)
        if kwargs.get("email") == "ben@example.org" and len(calls) < 4:
            raise StorageUnavailable("SES throttled")
        return real(**kwargs)

    messenger.send = flaky
    before = len(messenger.sent)
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, sam)
    notices(deployment)  # the batch fails for Ben and comes back
    notices(deployment)
    sent = [m["phone"] or m["email"] for m in messenger.sent[before:]]
    assert sorted(sent) == ["+13125550101", "ana@example.org", "ben@example.org"]
    shown = json.loads(api.http.get(f"/staff/alerts/{alert_id}", headers=emery).body)
    assert shown["progress"]["failed_tries"] >= 1 and shown["progress"]["sent_email"] == 2


def test_cancel_test_alerts_and_refusals(api, deployment, staff, town):
    emery = staff.headers("emergency_manager", subject="emery", email="emery@x.example")
    # By default a test alert needs a second person too.
    strict = json.loads(_post(api, "/staff/alerts", _alert(deployment, test=True),
                              emery).body)["alert_id"]
    assert _post(api, f"/staff/alerts/{strict}/approve", {}, emery).status_code == 403
    # A town can let authors approve their own test alerts (to its staff test list);
    # they are never on the public record.
    r = api.http.patch("/admin/town", headers=staff.headers("town_admin"), body=json.dumps(
        {"alert_test_self_approval": True,
         "alert_test_recipients": ["duty@maplefalls.example"]}).encode())
    assert r.status_code == 200 and json.loads(r.body)["alert_test_self_approval"] is True
    deployment.container.towns.forget()
    test_id = json.loads(_post(api, "/staff/alerts", _alert(deployment, test=True),
                               emery).body)["alert_id"]
    assert _post(api, f"/staff/alerts/{test_id}/approve", {}, emery).status_code == 200
    assert json.loads(api.http.get(BASE).body)["alerts"] == []
    # Cancelled before approval: nothing is sent and it cannot be approved.
    alert_id = json.loads(_post(api, "/staff/alerts", _alert(deployment), emery).body)[
        "alert_id"]
    assert _post(api, f"/staff/alerts/{alert_id}/cancel", {}, emery).status_code == 200
    assert _post(api, f"/staff/alerts/{alert_id}/approve", {},
                 staff.headers("town_admin")).status_code == 409
    # Bad input and roles.
    for bad in (_alert(deployment, severity="apocalyptic"), _alert(deployment, zones=["nope"]),
                _alert(deployment, expires_at="2020-01-01T00:00:00Z"),
                _alert(deployment, fallback_language="fr"), {"title": {}}):
        assert _post(api, "/staff/alerts", bad, emery).status_code == 400, bad
    assert _post(api, "/staff/alerts", _alert(deployment),
                 staff.headers("agent")).status_code == 403
    assert _post(api, "/staff/alerts", _alert(deployment), staff.headers(
        "emergency_manager", town="riverton.example")).status_code == 400  # no such zone
    assert api.http.get(f"/staff/alerts/{alert_id}", headers=staff.headers(
        "emergency_manager", town="riverton.example")).status_code == 404


def test_texts_keep_to_the_towns_rate_and_monthly_cap(api, deployment, staff, town):
    from dataclasses import replace

    from chalicelib.domain.alerts import SMS_SEGMENT_USD

    admin = staff.headers("town_admin")
    for n in range(2, 5):
        town("ward-3", phone=f"+1312555010{n}")
    # Every text counts against the one cap, sign-up codes too: leave room for 4 more
    # segments (three English texts of one segment, one Spanish of two: one will not fit).
    (used,) = deployment.container.limits.totals("maplefalls.example", "sms#").values()
    r = api.http.patch("/admin/town", headers=admin, body=json.dumps(
        {"alert_sms_per_second": 1,
         "sms_monthly_cap_usd": round((used + 4.5) * SMS_SEGMENT_USD, 4)}).encode())
    assert r.status_code == 200 and json.loads(r.body)["alert_sms_per_second"] == 1
    deployment.container.towns.forget()
    waited = []

    def sleep(seconds: float) -> None:  # the test clock moves instead of the wall clock
        waited.append(seconds)
        deployment.clock[0] += timedelta(seconds=seconds)

    ports = replace(deployment.container.alert_ports, sleep=sleep)
    emery = staff.headers("emergency_manager", subject="emery", email="emery@x.example")
    alert_id = json.loads(_post(api, "/staff/alerts", _alert(deployment), emery).body)[
        "alert_id"]
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, admin)
    from chalicelib.services import alerts

    people = list(alerts.recipients(ports, deployment.container.alert_store.get(
        "maplefalls.example", alert_id)))
    before = len(deployment.container.outbox.sent)
    outcome = alerts.deliver(ports, "maplefalls.example", alert_id, people)
    # Four phones; 0.02 USD is 3 one-segment texts: 3 go, one a second, one is over the cap.
    assert outcome["over_cap"] == 1 and len(waited) >= 2
    texts = [m for m in deployment.container.outbox.sent[before:] if m["phone"]]
    assert len(texts) == 3
    shown = json.loads(api.http.get(f"/staff/alerts/{alert_id}", headers=emery).body)
    assert shown["progress"]["over_cap"] == 1


def test_a_correction_goes_to_the_same_people(api, deployment, staff, town):
    emery = staff.headers("emergency_manager", subject="emery", email="emery@x.example")
    admin = staff.headers("town_admin")
    first = json.loads(_post(api, "/staff/alerts", _alert(deployment), emery).body)["alert_id"]
    _post(api, f"/staff/alerts/{first}/approve", {}, admin)
    notices(deployment)
    town("ward-3", email="late@example.org")  # joined after the first alert went out
    r = _post(api, f"/staff/alerts/{first}/correction", _alert(
        deployment, title={"en": "Correction: boil water"}, zones=["ward-9"]), emery)
    assert r.status_code == 201, r.body
    fix = json.loads(r.body)
    assert (fix["corrects"], fix["zones"]) == (first, ["ward-3"])  # the first one's zones
    before = len(deployment.container.outbox.sent)
    _post(api, f"/staff/alerts/{fix['alert_id']}/approve", {}, admin)
    notices(deployment)
    got = sorted(m["phone"] or m["email"] for m in deployment.container.outbox.sent[before:])
    assert got == ["+13125550101", "ana@example.org", "ben@example.org"]  # not late@
    draft = json.loads(_post(api, "/staff/alerts", _alert(deployment), emery).body)["alert_id"]
    assert _post(api, f"/staff/alerts/{draft}/correction", _alert(deployment),
                 emery).status_code == 409


def test_an_area_drawn_for_one_alert(api, deployment, staff, town):
    def with_home(email: str, lat: float, long: float) -> None:
        made = json.loads(_post(api, f"{BASE}/subscribers", {
            "email": email, "home": {"lat": lat, "long": long}}).body)
        code = re.search(r"\b(\d{6})\b", deployment.container.outbox.sent[-1]["text"])[1]
        _post(api, f"{BASE}/subscribers/{made['subscriber_id']}/confirm", {"code": code})

    with_home("inside@example.org", 41.851, -87.651)
    with_home("outside@example.org", 41.89, -87.61)
    spot = {"type": "Polygon", "coordinates": [[[-87.66, 41.84], [-87.64, 41.84],
                                                [-87.64, 41.86], [-87.66, 41.86],
                                                [-87.66, 41.84]]]}
    emery = staff.headers("emergency_manager", subject="emery", email="emery@x.example")
    r = _post(api, "/staff/alerts", _alert(deployment, zones=[], area=spot,
                                           title={"en": "Gas leak"}, body={"en": "Stay in"},
                                           fallback_language="en"), emery)
    assert r.status_code == 201, r.body
    alert_id = json.loads(r.body)["alert_id"]
    preview = json.loads(api.http.get(f"/staff/alerts/{alert_id}/preview", headers=emery).body)
    # ward-3's people without a home point, and the one whose home is inside the area
    assert preview["recipients"] == 3
    bad = _post(api, "/staff/alerts", _alert(deployment, zones=[], area={
        "type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), emery)
    assert bad.status_code == 400 and "area" in bad.body.decode()
