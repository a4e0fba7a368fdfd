"""An emergency alert: what the town says, to whom, and where it is in its life.

draft → (approved by a second person) → sending → sent; a draft or a sending alert can be
cancelled. Text is per language with a fallback language for everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.errors import Conflict

SEVERITIES = ("extreme", "severe", "moderate", "minor")
CATEGORIES = ("weather", "water", "road_closure", "fire", "health", "safety", "other")
DRAFT, SENDING, SENT, CANCELLED = "draft", "sending", "sent", "cancelled"
# What a US SMS segment costs through SNS (transactional, 2026 list price), for the
# preview's estimate; a message over 160 GSM characters (70 with accents) is several.
SMS_SEGMENT_USD = 0.00645


@dataclass
class Alert:
    town_id: str
    alert_id: str
    title: dict[str, str]  # language → text
    body: dict[str, str]
    fallback_language: str
    severity: str
    category: str
    expires_at: datetime
    zones: tuple[str, ...]  # empty: the whole town
    created_by: str
    created_at: datetime
    test: bool = False
    status: str = DRAFT
    approved_by: str | None = None
    sent_at: datetime | None = None
    cancelled_by: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    version: int = 0  # as read: a save is conditional on it (0: a new alert)
    corrects: str | None = None  # a correction goes to whoever got this earlier alert
    area: dict | None = None  # a GeoJSON polygon drawn for this alert only

    def words(self, language: str) -> tuple[str, str]:
        lang = language if language in self.body else self.fallback_language
        # Alerts composed before compose required a title in the fallback language may
        # lack one: any title beats a failed preview, fan-out, Atom feed or CAP document.
        title = self.title.get(lang) or self.title.get(self.fallback_language) \
            or next(iter(self.title.values()), "")
        body = self.body.get(lang) or next(iter(self.body.values()), "")
        return title, body

    def approve(self, who: str) -> None:
        if self.status != DRAFT:
            raise Conflict(f"this alert is {self.status}, not a draft")
        self.approved_by = who
        self.status = SENDING

    def cancel(self, who: str) -> None:
        if self.status not in (DRAFT, SENDING):
            raise Conflict(f"this alert is {self.status}; it can no longer be cancelled")
        self.status = CANCELLED
        self.cancelled_by = who

    def active(self, now: datetime) -> bool:
        return self.status in (SENDING, SENT) and not self.test and self.expires_at > now


def sms_segments(text: str) -> int:
    gsm = all(ord(ch) < 128 for ch in text)
    size, multi = (160, 153) if gsm else (70, 67)
    return 1 if len(text) <= size else -(-len(text) // multi)
