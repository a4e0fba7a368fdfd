"""Departments' channels without AWS: the message, its signature, backoff, and what the
webhook sender does with each answer."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.channels import SqsAssignmentChannels
from chalicelib.domain.addresses import Destination
from chalicelib.domain.catalogue import Department
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.schemas.delivery import RequestAssigned, WebhookDelivery
from chalicelib.services.delivery import (
    DeliveryFailed,
    WebhookDestinations,
    WebhookPorts,
    backoff_seconds,
    deliver_webhook,
    signature,
    webhook_headers,
)
from chalicelib.services.towns import seed_demo_town
from tests.fakes import PUBLIC, FakePoster, FakeResolver, FakeTownDirectory

NOW = datetime(2026, 11, 20, 15, 30, 12, 345678, tzinfo=UTC)
TOWN = "maplefalls.example"
SECRET = "whsec_unit-test-secret"
WORKS = Department("public_works", "Public Works — Streets", queue=True,
                   webhook_url="https://works.example/hook", webhook_secret=SECRET)


def _request() -> ServiceRequest:
    return ServiceRequest(
        town_id=TOWN, request_id="01JREQUEST", token_hash="tok", service_code="pothole",
        service_name="Pothole", requested_at=datetime(2026, 11, 20, 9, 5, 7, tzinfo=UTC),
        updated_at=NOW, place=Place(lat=41.8781, long=-87.6298, address="12 Elm St"),
        description="Deep hole", answers={"size": "large", "where": ["lane", "kerb"]},
        reporter=Reporter(email="ana@example.org", phone="+15555550123", first_name="Ana",
                          last_name="Reyes", device_id="device-1", account_id="acct-1"),
        media_url="photos/maplefalls.example/01JREQUEST/p1.jpg", department="public_works")


def _event() -> TimelineEvent:
    return TimelineEvent(at=NOW, event_id="01JEVENT", kind="routed", summary="Sent")


def _assignment() -> RequestAssigned:
    return RequestAssigned.of(TOWN, WORKS, _request(), _event(), root="https://311.example")


# --- the message ----------------------------------------------------------------------------


def test_the_message_is_version_1_of_the_documented_shape():
    document = json.loads(_assignment().body())

    assert document == {
        "schema_version": 1,
        "delivery_id": "01JEVENT",
        "event": "assigned",
        "town": {"jurisdiction_id": TOWN},
        "department": {"code": "public_works", "name": "Public Works — Streets"},
        "service_request": {
            "service_request_id": "01JREQUEST", "service_code": "pothole",
            "service_name": "Pothole", "description": "Deep hole", "status": "open",
            "lat": 41.8781, "long": -87.6298, "address": "12 Elm St", "address_id": None,
            "requested_datetime": "2026-11-20T09:05:07Z",
            "attributes": {"size": "large", "where": ["lane", "kerb"]},
            "media_url": "https://311.example/photos/maplefalls.example/01JREQUEST/p1.jpg",
            "agency_responsible": "Public Works — Streets",
        },
        "assigned_at": "2026-11-20T15:30:12Z",
        "links": {"open311": f"/towns/{TOWN}/open311/v2/requests/01JREQUEST.json",
                  "staff": "/staff/requests/01JREQUEST"},
    }


def test_the_message_never_carries_the_reporter():
    text = _assignment().body().decode()

    for private in ("ana@example.org", "+15555550123", "Ana", "Reyes", "device-1", "acct-1"):
        assert private not in text


def test_the_json_schema_requires_every_field_and_fixes_the_version():
    schema = RequestAssigned.model_json_schema()

    assert schema["properties"]["schema_version"]["const"] == 1
    assert set(schema["required"]) == {"delivery_id", "town", "department", "service_request",
                                       "assigned_at", "links"}
    request = schema["$defs"]["AssignedServiceRequest"]
    assert set(request["required"]) == set(request["properties"])
    assert not {"email", "phone", "first_name", "last_name"} & set(request["properties"])


def test_the_message_reads_back_as_it_was_written():
    assignment = _assignment()

    assert RequestAssigned.model_validate_json(assignment.body()) == assignment
    queued = WebhookDelivery(town_id=TOWN, department="public_works", assignment=assignment)
    assert WebhookDelivery.model_validate_json(queued.model_dump_json()).assignment.body() \
        == assignment.body()


# --- department queues ------------------------------------------------------------------------


class RecordingSqs:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, operation: str):  # noqa: ANN204
        def call(**params):  # noqa: ANN003, ANN202
            self.calls.append((operation, params))
            return {"QueueUrl": f"https://sqs.example/{params.get('QueueName', 'q')}"}

        return call


def test_queue_names_are_deterministic_per_town_and_department_and_fit_sqs():
    channels = SqsAssignmentChannels(RecordingSqs, "town311-prod", "https://sqs.example/w")
    digest = hashlib.sha1(f"{TOWN}:public_works".encode()).hexdigest()[:16]

    assert channels.queue_name_for(TOWN, "public_works") == f"town311-prod-dept-{digest}"
    assert channels.queue_name_for(TOWN, "water") != channels.queue_name_for(TOWN, "public_works")
    assert channels.queue_name_for("riverton.example", "public_works") != \
        channels.queue_name_for(TOWN, "public_works")
    assert len(SqsAssignmentChannels(RecordingSqs, "x" * 58, "u").queue_name_for(
        "t" * 100, "d" * 100)) <= 80


def test_one_send_per_channel_and_nothing_for_a_department_without_channels():
    sqs = RecordingSqs()
    channels = SqsAssignmentChannels(lambda: sqs, "town311-prod", "https://sqs.example/webhooks")

    channels.deliver(TOWN, Department("parks", "Parks"), _request(), _event())
    assert sqs.calls == []

    channels.deliver(TOWN, WORKS, _request(), _event())
    sends = [params for operation, params in sqs.calls if operation == "send_message"]
    assert [s["QueueUrl"] for s in sends] == [
        f"https://sqs.example/{channels.queue_name_for(TOWN, 'public_works')}",
        "https://sqs.example/webhooks"]
    assert sends[0]["MessageBody"] == RequestAssigned.of(
        TOWN, WORKS, _request(), _event()).body().decode()
    queued = json.loads(sends[1]["MessageBody"])
    assert (queued["version"], queued["town_id"], queued["department"]) == (
        1, TOWN, "public_works")
    assert SECRET not in sends[1]["MessageBody"]  # read from the catalogue when sending

    channels.deliver(TOWN, WORKS, _request(), _event())
    assert [op for op, _ in sqs.calls].count("get_queue_url") == 1  # the URL is remembered


# --- signing and backoff ----------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"schema_version":1}'

    expected = hmac.new(SECRET.encode(), b"1795260612." + body, hashlib.sha256).hexdigest()

    assert signature(SECRET, 1795260612, body) == f"sha256={expected}"
    assert signature(SECRET, 1795260613, body) != signature(SECRET, 1795260612, body)
    assert signature("whsec_other", 1795260612, body) != signature(SECRET, 1795260612, body)


def test_the_headers_name_the_delivery_and_the_timestamp_they_sign():
    headers = webhook_headers(SECRET, 1795260612, b"{}", "01JEVENT")

    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": "Town311-Webhooks/1",
        "X-Town311-Delivery": "01JEVENT",
        "X-Town311-Timestamp": "1795260612",
        "X-Town311-Signature": signature(SECRET, 1795260612, b"{}"),
    }


@pytest.mark.parametrize("receive_count, seconds", [
    (0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 900), (40, 900)])
def test_retries_back_off_exponentially_up_to_15_minutes(receive_count, seconds):
    assert backoff_seconds(receive_count) == seconds


# --- the webhook sender -----------------------------------------------------------------------


def _sender(poster: FakePoster, department: Department | None = WORKS,
            resolver: FakeResolver | None = None) -> WebhookPorts:
    towns = FakeTownDirectory()
    demo = seed_demo_town(towns, api_key="secret-key-for-tests")
    if department is not None:
        towns.save_department(demo.town.town_id, department, demo.town.changeset)
    return WebhookPorts(towns=towns, poster=poster, now=lambda: NOW,
                        destinations=WebhookDestinations(resolver or FakeResolver()))


def _queued() -> WebhookDelivery:
    return WebhookDelivery(town_id=TOWN, department="public_works", assignment=_assignment())


def test_a_2xx_answer_is_a_delivery_signed_with_the_current_secret():
    poster = FakePoster(204)
    rotated = Department("public_works", "Public Works — Streets",
                         webhook_url="https://new.example/hook", webhook_secret="whsec_new")

    assert deliver_webhook(_queued(), 1, _sender(poster, rotated)) is True

    ((destination, body, headers),) = poster.posts
    assert destination == Destination("https", "new.example", 443, "/hook", (PUBLIC,))
    assert body == _assignment().body()
    timestamp = int(NOW.timestamp())
    assert headers == webhook_headers("whsec_new", timestamp, body, "01JEVENT")


@pytest.mark.parametrize("answer", [500, 404, 302, 429, None])
def test_anything_else_fails_with_the_backoff_of_this_try(answer):
    with pytest.raises(DeliveryFailed) as failed:
        deliver_webhook(_queued(), 4, _sender(FakePoster(answer)))

    assert failed.value.retry_after_seconds == 240


def test_a_department_whose_webhook_is_gone_is_not_retried():
    poster = FakePoster()
    without = Department("public_works", "Public Works — Streets", queue=True)

    assert deliver_webhook(_queued(), 1, _sender(poster, without)) is False
    assert deliver_webhook(_queued().model_copy(update={"town_id": "gone.example"}), 1,
                           _sender(poster)) is False
    assert poster.posts == []


# --- where a webhook may go -------------------------------------------------------------------


def test_each_try_resolves_the_host_again_and_posts_to_the_addresses_it_checked():
    resolver = FakeResolver("2606:4700::1111", PUBLIC)
    poster = FakePoster(200)

    assert deliver_webhook(_queued(), 1, _sender(poster, resolver=resolver)) is True

    assert resolver.asked == [("works.example", 443)]
    ((destination, _, _),) = poster.posts
    assert destination.addresses == ("2606:4700::1111", PUBLIC)


@pytest.mark.parametrize("answers", [
    ["169.254.169.254"], ["127.0.0.1"], ["10.0.0.8"], [PUBLIC, "fd00:ec2::254"],
    ["::ffff:169.254.169.254"]])
def test_a_host_that_now_resolves_inside_is_dropped_without_a_post(answers, caplog):
    # Saved when it resolved to a public address; the name now points inside (rebinding).
    poster = FakePoster()

    with caplog.at_level("ERROR", logger="chalicelib.services.delivery"):
        assert deliver_webhook(_queued(), 1, _sender(poster, resolver=FakeResolver(
            *answers))) is False

    assert poster.posts == []
    (entry,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert entry.getMessage() == "webhook destination refused; dropped, not retried"
    assert entry.delivery_id == "01JEVENT" and "works.example resolves to" in entry.reason


def test_a_stored_url_that_is_no_longer_acceptable_is_dropped_too():
    # Saved before the check existed (or by hand): the delivery checks it anyway.
    poster = FakePoster()
    inside = Department("public_works", "Public Works — Streets",
                        webhook_url="https://169.254.169.254/latest/meta-data/",
                        webhook_secret=SECRET)

    assert deliver_webhook(_queued(), 1, _sender(poster, inside, FakeResolver(
        "169.254.169.254"))) is False
    assert poster.posts == []


def test_a_host_that_does_not_resolve_is_retried_with_backoff():
    poster = FakePoster()
    nowhere = FakeResolver()
    nowhere.answers = []

    with pytest.raises(DeliveryFailed) as failed:
        deliver_webhook(_queued(), 2, _sender(poster, resolver=nowhere))

    assert failed.value.retry_after_seconds == 60
    assert poster.posts == []
