"""Messages to residents and staff: the notices queue, the morning release of texts held
back by quiet hours, and texts residents send back (STOP)."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalice import Blueprint, Rate

from chalicelib import bootstrap

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

NOTICE_QUEUE = "town311-notices"  # replaced by the deployed queue's ARN in infra/
INBOUND_SMS_TOPIC = "town311-sms-inbound"  # replaced by the deployed topic in infra/


def _notice_record(record: Any) -> None:
    from chalicelib.services.notices import handle

    kind = _kind(record.body)
    if kind in ("alert", "alert_batch"):
        _alert_record(kind, json.loads(record.body))
        return
    outcome = handle(record.body, bootstrap.container().notice_ports)
    log.info("notices", extra={"outcome": vars(outcome)})


def _kind(body: str) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("type") if isinstance(doc, dict) else None


def _alert_record(kind: str, doc: dict[str, Any]) -> None:
    """Emergency alerts share the notices queue: the fan-out, then each batch."""
    from chalicelib.services import alerts

    town_id, alert_id = str(doc["town_id"])[:100], str(doc["alert_id"])[:64]
    if kind == "alert":
        queued = alerts.fan_out(bootstrap.container().alert_ports, town_id, alert_id)
        log.info("alert fanned out", extra={"alert": alert_id, "recipients": queued})
        return
    people = [p for p in doc.get("recipients", []) if isinstance(p, dict)][:100]
    outcome = alerts.deliver(bootstrap.container().alert_ports, town_id, alert_id, people)
    log.info("alert batch", extra={"alert": alert_id, "outcome": outcome})


@blueprint.on_sqs_message(queue=NOTICE_QUEUE, batch_size=10)
def send_notices(event: Any) -> dict[str, Any]:
    """Fan each change out to its followers and send; a failed batch is retried alone,
    and nobody already messaged is messaged again."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=_notice_record,
                                    processor=processor, context=event.context)


@blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def release_quiet_hours_texts(event: Any) -> dict[str, int]:
    """Every 15 minutes: texts held back overnight whose town's quiet hours are over go
    back on the notices queue. Reads only what is due."""
    from chalicelib.services.notices import release_deferred

    return {"released": release_deferred(bootstrap.container().notice_ports)}


@blueprint.on_sns_message(topic=INBOUND_SMS_TOPIC)
def receive_sms(event: Any) -> dict[str, str | None]:
    """A resident's text back to the town's number (SNS two-way SMS): STOP and its
    synonyms stop every message to that phone, START undoes it."""
    from chalicelib.services.notices import sms_reply

    try:
        message = json.loads(event.message)
        phone, text = message["originationNumber"], message.get("messageBody", "")
    except (ValueError, KeyError, TypeError):
        log.warning("inbound SMS not understood; ignored")
        return {"outcome": None}
    from chalicelib.services.subscribers import stop_by_phone

    c = bootstrap.container()
    outcome = sms_reply(c.notice_ports.book, str(phone), str(text), c.now())
    if outcome == "stopped":
        # STOP also ends emergency alert subscriptions, at once and in every town.
        stop_by_phone(c.subscribers, str(phone))
    return {"outcome": outcome}
