"""Emergency alert subscribers.

- a subscriber: GetItem ``PK=TOWN#<town>#ALERTSUB#<id>, SK=SUB``
- one subscription per contact and town: ``PK=TOWN#<town>#ALERTCONTACT#<contact hash>``
- who an alert reaches: Query ``PK=TOWN#<town>#AUDIENCE#<zone>`` (``*``: the whole town);
  active subscribers only, each item carrying the contact, language and channels, so
  choosing recipients is one Query per zone and nothing else
- STOP to the shared number: Query ``PK=PLATFORM#ALERTPHONE#<phone hash>`` (every town)
- how many each audience has: Query ``PK=TOWN#<town>#AUDIENCECOUNT`` (``SK=ZONE#<zone>``,
  counters of people, phones and e-mails), one item per zone plus ``COUNTED`` once they
  were backfilled. They move in the transaction that makes a subscriber active or removes
  an active one, conditional on the subscriber's stored state, so a repeated write never
  counts twice; the desk reads one small partition instead of every audience.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    get_or_none,
    reasons,
    storage_errors,
    written_if,
)
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain import followers
from chalicelib.domain.subscribers import AudienceCount, AudienceMember, Subscriber


class SubscriberItem(TableItem):
    language = UnicodeAttribute()
    zones = JSONAttribute(default=list)
    created_at = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    code_hash = UnicodeAttribute(null=True)
    code_expires = NumberAttribute(default=0)
    tries = NumberAttribute(default=0)
    stop_key = UnicodeAttribute(default="")
    home = JSONAttribute(null=True)


class AudienceItem(TableItem):
    subscriber_id = UnicodeAttribute()
    language = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    stop_key = UnicodeAttribute(default="")
    home = JSONAttribute(null=True)


class AudienceCountItem(TableItem):
    people = NumberAttribute(default=0)
    sms = NumberAttribute(default=0)
    email = NumberAttribute(default=0)


class SubscriberPointer(TableItem):
    town_id = UnicodeAttribute()
    subscriber_id = UnicodeAttribute()


def _audiences(s: Subscriber) -> list[str]:
    return [keys.WHOLE_TOWN, *s.zones]


def _phone_hashes(s: Subscriber) -> list[str]:
    return followers.contact_hashes(None, s.phone)


def subscriber_item(s: Subscriber) -> SubscriberItem:
    return SubscriberItem(
        keys.subscriber_pk(s.town_id, s.subscriber_id), keys.SUBSCRIBER_SK,
        language=s.language, zones=list(s.zones), created_at=keys.sort_time(s.created_at),
        phone=s.phone, email=s.email, status=s.status, code_hash=s.code_hash,
        code_expires=s.code_expires, tries=s.tries, stop_key=s.stop_key,
        home=list(s.home) if s.home else None)


def audience_item(s: Subscriber, zone: str) -> AudienceItem:
    return AudienceItem(
        keys.audience_pk(s.town_id, zone), keys.audience_sk(s.subscriber_id),
        subscriber_id=s.subscriber_id, language=s.language, phone=s.phone, email=s.email,
        stop_key=s.stop_key, home=list(s.home) if s.home else None)


class DynamoSubscribers:
    """Subscribers, their pointers and audience entries, written together."""

    def get(self, town_id: str, subscriber_id: str) -> Subscriber | None:
        item = get_or_none(SubscriberItem, keys.subscriber_pk(town_id, subscriber_id),
                           keys.SUBSCRIBER_SK)
        if item is None:
            return None
        return Subscriber(
            town_id=town_id, subscriber_id=subscriber_id, language=item.language,
            zones=tuple(item.zones or ()), created_at=keys.parse_sort_time(item.created_at),
            phone=item.phone, email=item.email, status=item.status, code_hash=item.code_hash,
            code_expires=int(item.code_expires or 0), tries=int(item.tries or 0),
            stop_key=item.stop_key, home=tuple(item.home) if item.home else None)

    def find_by_contact(self, town_id: str, contact_hash: str) -> str | None:
        item = get_or_none(SubscriberPointer, keys.alert_contact_pk(town_id, contact_hash),
                           keys.SUBSCRIBER_SK)
        return item.subscriber_id if item is not None else None

    def save(self, s: Subscriber) -> None:
        """Write a subscriber (pending or active) with its contact pointers and, when
        active, its audience entries and the STOP pointer, in one transaction. Becoming
        active adds one to each of its audiences' counts; writing an already active
        subscriber again does not."""
        with storage_errors():
            if s.status == "active":
                try:
                    self._write(s, counted=True)
                    return
                except TransactWriteError as e:
                    if CONDITION_FAILED not in reasons(e):
                        raise
                # Stored as active already: rewritten, counted once before.
            self._write(s, counted=False)

    def _write(self, s: Subscriber, counted: bool) -> None:
        with transaction() as tx:
            if counted:
                tx.save(subscriber_item(s), condition=SubscriberItem.PK.does_not_exist()
                        | (SubscriberItem.status != "active"))
            else:
                tx.save(subscriber_item(s))
            if s.status == "active":
                # Only a confirmed subscription is the contact's: a pending sign-up
                # (perhaps a stranger's, with this contact) points nowhere.
                for h in s.contact_hashes:
                    tx.save(SubscriberPointer(keys.alert_contact_pk(s.town_id, h),
                                              keys.SUBSCRIBER_SK, town_id=s.town_id,
                                              subscriber_id=s.subscriber_id))
                for zone in _audiences(s):
                    tx.save(audience_item(s, zone))
                for h in _phone_hashes(s):
                    tx.save(SubscriberPointer(keys.alert_phone_pk(h),
                                              keys.alert_phone_sk(s.town_id, s.subscriber_id),
                                              town_id=s.town_id,
                                              subscriber_id=s.subscriber_id))
                if counted:
                    _count(tx, s, 1)

    def remove(self, s: Subscriber) -> None:
        """Forget a subscriber everywhere at once (STOP, the link, or their own delete);
        an active one leaves its audiences' counts, once however often it is removed."""
        with storage_errors():
            if s.status == "active":
                try:
                    self._delete(s, counted=True)
                    return
                except TransactWriteError as e:
                    if CONDITION_FAILED not in reasons(e):
                        raise
                # Not stored as active (already removed): nothing left to count.
            self._delete(s, counted=False)

    def _delete(self, s: Subscriber, counted: bool) -> None:
        with transaction() as tx:
            item = SubscriberItem(keys.subscriber_pk(s.town_id, s.subscriber_id),
                                  keys.SUBSCRIBER_SK)
            if counted:
                tx.delete(item, condition=SubscriberItem.status == "active")
            else:
                tx.delete(item)
            if s.status != "active":
                return  # a pending sign-up has nothing else
            for h in s.contact_hashes:
                tx.delete(SubscriberPointer(keys.alert_contact_pk(s.town_id, h),
                                            keys.SUBSCRIBER_SK))
            for zone in _audiences(s):
                tx.delete(AudienceItem(keys.audience_pk(s.town_id, zone),
                                       keys.audience_sk(s.subscriber_id)))
            for h in _phone_hashes(s):
                tx.delete(SubscriberPointer(keys.alert_phone_pk(h),
                                            keys.alert_phone_sk(s.town_id, s.subscriber_id)))
            if counted:
                _count(tx, s, -1)

    def audience_counts(self, town_id: str, zones: list[str]) -> dict[str, AudienceCount]:
        """Confirmed subscribers per zone (``*``: the whole town), per channel: one Query
        of the counts. The first read of a town whose counts were never backfilled (its
        subscribers confirmed before the counts existed) counts its audiences once, one
        Query per zone, and stores the result."""
        with storage_errors():
            found = {raw["SK"]["S"]: raw for raw in query_items(
                keys.audience_count_pk(town_id), consistent=True)}
        if keys.AUDIENCE_COUNTED_SK not in found:
            return self._backfill(town_id, zones)
        counts: dict[str, AudienceCount] = {}
        for zone in [keys.WHOLE_TOWN, *zones]:
            raw = found.get(keys.audience_count_sk(zone))
            item = AudienceCountItem.from_raw_data(raw) if raw else None
            counts[zone] = AudienceCount(
                people=max(0, int(item.people or 0)) if item else 0,
                sms=max(0, int(item.sms or 0)) if item else 0,
                email=max(0, int(item.email or 0)) if item else 0)
        return counts

    def _backfill(self, town_id: str, zones: list[str]) -> dict[str, AudienceCount]:
        # Counted from the audiences and set (not added); a confirm or stop in the same
        # moment may be missed by one, which the next write corrects in neither direction:
        # these counts are what the desk shows, never whom an alert reaches (the preview
        # and the fan-out read the audiences themselves).
        counts: dict[str, AudienceCount] = {}
        for zone in [keys.WHOLE_TOWN, *zones]:
            tally = AudienceCount(people=0, sms=0, email=0)
            for person in self.audience(town_id, zone):
                tally["people"] += 1
                tally["sms"] += bool(person["phone"])
                tally["email"] += bool(person["email"])
            counts[zone] = tally
        with storage_errors():
            for zone, tally in counts.items():
                AudienceCountItem(keys.audience_count_pk(town_id), keys.audience_count_sk(zone),
                                  **tally).save()
            AudienceCountItem(keys.audience_count_pk(town_id), keys.AUDIENCE_COUNTED_SK).save()
        return counts

    def take_try(self, town_id: str, subscriber_id: str, max_tries: int) -> bool:
        """Count one try at a pending sign-up's code, in the write that checks the tries
        left: False when none is left (or it is not pending)."""
        item = SubscriberItem(keys.subscriber_pk(town_id, subscriber_id), keys.SUBSCRIBER_SK)
        return written_if(lambda: item.update(
            actions=[SubscriberItem.tries.add(1)],
            condition=SubscriberItem.PK.exists() & (SubscriberItem.status == "pending")
            & (SubscriberItem.tries < max_tries)))

    def subscriptions_of_phone(self, phone_hash: str) -> list[tuple[str, str]]:
        with storage_errors():
            return [(raw["town_id"]["S"], raw["subscriber_id"]["S"])
                    for raw in query_items(keys.alert_phone_pk(phone_hash))]

    def audience(self, town_id: str, zone: str) -> Iterator[AudienceMember]:
        """Active subscribers of one zone ("*": the whole town), page by page."""
        with storage_errors():
            for raw in query_items(keys.audience_pk(town_id, zone)):
                item = AudienceItem.from_raw_data(raw)
                yield {"subscriber_id": item.subscriber_id, "language": item.language,
                       "phone": item.phone, "email": item.email, "stop_key": item.stop_key,
                       "home": item.home}


def _count(tx: TransactWrite, s: Subscriber, step: int) -> None:
    """Move the counts of each of the subscriber's audiences by ``step`` (in ``tx``)."""
    for zone in _audiences(s):
        tx.update(AudienceCountItem(keys.audience_count_pk(s.town_id),
                                    keys.audience_count_sk(zone)),
                  actions=[AudienceCountItem.people.add(step),
                           AudienceCountItem.sms.add(step if s.phone else 0),
                           AudienceCountItem.email.add(step if s.email else 0)])
