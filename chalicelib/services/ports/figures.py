"""A town's figures, counted as events happen (chalicelib.domain.figures)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.figures import (
        DayChange,
        DayFigures,
        FigureEvent,
        RequestFacts,
        RequestTally,
    )


class FigureStore(Protocol):
    """Day items per town, dimension and value; the open counts now; each request's tally."""

    def tally(self, town_id: str, request_id: str) -> RequestTally:
        """The request's part in the figures so far (an empty tally if none), read
        strongly consistent."""
        ...

    def facts(self, town_id: str, request_id: str) -> RequestFacts | None:
        """The request's facts as it is now (None: no such request)."""
        ...

    def record(self, town_id: str, request_id: str, before: RequestTally,
               after: RequestTally, changes: list[DayChange]) -> None:
        """Add ``changes`` to their day items and the open counts and store ``after``, all
        at once, if the request's tally is still ``before`` (its version); else Conflict."""
        ...

    def days(self, town_id: str, dimension: str, start: date,
             end: date | None = None) -> list[DayFigures]:
        """The dimension's day items from ``start`` to ``end`` (None: all later days),
        in day order."""
        ...

    def open_now(self, town_id: str) -> dict[tuple[str, str], int] | None:
        """Requests open now per (dimension, value); None if nothing was ever counted."""
        ...

    def history(self, town_id: str) -> Iterator[list[FigureEvent]]:
        """Every request of the town as its figure events (facts filled in), one list per
        request: what the backfill replays."""
        ...

    def count_answered(self, town_id: str, day: date, channel: str, mark: str,
                       keep_until: datetime) -> bool:
        """Add 1 to ``information`` on the town's day items of ``day`` for the whole town
        (``town``/``all``) and for ``channel``, once per ``mark``: the mark is kept until
        ``keep_until`` and written in the same transaction, so a second call with it
        changes nothing (False)."""
        ...

    def replace(self, town_id: str, days: Iterable[DayFigures],
                open_now: Mapping[tuple[str, str], int],
                tallies: Mapping[str, RequestTally]) -> None:
        """Make the town's stored figures exactly these (the backfill's result)."""
        ...
