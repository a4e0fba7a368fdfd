"""Lambda SQS records whose body is one of the app's queue messages.

powertools' batch processor validates each record with one of these models; a record whose
body does not fit its model is a failed record (retried alone, finally dead-lettered).
Imported by the queue handlers only: the HTTP API never pays for powertools' parser.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from chalicelib.schemas.delivery import WebhookDelivery
from chalicelib.schemas.notices import NoticeQueueMessage
from chalicelib.schemas.queues import RoutingMessage


class RoutingRecord(SqsRecordModel):
    body: Json[RoutingMessage]


class NoticeRecord(SqsRecordModel):
    body: Json[NoticeQueueMessage]


class WebhookRecord(SqsRecordModel):
    body: Json[WebhookDelivery]
