"""E-mail intake (issue 18): a resident's e-mail, stored by SES under inbound-mail/, becomes
a draft request in triage through the receive_mail function, with its photos and an answer
to the sender; bad mail is refused (recorded, never answered when answering could reach a
stranger or start a loop), and staff confirm a draft through the staff API."""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from email import policy
from email.message import EmailMessage

import pytest
from PIL import Image

from tests.functional.helpers import TOWN, body

DOMAIN = "reports.town311.test"
TO = f"maplefalls.example@{DOMAIN}"
SENDER = "rosa.alvarez@example.org"
PASSED = ("amazonses.com; spf=pass (spfCheck: domain of example.org designates 192.0.2.25 "
          "as permitted sender) smtp.mailfrom=example.org; dkim=pass header.i=@example.org; "
          "dmarc=pass header.from=example.org;")


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 60, 20)).save(out, "JPEG")
    return out.getvalue()


def _mail(text: str = "There is a deep pothole outside 112 Oak St, by the curb.",
          *, subject: str = "Pothole on Oak Street", sender: str = SENDER, to: str = TO,
          auth: str | None = PASSED, virus: str = "PASS", message_id: str | None = None,
          attachments: tuple[tuple[str, bytes, str], ...] = (),
          headers: dict[str, str] | None = None) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = virus
    if auth is not None:
        message["Authentication-Results"] = auth
    for name, value in (headers or {}).items():
        message[name] = value
    message["From"] = f"Rosa Alvarez <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@example.org>"
    message.set_content(text)
    for filename, content, kind in attachments:
        main, sub = kind.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


@pytest.fixture
def mailroom(deployment):
    """Maple Falls receiving mail on DOMAIN, with its demo gazetteer (Oak St & co.)."""
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    c = deployment.container
    c.settings = dataclasses.replace(c.settings, mail_intake_domain=DOMAIN)
    seed_demo_gazetteer(c.gazetteer_store, "maplefalls.example", c.now())
    return deployment


def _deliver(deployment, raw: bytes) -> tuple[dict, str]:
    """Store ``raw`` as SES would and invoke receive_mail with its S3 event."""
    from chalice.test import Client

    from app import app

    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    key = f"inbound-mail/{uuid.uuid4().hex}"
    deployment.client("s3").put_object(Bucket=bucket, Key=key, Body=raw)
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    with Client(app) as lambdas:
        return lambdas.lambda_.invoke("receive_mail", event).payload, key


def _objects(deployment, prefix: str) -> list[str]:
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    found = deployment.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in found.get("Contents", [])]


def _sent(deployment) -> list[dict]:
    return deployment.container.outbox.sent


def _email_requests(api, staff) -> list[dict]:
    r = api.http.get("/staff/requests?channel=email", headers=staff.headers("town_admin"))
    assert r.status_code == 200, r.body
    return body(r)["requests"]


def _staff_view(api, staff, rid) -> dict:
    return body(api.http.get(f"/staff/requests/{rid}", headers=staff.headers("town_admin")))


def _process_photos(deployment, rid) -> dict:
    from chalice.test import Client

    from app import app

    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    keys = [k for k in _objects(deployment, "incoming/") if rid in k]
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": k}}}
                         for k in keys]}
    with Client(app) as lambdas:
        return lambdas.lambda_.invoke("process_photo", event).payload


def _route(deployment, rid) -> str | None:
    from chalicelib.services.routing import route_request

    return route_request("maplefalls.example", rid, deployment.container.routing_ports)


def _refusals(deployment) -> dict[str, int]:
    totals = deployment.container.limits.totals("maplefalls.example", "refused#")
    return {name.rsplit("#", 2)[-2] + "/" + name.rsplit("#", 1)[-1]: n
            for name, n in totals.items()}


# --- a good mail ------------------------------------------------------------------------------


def test_a_mail_with_a_photo_becomes_a_triage_draft_with_its_photo_and_a_reply(
        api, staff, mailroom):
    outcome, key = _deliver(mailroom, _mail(attachments=(("hole.jpg", _jpeg(),
                                                          "image/jpeg"),)))

    assert outcome == {"drafted": 1}
    assert _objects(mailroom, key) == []  # handled: the raw message is gone
    (listed,) = _email_requests(api, staff)
    rid = listed["service_request_id"]
    seen = _staff_view(api, staff, rid)
    assert seen["extended_attributes"]["channel"] == "email"
    assert seen["extended_attributes"]["needs_confirmation"] is True
    assert seen["service_code"] == "pothole"
    assert seen["address"] == "112 Oak St" and seen["lat"] is not None
    assert seen["reporter"]["email"] == SENDER
    assert seen["intake_guess"]["services"][0] == "pothole"
    assert seen["intake_guess"]["place_label"] == "112 Oak St"
    assert "deep pothole outside 112 Oak St" in seen["description"]
    # The router sends a draft to triage, whatever its guessed service.
    assert _route(mailroom, rid) == "triage"
    # Its photo went where uploads go, and the photo worker adds it.
    assert _process_photos(mailroom, rid) == {"published": 1}
    assert len(_staff_view(api, staff, rid)["photos"]) == 1
    # The sender hears the tracking number, what was understood, and that staff confirm.
    (reply,) = _sent(mailroom)
    number = seen["extended_attributes"]["tracking_number"]
    assert reply["email"] == SENDER and number in reply["subject"] and number in reply["text"]
    assert "Pothole, at 112 Oak St" in reply["text"]
    assert "staff will check the service and the place" in reply["text"]
    assert "could not take" not in reply["text"]
    # The reporter follows it, proved (their e-mail was verified): later notices reach them.
    followers = mailroom.container.requests.followers_of("maplefalls.example", rid)
    assert [f.confirmed for f in followers] == [("email",)]


def test_the_public_sees_a_draft_flagged_and_no_invented_place(api, mailroom):
    outcome, _ = _deliver(mailroom, _mail("The streetlight is out, it is very dark.",
                                          subject="Light out"))
    assert outcome == {"drafted": 1}
    (reply,) = _sent(mailroom)
    assert "no place we could find" in reply["text"]
    number = reply["subject"].rsplit("(", 1)[1].rstrip(")")
    found = api.http.get(f"/towns/maplefalls.example/track/{number}")
    assert found.status_code == 200
    rid = [r for r in mailroom.container.requests.find(
        "maplefalls.example", _recent()).items][0].request_id
    (doc,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    # No point at all: nothing puts it on a map as if its place were known.
    assert doc["lat"] is None and doc["long"] is None
    assert doc["address"] == "Location not given"
    assert doc["extended_attributes"]["needs_confirmation"] is True
    assert doc["service_code"] == "streetlight_out"


def _recent():
    from datetime import UTC, datetime

    from chalicelib.domain.queries import RequestQuery

    return RequestQuery(start=datetime(2026, 1, 1, tzinfo=UTC),
                        end=datetime(2027, 1, 1, tzinfo=UTC), page_size=50)


def test_a_spanish_mail_is_answered_in_spanish(mailroom):
    outcome, _ = _deliver(mailroom, _mail("Hay un bache enorme en la calle, en 204 Elm St.",
                                          subject="Bache"))
    assert outcome == {"drafted": 1}
    (reply,) = _sent(mailroom)
    assert reply["subject"].startswith("Maple Falls: recibimos su correo")
    # The service as the Spanish report pages name it; the draft keeps the catalogue's.
    assert "Lo que entendimos: Bache, en 204 Elm St." in reply["text"]
    assert "Pothole" not in reply["text"]

# --- attachments ------------------------------------------------------------------------------


def test_a_30_mb_attachment_and_an_executable_are_refused_and_named_in_the_reply(
        api, staff, mailroom):
    huge = b"\xff\xd8\xff\xe0" + bytes(30 * 1024 * 1024)
    exe = b"MZ\x90\x00" + bytes(4000)
    outcome, _ = _deliver(mailroom, _mail(attachments=(
        ("big.jpg", huge, "image/jpeg"), ("setup.exe", exe, "application/octet-stream"),
        ("photo.jpg", exe, "image/jpeg"),  # an executable named as a photo
        ("hole.jpg", _jpeg(), "image/jpeg"))))

    assert outcome == {"drafted": 1}
    (reply,) = _sent(mailroom)
    assert "We could not take these attachments:" in reply["text"]
    assert "- big.jpg: too large (at most 12 MB)" in reply["text"]
    assert "- setup.exe: not a photo" in reply["text"]
    assert "- photo.jpg: not a photo" in reply["text"]
    assert "hole.jpg" not in reply["text"]
    (listed,) = _email_requests(api, staff)
    uploads = [k for k in _objects(mailroom, "incoming/")
               if listed["service_request_id"] in k]
    assert len(uploads) == 1  # only the real photo


def test_photos_beyond_the_towns_limit_are_listed(mailroom):
    photos = tuple((f"p{n}.jpg", _jpeg(), "image/jpeg") for n in range(7))
    outcome, _ = _deliver(mailroom, _mail(attachments=photos))
    assert outcome == {"drafted": 1}
    (reply,) = _sent(mailroom)
    assert "- p5.jpg: more than 5 photos" in reply["text"]
    assert "- p6.jpg: more than 5 photos" in reply["text"]
    assert len(_objects(mailroom, "incoming/")) == 5


# --- refused mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(("auth", "virus", "reason"), [
    (PASSED.replace("dmarc=pass", "dmarc=fail"), "PASS", "dmarc_failed"),
    ("amazonses.com; spf=fail smtp.mailfrom=example.org; dkim=fail; dmarc=none;", "PASS",
     "spf_and_dkim_failed"),
    (None, "PASS", "unverified"),
    (PASSED, "FAIL", "virus"),
])
def test_a_spoofed_or_infected_sender_is_refused_and_never_answered(api, staff, mailroom,
                                                                     auth, virus, reason):
    outcome, key = _deliver(mailroom, _mail(auth=auth, virus=virus))

    assert outcome == {"refused": 1}
    assert _sent(mailroom) == []  # answering a forged sender is backscatter
    assert _email_requests(api, staff) == []
    assert _refusals(mailroom) == {f"email/{reason}": 1}
    assert _objects(mailroom, key) == []


def test_a_forged_pass_below_sess_own_failing_verdict_does_not_count(mailroom):
    # The sender may write any header; SES's own verdict is the topmost one naming it.
    raw = _mail(auth=PASSED.replace("dmarc=pass", "dmarc=fail"))
    raw = raw.replace(b"From:", b"Authentication-Results: " + PASSED.encode() + b"\r\nFrom:", 1)
    outcome, _ = _deliver(mailroom, raw)
    assert outcome == {"refused": 1}
    assert _sent(mailroom) == []


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"Return-Path": "<>"},
    {"List-Id": "<neighbours.example.org>"},
])
def test_auto_replies_bounces_and_lists_are_not_answered(api, staff, mailroom, headers):
    outcome, _ = _deliver(mailroom, _mail(headers=headers))
    assert outcome == {"automatic": 1}
    assert _sent(mailroom) == []
    assert _email_requests(api, staff) == []


def test_a_mailer_daemons_bounce_is_not_answered(mailroom):
    outcome, _ = _deliver(mailroom, _mail(sender="MAILER-DAEMON@example.org"))
    assert outcome == {"automatic": 1}
    assert _sent(mailroom) == []


def test_mail_to_no_towns_address_is_refused_without_an_answer(api, staff, mailroom):
    for to in (f"nosuchtown.example@{DOMAIN}", "maplefalls.example@elsewhere.example"):
        outcome, _ = _deliver(mailroom, _mail(to=to))
        assert outcome == {"unknown_recipient": 1}
    assert _sent(mailroom) == []
    assert _email_requests(api, staff) == []


def test_a_towns_own_address_reaches_it(api, staff, mailroom):
    from chalicelib.services.mail_intake import set_intake_address

    town = mailroom.container.town_store.get_town("maplefalls.example")
    set_intake_address(mailroom.container.mail_ports, staff_principal("town_admin"),
                       f"potholes@{DOMAIN}")
    assert mailroom.container.town_store.get_town("maplefalls.example").intake_email == \
        f"potholes@{DOMAIN}"
    assert town is not None
    mailroom.container.town_changed("maplefalls.example")
    outcome, _ = _deliver(mailroom, _mail(to=f"Potholes <potholes@{DOMAIN}>"))
    assert outcome == {"drafted": 1}


def staff_principal(*roles: str, town: str = "maplefalls.example"):
    from chalicelib.domain.access import Principal, Role

    return Principal(subject="sub-test", town_id=town,
                     roles=frozenset(Role(r) for r in roles), email="admin@maplefalls.example")


def test_a_flood_from_one_sender_is_cut_at_ten_an_hour(mailroom):
    outcomes = [_deliver(mailroom, _mail(f"Pothole number {n} at 112 Oak St"))[0]
                for n in range(11)]
    assert outcomes == [{"drafted": 1}] * 10 + [{"flooded": 1}]
    assert len(_sent(mailroom)) == 10
    assert _refusals(mailroom) == {"email/flood": 1}
    # Another sender is not held back by the first one's flood.
    assert _deliver(mailroom, _mail(sender="neighbour@example.org"))[0] == {"drafted": 1}


def test_many_senders_together_are_cut_at_the_towns_hourly_budget(mailroom):
    town = mailroom.container.town_store.get_town("maplefalls.example")
    mailroom.container.town_store.save_town(dataclasses.replace(
        town, anonymous_messages_per_hour=2))
    mailroom.container.town_changed("maplefalls.example")
    outcomes = [_deliver(mailroom, _mail(sender=f"n{n}@example.org"))[0] for n in range(3)]
    assert outcomes == [{"drafted": 1}, {"drafted": 1}, {"flooded": 1}]
    assert _refusals(mailroom) == {"email/town_flood": 1}


def test_unreadable_bytes_are_skipped_and_kept_never_retried(mailroom):
    outcome, key = _deliver(mailroom, b"\x00\x01\x02 not a message \xff" * 20)
    assert outcome == {"unreadable": 1}
    assert _objects(mailroom, key) == [key]  # kept for the bucket's lifecycle (7 days)
    assert _sent(mailroom) == []


def test_a_message_already_handled_is_ignored(mailroom):
    from chalicelib.services.mail_intake import receive_mail

    assert receive_mail("inbound-mail/gone", mailroom.container.mail_ports) == "ignored"


# --- redelivery ---------------------------------------------------------------------------------


def test_the_same_mail_delivered_twice_makes_one_request_one_reply_and_one_photo(
        api, staff, mailroom):
    raw = _mail(message_id="<same-one@example.org>",
                attachments=(("hole.jpg", _jpeg(), "image/jpeg"),))
    first, _ = _deliver(mailroom, raw)
    second, _ = _deliver(mailroom, raw)

    assert (first, second) == ({"drafted": 1}, {"duplicate": 1})
    (listed,) = _email_requests(api, staff)
    assert len(_sent(mailroom)) == 1
    rid = listed["service_request_id"]
    assert _process_photos(mailroom, rid) == {"published": 1}
    assert len(_staff_view(api, staff, rid)["photos"]) == 1


# --- staff confirm the draft (the JSON API) -------------------------------------------------------


@pytest.fixture
def draft(api, staff, mailroom) -> str:
    outcome, _ = _deliver(mailroom, _mail("Something is wrong near the park.",
                                          subject="Problem"))
    assert outcome == {"drafted": 1}
    (listed,) = _email_requests(api, staff)
    rid = listed["service_request_id"]
    assert _route(mailroom, rid) == "triage"
    return rid


def _confirm(api, headers, rid, payload):
    return api.http.post(f"/staff/requests/{rid}/confirm", headers=headers,
                         body=json.dumps(payload).encode())


def test_triage_confirms_a_draft_and_the_rules_route_it(api, staff, mailroom, draft):
    triage = staff.headers("department_worker", departments=("triage",))
    r = _confirm(api, triage, draft, {"service_code": "pothole", "lat": 44.97871,
                                      "long": -93.26732, "address_string": "112 Oak St"})
    assert r.status_code == 200, r.body
    doc = body(r)
    assert doc["extended_attributes"]["needs_confirmation"] is False
    assert doc["service_code"] == "pothole" and doc["address"] == "112 Oak St"
    assert doc["department"] == "public_works"  # the pack's pothole department
    kinds = [e["kind"] for e in doc["timeline"]]
    assert kinds[-2:] == ["confirmed", "routed"]
    audit = body(api.http.get("/admin/audit", headers=staff.headers("town_admin")))
    assert any(e["action"] == "request.confirmed" and e["target"] == draft
               for e in audit["entries"])
    # Confirmed once: a second confirmation is refused, and changes nothing.
    again = _confirm(api, staff.headers("town_admin"), draft,
                     {"service_code": "graffiti", "lat": 44.97, "long": -93.26})
    assert again.status_code in (404, 409)
    assert _staff_view(api, staff, draft)["service_code"] == "pothole"


@pytest.mark.parametrize(("payload", "fields"), [
    ({"service_code": "nosuch", "lat": 44.97, "long": -93.26}, {"service_code"}),
    ({"service_code": "pothole"}, {"place"}),
    ({"service_code": "nosuch"}, {"service_code", "place"}),
    ({"service_code": "pothole", "lat": 91, "long": -93.26}, {"lat"}),
    ({"service_code": "pothole", "lat": 44.9, "long": -93.2, "extra": 1}, {"extra"}),
])
def test_a_bad_confirmation_is_a_400_naming_each_problem(api, staff, draft, payload, fields):
    r = _confirm(api, staff.headers("supervisor"), draft, payload)
    assert r.status_code == 400, r.body
    named = {p["field"] for p in body(r)["error"]["problems"]}
    assert named == fields
    assert _staff_view(api, staff, draft)["extended_attributes"]["needs_confirmation"] is True


def test_only_who_works_triage_may_confirm(api, staff, draft):
    payload = {"service_code": "pothole", "lat": 44.97, "long": -93.26}
    assert _confirm(api, staff.headers("agent"), draft, payload).status_code == 403
    water = staff.headers("department_worker", departments=("water",))
    assert _confirm(api, water, draft, payload).status_code == 403
    riverton = staff.headers("supervisor", town="riverton.example")
    assert _confirm(api, riverton, draft, payload).status_code == 404


def test_the_mails_words_stay_with_staff_until_a_person_confirms_what_the_public_reads(
        api, staff, mailroom):
    words = ("There is a deep pothole outside 112 Oak St.\n\nRosa Alvarez\n"
             "Cell 312-555-0147, 14 Elm Court")
    outcome, _ = _deliver(mailroom, _mail(words, subject="Pothole"))
    assert outcome == {"drafted": 1}
    rid = [r for r in mailroom.container.requests.find(
        "maplefalls.example", _recent()).items][0].request_id
    public = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))[0]
    assert public["description"] is None  # the mail, signature and all, is not public
    listed = body(api.http.get(f"{TOWN}/requests.json?extensions=true"))
    assert all(d["description"] is None for d in listed if d["service_request_id"] == rid)
    assert "312-555-0147" in _staff_view(api, staff, rid)["description"]
    assert _route(mailroom, rid) == "triage"
    triage = staff.headers("department_worker", departments=("triage",))
    r = _confirm(api, triage, rid, {"service_code": "pothole", "lat": 44.97871,
                                    "long": -93.26732, "address_string": "112 Oak St",
                                    "description": "Deep pothole by the curb."})
    assert r.status_code == 200, r.body
    public = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))[0]
    assert public["description"] == "Deep pothole by the curb."
    assert "312-555-0147" not in json.dumps(public)


def test_confirming_without_a_new_description_publishes_the_mails_words(api, staff, draft):
    triage = staff.headers("department_worker", departments=("triage",))
    r = _confirm(api, triage, draft, {"service_code": "pothole", "lat": 44.97871,
                                      "long": -93.26732})
    assert r.status_code == 200, r.body
    public = body(api.http.get(f"{TOWN}/requests/{draft}.json"))[0]
    assert public["description"] and "near the park" in public["description"]


def test_a_later_town_named_like_another_towns_address_does_not_get_its_mail(api, staff,
                                                                              mailroom):
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.services.mail_intake import set_intake_address

    c = mailroom.container
    set_intake_address(c.mail_ports, staff_principal("town_admin"), f"potholes@{DOMAIN}")
    c.town_changed("maplefalls.example")
    maple = c.town_store.get_town("maplefalls.example")
    c.town_store.create_town(dataclasses.replace(maple, town_id="potholes", name="Potholes",
                                                 intake_email=None, sms_number=None,
                                                 web_domain=None),
                             Catalogue(services=()))
    outcome, _ = _deliver(mailroom, _mail(to=f"potholes@{DOMAIN}"))
    assert outcome == {"drafted": 1}
    (made,) = c.requests.find("maplefalls.example", _recent()).items
    assert made.channel == "email"
    assert c.requests.find("potholes", _recent()).items == []
