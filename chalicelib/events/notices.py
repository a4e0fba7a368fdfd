"""Messages to residents and staff: the notices queue, the morning release of texts held
back by quiet hours, and texts residents send back (STOP)."""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import json
import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Rate

from chalicelib import bootstrap
from chalicelib.coldstart import with_start_up_middleware
from chalicelib.events.pipeline import process_batch
from chalicelib.observability import with_queue_middleware

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from chalicelib.events.records import NoticeRecord

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

NOTICE_QUEUE = "town311-notices"  # replaced by the deployed queue's ARN in infra/
INBOUND_SMS_TOPIC = "town311-sms-inbound"  # replaced by the deployed topic in infra/


def _notice_record(record: NoticeRecord) -> None:
    from chalicelib.schemas.notices import AlertApproved, AlertBatch
    from chalicelib.services import alerts, notices

    message = record.body
    c = bootstrap.container()
    # Emergency alerts share the notices queue: the fan-out, then each batch.
    if isinstance(message, AlertApproved):
        queued = alerts.fan_out(c.alert_ports, message.town_id, message.alert_id)
        log.info("alert fanned out", extra={"alert": message.alert_id, "recipients": queued})
    elif isinstance(message, AlertBatch):
        people = [person.member() for person in message.recipients]
        sent = alerts.deliver(c.alert_ports, message.town_id, message.alert_id, people)
        log.info("alert batch", extra={"alert": message.alert_id, "outcome": sent})
    else:
        outcome = notices.handle_message(message, c.notice_ports)
        log.info("notices", extra={"outcome": vars(outcome)})


@with_queue_middleware
@blueprint.on_sqs_message(queue=NOTICE_QUEUE, batch_size=10)
def send_notices(event: Any) -> PartialItemFailureResponse:
    """Fan each change out to its followers and send; a failed batch is retried alone,
    and nobody already messaged is messaged again."""
    return process_batch(event, "NoticeRecord", _notice_record)


@with_start_up_middleware
@blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def release_quiet_hours_texts(event: Any) -> dict[str, int]:
    """Every 15 minutes: texts held back overnight whose town's quiet hours are over go
    back on the notices queue. Reads only what is due."""
    from chalicelib.services.notices import release_deferred

    return {"released": release_deferred(bootstrap.container().notice_ports)}


@with_start_up_middleware
@blueprint.on_sns_message(topic=INBOUND_SMS_TOPIC)
def receive_sms(event: Any) -> dict[str, str | None]:
    """A resident's text to a town's number (SNS two-way SMS): a report by conversation,
    STATUS and HELP (services.sms_intake); STOP and its synonyms stop every message to that
    phone, START undoes it.

    Never raises: SNS would deliver the same text again and again, so a text that cannot
    be handled is logged with its cause and dropped (the resident can text again)."""
    from pydantic import ValidationError

    from chalicelib.schemas.sms import InboundSms
    from chalicelib.services.sms_intake import receive

    try:
        inbound = InboundSms.model_validate(json.loads(event.message))
    except (ValueError, TypeError, ValidationError):
        log.warning("inbound SMS not understood; ignored")
        return {"outcome": None}
    try:
        return {"outcome": receive(bootstrap.container().sms_ports, inbound)}
    except Exception:  # noqa: BLE001 - logged with its cause; a retry would fail the same way
        log.exception("inbound SMS could not be handled; dropped")
        return {"outcome": "error"}
