"""Delivering assignments to departments' own systems: signed webhooks with backoff, and
the address of a department's queue for its work-order system.

The router never calls a webhook itself: the channels adapter queues one message per
assignment, and ``deliver_webhook`` POSTs it from its own function, so a slow or broken
receiver delays nobody's routing. A refused POST is retried later with exponential
backoff (the caller hides the message for ``DeliveryFailed.retry_after_seconds``); after
the webhook queue's last receive, SQS moves it to the dead-letter queue.

A webhook goes only to public addresses (chalicelib.domain.addresses): its host is
resolved and checked when an admin saves it and again before every POST, and the POST
connects to the addresses just checked.

Every try is recorded where it happens (``DeliveryResults``: the POST's answer here, a
queue send in ``RecordedChannels``), so a town admin sees the department's recent results;
a town admin can also send a test delivery, marked as one, down the same path.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.deliveries import KEPT_FOR, RECENT, DeliveryResult
from chalicelib.domain.errors import (
    Conflict,
    NotFound,
    StorageUnavailable,
    Throttled,
    Town311Error,
)
from chalicelib.schemas.delivery import SCHEMA_VERSION, RequestAssigned, WebhookDelivery

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Department
    from chalicelib.domain.requests import ServiceRequest, TimelineEvent
    from chalicelib.services.ports import (
        AssignmentChannels,
        AuditLog,
        DeliveryResults,
        DepartmentQueues,
        HostResolver,
        Limits,
        TownDirectory,
        WebhookPoster,
    )

if TYPE_CHECKING:  # ipaddress and the check load on the first delivery, not on cold start
    from chalicelib.domain.addresses import Destination

log = logging.getLogger(__name__)

USER_AGENT = "Town311-Webhooks/1"
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 15 * 60


@dataclass(frozen=True)
class WebhookDestinations:
    """Where a department's webhook may go: resolves the URL's host now and checks the
    URL and every address (chalicelib.domain.addresses). ``allow_loopback`` is the local
    run's setting, off everywhere else."""

    resolver: HostResolver
    allow_loopback: bool = False

    def check(self, url: str) -> Destination:
        """The destination to POST to; UnsafeDestination if the URL or any address it
        resolves to is not public, UnresolvedHost if it resolves to nothing."""
        from chalicelib.domain.addresses import check_webhook_destination, webhook_host

        host, port = webhook_host(url, allow_loopback=self.allow_loopback)
        return check_webhook_destination(url, self.resolver.resolve(host, port),
                                         allow_loopback=self.allow_loopback)


@dataclass(frozen=True)
class WebhookPorts:
    towns: TownDirectory
    poster: WebhookPoster
    now: Callable[[], datetime]
    destinations: WebhookDestinations
    results: DeliveryResults | None = None  # where each try's outcome is kept


class DeliveryFailed(Town311Error):
    """The receiver did not accept the delivery; try again after ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def backoff_seconds(receive_count: int) -> int:
    """How long to wait after the ``receive_count``-th try failed: 30 s, doubling, at
    most 15 minutes (SQS cannot hide a message longer than 12 hours anyway)."""
    exponent = min(max(receive_count, 1) - 1, 16)
    return min(FIRST_RETRY_SECONDS << exponent, LONGEST_RETRY_SECONDS)  # 30 s × 2^exponent


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed by the secret's UTF-8 bytes, of
    ``"<timestamp>.<body>"``: the timestamp is signed too, so an old delivery cannot be
    replayed with a fresh one."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_headers(secret: str, timestamp: int, body: bytes,
                    delivery_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Town311-Delivery": delivery_id,
        "X-Town311-Timestamp": str(timestamp),
        "X-Town311-Signature": signature(secret, timestamp, body),
    }


def deliver_webhook(message: WebhookDelivery, receive_count: int, ports: WebhookPorts) -> bool:
    """POST one assignment to its department's webhook, signed with the department's
    current secret. True when the receiver took it (2xx); False when there is nothing to
    do any more (the town, the department or its webhook is gone, or its host now resolves
    to an address that is not public); DeliveryFailed when it should be tried again.
    Each try's outcome is recorded (``ports.results``)."""
    from chalicelib.domain.addresses import UnresolvedHost, UnsafeDestination

    town = ports.towns.get_town(message.town_id)
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset) if town else None
    department = catalogue.department(message.department) if catalogue else None
    extra = {"town": message.town_id, "department": message.department,
             "delivery_id": message.assignment.delivery_id, "receive_count": receive_count}

    def outcome(what: str, status: int | None = None, error: str | None = None) -> None:
        if ports.results is not None and town is not None:
            record_result(ports.results, ports.now, message.town_id, message.department,
                          _result(message.assignment, "webhook", what, ports.now(),
                                  receive_count, status, error))

    if department is None or not department.webhook_url or not department.webhook_secret:
        log.warning("webhook delivery dropped: the department has no webhook now", extra=extra)
        outcome("dropped", error="the department has no webhook now")
        return False
    try:
        destination = ports.destinations.check(department.webhook_url)
    except UnsafeDestination as e:
        # Checked again at every try, because the name may resolve elsewhere now than when
        # it was saved (DNS rebinding, or a receiver moved into a private network). Not
        # retried: another try is checked the same way, and the fix is the admin's (a new
        # URL); the assignment is not lost, it is in the department's console inbox (and
        # its queue, if it has one). Logged as an error so that it can be alarmed on.
        log.error("webhook destination refused; dropped, not retried",
                  extra=extra | {"reason": e.message})
        outcome("dropped", error=e.message)
        return False
    except UnresolvedHost as e:
        # DNS can fail for a while: an ordinary failure, retried with backoff.
        outcome("retrying", error="the address does not resolve")
        raise _retry_later(message, receive_count, extra, "does not resolve") from e
    body = message.assignment.body()
    timestamp = int(ports.now().timestamp())
    status = ports.poster.post(destination, body, webhook_headers(
        department.webhook_secret, timestamp, body, message.assignment.delivery_id))
    if status is not None and 200 <= status < 300:
        log.info("webhook delivered", extra=extra | {"status": status})
        outcome("delivered", status=status)
        return True
    # A 3xx is a failure like any other: a redirect is never followed (the signed body
    # would go somewhere no one checked).
    answer = f"answered {status}" if status is not None else "did not answer"
    outcome("retrying", status=status,
            error=None if status is not None else "no answer (refused, timed out or reset)")
    raise _retry_later(message, receive_count, extra | {"status": status}, answer)


def _retry_later(message: WebhookDelivery, receive_count: int, extra: dict[str, object],
                 what: str) -> DeliveryFailed:
    retry_after = backoff_seconds(receive_count)
    log.warning("webhook refused; retrying later",
                extra=extra | {"retry_after_seconds": retry_after, "failure": what})
    return DeliveryFailed(f"the webhook of {message.department} {what}", retry_after)


def department_queue(towns: TownDirectory, queues: DepartmentQueues, who: Principal,
                     code: str) -> dict[str, object]:
    """Where a department's work-order system polls its assignments (town admins)."""
    require(who, Permission.CONFIGURE_TOWN, who.town_id)
    town = towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    department = towns.get_catalogue(town.town_id, town.changeset).department(code)
    if department is None:
        raise NotFound(f"no department {code[:40]!r}")
    if not department.queue:
        raise Conflict(f"{code} has no queue: PUT the department with \"queue\": true")
    return {"queue_url": queues.queue_url_for(town.town_id, code),
            "queue_name": queues.queue_name_for(town.town_id, code),
            "schema_version": SCHEMA_VERSION}


# --- what became of deliveries, and test deliveries ----------------------------------------

# A test delivery POSTs to an address the town chose, signed: a stolen session must not be
# able to turn it into a flood. A few per department in ten minutes, a few more per town in
# an hour, counted before anything is sent.
TEST_WINDOW_SECONDS, TESTS_PER_DEPARTMENT = 600, 3
TOWN_TEST_WINDOW_SECONDS, TESTS_PER_TOWN = 3600, 10


def _result(assignment: RequestAssigned, channel: str, outcome: str, at: datetime,
            attempt: int = 1, status: int | None = None,
            error: str | None = None) -> DeliveryResult:
    return DeliveryResult(at=at, delivery_id=assignment.delivery_id, channel=channel,
                          outcome=outcome, attempt=attempt, test=assignment.event == "test",
                          status=status, error=error)


def record_result(results: DeliveryResults, now: Callable[[], datetime], town_id: str,
                  department: str, result: DeliveryResult) -> None:
    """Keep one result for KEPT_FOR. Best effort: a delivery that happened is never undone
    or retried (a webhook POSTed twice) because its record could not be written."""
    try:
        results.record(town_id, department, result,
                       int((now() + KEPT_FOR).timestamp()))
    except StorageUnavailable as e:
        log.warning("delivery result not recorded", exc_info=e,
                    extra={"town": town_id, "department": department,
                           "delivery_id": result.delivery_id})


@dataclass
class RecordedChannels:
    """``AssignmentChannels`` that records each send to a department's queue (the queue
    is the delivery: what the work-order system does next is its own). A webhook's results
    are recorded by ``deliver_webhook``, which makes the POST."""

    channels: AssignmentChannels
    results: DeliveryResults
    now: Callable[[], datetime]

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None:
        self.channels.deliver(town_id, department, request, event)
        if department.queue:
            record_result(self.results, self.now, town_id, department.code, DeliveryResult(
                at=self.now(), delivery_id=event.event_id, channel="queue",
                outcome="queued"))

    def send(self, town_id: str, department: Department, assignment: RequestAssigned,
             channels: tuple[str, ...] = ("queue", "webhook")) -> list[str]:
        sent = self.channels.send(town_id, department, assignment, channels)
        if "queue" in sent:
            record_result(self.results, self.now, town_id, department.code,
                          _result(assignment, "queue", "queued", self.now()))
        return sent

    def queue_name_for(self, town_id: str, department: str) -> str:
        return self.channels.queue_name_for(town_id, department)

    def queue_url_for(self, town_id: str, department: str) -> str:
        return self.channels.queue_url_for(town_id, department)

    def retry_webhook_later(self, receipt_handle: str, seconds: int) -> None:
        self.channels.retry_webhook_later(receipt_handle, seconds)


@dataclass(frozen=True)
class DeliveryTestPorts:
    towns: TownDirectory
    channels: AssignmentChannels  # RecordedChannels: a queue send is recorded
    results: DeliveryResults
    limits: Limits
    audit: AuditLog
    new_id: Callable[[], str]
    now: Callable[[], datetime]


def _department(towns: TownDirectory, who: Principal, code: str) -> Department:
    require(who, Permission.CONFIGURE_TOWN, who.town_id)
    town = towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    department = towns.get_catalogue(town.town_id, town.changeset).department(code)
    if department is None:
        raise NotFound(f"no department {code[:40]!r}")
    return department


def send_test_delivery(ports: DeliveryTestPorts, who: Principal, code: str) -> list[str]:
    """Send a test assignment (``RequestAssigned.test``) to the department's queue and
    webhook, down the path real assignments take (the webhook queue, then
    ``deliver_webhook``'s signed POST); the channels it went on. Town admins only;
    Conflict if the department has neither; Throttled past the test budgets."""
    from chalicelib.domain.towns import AuditEntry

    department = _department(ports.towns, who, code)
    if not department.queue and not department.webhook_url:
        raise Conflict(f"{department.code} has no queue or webhook to test")
    town_id = who.town_id or ""
    now = ports.now()
    epoch = int(now.timestamp())
    for name, window, limit in (
            (f"testdelivery#{department.code}", TEST_WINDOW_SECONDS, TESTS_PER_DEPARTMENT),
            ("testdelivery", TOWN_TEST_WINDOW_SECONDS, TESTS_PER_TOWN)):
        if not ports.limits.take(town_id, name, epoch // window, limit,
                                 epoch - epoch % window + 2 * window):
            raise Throttled("too many test deliveries: wait a few minutes",
                            retry_after_seconds=window - epoch % window)
    delivery_id = f"test-{ports.new_id()}"
    sent = ports.channels.send(town_id, department,
                               RequestAssigned.test(town_id, department, delivery_id, now))
    ports.audit.record(AuditEntry(
        town_id=town_id, at=now, entry_id=ports.new_id(), actor=who.actor,
        actor_kind=who.kind, action="department.test_delivery", target=department.code,
        source_ip=who.source_ip, details={"delivery_id": delivery_id, "channels": sent}))
    return sent


def recent_results(towns: TownDirectory, results: DeliveryResults, who: Principal,
                   code: str, limit: int = RECENT) -> list[DeliveryResult]:
    """The department's latest delivery results, newest first (town admins)."""
    department = _department(towns, who, code)
    return results.recent(who.town_id or "", department.code, limit)
