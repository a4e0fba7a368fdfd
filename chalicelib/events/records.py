"""Lambda SQS records whose body is one of the app's queue messages.

powertools' batch processor validates each record with one of these models; a record whose
body does not fit its model is a failed record (retried alone, finally dead-lettered).
Imported by the queue handlers only: the HTTP API never pays for them.

The records are our own models of the few fields the handlers read, not powertools'
``SqsRecordModel``: its module builds every one of powertools' ~100 parser models as it is
imported (about half a second of a queue function's cold start, for one model).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, Json

from chalicelib.schemas.delivery import WebhookDelivery
from chalicelib.schemas.model import WireModel
from chalicelib.schemas.notices import NoticeQueueMessage
from chalicelib.schemas.queues import ExportMessage, RoutingMessage


class QueueRecordAttributes(WireModel):
    model_config = ConfigDict(extra="ignore")

    # How many times SQS has handed the message out (webhook retries count with it).
    ApproximateReceiveCount: str | None = None


class QueueRecord(WireModel):
    """What a handler reads of an SQS record: its id (a failure is reported by it), its
    receipt handle and attributes, and its body (typed by each subclass). Lambda's other
    fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    messageId: str
    # Changing the message's visibility (a webhook's backoff) needs it.
    receiptHandle: str = ""
    # A factory, not an instance: an instance here would build the model at import.
    attributes: QueueRecordAttributes = Field(default_factory=QueueRecordAttributes)
    body: str


class RoutingRecord(QueueRecord):
    body: Json[RoutingMessage]  # type: ignore[assignment]  # the body, parsed


class NoticeRecord(QueueRecord):
    body: Json[NoticeQueueMessage]  # type: ignore[assignment]


class WebhookRecord(QueueRecord):
    body: Json[WebhookDelivery]  # type: ignore[assignment]


class ExportRecord(QueueRecord):
    body: Json[ExportMessage]  # type: ignore[assignment]
