"""Optimistic writes, tried again: read, change, conditional write; if someone else wrote
first (Conflict), read what is there now and apply the change to that."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.errors import Conflict

TRIES = 3


def retry_on_conflict[T](attempt: Callable[[int], T], *, tries: int = TRIES,
                         gave_up: str | None = None) -> T:
    """Run ``attempt(n)`` (n = 0, 1, ...) until it returns without a Conflict, at most
    ``tries`` times. Each attempt must read afresh what it changes. After the last try
    the last Conflict is raised, or, with ``gave_up``, a Conflict saying that.

    A Conflict the attempt raises for a business rule ("rated already") is raised again
    by the retries, which read again first: harmless, and the caller sees the same error.
    """
    for n in range(tries):
        try:
            return attempt(n)
        except Conflict as e:
            if n < tries - 1:
                continue
            if gave_up is not None:
                raise Conflict(gave_up) from e
            raise
    raise ValueError("tries must be at least 1")
