"""What the SLA sweep reads: open requests by the hour of their next SLA step (the sparse
``by_sla`` index, ``GSI5PK=SLA#<UTC hour>``, ``GSI5SK=<at>#<town>#<request>``, across every
town), and its cursor (``PK=SLA#SWEEP, SK=CURSOR``): the oldest hour not yet finished.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors
from chalicelib.adapters.dynamodb.service_requests import RequestItem
from chalicelib.adapters.dynamodb.table import TableItem


class SweepCursorItem(TableItem):
    at = UnicodeAttribute()  # the hour, as a sort time


class ServiceLevelRecords:
    """The SLA part of ``DynamoRequestStore``."""

    def sla_due(self, bucket_hour: datetime, now: datetime,
                limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests whose next SLA step, in that UTC hour, is
        due by ``now``: one Query of the sparse by_sla index."""
        with storage_errors():
            items = RequestItem.by_sla.query(
                keys.sla_bucket(bucket_hour), keys.upto(now) >= RequestItem.GSI5SK,
                limit=limit)
            return [keys.sla_request_of(item.GSI5SK or "") for item in items]

    def sla_cursor(self) -> datetime | None:
        """The oldest hour the SLA sweep has not finished (None: it never ran)."""
        item = get_or_none(SweepCursorItem, keys.SLA_CURSOR_PK, keys.SLA_CURSOR_SK)
        return keys.parse_sort_time(item.at) if item is not None else None

    def save_sla_cursor(self, hour: datetime) -> None:
        with storage_errors():
            SweepCursorItem(keys.SLA_CURSOR_PK, keys.SLA_CURSOR_SK,
                            at=keys.sort_time(hour)).save()
