"""Errors in the town's language. Adapters raise them; ``api/errors.py`` maps them to HTTP.

Views never match on message text: the class says what went wrong, the message says it to
a person, and ``problems`` carries every field-level complaint so a client can fix all of
them at once (Open311 error bodies are arrays for exactly this reason).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which parameter, and what to do about it."""

    field: str
    message: str


class Town311Error(Exception):
    """Base of every error the service layer may raise on purpose."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class InvalidInput(Town311Error):
    """The caller sent something we cannot accept; nothing was stored."""

    @classmethod
    def of(cls, problems: list[Problem]) -> InvalidInput:
        return cls("; ".join(f"{p.field}: {p.message}" for p in problems), problems)


class NotFound(Town311Error):
    """A resource the caller named does not exist (or is not visible to this town)."""


class UnknownJurisdiction(NotFound):
    pass


class RequestNotFound(NotFound):
    pass


class AccessDenied(Town311Error):
    """Missing, unknown or revoked credentials, or a key of another town."""


class Unauthenticated(Town311Error):
    """A staff call without a valid token: missing, expired, forged, or not ours."""


class Throttled(Town311Error):
    """The caller sent more than its rate allows; it may retry after a while."""

    def __init__(self, message: str, retry_after_seconds: int = 60) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Conflict(Town311Error):
    """The write lost a race or repeats a different earlier call; retrying may help."""


class AlreadyApplied(Conflict):
    """This exact update (same sender, same update id) was applied before."""


class RetryLater(Town311Error):
    """The same call is still being processed; the client should retry shortly."""

    def __init__(self, message: str, retry_after_seconds: int = 2) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class TownSuspended(Town311Error):
    """The town exists but is not taking requests right now."""


class StorageUnavailable(Town311Error):
    """A backing service failed in a way the caller cannot fix; they may retry."""
