"""The export worker: each message of the export queue names a job, whose file it writes
to S3 in parts (chalicelib.services.open_data.run_export)."""

from __future__ import annotations

from chalicelib import coldstart

coldstart.starting()  # before the imports below: chalicelib/coldstart.py says why

import logging
from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.events.pipeline import process_batch
from chalicelib.observability import with_queue_middleware

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

    from chalicelib.events.records import ExportRecord

blueprint = Blueprint(__name__)
log = logging.getLogger(__name__)

EXPORT_QUEUE = "town311-exports"  # replaced by the deployed queue's ARN in infra/


def _export_record(record: ExportRecord) -> None:
    from chalicelib.services.open_data import run_export

    message = record.body
    job = run_export(bootstrap.container().open_data_ports, message.town_id, message.job_id)
    log.info("export written", extra={"town": job.town_id, "job": job.job_id,
                                      "rows": job.rows, "parts": job.parts})


@with_queue_middleware
@blueprint.on_sqs_message(queue=EXPORT_QUEUE, batch_size=1)
def write_exports(event: Any) -> PartialItemFailureResponse:
    """Write one export's file (one job per invocation: a whole town may take minutes); a
    failed job is retried from the start, then dead-lettered."""
    return process_batch(event, "ExportRecord", _export_record)
