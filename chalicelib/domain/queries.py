"""What a request search asks and answers, and a caller's submission allowance: values the
services hand to stores and stores hand back, so they belong to neither side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.requests import ServiceRequest


@dataclass(frozen=True)
class RequestQuery:
    """A validated ``GET requests`` window: newest first, one page of it.

    ``by_updated`` says which time the window (``start``..``end``) is on; the other
    time's bounds, when given, filter the page.

    ``overdue`` (with ``as_of``, the moment it is judged at) keeps only requests open past
    their expected time (True) or only the others (False), as the console's clock flags
    them; ``disputed`` only those open again because a resident said the closure did not
    fix it (True) or only the others (False): closing a request ends its dispute.
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
    channels: tuple[str, ...] = ()
    overdue: bool | None = None
    as_of: datetime | None = None
    disputed: bool | None = None
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


def is_overdue(request: ServiceRequest, at: datetime) -> bool:
    """Open past its expected time at ``at`` (what the console flags and filters on)."""
    return request.status == "open" and request.expected_at is not None \
        and request.expected_at < at


def has_open_dispute(request: ServiceRequest) -> bool:
    """Open again because a resident disputed its closure (closing it ends the dispute)."""
    return request.status == "open" and request.disputed
