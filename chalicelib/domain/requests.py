"""A resident's service request, its place, and its timeline, as the town understands them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.catalogue import Answer
from chalicelib.domain.sla import SlaTarget

OPEN, CLOSED = "open", "closed"
PUBLIC_STATUSES = (OPEN, CLOSED)
DESCRIPTION_LIMIT = 4000



def new_token() -> str:
    """A request's Open311 token: 192 random bits, URL-safe (32 characters). It is the
    submitter's proof of ownership (photo upload forms, deleting their photos), so it is
    never derived from an id (ids are public) and is shown once, in the POST receipt."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """What is stored of a token: its SHA-256. A random 192-bit secret needs no salt or
    slow hash; a leaked table or export gives nothing that opens a request."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, expected_hash: str | None) -> bool:
    """Whether ``token`` is the one whose hash was stored, in constant time. A request
    without a hash (stored before tokens were random: treated as revoked) matches nothing."""
    if not token or not expected_hash:
        return False
    return secrets.compare_digest(hash_token(token), expected_hash)


@dataclass(frozen=True)
class Place:
    """Where the problem is: a point, an address, a town address id, or several of them."""

    lat: float | None = None
    long: float | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.long is not None


@dataclass(frozen=True)
class Reporter:
    """Who reported, as far as they chose to say. Never shown by any public API."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    language: str | None = None  # the language they want messages in (e.g. "es")
    notify: bool = True  # whether they asked for messages when the request moves

    def is_empty(self) -> bool:
        return not any((self.email, self.phone, self.first_name, self.last_name,
                        self.device_id, self.account_id))


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to a request. Public events are Open311 ``notes``."""

    at: datetime
    event_id: str
    kind: str
    summary: str
    description: str | None = None
    public: bool = True
    actor_role: str = "system"


@dataclass(frozen=True)
class RequestPhoto:
    """A processed photo of the request: a display size and a thumbnail, metadata-free.

    ``hidden`` photos are kept for staff but never shown to the public."""

    photo_id: str
    display_key: str
    thumbnail_key: str
    width: int
    height: int
    added_at: datetime
    added_by: str = "resident"  # a role, as on the timeline
    hidden: bool = False


@dataclass(frozen=True)
class IntakeGuess:
    """What Town311 guessed of a request no person filed by hand (an e-mail), kept for
    the member of staff who confirms it: the services its words suggest, best first, and
    the words read as its place with the gazetteer entry they matched (if any)."""

    services: tuple[str, ...] = ()
    place_text: str | None = None  # None: the mail named no place Town311 could read
    place_label: str | None = None  # the gazetteer entry the words matched
    lat: float | None = None
    long: float | None = None


# The place of a draft whose mail named none: an address text without a point, which the
# data model accepts (Open311's rule: a point, an address or an address id) and which no
# map, nearby search or open-data point ever shows as a location.
PLACE_NOT_GIVEN = "Location not given"


@dataclass
class ServiceRequest:
    town_id: str
    request_id: str
    service_code: str
    service_name: str
    requested_at: datetime
    updated_at: datetime
    place: Place
    description: str | None = None
    status: str = OPEN  # Open311's public status, kept in step with ``lifecycle``
    status_notes: str | None = None
    lifecycle: str = "submitted"
    resolution: str | None = None
    agency_responsible: str | None = None
    department: str | None = None
    service_notice: str | None = None
    expected_at: datetime | None = None
    media_url: str | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    channel: str = "open311"
    reporter: Reporter = field(default_factory=Reporter)
    api_key_id: str | None = None
    entered_by: str | None = None  # the staff member who entered it for the resident
    parent_request_id: str | None = None
    zone: str | None = None
    # A short number a person can read over the phone ("K7QD-3M2P"); besides the id.
    tracking_number: str | None = None
    # The SHA-256 of the Open311 token (``hash_token``); the token itself is never kept.
    token_hash: str | None = None
    followers: int = 0  # residents who said "me too" (the reporter is not counted)
    closed_at: datetime | None = None
    disputed: bool = False  # reopened because a resident said it was not fixed
    rating: int | None = None  # the reporter's satisfaction, 1-5, once, after closure
    rating_comment: str | None = None
    photos: list[RequestPhoto] = field(default_factory=list)
    # The service level: the target applied, when its clock (re)started, how far up the
    # escalation ladder it is, when the next step is due (None: nothing to watch), and,
    # while on hold, the hours that were left.
    sla_target: SlaTarget | None = None
    sla_started_at: datetime | None = None
    escalation_level: int = 0
    next_sla_at: datetime | None = None
    sla_hours_left: float | None = None
    # A draft from an unattended channel (e-mail): in triage until a member of staff
    # confirms its service and place (services.drafts); ``intake_guess`` is what was guessed.
    needs_confirmation: bool = False
    intake_guess: IntakeGuess | None = None
    version: int = 1
    timeline: list[TimelineEvent] = field(default_factory=list)

    @property
    def public_notes(self) -> list[TimelineEvent]:
        return [e for e in self.timeline if e.public]

    @property
    def public_photos(self) -> list[RequestPhoto]:
        return [p for p in self.photos if not p.hidden]

    def photo(self, photo_id: str) -> RequestPhoto | None:
        return next((p for p in self.photos if p.photo_id == photo_id), None)
