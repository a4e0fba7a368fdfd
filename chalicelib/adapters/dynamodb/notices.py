"""What residents were told: who said stop, which messages were sent, and texts waiting
for the morning.

- stops: ``TOWN#<town>#OPTOUT#<contact hash>`` (the town's stop link) and
  ``PLATFORM#SMSOPTOUT#<phone hash>`` (STOP to the shared number), SK ``OPTOUT``
- a message sent for an event: ``TOWN#<town>#NOTICE#<event id>``, SK
  ``<follower>#<channel>`` (an e-mail's claim also holds the hash of its stop link's secret)
- texts held back by quiet hours: ``NOTICE#DEFERRED``, SK ``<send at>#<town>#<key>`` (one
  small partition for the deployment: only messages that wait for the morning are in it)
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors, written_if
from chalicelib.adapters.dynamodb.table import TableItem


class OptOutItem(TableItem):
    at = UnicodeAttribute()


class NoticeClaimItem(TableItem):
    """"This message was (being) sent": written before sending, so a retried batch never
    sends twice; removed again when the send fails, so the retry does send it. An e-mail's
    claim also holds the hash of its own stop link's secret."""

    expires_at = NumberAttribute()
    stop_hash = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)


class DeferredNoticeItem(TableItem):
    town_id = UnicodeAttribute()
    body = UnicodeAttribute()  # the NoticeBatch message to send when quiet hours end


class DynamoNoticeBook:
    """Who said stop, which messages were sent, and texts waiting for the morning."""

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        """(town stops, text stops): which of the contacts stopped the town's messages,
        and which phones texted STOP to the shared number."""
        pks = [keys.opt_out_pk(town_id, h) for h in contact_hashes]
        pks += [keys.opt_out_pk(None, h) for h in phone_hashes]
        town_stops: set[str] = set()
        text_stops: set[str] = set()
        if not pks:
            return town_stops, text_stops
        with storage_errors():
            for item in OptOutItem.batch_get([(pk, keys.OPT_OUT_SK) for pk in pks]):
                found = text_stops if keys.is_sms_opt_out(item.PK) else town_stops
                found.add(keys.opt_out_hash(item.PK))
        return town_stops, text_stops

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        with storage_errors():
            OptOutItem(keys.opt_out_pk(town_id, contact_hash), keys.OPT_OUT_SK,
                       at=keys.sort_time(at)).save()

    def restart(self, town_id: str | None, contact_hash: str) -> None:
        with storage_errors():
            OptOutItem(keys.opt_out_pk(town_id, contact_hash), keys.OPT_OUT_SK).delete()

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        claim = NoticeClaimItem(keys.notice_pk(town_id, event_id), key,
                                expires_at=expires_at, stop_hash=stop_hash,
                                request_id=request_id)
        return written_if(lambda: claim.save(condition=NoticeClaimItem.SK.does_not_exist()))

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        """(stop secret's hash, request) of the message sent for ``event_id`` to ``key``."""
        item = get_or_none(NoticeClaimItem, keys.notice_pk(town_id, event_id), key)
        if item is None or not item.stop_hash or not item.request_id:
            return None
        return item.stop_hash, item.request_id

    def release(self, town_id: str, event_id: str, key: str) -> None:
        with storage_errors():
            NoticeClaimItem(keys.notice_pk(town_id, event_id), key).delete()

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None:
        with storage_errors():
            DeferredNoticeItem(keys.DEFERRED_PK, keys.deferred_sk(send_at, town_id, key),
                               town_id=town_id, body=body).save()

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        with storage_errors():
            return [(i.SK, i.town_id, i.body) for i in DeferredNoticeItem.query(
                keys.DEFERRED_PK, keys.upto(now) >= DeferredNoticeItem.SK, limit=limit)]

    def drop_deferred(self, key: str) -> None:
        with storage_errors():
            DeferredNoticeItem(keys.DEFERRED_PK, key).delete()
