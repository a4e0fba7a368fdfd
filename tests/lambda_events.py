"""Lambda events as AWS sends them, for tests that invoke handlers with chalice's test
client. Records are complete (powertools' SqsRecordModel checks every field Lambda always
sends), and each record keeps its own messageId (chalice's generate_sqs_event gives every
record the same one)."""

from __future__ import annotations

import uuid
from typing import Any

SENDER = "AIDAIENQZJOLO23YVJ4VO"


def sqs_record(body: str, *, message_id: str | None = None, receipt_handle: str = "h",
               receive_count: str | int = "1", sent_ms: str = "1764547200000",
               queue: str = "town311-local-q") -> dict[str, Any]:
    """One record of a Lambda SQS event."""
    return {
        "messageId": message_id or str(uuid.uuid4()), "receiptHandle": receipt_handle,
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": sent_ms,
                       "SenderId": SENDER, "ApproximateFirstReceiveTimestamp": sent_ms},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1"}


def sqs_record_of(message: dict[str, Any], *, message_id: str | None = None,
                  queue: str = "town311-local-q") -> dict[str, Any]:
    """The record Lambda makes of a ReceiveMessage message (its receipt handle, and its
    receive count when it was received with AttributeNames=["All"])."""
    attributes = message.get("Attributes", {})
    return sqs_record(message["Body"], message_id=message_id or message.get("MessageId"),
                      receipt_handle=message.get("ReceiptHandle", "h"),
                      receive_count=attributes.get("ApproximateReceiveCount", "1"),
                      sent_ms=attributes.get("SentTimestamp", "1764547200000"), queue=queue)


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
