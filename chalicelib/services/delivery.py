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
from chalicelib.domain.errors import Conflict, NotFound, Town311Error
from chalicelib.schemas.delivery import SCHEMA_VERSION, WebhookDelivery

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        DepartmentQueues,
        HostResolver,
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
    to an address that is not public); DeliveryFailed when it should be tried again."""
    from chalicelib.domain.addresses import UnresolvedHost, UnsafeDestination

    town = ports.towns.get_town(message.town_id)
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset) if town else None
    department = catalogue.department(message.department) if catalogue else None
    extra = {"town": message.town_id, "department": message.department,
             "delivery_id": message.assignment.delivery_id, "receive_count": receive_count}
    if department is None or not department.webhook_url or not department.webhook_secret:
        log.warning("webhook delivery dropped: the department has no webhook now", extra=extra)
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
        return False
    except UnresolvedHost as e:
        # DNS can fail for a while: an ordinary failure, retried with backoff.
        raise _retry_later(message, receive_count, extra, "does not resolve") from e
    body = message.assignment.body()
    timestamp = int(ports.now().timestamp())
    status = ports.poster.post(destination, body, webhook_headers(
        department.webhook_secret, timestamp, body, message.assignment.delivery_id))
    if status is not None and 200 <= status < 300:
        log.info("webhook delivered", extra=extra | {"status": status})
        return True
    # A 3xx is a failure like any other: a redirect is never followed (the signed body
    # would go somewhere no one checked).
    answer = f"answered {status}" if status is not None else "did not answer"
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
