"""Issue 5 as residents and staff live it: a report gets a tracking number and messages in
the reporter's language; a neighbour follows it instead of reporting it again; closure,
dispute and rating; messages read from the emulator's SES and SNS records."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.functional.helpers import POTHOLE, TOWN, body, post_request
from tests.lambda_events import sqs_event, sqs_record

TOWN_BASE = "/towns/maplefalls.example"
JSON = {"Content-Type": "application/json"}
ANA = {"email": "ana@example.org", "phone": "+1 312 555 0100", "language": "es"}
BEN = {"email": "ben@example.org", "phone": "+13125550200"}


@pytest.fixture
def outbox(deployment):
    """The app sends through SES and SNS on the emulator; this reads what they recorded."""
    from chalicelib.adapters.messages import AwsMessenger
    from local.outbox import Outbox

    deployment.client("ses").verify_email_identity(EmailAddress="311@maplefalls.example")
    deployment.container.__dict__["outbox"] = AwsMessenger(
        lambda: deployment.client("ses"), lambda: deployment.client("sns"),
        "311@maplefalls.example")
    return Outbox()


def _drain(deployment, setting: str, handler: str) -> list[dict]:
    """Deliver every message waiting on a queue to its handler, as Lambda would."""
    from chalice.test import Client

    from app import app

    sqs = deployment.client("sqs")
    url = deployment.environment[setting]
    results = []
    with Client(app) as lambdas:
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=0).get("Messages", [])
            if not messages:
                return results
            event = sqs_event(*(sqs_record(m["Body"], receipt_handle=m["ReceiptHandle"])
                                for m in messages))
            result = lambdas.lambda_.invoke(handler, event).payload
            results.append(result)
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            ids = [r["messageId"] for r in event["Records"]]
            for record_id, m in zip(ids, messages, strict=True):
                if record_id not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if failed:
                return results


def notices(deployment) -> list[dict]:
    return _drain(deployment, "TOWN311_NOTICE_QUEUE_URL", "send_notices")


def route(deployment) -> None:
    _drain(deployment, "TOWN311_ROUTING_QUEUE_URL", "route_new_requests")


def _report(api, deployment, contact=ANA, fields=POTHOLE) -> dict:
    (receipt,) = body(post_request(api, {**fields, **contact}))
    rid = receipt["service_request_id"]
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    return {"id": rid, "number": request["extended_attributes"]["tracking_number"]}


def _post(api, path, payload, headers=None):
    return api.http.post(path, body=json.dumps(payload).encode(),
                         headers={**JSON, **(headers or {})})


def _resident_session(api, deployment, outbox, email) -> dict:
    assert _post(api, f"{TOWN_BASE}/residents/sign-in", {"email": email}).status_code == 202
    (mail,) = [m for m in outbox.new_messages()
               if m["to"] == email and "sign-in code" in m["subject"]]
    code = re.search(r"\b(\d{6})\b", mail["text"]).group(1)
    r = _post(api, f"{TOWN_BASE}/residents/session", {"email": email, "code": code})
    return {"Authorization": f"Bearer {body(r)['session']}"}


def confirm_links(api, messages) -> int:
    """Follow every confirm link in ``messages`` as the person who got it would (the page
    asks; the button POSTs). Returns how many addresses were confirmed."""
    done = 0
    for m in messages:
        for path in re.findall(r"(/towns/[^/\s]+/confirm/[A-Za-z0-9_-]+)", m["text"]):
            assert b"<form" in api.http.get(path).body
            r = api.http.post(path, body=b"",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 200, r.body
            done += 1
    return done


def _close(api, staff, rid, resolution="fixed", note="Filled and rolled"):
    r = _post(api, f"/departments/public_works/requests/{rid}/close",
              {"resolution": resolution, "note": note},
              staff.headers("department_worker", departments=("public_works",)))
    assert r.status_code == 200, r.body


def test_the_whole_story_report_follow_close_dispute_rate(api, deployment, staff, outbox):
    ana = _report(api, deployment)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", ana["number"])
    notices(deployment)
    sent = outbox.new_messages()
    # Ana chose Spanish: her receipt by text and e-mail, with her tracking number and a
    # link that proves each address is hers (nothing more is sent to it until she does).
    assert {(m["channel"], m["to"]) for m in sent} == {("sms", "+13125550100"),
                                                      ("email", "ana@example.org")}
    assert all(ana["number"] in m["text"] and "seguimiento" in m["text"]
               and "confirme esta dirección" in m["text"] for m in sent)
    assert confirm_links(api, sent) == 2

    # Anyone with the number sees the public timeline, never who reported it.
    r = api.http.get(f"{TOWN_BASE}/track/{ana['number'].lower().replace('-', ' ')}")
    assert r.status_code == 200
    tracked = body(r)
    assert tracked["service_request_id"] == ana["id"] and tracked["followers"] == 0
    assert [e["type"] for e in tracked["timeline"]] == ["submitted"]
    assert "ana@example.org" not in r.body.decode() and "0100" not in r.body.decode()

    # Ben, nearby, is shown Ana's report and follows it instead of filing another.
    near = body(api.http.get(f"{TOWN_BASE}/possible-duplicates?service_code=pothole"
                             f"&lat=41.8782&long=-87.6297"))
    assert [r["service_request_id"] for r in near["requests"]] == [ana["id"]]
    r = _post(api, f"{TOWN_BASE}/requests/{ana['number']}/followers", BEN)
    assert (r.status_code, body(r)) == (201, {"following": True, "followers": 1})
    assert confirm_links(api, outbox.new_messages()) == 2  # his e-mail and his phone
    r = _post(api, f"{TOWN_BASE}/requests/{ana['number']}/followers", BEN)
    assert (r.status_code, body(r)["followers"]) == (200, 1)  # following twice is once
    assert outbox.new_messages() == []  # both proved: no second confirmation

    route(deployment)
    _close(api, staff, ana["id"])
    notices(deployment)
    sent = outbox.new_messages()
    by_person = {m["to"]: m for m in sent}
    assert set(by_person) == {"+13125550100", "ana@example.org", "+13125550200",
                              "ben@example.org"}
    assert "cerró" in by_person["ana@example.org"]["text"]  # Spanish for Ana
    assert "was closed (fixed)" in by_person["ben@example.org"]["text"]  # English for Ben
    assert "Reply STOP" in by_person["+13125550200"]["text"]
    assert "/stop?key=" in by_person["ben@example.org"]["text"]

    # Ben says it is not fixed: it reopens to Public Works, flagged, supervisor told.
    ben = _resident_session(api, deployment, outbox, "ben@example.org")
    r = _post(api, f"{TOWN_BASE}/requests/{ana['number']}/dispute",
              {"note": "Still a hole, the patch washed out"}, ben)
    assert r.status_code == 201, r.body
    disputed = body(r)
    assert (disputed["status"], disputed["state"], disputed["disputed"]) == \
        ("open", "reopened", True)
    inbox = body(api.http.get("/departments/public_works/requests", headers=staff.headers(
        "department_worker", departments=("public_works",))))
    assert ana["id"] in json.dumps(inbox)
    notices(deployment)
    sent = outbox.new_messages()
    assert any(m["to"] == "supervisor@maplefalls.example" and "Disputed" in m["subject"]
               for m in sent)
    assert {m["to"] for m in sent} >= {"ana@example.org", "ben@example.org"}
    feedback = body(api.http.get("/staff/reports/feedback",
                                 headers=staff.headers("supervisor")))
    assert {"department": "public_works", "disputed_closures": 1, "ratings": 0,
            "average_rating": None} in feedback["departments"]

    # Fixed for real; Ana rates it, once. Ben (a follower) may not rate.
    _close(api, staff, ana["id"], note="Repaved")
    notices(deployment)
    ana_session = _resident_session(api, deployment, outbox, "ana@example.org")
    r = _post(api, f"{TOWN_BASE}/requests/{ana['id']}/rating", {"score": 5}, ben)
    assert r.status_code == 403
    r = _post(api, f"{TOWN_BASE}/requests/{ana['id']}/rating",
              {"score": 5, "comment": "Gracias"}, ana_session)
    assert (r.status_code, body(r)) == (201, {"rating": 5, "comment": "Gracias"})
    assert _post(api, f"{TOWN_BASE}/requests/{ana['id']}/rating", {"score": 1},
                 ana_session).status_code == 409
    feedback = body(api.http.get("/staff/reports/feedback",
                                 headers=staff.headers("supervisor")))
    assert {"department": "public_works", "disputed_closures": 1, "ratings": 1,
            "average_rating": 5.0} in feedback["departments"]


def test_stop_by_text_and_by_link(api, deployment, staff, outbox):
    from chalice.test import Client

    from app import app

    ana = _report(api, deployment)
    _post(api, f"{TOWN_BASE}/requests/{ana['id']}/followers", BEN)
    confirm_links(api, outbox.new_messages())
    route(deployment)
    notices(deployment)
    outbox.new_messages()
    with Client(app) as lambdas:
        reply = lambdas.lambda_.invoke("receive_sms", lambdas.events.generate_sns_event(
            message=json.dumps({"originationNumber": "+13125550200",
                                "destinationNumber": "+18005550311",
                                "messageBody": "stop"})))
        assert reply.payload == {"outcome": "stopped"}
    r = _post(api, f"/departments/public_works/requests/{ana['id']}/notes",
              {"text": "Crew scheduled for Monday", "public": True},
              staff.headers("department_worker", departments=("public_works",)))
    assert r.status_code == 200, r.body
    notices(deployment)
    sent = {m["to"]: m for m in outbox.new_messages()}
    assert "+13125550200" not in sent  # STOP: no more texts to that phone
    assert "Crew scheduled for Monday" in sent["ben@example.org"]["text"]

    link = re.search(r"(/towns/\S+/stop)\?key=(\S+)", sent["ben@example.org"]["text"])
    page = api.http.get(f"{link.group(1)}?key={link.group(2)}")
    assert page.status_code == 200 and b"<form" in page.body  # GET only asks
    assert body(api.http.get(f"{TOWN_BASE}/track/{ana['number']}"))["followers"] == 1
    done = api.http.post(f"{link.group(1)}?key={link.group(2)}", body=b"scope=request",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and b"no more messages" in done.body
    # The link stopped the address it was sent to; Ben's phone still follows (its texts
    # are stopped by his STOP, which only he could send).
    assert body(api.http.get(f"{TOWN_BASE}/track/{ana['number']}"))["followers"] == 1
    (ben,) = [f for f in deployment.container.requests.followers_of(
        "maplefalls.example", ana["id"]) if f.role == "follower"]
    assert (ben.email, ben.phone) == (None, "+13125550200")
    again = api.http.post(f"{link.group(1)}?key={link.group(2)}", body=b"scope=request",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.status_code == 404
    wrong = api.http.post(f"{link.group(1)}?key=guess", body=b"",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong.status_code == 404


def test_texts_wait_for_the_end_of_quiet_hours(api, deployment, staff, outbox):
    from chalice.test import Client

    from app import app

    # 02:30 in Maple Falls (America/Chicago): the e-mail goes, the text waits for 08:00.
    # (A receipt is not held back: whoever reported it is awake.)
    deployment.clock[0] = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    ana = _report(api, deployment)
    notices(deployment)
    confirm_links(api, outbox.new_messages())
    route(deployment)
    r = _post(api, f"/departments/public_works/requests/{ana['id']}/notes",
              {"text": "Crew scheduled for Monday", "public": True},
              staff.headers("department_worker", departments=("public_works",)))
    assert r.status_code == 200, r.body
    notices(deployment)
    assert [m["channel"] for m in outbox.new_messages()] == ["email"]
    with Client(app) as lambdas:
        tick = lambdas.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
        deployment.clock[0] = datetime(2026, 11, 21, 13, 59, tzinfo=UTC)  # 07:59
        assert lambdas.lambda_.invoke("release_quiet_hours_texts", tick).payload == \
            {"released": 0}
        deployment.clock[0] = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 08:00
        assert lambdas.lambda_.invoke("release_quiet_hours_texts", tick).payload == \
            {"released": 1}
        assert lambdas.lambda_.invoke("release_quiet_hours_texts", tick).payload == \
            {"released": 0}
    notices(deployment)
    assert [m["channel"] for m in outbox.new_messages()] == ["sms"]


def test_a_failed_send_is_retried_without_repeating_the_others(api, deployment, outbox):
    from chalicelib.adapters.messages import AwsMessenger
    from chalicelib.domain.errors import StorageUnavailable

    class FlakySms(AwsMessenger):
        fail = True

        def send(self, *, town_id, email, phone, subject, text):  # noqa: ANN001, ANN202
            if phone and self.fail:
                raise StorageUnavailable("SNS is down")
            super().send(town_id=town_id, email=email, phone=phone, subject=subject,
                         text=text)

    flaky = FlakySms(lambda: deployment.client("ses"), lambda: deployment.client("sns"),
                     "311@maplefalls.example")
    deployment.container.__dict__["outbox"] = flaky
    _report(api, deployment)
    (result,) = notices(deployment)
    assert len(result["batchItemFailures"]) == 1  # the batch comes back
    assert [m["channel"] for m in outbox.new_messages()] == ["email"]
    flaky.fail = False
    notices(deployment)
    assert [m["channel"] for m in outbox.new_messages()] == ["sms"]  # not the e-mail again


def test_five_hundred_followers_are_told_in_batches(api, deployment, staff, outbox):
    from chalicelib.domain.followers import FOLLOWER, Follower

    ana = _report(api, deployment, contact={})
    for n in range(120):  # neighbours who followed and confirmed their e-mail
        assert deployment.container.requests.follow("maplefalls.example", ana["id"], (
            Follower.make(FOLLOWER, deployment.clock[0], f"neighbour{n}@example.org", None,
                          None, confirmed=("email",))))
    route(deployment)
    _close(api, staff, ana["id"])
    notices(deployment)
    sent = outbox.new_messages()
    assert len(sent) == 120 and len({m["to"] for m in sent}) == 120


def test_staff_merge_a_duplicate_into_the_first_report(api, deployment, staff, outbox):
    first = _report(api, deployment)
    second = _report(api, deployment, contact=BEN)
    notices(deployment)
    confirm_links(api, outbox.new_messages())
    agent = staff.headers("agent")
    r = _post(api, f"/staff/requests/{second['id']}/merge",
              {"into": first["id"], "note": "Same hole"}, agent)
    assert r.status_code == 200, r.body
    assert body(r)["followers_moved"] == 1
    dup = body(api.http.get(f"{TOWN_BASE}/track/{second['number']}"))
    assert (dup["status"], dup["resolution"], dup["parent_service_request_id"]) == \
        ("closed", "duplicate", first["id"])
    assert dup["timeline"][-1]["summary"] == f"Closed: duplicate of {first['number']}"
    parent = body(api.http.get(f"{TOWN_BASE}/track/{first['number']}"))
    assert parent["followers"] == 1
    assert parent["timeline"][-1]["summary"] == f"Report {second['number']} merged into this one"
    (open311,) = body(api.http.get(f"{TOWN}/requests/{second['id']}.json?extensions=true"))
    assert open311["extended_attributes"]["parent_service_request_id"] == first["id"]
    # Merging again changes nothing; merging into a closed request or itself is refused.
    again = _post(api, f"/staff/requests/{second['id']}/merge", {"into": first["id"]}, agent)
    assert again.status_code == 200 and body(again)["followers_moved"] == 0
    assert _post(api, f"/staff/requests/{first['id']}/merge", {"into": second["id"]},
                 agent).status_code == 400
    assert _post(api, f"/staff/requests/{first['id']}/merge", {"into": first["id"]},
                 agent).status_code == 400
    # Ben is now told about the first report's closure.
    route(deployment)
    _close(api, staff, first["id"])
    notices(deployment)
    assert "ben@example.org" in {m["to"] for m in outbox.new_messages()}


def test_disputes_are_refused_when_they_should_be(api, deployment, staff, outbox):
    ana = _report(api, deployment, contact={"email": "ana@example.org"})
    route(deployment)
    path = f"{TOWN_BASE}/requests/{ana['number']}/dispute"
    assert _post(api, path, {"note": "x"}).status_code == 401
    session = _resident_session(api, deployment, outbox, "ana@example.org")
    assert _post(api, path, {"note": "Not fixed"}, session).status_code == 409  # open
    stranger = _resident_session(api, deployment, outbox, "eve@example.org")
    _close(api, staff, ana["id"])
    assert _post(api, path, {"note": "Not fixed"}, stranger).status_code == 403
    assert _post(api, path, {"note": ""}, session).status_code == 400
    assert _post(api, path, {"nope": 1}, session).status_code == 400
    deployment.clock[0] += timedelta(days=15)
    session = _resident_session(api, deployment, outbox, "ana@example.org")
    r = _post(api, path, {"note": "Not fixed"}, session)
    assert r.status_code == 409 and "14 days" in body(r)["error"]["message"]


def test_bad_input_is_a_clear_error(api, deployment, outbox):
    ana = _report(api, deployment)
    for number, status in (("nope", 400), ("ZZZZ-ZZZZ", 404), ("K7QD-3M2U", 400)):
        assert api.http.get(f"{TOWN_BASE}/track/{number}").status_code == status, number
    assert api.http.get("/towns/atlantis.example/track/ZZZZ-ZZZZ").status_code == 404
    follow = f"{TOWN_BASE}/requests/{ana['id']}/followers"
    for payload in ({}, {"email": "not-an-email"}, {"phone": "call me"},
                    {"email": "a@b.example", "extra": 1}, {"email": "a@b.example",
                                                           "language": "español"}):
        r = _post(api, follow, payload)
        assert r.status_code == 400, (payload, r.body)
    assert _post(api, f"{TOWN_BASE}/requests/ZZZZ-ZZZZ/followers",
                 {"email": "a@b.example"}).status_code == 404
    assert api.http.post(follow, body=b"{not json", headers=JSON).status_code == 400
    rate = f"{TOWN_BASE}/requests/{ana['id']}/rating"
    session = _resident_session(api, deployment, outbox, "ana@example.org")
    for payload in ({"score": 0}, {"score": 6}, {"score": "5"}, {}):
        assert _post(api, rate, payload, session).status_code == 400, payload
    assert _post(api, rate, {"score": 4}, session).status_code == 409  # not closed yet


def test_a_town_writes_its_own_messages(api, deployment, staff, outbox):
    admin = staff.headers("town_admin")
    bad = api.http.patch("/admin/town", headers=admin, body=json.dumps({"notices": {
        "templates": {"en": {"submitted": {"subject": "Hi $who", "text": "x"}}}}}).encode())
    assert bad.status_code == 400 and "$who" in bad.body.decode()
    bad = api.http.patch("/admin/town", headers=admin, body=json.dumps({"notices": {
        "quiet_hours": ["25:00", "08:00"]}}).encode())
    assert bad.status_code == 400
    r = api.http.patch("/admin/town", headers=admin, body=json.dumps({"notices": {
        "quiet_hours": None, "dispute_window_days": 7, "templates": {"en": {"submitted": {
            "subject": "Maple Falls got it", "text": "Thanks! $tracking_number"}}}}}).encode())
    assert r.status_code == 200, r.body
    assert body(r)["notices"]["dispute_window_days"] == 7
    deployment.container.towns.forget()  # not wait for the 60-second cache
    ana = _report(api, deployment, contact={"email": "ana@example.org"})
    notices(deployment)
    (mail,) = outbox.new_messages()
    assert mail["subject"] == "Maple Falls got it"
    assert mail["text"].startswith(f"Thanks! {ana['number']}")
    assert "/confirm/" in mail["text"]  # the receipt asks to prove the address
    confirm_links(api, [mail])
    route(deployment)
    _close(api, staff, ana["id"])
    notices(deployment)
    (mail,) = outbox.new_messages()
    assert "/stop?key=" in mail["text"]  # no template can drop the way out


def test_a_dispute_can_carry_a_photo(api, deployment, staff, outbox):
    import io

    from PIL import Image

    ana = _report(api, deployment, contact={"email": "ana@example.org"})
    route(deployment)
    _close(api, staff, ana["id"])
    session = _resident_session(api, deployment, outbox, "ana@example.org")
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "gray").save(picture, "JPEG")
    boundary = "town311boundary"
    payload = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
        "The patch sank again\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; "
        "filename=\"hole.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + \
        picture.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    r = api.http.post(f"{TOWN_BASE}/requests/{ana['number']}/dispute", body=payload,
                      headers={**session,
                               "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 201, r.body
    assert "(with a photo)" in body(r)["timeline"][-1]["summary"]
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    keys = [o["Key"] for o in deployment.client("s3").list_objects_v2(
        Bucket=bucket).get("Contents", [])]
    assert any(k.startswith("incoming/") and ana["id"] in k for k in keys)
