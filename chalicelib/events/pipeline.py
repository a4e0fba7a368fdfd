"""Event handlers: routing messages and webhook deliveries from SQS, photo uploads from S3.

Each handler parses its records and calls one service per record. The router reports
partial batch failures through powertools, so one bad message is retried (and finally
dead-lettered) alone instead of redelivering its whole batch.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_plus

from chalice import Blueprint, Rate
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import bootstrap
from chalicelib.domain.errors import Town311Error

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

ROUTING_QUEUE = "town311-routing"  # replaced by the deployed queue's ARN in infra/


class RoutingMessage(BaseModel):
    """Version 1 of the routing message (written by ``adapters.aws.SqsRoutingQueue``)."""

    model_config = ConfigDict(extra="ignore")

    version: int = Field(ge=1, le=1)
    town_id: str = Field(min_length=1, max_length=100)
    service_request_id: str = Field(min_length=1, max_length=64)


def _route_record(record: Any) -> None:
    from chalicelib.services.routing import route_request

    message = RoutingMessage.model_validate_json(record.body)
    route_request(message.town_id, message.service_request_id,
                  bootstrap.container().routing_ports)


@blueprint.on_sqs_message(queue=ROUTING_QUEUE, batch_size=10)
def route_new_requests(event: Any) -> dict[str, Any]:
    """Assign each newly stored request to its department; failures are retried alone."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    # A batch whose every record failed is reported record by record too, rather than as
    # a failed invocation: SQS then counts each receive, and the DLQ takes the poison.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=_route_record,
                                    processor=processor, context=event.context)


WEBHOOK_QUEUE = "town311-webhooks"  # replaced by the deployed queue's ARN in infra/


def _deliver_webhook_record(record: Any) -> None:
    from chalicelib.schemas.delivery import WebhookDelivery
    from chalicelib.services.delivery import DeliveryFailed, deliver_webhook

    c = bootstrap.container()
    message = WebhookDelivery.model_validate_json(record.body)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    try:
        deliver_webhook(message, receive_count, c.webhook_ports)
    except DeliveryFailed as e:
        # Lambda would leave a failed record hidden for the queue's whole visibility
        # timeout; hiding it for the backoff instead spaces the retries out.
        c.channels.retry_webhook_later(record.receipt_handle, e.retry_after_seconds)
        raise


@blueprint.on_sqs_message(queue=WEBHOOK_QUEUE, batch_size=10)
def deliver_webhooks(event: Any) -> dict[str, Any]:
    """POST each queued assignment to its department's webhook, signed; a refused one is
    retried with backoff (6 tries, then the webhook dead-letter queue)."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(),
                                    record_handler=_deliver_webhook_record,
                                    processor=processor, context=event.context)


@blueprint.schedule(Rate(5, unit=Rate.MINUTES))
def resend_unrouted_requests(event: Any) -> dict[str, int]:
    """Every 5 minutes: requests stored but never assigned (their routing message was lost)
    get their message again. Reads only the unassigned ones, never the town's history."""
    from chalicelib.services.routing import resend_unrouted

    c = bootstrap.container()
    return {"resent": resend_unrouted(c.requests, c.routing, c.now())}


@blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def check_service_levels(event: Any) -> dict[str, int]:
    """Every 15 minutes: requests whose next SLA step (warning, due, overdue) has come go
    one rung up the town's escalation ladder, and its audience gets an SNS alert. Reads
    only what is due."""
    from chalicelib.services.service_levels import sweep

    return vars(sweep(bootstrap.container().sweep_ports))


@blueprint.lambda_function(name="process_photo")
def process_photo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated under ``incoming/`` (trigger defined in infra/): process each
    upload; one bad record never stops the others."""
    from chalicelib.services.photos import PhotoPorts, process_upload

    c = bootstrap.container()
    ports = PhotoPorts(bucket=c.photos, store=c.requests, new_id=c.make_id, now=c.now,
                       towns=c.towns)
    outcomes: dict[str, int] = {}
    failed = 0
    for record in event.get("Records", []):
        key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
        try:
            outcome = process_upload(key, ports)
        except Town311Error as e:
            log.error("photo not processed; S3 will retry the event", exc_info=e,
                      extra={"key": key})
            failed += 1
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if failed:
        # Raising makes Lambda retry the event; processed records are not redone because
        # their uploads are gone (process_upload ignores a missing object).
        raise RuntimeError(f"{failed} photo(s) could not be processed: {json.dumps(outcomes)}")
    return outcomes
