"""What became of deliveries to departments' own systems: one item per try and channel,
``PK=TOWN#<town>#DELIVERED#<department>``, ``SK=<at>#<delivery id>#<channel>#<attempt>``,
removed by DynamoDB's TTL (``expires_at``); the latest read with one Query, newest first."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.deliveries import DeliveryResult


class DeliveryResultItem(TableItem):
    at = UnicodeAttribute()
    delivery_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    outcome = UnicodeAttribute()
    attempt = NumberAttribute()
    test = BooleanAttribute(default=False)
    status = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()


class DynamoDeliveryResults:
    """``DeliveryResults`` in the town's table."""

    def record(self, town_id: str, department: str, result: DeliveryResult,
               expires_at: int) -> None:
        item = DeliveryResultItem(
            keys.delivery_result_pk(town_id, department),
            keys.delivery_result_sk(result.at, result.delivery_id, result.channel,
                                    result.attempt),
            at=keys.sort_time(result.at), delivery_id=result.delivery_id,
            channel=result.channel, outcome=result.outcome, attempt=result.attempt,
            test=result.test, status=result.status, error=result.error,
            expires_at=expires_at)
        with storage_errors():
            item.save()

    def recent(self, town_id: str, department: str, limit: int) -> list[DeliveryResult]:
        with storage_errors():
            items = list(DeliveryResultItem.query(
                keys.delivery_result_pk(town_id, department), scan_index_forward=False,
                limit=limit))
        return [DeliveryResult(
            at=keys.parse_sort_time(i.at), delivery_id=i.delivery_id, channel=i.channel,
            outcome=i.outcome, attempt=int(i.attempt), test=bool(i.test),
            status=int(i.status) if i.status is not None else None, error=i.error)
            for i in items]
