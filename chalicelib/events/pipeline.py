"""Event handlers: routing messages and webhook deliveries from SQS, photo uploads from S3,
and the schedules that resend lost routing messages and climb the escalation ladder.

Each handler parses its records and calls one service per record, with ports from the
composition root (``bootstrap.container()``). Queue records are parsed by powertools'
batch processor into the message models of ``chalicelib.schemas.queues``; a record that
fails (a body that does not fit, or a service error) is reported alone as a partial batch
failure, so it is retried (and finally dead-lettered) without its batch.
"""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalice import Blueprint, Rate

from chalicelib import bootstrap
from chalicelib.coldstart import with_start_up_middleware
from chalicelib.domain.errors import Town311Error
from chalicelib.observability import with_queue_middleware

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from chalicelib.events.records import QueueRecord, RoutingRecord, WebhookRecord

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

ROUTING_QUEUE = "town311-routing"  # replaced by the deployed queue's ARN in infra/
WEBHOOK_QUEUE = "town311-webhooks"  # replaced by the deployed queue's ARN in infra/


def process_batch(event: Any, record_model: str,
                  record_handler: Callable[[Any], None]) -> PartialItemFailureResponse:
    """Run ``record_handler`` on each record of a Chalice SQS event, parsed as the model
    of ``chalicelib.events.records`` named ``record_model``; the answer lists the records
    that failed (ReportBatchItemFailures)."""
    # powertools' batch module, imported while pydantic is loaded, imports every one of
    # its ~100 parser models for its type hints (utilities/batch/types.py); imported
    # first, before the record models load pydantic, it does not. A queue function's
    # first batch is spared that (about half a second on a small machine).
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from chalicelib.events import records

    model: type[QueueRecord] = getattr(records, record_model)

    # A batch whose every record failed is reported record by record too, rather than as
    # a failed invocation: SQS then counts each receive, and the DLQ takes the poison.
    processor = BatchProcessor(event_type=EventType.SQS,
                               model=model,  # type: ignore[arg-type]  # one of ours
                               raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=record_handler,
                                    processor=processor, context=event.context)


def _route_record(record: RoutingRecord) -> None:
    from chalicelib.services.routing import route_request

    message = record.body
    route_request(message.town_id, message.service_request_id,
                  bootstrap.container().routing_ports)


@with_queue_middleware
@blueprint.on_sqs_message(queue=ROUTING_QUEUE, batch_size=10)
def route_new_requests(event: Any) -> PartialItemFailureResponse:
    """Assign each newly stored request to its department; failures are retried alone."""
    return process_batch(event, "RoutingRecord", _route_record)


def _deliver_webhook_record(record: WebhookRecord) -> None:
    from chalicelib.services.delivery import DeliveryFailed, deliver_webhook

    c = bootstrap.container()
    receive_count = int(record.attributes.ApproximateReceiveCount or 1)
    try:
        deliver_webhook(record.body, receive_count, c.webhook_ports)
    except DeliveryFailed as e:
        # Lambda would leave a failed record hidden for the queue's whole visibility
        # timeout; hiding it for the backoff instead spaces the retries out.
        c.channels.retry_webhook_later(record.receiptHandle, e.retry_after_seconds)
        raise


@with_queue_middleware
@blueprint.on_sqs_message(queue=WEBHOOK_QUEUE, batch_size=10)
def deliver_webhooks(event: Any) -> PartialItemFailureResponse:
    """POST each queued assignment to its department's webhook, signed; a refused one is
    retried with backoff (6 tries, then the webhook dead-letter queue)."""
    return process_batch(event, "WebhookRecord", _deliver_webhook_record)


@with_start_up_middleware
@blueprint.schedule(Rate(5, unit=Rate.MINUTES))
def resend_unrouted_requests(event: Any) -> dict[str, int]:
    """Every 5 minutes: requests stored but never assigned (their routing message was lost)
    get their message again. Reads only the unassigned ones, never the town's history."""
    from chalicelib.services.routing import resend_unrouted

    c = bootstrap.container()
    return {"resent": resend_unrouted(c.requests, c.routing_queue, c.now())}


@with_start_up_middleware
@blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def check_service_levels(event: Any) -> dict[str, int]:
    """Every 15 minutes: requests whose next SLA step (warning, due, overdue) has come go
    one rung up the town's escalation ladder, and its audience gets an escalation on SNS.
    Reads only what is due."""
    from chalicelib.services.service_levels import sweep

    return vars(sweep(bootstrap.container().sweep_ports))


@blueprint.lambda_function(name="process_photo")
def process_photo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated under ``incoming/`` (trigger defined in infra/): process each
    upload; one bad record never stops the others."""
    try:
        return _process_photos(event)
    finally:
        coldstart.started()


def uploaded_keys(event: dict[str, Any]) -> list[str]:
    """The object keys of an S3 ObjectCreated notification, decoded (S3 sends them
    URL-encoded, a space as "+"). Read directly rather than through powertools' S3Event:
    importing it imports every event data class powertools has, for one key per record."""
    return [unquote_plus(record["s3"]["object"]["key"]) for record in event["Records"]]


def each_upload(event: dict[str, Any], handle: Callable[[str], str], what: str
                ) -> dict[str, int]:
    """Run ``handle`` on each object of an S3 notification and count its outcomes. One
    object whose handling fails with a Town311Error (a store or gateway unavailable) does
    not stop the others; at the end the event fails, so Lambda tries it again (twice at
    most, S3's asynchronous invocation), and the handlers make a redone object a no-op."""
    outcomes: dict[str, int] = {}
    failed = 0
    for key in uploaded_keys(event):
        try:
            outcome = handle(key)
        except Town311Error as e:
            log.error("%s not handled; S3 will retry the event", what, exc_info=e,
                      extra={"key": key})
            failed += 1
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if failed:
        raise RuntimeError(f"{failed} {what}(s) could not be handled: {json.dumps(outcomes)}")
    return outcomes


def _process_photos(event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.services.photos import process_upload

    ports = bootstrap.container().photo_ports
    # A processed upload is not redone on a retry: it is gone (process_upload ignores a
    # missing object).
    return each_upload(event, lambda key: process_upload(key, ports), "photo")
