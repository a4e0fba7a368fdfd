"""Fakes of the emergency alert ports: subscribers (with their audiences per zone) and
alerts (with their progress tallies and one record per message)."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator

from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import Conflict
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.subscribers import (
    ACTIVE,
    PENDING,
    AudienceCount,
    AudienceMember,
    Subscriber,
)


def _audiences(s: Subscriber) -> list[str]:
    return ["*", *s.zones]


class FakeSubscribers:
    """SubscriberStore in memory. As in DynamoDB, only an active subscription is found by
    its contact, listed in its zones' audiences and found by its phone; the counts per
    audience move only when a subscriber becomes active or an active one is removed, and
    a town not in ``counted`` is backfilled from its audiences on the first read (clear
    ``counts`` and ``counted`` to play data stored before the counts existed)."""

    def __init__(self) -> None:
        self.subscribers: dict[tuple[str, str], Subscriber] = {}
        self.by_contact: dict[tuple[str, str], str] = {}
        self.audiences: dict[tuple[str, str], dict[str, AudienceMember]] = {}
        self.by_phone: dict[str, set[tuple[str, str]]] = {}
        self.counts: dict[tuple[str, str], AudienceCount] = {}
        self.counted: set[str] = set()

    def _count(self, s: Subscriber, step: int) -> None:
        for zone in _audiences(s):
            tally = self.counts.setdefault((s.town_id, zone),
                                           AudienceCount(people=0, sms=0, email=0))
            tally["people"] += step
            tally["sms"] += step if s.phone else 0
            tally["email"] += step if s.email else 0

    def audience_counts(self, town_id: str, zones: list[str]) -> dict[str, AudienceCount]:
        if town_id not in self.counted:
            for zone in ["*", *zones]:
                people = list(self.audience(town_id, zone))
                self.counts[(town_id, zone)] = AudienceCount(
                    people=len(people), sms=sum(bool(p["phone"]) for p in people),
                    email=sum(bool(p["email"]) for p in people))
            self.counted.add(town_id)
        return {zone: AudienceCount(**self.counts.get(
            (town_id, zone), AudienceCount(people=0, sms=0, email=0)))
            for zone in ["*", *zones]}

    def get(self, town_id: str, subscriber_id: str) -> Subscriber | None:
        return self.subscribers.get((town_id, subscriber_id))

    def find_by_contact(self, town_id: str, contact_hash: str) -> str | None:
        return self.by_contact.get((town_id, contact_hash))

    def save(self, s: Subscriber) -> None:
        before = self.subscribers.get((s.town_id, s.subscriber_id))
        self.subscribers[(s.town_id, s.subscriber_id)] = s
        if s.status != ACTIVE:
            return
        if before is None or before.status != ACTIVE:
            self._count(s, 1)
        for h in s.contact_hashes:
            self.by_contact[(s.town_id, h)] = s.subscriber_id
        for zone in _audiences(s):
            self.audiences.setdefault((s.town_id, zone), {})[s.subscriber_id] = AudienceMember(
                subscriber_id=s.subscriber_id, language=s.language, phone=s.phone,
                email=s.email, stop_key=s.stop_key, home=list(s.home) if s.home else None)
        for h in contact_hashes(None, s.phone):
            self.by_phone.setdefault(h, set()).add((s.town_id, s.subscriber_id))

    def remove(self, s: Subscriber) -> None:
        before = self.subscribers.pop((s.town_id, s.subscriber_id), None)
        if s.status != ACTIVE:
            return
        if before is not None and before.status == ACTIVE:
            self._count(s, -1)
        for h in s.contact_hashes:
            self.by_contact.pop((s.town_id, h), None)
        for zone in _audiences(s):
            self.audiences.get((s.town_id, zone), {}).pop(s.subscriber_id, None)
        for h in contact_hashes(None, s.phone):
            self.by_phone.get(h, set()).discard((s.town_id, s.subscriber_id))

    def take_try(self, town_id: str, subscriber_id: str, max_tries: int) -> bool:
        found = self.subscribers.get((town_id, subscriber_id))
        if found is None or found.status != PENDING or found.tries >= max_tries:
            return False
        self.subscribers[(town_id, subscriber_id)] = dataclasses.replace(
            found, tries=found.tries + 1)
        return True

    def subscriptions_of_phone(self, phone_hash: str) -> list[tuple[str, str]]:
        return sorted(self.by_phone.get(phone_hash, set()))

    def audience(self, town_id: str, zone: str) -> Iterator[AudienceMember]:
        found = self.audiences.get((town_id, zone), {})
        for subscriber_id in sorted(found):
            yield AudienceMember(**found[subscriber_id])


class FakeAlerts:
    """AlertStore in memory: versioned alerts, tallies, message records, text slots."""

    def __init__(self) -> None:
        self.alerts: dict[tuple[str, str], Alert] = {}
        self.tallies: dict[tuple[str, str], dict[str, int]] = {}
        self.messages: dict[tuple[str, str, str], tuple[str, str | None]] = {}  # state, hash
        self.slots: dict[tuple[str, int], int] = {}

    def save(self, alert: Alert, new: bool = False) -> None:
        key = (alert.town_id, alert.alert_id)
        stored = self.alerts.get(key)
        expected = None if new or not alert.version else alert.version
        if (stored.version if stored else None) != expected:
            raise Conflict("the alert changed meanwhile; read it again")
        alert.version = (expected or 0) + 1
        kept = copy.deepcopy(alert)
        kept.counts = {}
        self.alerts[key] = kept

    def get(self, town_id: str, alert_id: str) -> Alert | None:
        stored = self.alerts.get((town_id, alert_id))
        if stored is None:
            return None
        found = copy.deepcopy(stored)
        found.counts = self.counts(town_id, alert_id)
        return found

    def count(self, town_id: str, alert_id: str, outcome: str, amount: int = 1) -> None:
        tallies = self.tallies.setdefault((town_id, alert_id), {})
        tallies[outcome] = tallies.get(outcome, 0) + amount

    def counts(self, town_id: str, alert_id: str) -> dict[str, int]:
        return dict(self.tallies.get((town_id, alert_id), {}))

    def plan(self, town_id: str, alert_id: str, tallies: dict[str, int]) -> None:
        self.tallies.setdefault((town_id, alert_id), {}).update(tallies)

    def mark_sent(self, town_id: str, alert_id: str) -> bool:
        stored = self.alerts.get((town_id, alert_id))
        if stored is None or stored.status != "sending":
            return False
        stored.status = "sent"
        stored.version += 1
        return True

    def delivered_to(self, town_id: str, alert_id: str) -> set[str]:
        return {key.split("#")[0] for (t, a, key), (state, _) in self.messages.items()
                if t == town_id and a == alert_id and state == "sent"}

    def take_sms_slot(self, town_id: str, second: int, per_second: int) -> bool:
        used = self.slots.get((town_id, second), 0)
        if used >= per_second:
            return False
        self.slots[(town_id, second)] = used + 1
        return True

    def claim(self, town_id: str, alert_id: str, key: str, expires_at: int,
              stop_hash: str | None = None) -> bool:
        if (town_id, alert_id, key) in self.messages:
            return False
        self.messages[(town_id, alert_id, key)] = ("sending", stop_hash)
        return True

    def stop_hash(self, town_id: str, alert_id: str, key: str) -> str | None:
        found = self.messages.get((town_id, alert_id, key))
        return found[1] if found else None

    def settle(self, town_id: str, alert_id: str, key: str, state: str | None,
               tally: str | None = None) -> bool:
        found = self.messages.get((town_id, alert_id, key))
        if state is None:
            self.messages.pop((town_id, alert_id, key), None)
            return True
        if found is None or found[0] != "sending":
            return False
        self.messages[(town_id, alert_id, key)] = (state, found[1])
        if tally is not None:
            self.count(town_id, alert_id, tally)
        return True

    def list(self, town_id: str) -> list[Alert]:
        mine = [copy.deepcopy(a) for (t, _), a in self.alerts.items() if t == town_id]
        return sorted(mine, key=lambda a: a.created_at, reverse=True)
