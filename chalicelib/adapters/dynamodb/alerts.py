"""Emergency alerts, their progress counts and their one-message-per-recipient records.

- a town's alerts: Query ``PK=TOWN#<town>, SK begins_with ALERT#`` (one item each, versioned)
- an alert's progress: Query ``PK=TOWN#<town>#ALERT#<id>, SK begins_with TALLY#`` (strongly
  consistent: the worker that settles the last message must see every other settlement)
- one message per recipient and channel: ``PK=TOWN#<town>#ALERT#<id>#DELIVERY``,
  ``SK=<subscriber>#<channel>``, written (conditionally) before the send
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    condition_failed,
    get_or_none,
    reasons,
    storage_errors,
    written_if,
)
from chalicelib.adapters.dynamodb.keys import parse_sort_time, sort_time
from chalicelib.adapters.dynamodb.limits import TallyItem
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import Conflict, StorageUnavailable


class AlertItem(TableItem):
    doc = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class DeliveryItem(TableItem):
    state = UnicodeAttribute()  # sending, then sent, opted_out, over_cap, off_test_list
    expires_at = NumberAttribute(null=True)
    stop_hash = UnicodeAttribute(null=True)  # an e-mail's own stop link (its secret, hashed)


def _alert_doc(a: Alert) -> dict[str, Any]:
    return {"title": a.title, "body": a.body, "fallback": a.fallback_language,
            "severity": a.severity, "category": a.category,
            "expires_at": sort_time(a.expires_at), "zones": list(a.zones),
            "created_by": a.created_by, "created_at": sort_time(a.created_at), "test": a.test,
            "approved_by": a.approved_by, "cancelled_by": a.cancelled_by,
            "sent_at": sort_time(a.sent_at) if a.sent_at else None, "corrects": a.corrects,
            "area": a.area,
            "cancelled_at": sort_time(a.cancelled_at) if a.cancelled_at else None,
            "asked_by": a.asked_by,
            "asked_at": sort_time(a.asked_at) if a.asked_at else None}


def _alert(town_id: str, item: AlertItem) -> Alert:
    d = item.doc
    return Alert(
        town_id=town_id, alert_id=keys.alert_of(item.SK), title=d["title"],
        body=d["body"], fallback_language=d["fallback"], severity=d["severity"],
        category=d["category"], expires_at=parse_sort_time(d["expires_at"]),
        zones=tuple(d["zones"]), created_by=d["created_by"],
        created_at=parse_sort_time(d["created_at"]), test=bool(d.get("test")),
        status=item.status, approved_by=d.get("approved_by"),
        cancelled_by=d.get("cancelled_by"),
        sent_at=parse_sort_time(d["sent_at"]) if d.get("sent_at") else None,
        version=int(item.version or 1), corrects=d.get("corrects"), area=d.get("area"),
        cancelled_at=parse_sort_time(d["cancelled_at"]) if d.get("cancelled_at") else None,
        asked_by=d.get("asked_by"),
        asked_at=parse_sort_time(d["asked_at"]) if d.get("asked_at") else None)


class DynamoAlerts:
    """Alerts, their progress counts and their one-message-per-recipient records."""

    def save(self, alert: Alert, new: bool = False) -> None:
        """Store an alert; an existing one only if nobody changed it since it was read."""
        item = AlertItem(keys.town_pk(alert.town_id), keys.alert_sk(alert.alert_id),
                         doc=_alert_doc(alert), status=alert.status)
        if not new and alert.version:
            item.version = alert.version
        with storage_errors():
            try:
                item.save()
            except PutError as e:
                if condition_failed(e):
                    raise Conflict("the alert changed meanwhile; read it again") from e
                raise
        alert.version = int(item.version or 1)

    def get(self, town_id: str, alert_id: str) -> Alert | None:
        item = get_or_none(AlertItem, keys.town_pk(town_id), keys.alert_sk(alert_id))
        if item is None:
            return None
        alert = _alert(town_id, item)
        alert.counts = self.counts(town_id, alert_id)
        return alert

    def list(self, town_id: str) -> list[Alert]:
        with storage_errors():
            found = [_alert(town_id, AlertItem.from_raw_data(raw))
                     for raw in query_items(keys.town_pk(town_id), keys.ALERT_PREFIX)]
        return sorted(found, key=lambda a: a.created_at, reverse=True)

    # Progress counters are spread over shards: tens of thousands of messages adding to
    # one item would exceed what a single DynamoDB item takes per second.
    SHARDS = 10

    def count(self, town_id: str, alert_id: str, outcome: str, amount: int = 1) -> None:
        import random

        shard = random.randrange(self.SHARDS)  # noqa: S311 - spreading writes, not a secret
        with storage_errors():
            TallyItem(keys.alert_pk(town_id, alert_id), keys.alert_tally_sk(outcome, shard)
                      ).update(actions=[TallyItem.count.add(amount)])

    def counts(self, town_id: str, alert_id: str) -> dict[str, int]:
        """The alert's tallies, summed over their shards, read strongly consistent."""
        totals: dict[str, int] = {}
        with storage_errors():
            for raw in query_items(keys.alert_pk(town_id, alert_id), keys.TALLY_PREFIX,
                                   consistent=True):
                if "count" in raw:
                    name = keys.alert_tally_name(raw["SK"]["S"])
                    totals[name] = totals.get(name, 0) + int(raw["count"]["N"])
        return totals

    def plan(self, town_id: str, alert_id: str, tallies: dict[str, int]) -> None:
        """Set (not add) what the fan-out planned, e.g. recipients and messages: a
        retried fan-out writes the same numbers again instead of doubling them."""
        with storage_errors():
            for name, value in tallies.items():
                TallyItem(keys.alert_pk(town_id, alert_id), keys.alert_tally_sk(name),
                          count=value).save()

    def mark_sent(self, town_id: str, alert_id: str) -> bool:
        """sending → sent, only if it is still sending (a cancel meanwhile wins); moves the
        version on, so a cancel read before this refuses instead of overwriting it."""
        connection = TableItem._get_connection()
        return written_if(lambda: connection.update_item(
            keys.town_pk(town_id), keys.alert_sk(alert_id),
            actions=[AlertItem.status.set("sent"), AlertItem.version.add(1)],
            condition=AlertItem.status == "sending"))

    def delivered_to(self, town_id: str, alert_id: str) -> set[str]:
        """The subscribers an alert reached (on any channel)."""
        with storage_errors():
            return {keys.delivery_subscriber(raw["SK"]["S"])
                    for raw in query_items(keys.delivery_pk(town_id, alert_id))
                    if raw.get("state", {}).get("S") == "sent"}

    def take_sms_slot(self, town_id: str, second: int, per_second: int) -> bool:
        """One of the town's texts for this second, if any is left (a token bucket of
        one-second windows; TTL removes old windows)."""
        item = TallyItem(keys.sms_rate_pk(town_id, second), keys.SMS_RATE_SK)
        return written_if(lambda: item.update(
            actions=[TallyItem.count.add(1)],
            condition=TallyItem.count.does_not_exist() | (TallyItem.count < per_second)))

    def claim(self, town_id: str, alert_id: str, key: str, expires_at: int,
              stop_hash: str | None = None) -> bool:
        claim = DeliveryItem(keys.delivery_pk(town_id, alert_id), key,
                             state="sending", expires_at=expires_at, stop_hash=stop_hash)
        return written_if(lambda: claim.save(condition=DeliveryItem.SK.does_not_exist()))

    def stop_hash(self, town_id: str, alert_id: str, key: str) -> str | None:
        """The hash of the stop link's secret in the message of ``alert_id`` to ``key``."""
        item = get_or_none(DeliveryItem, keys.delivery_pk(town_id, alert_id), key)
        return item.stop_hash if item is not None else None

    def settle(self, town_id: str, alert_id: str, key: str, state: str | None,
               tally: str | None = None) -> bool:
        """Record how a claimed message ended and add one to ``tally``, in one transaction
        that only a message still being sent passes: a message is counted once however
        often its batch is retried. None gives the claim back (the send failed and will be
        retried). False: it was already settled, nothing counted."""
        item = DeliveryItem(keys.delivery_pk(town_id, alert_id), key)
        with storage_errors():
            try:
                if state is None:
                    item.delete()
                    return True
                if tally is None:
                    item.update(actions=[DeliveryItem.state.set(state)],
                                condition=DeliveryItem.state == "sending")
                    return True
            except UpdateError as e:
                if condition_failed(e):
                    return False
                raise
        import random

        for _ in range(8):
            # Two transactions on one tally shard at once conflict: another shard, again.
            shard = random.randrange(self.SHARDS)  # noqa: S311 - spreading writes
            with storage_errors():
                try:
                    with transaction() as tx:
                        tx.update(item, actions=[DeliveryItem.state.set(state)],
                                  condition=DeliveryItem.state == "sending")
                        tx.update(TallyItem(keys.alert_pk(town_id, alert_id),
                                            keys.alert_tally_sk(tally, shard)),
                                  actions=[TallyItem.count.add(1)])
                    return True
                except TransactWriteError as e:
                    codes = reasons(e)
                    if CONDITION_FAILED in codes:
                        return False
                    if "TransactionConflict" not in codes:
                        raise
        raise StorageUnavailable("the alert's progress is too busy; retried")
