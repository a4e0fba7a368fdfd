"""What the app's SQS queues carry: one pydantic model per message, used by whoever writes
it (``model_dump_json()``) and by the handler that reads it (chalicelib/events/records.py
parses each Lambda record's body as that model).

- routing queue: ``RoutingMessage`` (written by ``adapters.aws.SqsRoutingQueue``);
- notices queue: ``schemas.notices.NoticeQueueMessage`` (request notices and emergency
  alerts);
- webhook queue: ``schemas.delivery.WebhookDelivery``;
- export queue: ``ExportMessage`` (written by ``adapters.exports.SqsExportQueue``);
- departments' own queues: ``schemas.delivery.RequestAssigned`` (a published contract).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.model import WireModel


class RoutingMessage(WireModel):
    """Version 1: "assign this newly stored request to its department"."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    town_id: str = Field(min_length=1, max_length=100)
    service_request_id: str = Field(min_length=1, max_length=64)


class ExportMessage(WireModel):
    """Version 1: "write the file of this export job" (chalicelib.domain.exports)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal[1] = 1
    town_id: str = Field(min_length=1, max_length=100)
    job_id: str = Field(min_length=1, max_length=64)
