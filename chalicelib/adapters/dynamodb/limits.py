"""Counters: what strangers can make a town send, its texts this month, API keys' rates.

- a budget of one window: UpdateItem ``PK=TOWN#<town>#LIMIT#<name>#<window>, SK=LIMIT``, a
  conditional add (TTL removes old windows)
- tallies that only grow (refusals per day, texts per month, disputes, ratings): UpdateItem
  ``PK=TOWN#<town>, SK=TALLY#<name>``; read with Query ``SK begins_with TALLY#<prefix>``
- an API key's submissions in one minute: ``PK=TOWN#<town>, SK=RATE#<key id>#<minute>``,
  added in the transaction that stores the request (``DynamoRequestStore.add``)
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors, written_if
from chalicelib.adapters.dynamodb.table import TableItem, query_items
from chalicelib.domain.queries import Quota

# ``count`` is the stored attribute's name; it hides Model.count (a Query's item count),
# which nothing calls on these classes.


class LimitItem(TableItem):
    count = NumberAttribute(null=True)  # type: ignore[assignment]
    expires_at = NumberAttribute(null=True)


class TallyItem(TableItem):
    count = NumberAttribute(default=0)  # type: ignore[assignment]


class RateItem(TableItem):
    """Submissions of one API key in one minute; DynamoDB's TTL removes old windows."""

    calls = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


def add_to_tally(town_id: str, name: str, amount: int) -> tuple[TallyItem, list[Any]]:
    """The item and update actions that add ``amount`` to one of the town's tallies."""
    return TallyItem(keys.town_pk(town_id), keys.tally_sk(name)), [TallyItem.count.add(amount)]


def take_rate(town_id: str, quota: Quota) -> tuple[RateItem, list[Any], Any]:
    """The item, actions and condition that count one submission against a key's rate."""
    epoch = int(quota.window_start.timestamp())
    return (RateItem(keys.town_pk(town_id), keys.rate_sk(quota.key_id, epoch)),
            [RateItem.calls.add(1), RateItem.expires_at.set(epoch + 180)],
            RateItem.calls.does_not_exist() | (RateItem.calls < quota.limit_per_minute))


def read_tallies(town_id: str, prefix: str) -> dict[str, int]:
    """The town's tallies whose names start with ``prefix``, by name."""
    return {keys.tally_name(raw["SK"]["S"]): int(raw.get("count", {"N": "0"})["N"])
            for raw in query_items(keys.town_pk(town_id), keys.tally_sk(prefix))}


class DynamoLimits:
    """Budgets of what strangers can make a town send, and its monthly texts."""

    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        item = LimitItem(keys.limit_pk(town_id, name, window), keys.LIMIT_SK)
        return written_if(lambda: item.update(
            actions=[LimitItem.count.add(amount), LimitItem.expires_at.set(expires_at)],
            condition=LimitItem.count.does_not_exist() | (LimitItem.count <= limit - amount)))

    def add(self, town_id: str, name: str, amount: int) -> None:
        item, actions = add_to_tally(town_id, name, amount)
        with storage_errors():
            item.update(actions=actions)

    def totals(self, town_id: str, prefix: str) -> dict[str, int]:
        with storage_errors():
            return read_tallies(town_id, prefix)

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        item = TallyItem(keys.town_pk(town_id), keys.sms_month_sk(month))
        return written_if(lambda: item.update(
            actions=[TallyItem.count.add(segments)],
            condition=TallyItem.count.does_not_exist() | (TallyItem.count <= cap - segments)))
