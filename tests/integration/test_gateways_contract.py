"""The gateways: queues, topics, the photo bucket, messages, idempotency, staff sign-in,
tokens and webhooks. Each contract runs on the fake and on the AWS adapter (on moto), or,
for the two that are not AWS (webhook POSTs and name lookups), on the standard library's
HTTP client against a server on this machine and on the system's resolver. A fixture gives
the port and a way to read back what reached the other side."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.addresses import Destination
from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import Conflict, Unauthenticated
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import StaffMember
from tests.fakes import (
    FakeAssignmentChannels,
    FakeEscalationTopics,
    FakeIdempotency,
    FakeIdentity,
    FakeMessenger,
    FakeNoticeQueue,
    FakePhotoStorage,
    FakePoster,
    FakeResolver,
    FakeRoutingQueue,
    FakeTokenVerifier,
)

TOWN, OTHER = "maplefalls.example", "riverton.example"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"  # moto's


def _drain(sqs, url: str) -> list[str]:  # noqa: ANN001 - a boto3 SQS client
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# --- queues -----------------------------------------------------------------------------------


class NoticeQueueContract:
    @pytest.fixture
    def queue(self):
        """(NoticeQueue, read back every body sent)"""
        raise NotImplementedError

    def test_every_body_arrives_however_many_are_sent_at_once(self, queue):
        notices, read = queue
        bodies = [json.dumps({"n": n}) for n in range(23)]
        notices.send(bodies)
        notices.send([])
        assert sorted(read()) == sorted(bodies)


class TestFakeNoticeQueue(NoticeQueueContract):
    @pytest.fixture
    def queue(self):
        fake = FakeNoticeQueue()
        return fake, lambda: list(fake.sent)


class TestSqsNoticeQueue(NoticeQueueContract):
    @pytest.fixture
    def queue(self, deployment):
        c = deployment.container
        return c.notice_queue, lambda: _drain(deployment.client("sqs"),
                                              c.settings.notice_queue_url)


class RoutingQueueContract:
    @pytest.fixture
    def queue(self):
        """(RoutingQueue, read back (town, request) of each message)"""
        raise NotImplementedError

    def test_each_new_request_is_asked_for_once(self, queue):
        routing, read = queue
        routing.request_submitted(TOWN, "R1")
        routing.request_submitted(OTHER, "R1")
        assert sorted(read()) == [(TOWN, "R1"), (OTHER, "R1")]


class TestFakeRoutingQueue(RoutingQueueContract):
    @pytest.fixture
    def queue(self):
        fake = FakeRoutingQueue()
        return fake, lambda: list(fake.sent)


class TestSqsRoutingQueue(RoutingQueueContract):
    @pytest.fixture
    def queue(self, deployment):
        c = deployment.container

        def read() -> list[tuple[str, str]]:
            bodies = _drain(deployment.client("sqs"), c.settings.routing_queue_url)
            return [(b["town_id"], b["service_request_id"]) for b in map(json.loads, bodies)]

        return c.routing_queue, read


def _request() -> tuple[ServiceRequest, TimelineEvent]:
    event = TimelineEvent(at=T0, event_id="E1", kind="assigned", summary="Assigned")
    return ServiceRequest(
        town_id=TOWN, request_id="R1", token_hash="T1", service_code="pothole",
        service_name="Pothole", requested_at=T0, updated_at=T0,
        place=Place(lat=41.88, long=-87.63, address="1 Main St"), department="works",
        timeline=[event]), event


class AssignmentChannelsContract:
    @pytest.fixture
    def channels(self):
        """(AssignmentChannels, read back (channel, department, request) delivered)"""
        raise NotImplementedError

    def test_a_department_queue_has_one_name_per_town_and_department(self, channels):
        port, _ = channels
        name = port.queue_name_for(TOWN, "works")
        assert name == port.queue_name_for(TOWN, "works") and len(name) <= 80
        assert name != port.queue_name_for(OTHER, "works")
        assert name != port.queue_name_for(TOWN, "parks")
        assert port.queue_url_for(TOWN, "works") == port.queue_url_for(TOWN, "works")
        assert port.queue_url_for(TOWN, "works").endswith(name)

    def test_each_channel_of_the_department_gets_the_assignment_once(self, channels):
        port, read = channels
        request, event = _request()
        port.deliver(TOWN, Department("works", "Works", queue=True,
                                      webhook_url="https://hooks.example/in"), request, event)
        port.deliver(TOWN, Department("parks", "Parks"), request, event)  # console only
        assert sorted(read()) == [("queue", "works", "R1"), ("webhook", "works", "R1")]

    def test_a_document_goes_on_the_chosen_channels_the_department_has(self, channels):
        from chalicelib.schemas.delivery import RequestAssigned

        port, read = channels
        works = Department("works", "Works", queue=True, webhook_url="https://hooks.example/in")
        test = RequestAssigned.test(TOWN, works, "test-1", T0)
        assert port.send(TOWN, works, test, ("webhook",)) == ["webhook"]
        assert read() == [("webhook", "works", "test-1")]
        assert port.send(TOWN, works, test) == ["queue", "webhook"]
        assert sorted(read()) == [("queue", "works", "test-1"), ("webhook", "works", "test-1")]
        assert port.send(TOWN, Department("parks", "Parks"), test) == []  # console only

    def test_a_failed_webhook_can_be_put_off(self, channels):
        port, _ = channels
        port.retry_webhook_later("no-such-receipt", 60)  # best effort: never raises


class TestFakeAssignmentChannels(AssignmentChannelsContract):
    @pytest.fixture
    def channels(self):
        fake = FakeAssignmentChannels()

        def read() -> list[tuple[str, str, str]]:  # what arrived since the last read
            found = [(ch, dept, rid) for ch, _, dept, rid in fake.delivered]
            fake.delivered.clear()
            return found

        return fake, read


class TestSqsAssignmentChannels(AssignmentChannelsContract):
    @pytest.fixture
    def channels(self, deployment):
        c = deployment.container
        sqs = deployment.client("sqs")

        def read() -> list[tuple[str, str, str]]:
            found = [("queue", b["department"]["code"],
                      b["service_request"]["service_request_id"])
                     for b in map(json.loads, _drain(sqs, c.channels.queue_url_for(
                         TOWN, "works")))]
            for body in map(json.loads, _drain(sqs, c.settings.webhook_queue_url)):
                found.append(("webhook", body["department"],
                              body["assignment"]["service_request"]["service_request_id"]))
            return found

        return c.channels, read


# --- escalation topics (SLA) ----------------------------------------------------------------


class EscalationTopicsContract:
    @pytest.fixture
    def topics(self):
        """(EscalationTopics, read back (subject, text) published to a topic ARN)"""
        raise NotImplementedError

    def test_one_topic_per_town_and_audience_gets_what_is_published(self, topics):
        port, read = topics
        arn = port.topic_arn(TOWN, "supervisor")
        assert arn == port.topic_arn(TOWN, "supervisor")
        assert arn != port.topic_arn(OTHER, "supervisor")
        assert arn != port.topic_arn(TOWN, "department:works")
        port.publish(TOWN, "supervisor", "Overdue: R1", "Pothole R1 is overdue")
        assert read(arn) == [("Overdue: R1", "Pothole R1 is overdue")]
        assert read(port.topic_arn(OTHER, "supervisor")) == []

    def test_staff_subscribe_by_email(self, topics):
        port, _ = topics
        assert port.subscribe(TOWN, "supervisor", "email", "sup@maplefalls.example")


class TestFakeEscalationTopics(EscalationTopicsContract):
    @pytest.fixture
    def topics(self):
        fake = FakeEscalationTopics()

        def read(arn: str) -> list[tuple[str, str]]:
            return [(subject, text) for town, audience, subject, text in fake.published
                    if fake.topic_arn(town, audience) == arn]

        return fake, read


class TestSnsEscalationTopics(EscalationTopicsContract):
    @pytest.fixture
    def topics(self, deployment):
        from moto.sns.models import sns_backends

        def read(arn: str) -> list[tuple[str, str]]:
            topic = sns_backends[ACCOUNT]["us-east-1"].topics[arn]
            return [(subject, text) for _, text, subject, _, _ in topic.sent_notifications]

        return deployment.container.escalations, read


# --- photos -----------------------------------------------------------------------------------


class PhotoStorageContract:
    @pytest.fixture
    def photos(self):
        raise NotImplementedError

    def test_an_upload_waits_under_incoming_and_reads_back(self, photos):
        key = photos.receive_upload(TOWN, "R1", "P1", b"\xff\xd8jpeg", "image/jpeg")
        assert key.startswith(f"incoming/{TOWN}/R1/")
        assert photos.read(key) == b"\xff\xd8jpeg"
        assert photos.read("incoming/nothing") is None

    def test_a_published_copy_reads_back_until_deleted(self, photos):
        photos.publish(f"photos/{TOWN}/R1/P1.jpg", b"safe", "image/jpeg")
        assert photos.read(f"photos/{TOWN}/R1/P1.jpg") == b"safe"
        photos.delete(f"photos/{TOWN}/R1/P1.jpg")
        photos.delete(f"photos/{TOWN}/R1/P1.jpg")  # twice is not an error
        assert photos.read(f"photos/{TOWN}/R1/P1.jpg") is None

    def test_an_upload_form_and_a_link_name_their_object(self, photos):
        form = photos.upload_form(f"incoming/{TOWN}/R1/P2", "image/png", 1024, 300)
        assert form["url"] and form["fields"]["key"] == f"incoming/{TOWN}/R1/P2"
        assert f"photos/{TOWN}/R1/P1.jpg" in photos.signed_url(f"photos/{TOWN}/R1/P1.jpg")

    def test_browsers_post_the_upload_form_to_the_upload_origin(self, photos):
        form = photos.upload_form(f"incoming/{TOWN}/R1/P3", "image/jpeg", 1024, 300)
        origin = photos.upload_origin()
        assert origin.startswith(("https://", "http://")) and origin.count("/") == 2
        assert str(form["url"]).startswith(origin + "/")


class TestFakePhotoStorage(PhotoStorageContract):
    @pytest.fixture
    def photos(self):
        return FakePhotoStorage()


class TestS3PhotoStorage(PhotoStorageContract):
    @pytest.fixture
    def photos(self, deployment):
        return deployment.container.photos


# --- messages ---------------------------------------------------------------------------------


class MessengerContract:
    @pytest.fixture
    def messenger(self):
        """(Messenger, read back (channel, to, text) of everything sent)"""
        raise NotImplementedError

    def test_an_email_and_a_text_reach_their_addresses(self, messenger):
        port, read = messenger
        port.send(town_id=TOWN, email="ana@example.org", phone="+16125550100",
                  subject="Your request", text="It is fixed.")
        port.send(town_id=TOWN, email="bo@example.org", phone=None, subject="Hi",
                  text="Only mail.")
        assert sorted(read()) == [("email", "ana@example.org", "It is fixed."),
                                  ("email", "bo@example.org", "Only mail."),
                                  ("sms", "+16125550100", "It is fixed.")]


class TestFakeMessenger(MessengerContract):
    @pytest.fixture
    def messenger(self):
        fake = FakeMessenger()

        def read() -> list[tuple[str, str, str]]:
            return [(channel, m[channel if channel == "email" else "phone"], m["text"])
                    for m in fake.sent for channel in ("email", "sms")
                    if m["email" if channel == "email" else "phone"]]

        return fake, read


class TestAwsMessenger(MessengerContract):
    @pytest.fixture
    def messenger(self, deployment):
        from chalicelib.adapters.messages import AwsMessenger
        from local.outbox import Outbox

        deployment.client("ses").verify_email_identity(EmailAddress="311@maplefalls.example")
        outbox = Outbox()
        outbox.new_messages()  # what the seeding sent, if anything

        def read() -> list[tuple[str, str, str]]:
            return [(m["channel"], m["to"], m["text"]) for m in outbox.new_messages()]

        return AwsMessenger(lambda: deployment.client("ses"), lambda: deployment.client("sns"),
                            "311@maplefalls.example"), read


# --- retried submissions ----------------------------------------------------------------------


class IdempotencyContract:
    @pytest.fixture
    def guard(self):
        raise NotImplementedError

    def test_a_key_runs_its_work_once_and_answers_the_first_result_again(self, guard):
        runs: list[int] = []

        def work() -> dict[str, object]:
            runs.append(1)
            return {"service_request_id": f"R{len(runs)}"}

        payload: dict[str, object] = {"service_code": "pothole", "description": "deep"}
        assert guard.run_once("key-1", payload, work) == {"service_request_id": "R1"}
        assert guard.run_once("key-1", payload, work) == {"service_request_id": "R1"}
        assert guard.run_once("key-2", payload, work) == {"service_request_id": "R2"}
        assert len(runs) == 2

    def test_the_same_key_with_another_request_is_a_conflict(self, guard):
        guard.run_once("key-1", {"description": "deep"}, lambda: {"ok": True})
        with pytest.raises(Conflict):
            guard.run_once("key-1", {"description": "shallow"}, lambda: {"ok": True})


class TestFakeIdempotency(IdempotencyContract):
    @pytest.fixture
    def guard(self):
        return FakeIdempotency()


class TestPowertoolsIdempotency(IdempotencyContract):
    @pytest.fixture
    def guard(self, deployment):
        return deployment.container.idempotency


# --- staff sign-in and tokens -----------------------------------------------------------------


def _member(email: str) -> StaffMember:
    return StaffMember("", TOWN, email, "Ana Admin", ("town_admin",), departments=("works",))


class IdentityContract:
    @pytest.fixture
    def identity(self):
        raise NotImplementedError

    def test_each_member_gets_one_sign_in(self, identity):
        first = identity.provision(_member("ana@maplefalls.example"))
        second = identity.provision(_member("bo@maplefalls.example"))
        assert first and second and first != second
        with pytest.raises(Conflict):
            identity.provision(_member("ana@maplefalls.example"))
        identity.disable(_member("ana@maplefalls.example"))


class TestFakeIdentity(IdentityContract):
    @pytest.fixture
    def identity(self):
        return FakeIdentity()


class TestCognitoIdentity(IdentityContract):
    @pytest.fixture
    def identity(self, deployment):
        from chalicelib.adapters.identity import CognitoIdentity

        cognito = deployment.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="town311-staff", Schema=[
            {"Name": name, "AttributeDataType": "String", "Mutable": True}
            for name in ("town", "departments")])["UserPool"]["Id"]
        for role in Role:
            cognito.create_group(UserPoolId=pool, GroupName=role.value)
        return CognitoIdentity(lambda: cognito, pool)


class TokenVerifierContract:
    @pytest.fixture
    def tokens(self):
        """(TokenVerifier, sign a token for (subject, town, roles))"""
        raise NotImplementedError

    def test_a_token_says_who_the_caller_is(self, tokens):
        verifier, sign = tokens
        found = verifier.verify(sign("u1", TOWN, ("town_admin",)), "203.0.113.9")
        assert (found.subject, found.town_id, found.roles, found.source_ip) == (
            "u1", TOWN, frozenset({Role.TOWN_ADMIN}), "203.0.113.9")

    def test_anything_else_is_refused(self, tokens):
        verifier, _ = tokens
        with pytest.raises(Unauthenticated):
            verifier.verify("not-a-token")


class TestFakeTokenVerifier(TokenVerifierContract):
    @pytest.fixture
    def tokens(self):
        fake = FakeTokenVerifier()

        def sign(subject: str, town: str, roles: tuple[str, ...]) -> str:
            return fake.issue(f"token-{subject}", Principal(
                subject=subject, town_id=town, roles=frozenset(Role(r) for r in roles)))

        return fake, sign


class TestJwtVerifier(TokenVerifierContract):
    @pytest.fixture
    def tokens(self, deployment, signing_key):
        from local.tokens import mint

        def sign(subject: str, town: str, roles: tuple[str, ...]) -> str:
            return mint(signing_key, subject=subject, email=f"{subject}@{town}", town=town,
                        roles=roles)

        return deployment.container.tokens, sign


# --- webhooks (not AWS: the standard library against this machine) --------------------------


@pytest.fixture
def receiver() -> Iterator[Callable[[int], int]]:
    """Start an HTTP server on 127.0.0.1 that answers ``status``; gives its port."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int) -> int:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class WebhookPosterContract:
    @pytest.fixture
    def poster(self):
        """(WebhookPoster, a destination that answers a status; None: nobody listens)"""
        raise NotImplementedError

    def test_a_post_gets_the_receivers_status_or_none_without_one(self, poster):
        port, destination = poster
        assert port.post(destination(204), b"{}", {"Content-Type": "application/json"}) == 204
        assert port.post(destination(None), b"{}", {}) is None


class TestFakePoster(WebhookPosterContract):
    @pytest.fixture
    def poster(self):
        fake = FakePoster()

        def destination(status: int | None) -> Destination:
            fake.answers.append(status)
            return Destination("https", "hooks.example", 443, "/in", ("93.184.216.34",))

        return fake, destination


class TestHttpWebhookPoster(WebhookPosterContract):
    @pytest.fixture
    def poster(self, receiver):
        from chalicelib.adapters.channels import HttpWebhookPoster

        def destination(status: int | None) -> Destination:
            if status is None:  # a port that was free a moment ago: nobody listens
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    free = probe.getsockname()[1]
                return Destination("http", "hooks.example", free, "/in", ("127.0.0.1",))
            return Destination("http", "hooks.example", receiver(status), "/in",
                               ("127.0.0.1",))

        return HttpWebhookPoster(timeout_seconds=2), destination


class HostResolverContract:
    @pytest.fixture
    def resolver(self):
        raise NotImplementedError

    def test_a_name_resolves_to_its_addresses_and_a_name_that_is_none_to_nothing(
            self, resolver):
        assert "127.0.0.1" in resolver.resolve("localhost", 443)
        assert resolver.resolve("no-such-host.invalid", 443) == []


class TestFakeResolver(HostResolverContract):
    @pytest.fixture
    def resolver(self):
        return FakeResolver(names={"localhost": ["127.0.0.1", "::1"]})


class TestSystemResolver(HostResolverContract):
    @pytest.fixture
    def resolver(self):
        from chalicelib.adapters.channels import SystemResolver

        return SystemResolver()

