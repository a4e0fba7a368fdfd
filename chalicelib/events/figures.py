"""The town's figures, counted from the table's stream.

Every timeline event and every "me too" follower is an item written into the one table in
the same transaction as the change it records; the table's stream (new images) hands
them here, filtered by the event source mapping (infra/template.yaml) to inserted
``EVENT#`` items and follower ``SUB#`` items. Nothing a service does has to remember to
count: a change that is stored is counted, and one that failed to store is not.

Each record is counted by ``services.figures.record_event`` (one conditional
transaction); one that fails is reported alone (powertools' partial batch response) and
Lambda retries from it, so the records of a request stay in order. A record delivered
twice is counted once: the request's tally has its mark.
"""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.observability import with_queue_middleware

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

# Replaced by the deployed table's stream (RequestsTable.StreamArn) in infra/template.yaml.
REQUESTS_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/town311-requests/stream/x"


def count_record(record: DynamoDBRecord) -> None:
    """Count one stream record (a new timeline event or follower) in its town's figures."""
    from chalicelib.adapters.dynamodb.figures import figure_event
    from chalicelib.services.figures import record_event

    image = record.dynamodb.new_image if record.dynamodb else None
    event = figure_event(image or {})
    if event is None:
        return  # not one of ours: the filter lets through only what is counted
    counted = record_event(bootstrap.container().figure_ports, event)
    log.debug("figures", extra={"town": event.town_id, "kind": event.kind,
                                "counted": counted})


def process_stream(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Count each record of a DynamoDB stream batch; the answer names the first record
    that failed (ReportBatchItemFailures), from which Lambda retries."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams,
                               raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=count_record,
                                    processor=processor, context=context)


@with_queue_middleware
@blueprint.on_dynamodb_record(stream_arn=REQUESTS_STREAM, batch_size=100,
                              starting_position="TRIM_HORIZON")
def count_figures(event: Any) -> PartialItemFailureResponse:
    """Count new timeline events and "me too"s in the towns' figures."""
    return process_stream(event.to_dict(), event.context)


def main(argv: list[str] | None = None) -> int:
    """``python -m chalicelib.events.figures [town ...]``: rebuild towns' figures from their
    stored history (every hosted town if none is named), with the deployment's settings
    (the environment the functions get). Safe to run again: it replaces what it rebuilds."""
    import argparse

    from chalicelib.services.figures import backfill

    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.events.figures",
        description="Rebuild towns' figures from their stored requests and timelines.")
    parser.add_argument("towns", nargs="*", help="jurisdiction ids (default: every town)")
    args = parser.parse_args(argv)
    c = bootstrap.container()
    for town_id in args.towns or c.town_store.list_towns():
        done = backfill(c.figure_ports, town_id)
        print(f"{town_id}: {done.requests} requests, {done.events} events, "
              f"{done.days} day items", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
