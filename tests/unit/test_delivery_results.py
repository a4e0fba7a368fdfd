"""Departments' delivery results and test deliveries without AWS: every try of a webhook
is recorded where it is made, a queue send where it is sent; a town admin's test delivery
is marked as one, goes down the real path, and is budgeted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.catalogue import Department
from chalicelib.domain.deliveries import DeliveryResult
from chalicelib.domain.errors import AccessDenied, Conflict, NotFound, Throttled
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.schemas.delivery import RequestAssigned, WebhookDelivery
from chalicelib.services.delivery import (
    DeliveryFailed,
    DeliveryTestPorts,
    RecordedChannels,
    WebhookDestinations,
    WebhookPorts,
    deliver_webhook,
    recent_results,
    send_test_delivery,
)
from chalicelib.services.towns import seed_demo_town
from tests.fakes import (
    FakeAssignmentChannels,
    FakeAuditLog,
    FakeDeliveryResults,
    FakeLimits,
    FakePoster,
    FakeResolver,
    FakeTownDirectory,
    counter_ids,
)

NOW = datetime(2026, 11, 20, 15, 30, 12, tzinfo=UTC)
TOWN = "maplefalls.example"
WORKS = Department("public_works", "Public Works", queue=True,
                   webhook_url="https://works.example/hook", webhook_secret="whsec_x")
ADMIN = Principal(subject="a1", town_id=TOWN, roles=frozenset({Role.TOWN_ADMIN}),
                  email="admin@maplefalls.example")


class World:
    def __init__(self, department: Department | None = WORKS) -> None:
        self.clock = [NOW]
        self.towns = FakeTownDirectory()
        demo = seed_demo_town(self.towns, api_key="secret-key-for-tests")
        if department is not None:
            self.towns.save_department(TOWN, department, demo.town.changeset)
        self.results = FakeDeliveryResults()
        self.queues = FakeAssignmentChannels()
        self.channels = RecordedChannels(self.queues, self.results, self.now)
        self.audit = FakeAuditLog()
        self.limits = FakeLimits()

    def now(self) -> datetime:
        return self.clock[0]

    def tests(self) -> DeliveryTestPorts:
        return DeliveryTestPorts(towns=self.towns, channels=self.channels,
                                 results=self.results, limits=self.limits, audit=self.audit,
                                 new_id=counter_ids("01J"), now=self.now)

    def sender(self, poster: FakePoster) -> WebhookPorts:
        return WebhookPorts(towns=self.towns, poster=poster, now=self.now,
                            destinations=WebhookDestinations(FakeResolver()),
                            results=self.results)

    def recent(self, code: str = "public_works") -> list[DeliveryResult]:
        return recent_results(self.towns, self.results, ADMIN, code)


def _queued(event_id: str = "01JEVENT") -> WebhookDelivery:
    request = ServiceRequest(
        town_id=TOWN, request_id="01JREQ", token_hash="t", service_code="pothole",
        service_name="Pothole", requested_at=NOW, updated_at=NOW, place=Place(lat=1, long=2))
    event = TimelineEvent(at=NOW, event_id=event_id, kind="routed", summary="Sent")
    return WebhookDelivery(town_id=TOWN, department="public_works",
                           assignment=RequestAssigned.of(TOWN, WORKS, request, event))


# --- the webhook sender records each try -----------------------------------------------------


def test_each_try_of_a_webhook_is_recorded_with_its_answer_and_attempt():
    world = World()
    with pytest.raises(DeliveryFailed):
        deliver_webhook(_queued(), 1, world.sender(FakePoster(503)))
    world.clock[0] = NOW + timedelta(seconds=30)
    with pytest.raises(DeliveryFailed):
        deliver_webhook(_queued(), 2, world.sender(FakePoster(None)))
    world.clock[0] = NOW + timedelta(seconds=90)
    assert deliver_webhook(_queued(), 3, world.sender(FakePoster(204))) is True

    assert world.recent() == [
        DeliveryResult(at=NOW + timedelta(seconds=90), delivery_id="01JEVENT",
                       channel="webhook", outcome="delivered", attempt=3, status=204),
        DeliveryResult(at=NOW + timedelta(seconds=30), delivery_id="01JEVENT",
                       channel="webhook", outcome="retrying", attempt=2,
                       error="no answer (refused, timed out or reset)"),
        DeliveryResult(at=NOW, delivery_id="01JEVENT", channel="webhook",
                       outcome="retrying", attempt=1, status=503),
    ]


def test_a_result_keeps_for_two_weeks():
    world = World()
    deliver_webhook(_queued(), 1, world.sender(FakePoster(200)))
    ((_, expires_at),) = world.results.kept[(TOWN, "public_works")].values()
    assert expires_at == int((NOW + timedelta(days=14)).timestamp())


def test_a_dropped_delivery_says_why():
    world = World(Department("public_works", "Public Works", queue=True))
    assert deliver_webhook(_queued(), 1, world.sender(FakePoster())) is False
    (result,) = world.recent()
    assert (result.outcome, result.error) == ("dropped", "the department has no webhook now")


def test_a_webhook_to_a_private_address_is_recorded_as_dropped():
    world = World()
    ports = world.sender(FakePoster())
    ports = WebhookPorts(towns=ports.towns, poster=ports.poster, now=ports.now,
                         destinations=WebhookDestinations(FakeResolver("10.0.0.5")),
                         results=world.results)
    assert deliver_webhook(_queued(), 1, ports) is False
    (result,) = world.recent()
    assert result.outcome == "dropped" and result.error


def test_a_result_that_cannot_be_stored_does_not_undo_a_delivery():
    world = World()
    world.results.fail = True
    poster = FakePoster(204)
    assert deliver_webhook(_queued(), 1, world.sender(poster)) is True
    assert len(poster.posts) == 1  # not retried, not posted twice


# --- queue sends are recorded where they are sent --------------------------------------------


def test_a_real_assignment_on_the_queue_is_recorded_as_queued():
    world = World()
    request = ServiceRequest(
        town_id=TOWN, request_id="R1", token_hash="t", service_code="pothole",
        service_name="Pothole", requested_at=NOW, updated_at=NOW, place=Place())
    event = TimelineEvent(at=NOW, event_id="E1", kind="routed", summary="Sent")
    world.channels.deliver(TOWN, WORKS, request, event)

    assert world.queues.delivered == [("queue", TOWN, "public_works", "R1"),
                                      ("webhook", TOWN, "public_works", "R1")]
    assert world.recent() == [DeliveryResult(at=NOW, delivery_id="E1", channel="queue",
                                             outcome="queued")]


# --- test deliveries -------------------------------------------------------------------------


def test_a_test_delivery_is_marked_and_goes_down_the_real_path():
    world = World()
    sent = send_test_delivery(world.tests(), ADMIN, "public_works")

    assert sent == ["queue", "webhook"]
    (channel, document), _ = world.queues.documents
    assert channel == "queue"
    body = json.loads(document.body())
    assert body["event"] == "test" and body["delivery_id"].startswith("test-")
    assert body["service_request"]["service_name"] == "Test delivery"
    assert body["service_request"]["service_request_id"] == body["delivery_id"]
    (queued,) = world.recent()
    assert (queued.channel, queued.outcome, queued.test) == ("queue", "queued", True)
    (entry,) = world.audit.entries
    assert (entry.action, entry.target, entry.actor) == (
        "department.test_delivery", "public_works", "admin@maplefalls.example")

    # The webhook function then POSTs it, and its result is a test's too.
    message = WebhookDelivery(town_id=TOWN, department="public_works", assignment=document)
    poster = FakePoster(200)
    assert deliver_webhook(message, 1, world.sender(poster)) is True
    assert json.loads(poster.posts[0][1])["event"] == "test"
    assert [(r.channel, r.test, r.status) for r in world.recent()] == [
        ("webhook", True, 200), ("queue", True, None)]


def test_test_deliveries_are_budgeted_per_department_and_then_per_town():
    world = World()
    for _ in range(3):
        send_test_delivery(world.tests(), ADMIN, "public_works")
    with pytest.raises(Throttled):
        send_test_delivery(world.tests(), ADMIN, "public_works")
    assert len(world.queues.documents) == 6  # 3 tests × (queue, webhook); the 4th sent none

    world.clock[0] = NOW + timedelta(minutes=10)  # the department's window has passed
    send_test_delivery(world.tests(), ADMIN, "public_works")


def test_the_town_budget_holds_across_departments():
    world = World()
    for n in range(4):
        world.towns.save_department(TOWN, Department(f"d{n}", f"D{n}", queue=True), "c")
    sent = 0
    with pytest.raises(Throttled):
        for n in range(4):
            for _ in range(3):
                send_test_delivery(world.tests(), ADMIN, f"d{n}")
                sent += 1
    assert sent == 10


def test_only_a_town_admin_may_send_a_test_or_read_results():
    world = World()
    for role in (Role.DEPARTMENT_WORKER, Role.AGENT, Role.SUPERVISOR, Role.ANALYST):
        who = Principal(subject="s", town_id=TOWN, roles=frozenset({role}),
                        departments=frozenset({"public_works"}))
        with pytest.raises(AccessDenied):
            send_test_delivery(world.tests(), who, "public_works")
        with pytest.raises(AccessDenied):
            recent_results(world.towns, world.results, who, "public_works")
    other = Principal(subject="x", town_id="riverton.example",
                      roles=frozenset({Role.TOWN_ADMIN}))
    with pytest.raises(NotFound):
        send_test_delivery(world.tests(), other, "public_works")
    assert world.queues.documents == [] and world.audit.entries == []


def test_a_department_with_no_channel_has_nothing_to_test():
    world = World(Department("parks", "Parks"))
    with pytest.raises(Conflict):
        send_test_delivery(world.tests(), ADMIN, "parks")
    with pytest.raises(NotFound):
        send_test_delivery(world.tests(), ADMIN, "nope")
    assert world.limits.windows == {}  # a refused test costs no budget
