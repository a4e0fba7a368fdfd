"""A town (an Open311 jurisdiction) and the keys its integrations use."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

ACTIVE, SUSPENDED = "active", "suspended"


@dataclass(frozen=True)
class Town:
    """One hosted town. ``town_id`` is its Open311 ``jurisdiction_id`` and never changes."""

    town_id: str
    name: str
    timezone: str
    changeset: str
    locale: str = "en-US"
    status: str = ACTIVE
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_url: str | None = None
    key_service: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def contact(self) -> str:
        parts = [self.name, self.contact_email, self.contact_phone, self.contact_url]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class ApiKey:
    """An integration's key, as stored: its public id and name, never the secret."""

    town_id: str
    key_id: str
    name: str
    revoked: bool = False
