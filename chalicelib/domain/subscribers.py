"""Residents who asked for emergency alerts: how to reach them, in which language, for
which zones of the town, and whether they confirmed (double opt-in).

A phone number is checked and written as E.164 with ``phonenumbers`` (the town's country
for numbers written without one); an alert is only ever sent to a confirmed subscriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.phones import e164 as e164  # where callers find them
from chalicelib.domain.phones import region_of as region_of

PENDING, ACTIVE = "pending", "active"
CODE_SECONDS = 24 * 3600  # a confirmation code is good for a day
MAX_TRIES = 5


@dataclass(frozen=True)
class Subscriber:
    town_id: str
    subscriber_id: str
    language: str
    zones: tuple[str, ...]  # empty: the whole town only
    created_at: datetime
    phone: str | None = None  # E.164
    email: str | None = None
    status: str = PENDING
    code_hash: str | None = None  # while pending
    code_expires: int = 0
    tries: int = 0
    stop_key: str = ""  # the key in every alert's "stop" link
    home: tuple[float, float] | None = None  # (lat, long), if they gave one

    @property
    def contact_hashes(self) -> list[str]:
        return contact_hashes(self.email, self.phone)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c, v in (("sms", self.phone), ("email", self.email)) if v)


class AudienceMember(TypedDict):
    """A confirmed subscriber as an alert's audience lists them: everything a message
    needs, so choosing recipients reads nothing else (also a staff test-list entry)."""

    subscriber_id: str
    language: str
    phone: str | None
    email: str | None
    stop_key: str
    home: list[float] | None  # [lat, long], as stored


class AudienceCount(TypedDict):
    """How many confirmed subscribers an audience (a zone, or ``*`` the whole town) has,
    and how many of them by text and by e-mail (someone with both counts in each)."""

    people: int
    sms: int
    email: int
