"""The one reader of dates and times that come from outside (bodies and query strings).

ISO 8601 / W3C: ``Z`` or ``±HH:MM`` offsets and fractional seconds are accepted. Only
instants from 1970-01-01T00:00Z up to (not including) 2100-01-01T00:00Z are taken: 1970
lets an Open311 client ask for "everything since the epoch", 2100 leaves room for any real
expiry, and both keep every later sum (windows of a year, offsets of a day) far from the
ends of Python's calendar (years 1 and 9999), where arithmetic raises OverflowError.

A time without an offset is refused unless the caller says whose local time it is (the
Open311 lists read it as the town's, as their documentation says); such a time is returned
as it came, for the caller to place in the town's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # not included
_MAX_TEXT = 40  # the longest ISO 8601 time with microseconds and an offset is 32


def utc_now() -> datetime:
    """Now, in UTC: the app's clock (the container's ``now`` unless a test or the local
    runner moves it)."""
    return datetime.now(UTC)


class DateRefused(ValueError):
    """A date or time that cannot be taken; the message says why, for the client."""


def parse_instant(value: str, *, naive_allowed: bool = False) -> datetime:
    """An aware time in UTC, or (with ``naive_allowed``) a naive time as written.

    Raises ``DateRefused`` (a ValueError) for anything else; nothing else escapes."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > _MAX_TEXT:
        raise DateRefused("must be an ISO 8601 date and time")
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, TypeError):
        raise DateRefused("must be an ISO 8601 date and time") from None
    return check_instant(parsed, naive_allowed=naive_allowed)


def check_instant(value: datetime, *, naive_allowed: bool = False) -> datetime:
    """The range and offset rules of ``parse_instant`` for a datetime already made."""
    if value.tzinfo is None or value.utcoffset() is None:
        if not naive_allowed:
            raise DateRefused("needs a time zone offset (Z or ±HH:MM)")
        # Read in any zone (offsets stay within a day), the bounds hold to a day; the
        # caller converts, far from the calendar's ends.
        if not EARLIEST.replace(tzinfo=None) <= value < LATEST.replace(tzinfo=None):
            raise _out_of_range()
        return value
    # The year first: converting a time near year 1 or 9999 to UTC can itself overflow.
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        raise _out_of_range()
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _out_of_range() from None
    if not EARLIEST <= utc < LATEST:
        raise _out_of_range()
    return utc


def check_day(value: date) -> date:
    """A calendar day (a holiday, say) in the same range."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise _out_of_range()
    return value


def _out_of_range() -> DateRefused:
    return DateRefused(f"must be in the years {EARLIEST.year} to {LATEST.year - 1} (UTC)")
