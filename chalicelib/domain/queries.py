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
