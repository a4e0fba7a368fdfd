"""A town's usage of one month: ``PK=TOWN#<town>, SK=USAGE#<yyyy-mm>``, one number
attribute per counter (chalicelib.domain.usage), each event added with one UpdateItem
(``ADD``, which creates the item and the attribute the first time); read with BatchGetItem,
one key per town, for the operator's list of towns (no Scan, no Query of requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.expressions.update import Action

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.usage import is_counter

BATCH = 100  # BatchGetItem's most keys per call (pynamodb pages through them)


class UsageItem(TableItem):
    """The counters are the item's own number attributes, named by the domain: they are
    not declared here (a new channel is a new counter), so they are read from the raw item."""

    counts: dict[str, int]

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> UsageItem:
        item = super().from_raw_data(data)
        item.counts = {name: int(value["N"]) for name, value in data.items()
                       if "N" in value and is_counter(name)}
        return item


class DynamoUsage:
    """Per-town, per-month usage counters."""

    def add(self, town_id: str, month: str, amounts: Mapping[str, int]) -> None:
        bad = [name for name in amounts if not is_counter(name)]
        if bad:
            raise ValueError(f"not a usage counter: {bad[0][:40]!r}")
        actions: list[Action] = [NumberAttribute(attr_name=name).add(amount)
                   for name, amount in sorted(amounts.items()) if amount]
        if not actions:
            return
        with storage_errors():
            UsageItem(keys.town_pk(town_id), keys.usage_sk(month)).update(actions=actions)

    def months(self, town_ids: list[str], month: str) -> dict[str, dict[str, int]]:
        wanted = [(keys.town_pk(t), keys.usage_sk(month)) for t in dict.fromkeys(town_ids)]
        with storage_errors():
            return {keys.town_of(item.PK): item.counts for item in UsageItem.batch_get(wanted)}
