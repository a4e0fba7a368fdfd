"""The answer to "has someone reported this already?": what was searched and what was found."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.requests import ServiceRequest


@dataclass(frozen=True)
class DuplicateCheck:
    """What was searched (the service's radius and window) and what was found: each
    request with its distance in metres, nearest first."""

    radius_m: int
    window_days: int
    matches: list[tuple[ServiceRequest, float]] = field(default_factory=list)
