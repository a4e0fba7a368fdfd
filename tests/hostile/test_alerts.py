"""Issue 12, items 3 and 12: two people for every alert that reaches the public, and
alert records that are exact (sent state, CAP cancels and areas, Atom authors).

Everything is driven through HTTP and the notices queue's handler; what was "sent" is
read from moto's SES and SNS records."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest

from tests.functional.test_emergency_alerts import _alert
from tests.functional.test_tracking_and_notices import notices

JSON = {"Content-Type": "application/json"}
TOWN = "maplefalls.example"
BASE = f"/towns/{TOWN}/alerts"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
WARD3 = {"type": "Polygon", "coordinates": [[[-87.70, 41.80], [-87.60, 41.80],
                                             [-87.60, 41.90], [-87.70, 41.90],
                                             [-87.70, 41.80]]]}
WARD9 = {"type": "MultiPolygon", "coordinates": [
    [[[-87.50, 41.80], [-87.45, 41.80], [-87.45, 41.85], [-87.50, 41.80]]],
    [[[-87.40, 41.95], [-87.35, 41.95], [-87.35, 42.00], [-87.40, 41.95]]]]}
SUBSCRIBERS = {"+13125550101", "ana@example.org", "ben@example.org"}


def _post(api, path, payload, headers=None):
    return api.http.post(path, body=json.dumps(payload).encode(),
                         headers={**JSON, **(headers or {})})


@pytest.fixture
def town(api, staff, deployment):
    """Two zones (Ward 3, Ward 9 in two parts), three subscribers of Ward 3; then every
    message goes through moto's SES and SNS."""
    admin = staff.headers("town_admin")
    for code, name, geometry in (("ward-3", "Ward 3", WARD3), ("ward-9", "Ward 9", WARD9)):
        r = api.http.put(f"/admin/zones/{code}", headers=admin,
                         body=json.dumps({"name": name, "geometry": geometry}).encode())
        assert r.status_code in (200, 201), r.body
    deployment.container.towns.forget()
    for contact in ({"phone": "+13125550101", "email": "ana@example.org", "language": "es"},
                    {"email": "ben@example.org"}):
        made = json.loads(_post(api, f"{BASE}/subscribers", {**contact,
                                                            "zones": ["ward-3"]}).body)
        code = re.search(r"\b(\d{6})\b", deployment.container.outbox.sent[-1]["text"])[1]
        r = _post(api, f"{BASE}/subscribers/{made['subscriber_id']}/confirm", {"code": code})
        assert r.status_code == 200, r.body
    from chalicelib.adapters.messages import AwsMessenger
    from local.outbox import Outbox

    deployment.client("ses").verify_email_identity(EmailAddress="311@maplefalls.example")
    deployment.container.__dict__["outbox"] = AwsMessenger(
        lambda: deployment.client("ses"), lambda: deployment.client("sns"),
        "311@maplefalls.example")
    outbox = Outbox()
    outbox.new_messages()  # the sign-up codes are not what these tests look at
    return outbox


def _compose(api, deployment, who, **overrides) -> str:
    r = _post(api, "/staff/alerts", _alert(deployment, **overrides), who)
    assert r.status_code == 201, r.body
    return json.loads(r.body)["alert_id"]


def _shown(api, who, alert_id) -> dict:
    return json.loads(api.http.get(f"/staff/alerts/{alert_id}", headers=who).body)


def _emery(staff):
    return staff.headers("emergency_manager", subject="emery", email="emery@maplefalls.example")


def _sam(staff):
    return staff.headers("emergency_manager", subject="sam", email="sam@maplefalls.example")


# --- item 3: test alerts --------------------------------------------------------------------


def test_a_test_alert_approved_by_its_author_is_refused_by_default(api, deployment, staff,
                                                                   town):
    emery = _emery(staff)
    test_id = _compose(api, deployment, emery, test=True)
    r = _post(api, f"/staff/alerts/{test_id}/approve", {}, emery)
    assert r.status_code == 403, r.body
    assert json.loads(api.http.get("/admin/town", headers=staff.headers("town_admin")).body)[
        "town"]["alert_test_self_approval"] is False
    notices(deployment)
    assert town.new_messages() == []


def test_a_self_approved_test_alert_reaches_only_the_staff_test_list_marked_test(
        api, deployment, staff, town):
    admin, emery = staff.headers("town_admin"), _emery(staff)
    r = api.http.patch("/admin/town", headers=admin, body=json.dumps({
        "alert_test_self_approval": True,
        "alert_test_recipients": ["duty@maplefalls.example", "(312) 555-0177"]}).encode())
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["alert_test_recipients"] == ["duty@maplefalls.example",
                                                          "+13125550177"]
    deployment.container.towns.forget()
    test_id = _compose(api, deployment, emery, test=True)
    preview = json.loads(api.http.get(f"/staff/alerts/{test_id}/preview", headers=emery).body)
    assert preview["recipients"] == 2
    assert preview["by_channel"] == {"sms": {"en": 1}, "email": {"en": 1}}
    assert _post(api, f"/staff/alerts/{test_id}/approve", {}, emery).status_code == 200
    notices(deployment)
    got = town.new_messages()
    assert sorted(m["to"] for m in got) == ["+13125550177", "duty@maplefalls.example"]
    assert not {m["to"] for m in got} & SUBSCRIBERS  # no subscriber gets anything
    for m in got:
        assert m["text"].startswith("TEST: "), m
        if m["channel"] == "email":
            assert m["subject"].startswith("TEST: "), m
    assert _shown(api, emery, test_id)["status"] == "sent"
    # Never on the public record.
    assert json.loads(api.http.get(BASE).body)["alerts"] == []
    feed = ElementTree.fromstring(api.http.get(f"{BASE}/feed.atom").body)
    assert feed.findall(f"{ATOM}entry") == []
    assert api.http.get(f"{BASE}/{test_id}/cap.xml").status_code == 404


def test_a_test_alert_reaches_nobody_when_the_test_list_is_empty(api, deployment, staff,
                                                                 town):
    emery = _emery(staff)
    test_id = _compose(api, deployment, emery, test=True)
    preview = json.loads(api.http.get(f"/staff/alerts/{test_id}/preview", headers=emery).body)
    assert preview["recipients"] == 0  # never the subscribers of its zones
    r = _post(api, f"/staff/alerts/{test_id}/approve", {}, _sam(staff))
    assert r.status_code == 409 and "alert_test_recipients" in r.body.decode()
    notices(deployment)
    assert town.new_messages() == []


@pytest.mark.parametrize("bad", [["not an address"], ["12"], ["+1 555 0100"],
                                 ["a@b.example"] * 11, "duty@maplefalls.example",
                                 [{"email": "duty@maplefalls.example"}]])
def test_the_staff_test_list_takes_only_addresses_and_real_phones(api, staff, deployment,
                                                                  bad):
    r = api.http.patch("/admin/town", headers=staff.headers("town_admin"),
                       body=json.dumps({"alert_test_recipients": bad}).encode())
    assert r.status_code == 400, r.body
    r = api.http.patch("/admin/town", headers=staff.headers("emergency_manager"),
                       body=json.dumps({"alert_test_recipients": ["me@x.example"]}).encode())
    assert r.status_code == 403


def test_towns_saved_before_keep_no_self_approval_of_tests(deployment):
    """Every town saved before stored the old default (on) under the old key: it reads
    as off now; a town admin who wants it turns it on again."""
    from chalicelib.adapters.dynamodb import TownItem

    item = TownItem.get(f"TOWN#{TOWN}", "TOWN")
    settings = json.loads(item.settings)
    settings["alerts"] = {"alert_sms_per_second": 5, "sms_monthly_cap_usd": 250.0,
                          "alert_test_self_approval": True}
    item.settings = json.dumps(settings)
    item.save()
    assert deployment.container.town_store.get_town(TOWN).alert_test_self_approval is False


# --- item 12: sent state ------------------------------------------------------------------


def test_a_delivered_alert_becomes_sent_and_can_no_longer_be_cancelled(api, deployment,
                                                                       staff, town):
    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    assert _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff)).status_code == 200
    assert _shown(api, emery, alert_id)["status"] == "sending"
    notices(deployment)
    assert {m["to"] for m in town.new_messages()} == SUBSCRIBERS
    shown = _shown(api, emery, alert_id)
    assert shown["status"] == "sent"
    assert (shown["progress"]["messages"], shown["progress"]["settled"]) == (3, 3)
    r = _post(api, f"/staff/alerts/{alert_id}/cancel", {}, emery)
    assert r.status_code == 409, r.body
    assert _shown(api, emery, alert_id)["status"] == "sent"
    # An alert nobody is subscribed to is sent at once.
    empty = _compose(api, deployment, emery, zones=["ward-9"])
    _post(api, f"/staff/alerts/{empty}/approve", {}, _sam(staff))
    notices(deployment)
    assert _shown(api, emery, empty)["status"] == "sent"


def test_a_retried_batch_neither_double_counts_nor_leaves_the_alert_sending(
        api, deployment, staff, town):
    from chalicelib.domain.errors import StorageUnavailable

    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    messenger = deployment.container.outbox
    real, tries = messenger.send, []

    def flaky(**kwargs):  # noqa: ANN003, ANN202 - SES throttles Ben once
        if kwargs.get("email") == "ben@example.org" and not tries:
            tries.append(1)
            raise StorageUnavailable("SES throttled")
        return real(**kwargs)

    messenger.send = flaky
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    notices(deployment)  # Ana's two go; Ben's fails and the batch comes back
    shown = _shown(api, emery, alert_id)
    assert shown["status"] == "sending"
    assert (shown["progress"]["settled"], shown["progress"]["failed_tries"]) == (2, 1)
    notices(deployment)
    shown = _shown(api, emery, alert_id)
    assert shown["status"] == "sent"
    assert shown["progress"]["sent_email"] == 2 and shown["progress"]["sent_sms"] == 1
    assert shown["progress"]["settled"] == shown["progress"]["messages"] == 3
    # The same batch delivered again, through the queue: nothing sent, nothing counted.
    from chalicelib.services import alerts

    c = deployment.container
    people = list(alerts.recipients(c.alert_ports, c.alert_store.get(TOWN, alert_id)))
    town.new_messages()
    deployment.client("sqs").send_message(
        QueueUrl=deployment.environment["TOWN311_NOTICE_QUEUE_URL"],
        MessageBody=json.dumps({"version": 1, "type": "alert_batch", "town_id": TOWN,
                                "alert_id": alert_id, "recipients": people}))
    notices(deployment)
    assert town.new_messages() == []
    assert _shown(api, emery, alert_id)["progress"] == shown["progress"]
    # A settlement written twice (two workers on one message) counts once.
    assert c.alert_store.settle(TOWN, alert_id, f"{people[0]['subscriber_id']}#email",
                                "sent", "sent_email") is False
    assert _shown(api, emery, alert_id)["progress"] == shown["progress"]


def test_a_worker_that_stops_after_the_last_settlement_is_finished_by_the_retry(
        api, deployment, staff, town):
    from chalicelib.domain.errors import StorageUnavailable

    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    store = deployment.container.alert_store
    real, calls = store.mark_sent, []

    def crash_once(town_id: str, alert: str) -> bool:
        calls.append(alert)
        if len(calls) == 1:
            raise StorageUnavailable("the Lambda timed out")
        return real(town_id, alert)

    store.mark_sent = crash_once
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    notices(deployment)
    assert _shown(api, emery, alert_id)["status"] == "sending"
    notices(deployment)  # the retried batch settles nothing new, and finishes the alert
    assert _shown(api, emery, alert_id)["status"] == "sent"
    assert len([m for m in town.new_messages()]) == 3


def test_a_cancel_read_before_the_alert_became_sent_does_not_overwrite_it(
        api, deployment, staff, town):
    from chalicelib.domain.errors import Conflict

    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    store = deployment.container.alert_store
    stale = store.get(TOWN, alert_id)  # what a cancel reads: still sending
    notices(deployment)  # meanwhile its last message is settled
    stale.cancel("emery", deployment.clock[0])
    with pytest.raises(Conflict):
        store.save(stale)
    assert _shown(api, emery, alert_id)["status"] == "sent"


# --- item 12: CAP and Atom ----------------------------------------------------------------


def _cap(api, path) -> ElementTree.Element:
    r = api.http.get(path)
    assert r.status_code == 200, r.body
    return ElementTree.fromstring(r.body)


def test_a_cancelled_alert_has_a_cap_cancel_that_references_the_alert(api, deployment, staff,
                                                                      town):
    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    deployment.clock[0] += timedelta(minutes=5)
    assert _post(api, f"/staff/alerts/{alert_id}/cancel", {}, emery).status_code == 200
    original = _cap(api, f"{BASE}/{alert_id}/cap.xml")
    cancel = _cap(api, f"{BASE}/{alert_id}/cancel/cap.xml")
    assert original.findtext(f"{CAP}msgType") == "Alert"
    assert cancel.findtext(f"{CAP}msgType") == "Cancel"
    ident = original.findtext(f"{CAP}identifier")
    assert cancel.findtext(f"{CAP}identifier") not in (None, ident)
    sender, sent = original.findtext(f"{CAP}sender"), original.findtext(f"{CAP}sent")
    assert cancel.findtext(f"{CAP}references") == f"{sender},{ident},{sent}"
    assert cancel.findtext(f"{CAP}sent") > sent
    # CAP 1.2's order of the alert's elements.
    assert [e.tag.removeprefix(CAP) for e in cancel][:7] == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "references"]
    for stamp in (sent, cancel.findtext(f"{CAP}sent")):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", stamp)
    # The feed tells readers of the cancel.
    feed = ElementTree.fromstring(api.http.get(f"{BASE}/feed.atom").body)
    links = [e.find(f"{ATOM}link").get("href") for e in feed.findall(f"{ATOM}entry")]
    assert [h.endswith(f"/{alert_id}/cancel/cap.xml") for h in links] == [True]


def test_a_draft_cancelled_before_approval_has_no_cap_message(api, deployment, staff, town):
    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    assert _post(api, f"/staff/alerts/{alert_id}/cancel", {}, emery).status_code == 200
    assert api.http.get(f"{BASE}/{alert_id}/cap.xml").status_code == 404
    assert api.http.get(f"{BASE}/{alert_id}/cancel/cap.xml").status_code == 404
    live = _compose(api, deployment, emery)
    _post(api, f"/staff/alerts/{live}/approve", {}, _sam(staff))
    assert api.http.get(f"{BASE}/{live}/cancel/cap.xml").status_code == 404  # not cancelled


def _polygons(area: ElementTree.Element) -> list[list[tuple[float, float]]]:
    found = []
    for polygon in area.findall(f"{CAP}polygon"):
        pairs = [tuple(float(n) for n in pair.split(",")) for pair in polygon.text.split()]
        assert len(pairs) >= 4 and pairs[0] == pairs[-1]
        found.append(pairs)
    return found


def test_a_zone_alert_carries_the_zones_polygons(api, deployment, staff, town):
    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery, zones=["ward-3", "ward-9"])
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    cap = _cap(api, f"{BASE}/{alert_id}/cap.xml")
    for info in cap.findall(f"{CAP}info"):
        (area,) = info.findall(f"{CAP}area")
        assert [e.tag.removeprefix(CAP) for e in area] == ["areaDesc"] + ["polygon"] * 3
        assert "Ward 3" in area.findtext(f"{CAP}areaDesc")
        assert "Ward 9" in area.findtext(f"{CAP}areaDesc")
        polygons = _polygons(area)
        # "latitude,longitude": Ward 3 first, then Ward 9's two parts.
        assert polygons[0][:2] == [(41.8, -87.7), (41.8, -87.6)]
        assert all(41 < lat < 43 and -88 < lon < -87 for p in polygons for lat, lon in p)
    spot = {"type": "Polygon", "coordinates": [[[-87.66, 41.84], [-87.64, 41.84],
                                                [-87.64, 41.86], [-87.66, 41.86],
                                                [-87.66, 41.84]]]}
    drawn = _compose(api, deployment, emery, zones=[], area=spot)
    _post(api, f"/staff/alerts/{drawn}/approve", {}, _sam(staff))
    area = _cap(api, f"{BASE}/{drawn}/cap.xml").find(f"{CAP}info/{CAP}area")
    assert _polygons(area) == [[(41.84, -87.66), (41.84, -87.64), (41.86, -87.64),
                                (41.86, -87.66), (41.84, -87.66)]]


def test_the_atom_feed_has_what_rfc_4287_requires(api, deployment, staff, town):
    emery = _emery(staff)
    alert_id = _compose(api, deployment, emery)
    _post(api, f"/staff/alerts/{alert_id}/approve", {}, _sam(staff))
    r = api.http.get(f"{BASE}/feed.atom")
    assert r.headers["Content-Type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(r.body)
    for element in (feed, *feed.findall(f"{ATOM}entry")):
        assert element.findtext(f"{ATOM}author/{ATOM}name") == "Maple Falls"
        assert element.findtext(f"{ATOM}id", "").startswith("urn:")
        assert element.findtext(f"{ATOM}title")
        assert datetime.fromisoformat(element.findtext(f"{ATOM}updated")).tzinfo is not None
    (entry,) = feed.findall(f"{ATOM}entry")
    link = entry.find(f"{ATOM}link")
    assert link.get("rel") == "alternate" and link.get("href").endswith(f"/{alert_id}/cap.xml")
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    # With no alert at all, still a valid feed with an author and a zoned time.
    empty = ElementTree.fromstring(api.http.get("/towns/riverton.example/alerts/feed.atom").body)
    assert empty.findtext(f"{ATOM}author/{ATOM}name") == "Riverton"
    assert datetime.fromisoformat(empty.findtext(f"{ATOM}updated")).tzinfo is not None
