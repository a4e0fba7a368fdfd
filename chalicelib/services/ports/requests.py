"""Service requests, their followers, service levels and stored phones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.followers import Follower
    from chalicelib.domain.queries import Quota, RequestPage, RequestQuery
    from chalicelib.domain.requests import Reporter, ServiceRequest, TimelineEvent
    from chalicelib.domain.towns import AuditEntry


class FollowerStore(Protocol):
    """What telling a request's followers needs: the request, its followers, and the
    links that confirm a follower's new address."""

    def get(self, town_id: str, request_id: str, *,
            with_timeline: bool) -> ServiceRequest | None: ...

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]: ...

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None: ...

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None: ...

    def save_follower(self, town_id: str, request_id: str, follower: Follower,
                      dropped: str | None = None) -> None:
        """Write a follower that confirmed or dropped an address (``dropped``: the hash
        of the address no longer theirs to be found by); NotFound if they stopped
        following meanwhile."""
        ...

    def save_link(self, town_id: str, secret_hash: str, request_id: str, follower_id: str,
                  channel: str, expires_at: int) -> None: ...

    def take_link(self, town_id: str, secret_hash: str,
                  now: int) -> tuple[str, str, str] | None:
        """(request, follower, channel) of a confirm link, removed as it is used; None if
        there is none, it expired, or someone used it a moment earlier."""
        ...


class RequestStore(FollowerStore, Protocol):
    """Service requests with their timelines, followers and the indexes that find them."""

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


class ServiceLevelStore(RequestStore, Protocol):
    """The request store as the SLA sweep reads it: requests due by the hour, and the
    oldest hour the sweep has not finished."""

    def sla_due(self, bucket_hour: datetime, now: datetime,
                limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests whose next SLA step, in that UTC hour, is
        due by ``now``."""
        ...

    def sla_cursor(self) -> datetime | None:
        """The oldest hour the SLA sweep has not finished (None: it never ran)."""
        ...

    def save_sla_cursor(self, hour: datetime) -> None: ...


class PhoneMigrationStore(Protocol):
    """What rewriting typed phones as E.164 needs beyond the request store."""

    def request_ids(self, town_id: str) -> Iterator[str]: ...

    def set_reporter_phone(self, town_id: str, request_id: str, reporter: Reporter) -> None: ...

    def add_resident_entry(self, town_id: str, contact_hash: str, request_id: str, *,
                           reported: bool) -> None:
        """List the request under the resident: one they reported, else one they follow."""
