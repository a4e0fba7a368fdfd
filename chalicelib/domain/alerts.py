"""An emergency alert: what the town says, to whom, and where it is in its life.

draft → (its author or a colleague asks for approval) → awaiting approval → (approved by
a second person) → sending → sent; a draft, an alert awaiting approval or a sending alert
can be cancelled. Only an alert someone asked to be approved is in the approvals queue;
approve still takes a plain draft, as it did before the step existed, so that JSON
clients that compose then approve (and drafts stored before it) keep working.

An alert is sent when its last message is settled: every message the fan-out
planned (one per recipient and channel) has ended as sent, opted out, over the town's cap
or dropped from a test list; a send that failed and is retried is not settled. Text is per
language with a fallback language for everyone else.

A *test* alert goes only to the town's staff test list, never to subscribers, and says
TEST first in every message; it is never on the public record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.errors import Conflict
from chalicelib.domain.zones import Geometry

SEVERITIES = ("extreme", "severe", "moderate", "minor")
CATEGORIES = ("weather", "water", "road_closure", "fire", "health", "safety", "other")
DRAFT, SENDING, SENT, CANCELLED = "draft", "sending", "sent", "cancelled"
AWAITING = "awaiting_approval"  # someone asked for a second person's approval
UNSENT = (DRAFT, AWAITING)  # what it would reach is still a preview
# What a US SMS segment costs through SNS (transactional, 2026 list price), for the
# preview's estimate; a message over 160 GSM characters (70 with accents) is several.
SMS_SEGMENT_USD = 0.00645
# Progress tallies of messages that are over (each added in the write that settles the
# message, once), and the tally the fan-out sets to the number of messages it planned.
SETTLED_TALLIES = ("sent_sms", "sent_email", "opted_out", "over_cap", "refused", "off_test_list")
PLANNED_TALLY = "messages"
TEST_MARK = "TEST"  # the first word of every message of a test alert


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
    area: Geometry | None = None  # a GeoJSON polygon drawn for this alert only
    cancelled_at: datetime | None = None  # when it was cancelled (its CAP Cancel's <sent>)
    asked_by: str | None = None  # who asked for approval (None: a draft nobody put forward)
    asked_at: datetime | None = None

    def words(self, language: str) -> tuple[str, str]:
        lang = language if language in self.body else self.fallback_language
        # Alerts composed before compose required a title in the fallback language may
        # lack one: any title beats a failed preview, fan-out, Atom feed or CAP document.
        title = self.title.get(lang) or self.title.get(self.fallback_language) \
            or next(iter(self.title.values()), "")
        body = self.body.get(lang) or next(iter(self.body.values()), "")
        return title, body

    def ask_approval(self, who: str, at: datetime) -> None:
        if self.status != DRAFT:
            raise Conflict(f"this alert is {self.status}; only a draft can be put forward")
        self.status = AWAITING
        self.asked_by = who
        self.asked_at = at

    def approve(self, who: str) -> None:
        if self.status not in UNSENT:
            raise Conflict(f"this alert is {self.status}, not awaiting approval")
        self.approved_by = who
        self.status = SENDING

    def cancel(self, who: str, at: datetime) -> None:
        if self.status not in (DRAFT, AWAITING, SENDING):
            raise Conflict(f"this alert is {self.status}; it can no longer be cancelled")
        self.status = CANCELLED
        self.cancelled_by = who
        self.cancelled_at = at

    @property
    def published(self) -> bool:
        """Was it ever public (approved, not a test)? Only then has it CAP messages."""
        return not self.test and self.approved_by is not None and self.status in (
            SENDING, SENT, CANCELLED)

    def active(self, now: datetime) -> bool:
        return self.status in (SENDING, SENT) and not self.test and self.expires_at > now


def settled(counts: dict[str, int]) -> int:
    return sum(counts.get(name, 0) for name in SETTLED_TALLIES)


def all_settled(counts: dict[str, int]) -> bool:
    """Every planned message is over (False while the fan-out has not planned them)."""
    return PLANNED_TALLY in counts and settled(counts) >= counts[PLANNED_TALLY]


def sms_segments(text: str) -> int:
    """What one text costs in segments (GSM-7 or UCS-2: chalicelib.domain.sms_wording)."""
    from chalicelib.domain.sms_wording import segments

    return segments(text)
