"""Every queue message reads back, through its Lambda record model, as what was written."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.adapters.aws import SqsRoutingQueue
from chalicelib.events.records import NoticeRecord, RoutingRecord
from chalicelib.schemas.notices import (
    AlertApproved,
    AlertBatch,
    AlertRecipient,
    NoticeBatch,
    NoticeEvent,
    Recipient,
)
from chalicelib.schemas.queues import RoutingMessage
from tests.lambda_events import sqs_record

TOWN = "maplefalls.example"


class _Sqs:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:  # noqa: N803
        self.bodies.append(MessageBody)
        return {}


def test_the_routing_queue_writes_what_the_router_reads() -> None:
    sqs = _Sqs()
    SqsRoutingQueue(lambda: sqs, "https://sqs/routing").request_submitted(TOWN, "R1")
    (body,) = sqs.bodies
    assert RoutingRecord.model_validate(sqs_record(body)).body == RoutingMessage(
        town_id=TOWN, service_request_id="R1")


@pytest.mark.parametrize("message", [
    NoticeEvent(town_id=TOWN, request_id="R1", event_id="E1", kind="closed"),
    NoticeBatch(town_id=TOWN, request_id="R1", event_id="E1", kind="closed",
                recipients=[Recipient(follower_id="h1", email="ana@example.org")]),
    AlertApproved(town_id=TOWN, alert_id="A1"),
    AlertBatch(town_id=TOWN, alert_id="A1", recipients=[
        AlertRecipient(subscriber_id="S1", language="es", phone="+13125550111",
                       home=(41.9, -87.6))]),
], ids=lambda m: m.type)
def test_each_notices_queue_message_reads_back_as_written(message: Any) -> None:
    record = NoticeRecord.model_validate(sqs_record(message.model_dump_json()))
    assert record.body == message


def test_an_alert_batch_carries_at_most_one_batch_of_people() -> None:
    import json

    body = json.dumps({"type": "alert_batch", "version": 1, "town_id": TOWN, "alert_id": "A1",
                       "recipients": [{"subscriber_id": f"S{n}"} for n in range(51)]})
    with pytest.raises(ValidationError):
        NoticeRecord.model_validate(sqs_record(body))


def test_a_body_of_no_known_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        NoticeRecord.model_validate(sqs_record('{"type": "parcel", "version": 1}'))
