"""The ports services depend on. Adapters implement them; tests hand in fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.followers import Follower
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.routing import RoutingRules
from chalicelib.domain.towns import ApiKey, AuditEntry, StaffMember, Town
from chalicelib.domain.zones import Zone


@dataclass(frozen=True)
class RequestQuery:
    """A validated ``GET requests`` window: newest first, one page of it.

    ``by_updated`` says which time the window (``start``..``end``) is on; the other
    time's bounds, when given, filter the page.
    """

    start: datetime
    end: datetime
    by_updated: bool = False
    statuses: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    updated_start: datetime | None = None
    updated_end: datetime | None = None
    departments: tuple[str, ...] = ()
    zone: str | None = None
    text: str | None = None
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class Quota:
    """A caller's allowance: at most ``limit_per_minute`` submissions in the minute that
    starts at ``window_start``."""

    key_id: str
    limit_per_minute: int
    window_start: datetime


@dataclass
class RequestPage:
    items: list[ServiceRequest] = field(default_factory=list)
    has_more: bool = False


class TownDirectory(Protocol):
    """Towns and everything configured for them. Catalogue edits take the town's new
    changeset and store it with the edit."""

    def get_town(self, town_id: str) -> Town | None: ...

    def list_towns(self) -> list[str]: ...

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue: ...

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None: ...

    def create_town(self, town: Town, catalogue: Catalogue) -> None: ...

    def save_town(self, town: Town) -> None: ...

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None: ...

    def save_department(self, town_id: str, department: Department,
                        changeset: str) -> None: ...

    def delete_department(self, town_id: str, code: str, changeset: str) -> None: ...

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None: ...

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None: ...

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None: ...

    def add_api_key(self, key: ApiKey, secret: str) -> None: ...

    def list_api_keys(self, town_id: str) -> list[ApiKey]: ...

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey: ...

    def save_staff(self, member: StaffMember) -> None: ...

    def list_staff(self, town_id: str) -> list[StaffMember]: ...

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        """A town's member of staff; ``town_id`` None: the platform's own (operators)."""
        ...

    def export(self, town_id: str) -> Iterator[dict[str, Any]]: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...

    def page(self, town_id: str, before: datetime | None, limit: int) -> list[AuditEntry]: ...


class IdentityProvider(Protocol):
    """Where staff sign in (Cognito in the cloud): accounts follow the town's staff list."""

    def provision(self, member: StaffMember) -> str:
        """Create or update the sign-in for ``member``; returns the user id it got."""
        ...

    def disable(self, member: StaffMember) -> None: ...


class RequestStore(Protocol):
    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        """Store a new request (with its audit entry, in the same write); Throttled, and
        nothing stored, when ``quota`` is used up."""
        ...

    def unrouted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]: ...

    def department_work(self, town_id: str, department: str, state: str | None, limit: int,
                        after: str | None) -> RequestPage: ...

    def requests_of_resident(self, town_id: str, contact_hash: str) -> list[str]: ...

    def forget_resident(self, town_id: str, contact_hash: str,
                        request_ids: list[str]) -> None: ...

    def requests_followed_by(self, town_id: str, contact_hash: str) -> list[str]: ...

    def is_reporter_or_follower(self, town_id: str, request_id: str,
                                contact_hash: str) -> str | None: ...

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        """Add a follower to an open request; False if they follow it already."""
        ...

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None: ...

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]: ...

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None: ...

    def request_id_for_tracking(self, town_id: str, tracking_number: str) -> str | None: ...

    def tallies(self, town_id: str, prefix: str) -> dict[str, int]: ...

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        """Save ``request`` (read at ``request.version``) with ``event``; Conflict if it
        changed meanwhile; AlreadyApplied if ``once`` was recorded before."""
        ...

    def get(self, town_id: str, request_id: str, *,
            with_timeline: bool) -> ServiceRequest | None: ...

    def get_many(self, town_id: str, request_ids: list[str]) -> list[ServiceRequest]: ...

    def request_id_for_token_hash(self, town_id: str, token_hash: str) -> str | None: ...

    def find(self, town_id: str, query: RequestQuery) -> RequestPage: ...


class NoticeQueue(Protocol):
    def send(self, bodies: list[str]) -> None:
        """Put messages on the notices queue (chalicelib.schemas.notices)."""
        ...


class RoutingQueue(Protocol):
    def request_submitted(self, town_id: str, request_id: str) -> None:
        """Ask the router to assign a newly stored request to a department."""
        ...


class PhotoInbox(Protocol):
    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        """Store an uploaded photo under ``incoming/`` for processing; returns its key."""
        ...


class IdempotencyGuard(Protocol):
    def run_once(self, key: str, payload: dict[str, object],
                 work: Callable[[], dict[str, object]],
                 deadline: object = None) -> dict[str, object]:
        """Run ``work`` once per key; repeats get the first result, a changed payload a
        Conflict, and a repeat while the first is still running RetryLater. ``deadline``
        (a Lambda context) bounds how long an unfinished first call blocks a retry."""
        ...


class Messenger(Protocol):
    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        """Send one message for a town to a resident by e-mail and/or SMS (E.164)."""
        ...


class ResidentAccess(Protocol):
    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool: ...

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None: ...

    def drop_code(self, town_id: str, contact_hash: str) -> None: ...

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None: ...

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None: ...


class AssignmentChannels(Protocol):
    """Delivers an assignment to a department's own channels (beyond the console inbox):
    its SQS queue and its webhook, one send per channel."""

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None: ...


class NearbyRequests(Protocol):
    """Open requests by place: the ``by_place`` index of open requests with a point."""

    def open_near(self, town_id: str, service_code: str, cells: list[str],
                  since: datetime) -> list[ServiceRequest]:
        """The town's open requests of ``service_code`` whose point lies in one of the
        geohash-7 ``cells``, requested at or after ``since``, in no particular order."""
        ...


class EscalationTopics(Protocol):
    """Where escalations go: a topic per town and audience ("department:<code>",
    "supervisor", "town_admin"), which staff subscribe to by e-mail or SMS."""

    def topic_arn(self, town_id: str, audience: str) -> str: ...

    def publish(self, town_id: str, audience: str, subject: str, text: str) -> None: ...

    def subscribe(self, town_id: str, audience: str, protocol: str, endpoint: str) -> str:
        """Subscribe ``endpoint`` (an e-mail address, or an E.164 phone for "sms"); returns
        the subscription's ARN. InvalidInput if the topic refuses the address."""
        ...
