"""Fakes of the queue and topic gateways: routing, notices, departments' channels and
the SLA topics (SQS and SNS in the cloud)."""

from __future__ import annotations

import hashlib
import json

from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import InvalidInput, Problem, StorageUnavailable
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.schemas.delivery import RequestAssigned


class FakeRoutingQueue:
    """RoutingQueue: what was sent; ``fail`` makes it unavailable."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def request_submitted(self, town_id: str, request_id: str) -> None:
        if self.fail:
            raise StorageUnavailable("the routing queue is unavailable")
        self.sent.append((town_id, request_id))


class FakeNoticeQueue:
    """NoticeQueue: the bodies sent; ``fail`` makes it unavailable."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, bodies: list[str]) -> None:
        if self.fail:
            raise StorageUnavailable("the notices queue is unavailable")
        self.sent.extend(bodies)

    def kinds(self) -> list[str]:
        """The kind of each message sent, in order."""
        return [json.loads(body)["kind"] for body in self.sent]


class FakeAssignmentChannels:
    """AssignmentChannels: departments' queues by name, what was delivered to them, and
    webhook messages put off for later."""

    def __init__(self, prefix: str = "town311") -> None:
        self.prefix = prefix
        self.urls: dict[str, str] = {}
        # (channel, town, department, request): "queue" or "webhook", as SQS would carry
        self.delivered: list[tuple[str, str, str, str]] = []
        self.delayed: list[tuple[str, int]] = []
        self.documents: list[tuple[str, RequestAssigned]] = []  # (channel, what was sent)
        self.fail = False  # True: the queues are unavailable

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None:
        if department.queue:
            self.delivered.append(("queue", town_id, department.code, request.request_id))
        if department.webhook_url:
            self.delivered.append(("webhook", town_id, department.code, request.request_id))

    def send(self, town_id: str, department: Department, assignment: RequestAssigned,
             channels: tuple[str, ...] = ("queue", "webhook")) -> list[str]:
        if self.fail:
            raise StorageUnavailable("the department's queue is unavailable")
        sent = [c for c, has in (("queue", department.queue),
                                 ("webhook", bool(department.webhook_url)))
                if has and c in channels]
        for channel in sent:
            self.delivered.append((channel, town_id, department.code,
                                   assignment.service_request.service_request_id))
            self.documents.append((channel, assignment))
        return sent

    def queue_name_for(self, town_id: str, department: str) -> str:
        digest = hashlib.sha1(f"{town_id}:{department}".encode(), usedforsecurity=False)
        return f"{self.prefix}-dept-{digest.hexdigest()[:16]}"

    def queue_url_for(self, town_id: str, department: str) -> str:
        name = self.queue_name_for(town_id, department)
        return self.urls.setdefault(name, f"https://sqs.example/000000000000/{name}")

    def retry_webhook_later(self, receipt_handle: str, seconds: int) -> None:
        self.delayed.append((receipt_handle, seconds))


class FakeEscalationTopics:
    """EscalationTopics: one topic per town and audience, what was published to each, and
    who subscribed."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, str, str]] = []  # town, audience, subject, text
        self.subscriptions: list[tuple[str, str, str, str]] = []

    def topic_arn(self, town_id: str, audience: str) -> str:
        return f"arn:aws:sns:us-east-1:123456789012:escalations-{town_id}-{audience}"

    def publish(self, town_id: str, audience: str, subject: str, text: str) -> None:
        self.published.append((town_id, audience, subject[:100], text))

    def subscribe(self, town_id: str, audience: str, protocol: str, endpoint: str) -> str:
        if protocol not in ("email", "sms") or not endpoint:
            raise InvalidInput.of([Problem("endpoint", "SNS refused this address")])
        self.subscriptions.append((town_id, audience, protocol, endpoint))
        return f"{self.topic_arn(town_id, audience)}:{len(self.subscriptions)}"
