"""Departments' channels (queues, webhooks) and escalation topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.addresses import Destination
    from chalicelib.domain.catalogue import Department
    from chalicelib.domain.deliveries import DeliveryResult
    from chalicelib.domain.requests import ServiceRequest, TimelineEvent
    from chalicelib.schemas.delivery import RequestAssigned


class WebhookPoster(Protocol):
    def post(self, destination: Destination, body: bytes,
             headers: dict[str, str]) -> int | None:
        """POST ``body`` to the destination's checked addresses only (never a new lookup
        of its name), following no redirect; the HTTP status of the answer, or None if
        none came back (refused, timed out, reset)."""
        ...


class HostResolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to (IPv4 and IPv6, as text); empty if it
        resolves to none or the lookup failed."""
        ...


class DepartmentQueues(Protocol):
    def queue_name_for(self, town_id: str, department: str) -> str: ...

    def queue_url_for(self, town_id: str, department: str) -> str:
        """The department's queue URL; the queue is made if it does not exist yet."""
        ...


class AssignmentChannels(DepartmentQueues, Protocol):
    """Delivers an assignment to a department's own channels (beyond the console inbox):
    its SQS queue and its webhook, one send per channel."""

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None: ...

    def send(self, town_id: str, department: Department, assignment: RequestAssigned,
             channels: tuple[str, ...] = ("queue", "webhook")) -> list[str]:
        """Put one assignment document on the department's ``channels`` that it has (its
        queue; the webhook queue, for its webhook); the channels it went on."""
        ...

    def retry_webhook_later(self, receipt_handle: str, seconds: int) -> None:
        """Leave a failed webhook delivery on its queue, hidden for ``seconds``."""
        ...


class EscalationTopics(Protocol):
    """Where escalations go: a topic per town and audience ("department:<code>",
    "supervisor", "town_admin"), which staff subscribe to by e-mail or SMS."""

    def topic_arn(self, town_id: str, audience: str) -> str: ...

    def publish(self, town_id: str, audience: str, subject: str, text: str) -> None: ...

    def subscribe(self, town_id: str, audience: str, protocol: str, endpoint: str) -> str:
        """Subscribe ``endpoint`` (an e-mail address, or an E.164 phone for "sms"); returns
        the subscription's ARN. InvalidInput if the topic refuses the address."""
        ...


class DeliveryResults(Protocol):
    """What became of each try at delivering to a department's queue or webhook, per town
    and department, kept for a while (``chalicelib.domain.deliveries.KEPT_FOR``)."""

    def record(self, town_id: str, department: str, result: DeliveryResult,
               expires_at: int) -> None:
        """Keep one result until ``expires_at`` (epoch seconds); recording the same try
        (time, delivery, channel and attempt) again replaces it."""
        ...

    def recent(self, town_id: str, department: str, limit: int) -> list[DeliveryResult]:
        """The department's latest ``limit`` results, newest first."""
        ...
