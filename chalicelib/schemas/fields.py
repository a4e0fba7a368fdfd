"""Field types every wire model uses for what people type and for dates and times.

- ``public_text(limit)`` (``multiline=True`` for long text): the one text cleaner
  (``domain/text.py``) as a pydantic validator. It runs before the field's own
  constraints, so ``min_length``/``pattern`` see the cleaned text.
- ``Instant`` / ``OptionalInstant``: a time with an offset, 1970..2099, returned in UTC.
- ``TownTime``: the same, but a time without an offset is kept (naive) for the caller to
  read as the town's local time (Open311 lists, staff search).
- ``Day``: a calendar day in the same range.

An empty string means absent for the optional ones (query strings send ``?x=``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from chalicelib.domain.instants import check_day, check_instant, parse_instant
from chalicelib.domain.text import TextRefused, clean


def coordinate(bound: float) -> AfterValidator:
    """Degrees of latitude (``bound`` 90) or longitude (180), finite and in range,
    rounded to seven decimals."""
    def check(value: float | None) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise ValueError(f"must be a number of degrees between {-bound:g} and {bound:g}")
        # Seven decimals is about a centimetre: more is noise from the phone, and DynamoDB
        # cannot store magnitudes below 1e-130 at all.
        return round(value, 7) + 0.0

    return AfterValidator(check)


def public_text(limit: int, *, multiline: bool = False) -> BeforeValidator:
    """Clean text (see ``domain/text.py``); None and non-strings pass to the type check."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return clean(value, limit, multiline=multiline)
        except TextRefused as e:
            raise ValueError(str(e)) from None

    return BeforeValidator(check)


def _instant(naive_allowed: bool, optional: bool) -> BeforeValidator:
    def check(value: Any) -> Any:
        if optional and (value is None or (isinstance(value, str) and not value.strip())):
            return None
        if isinstance(value, str):
            return parse_instant(value, naive_allowed=naive_allowed)
        if isinstance(value, datetime):
            return check_instant(value, naive_allowed=naive_allowed)
        # Numbers would otherwise be read as Unix timestamps, outside every check here.
        raise ValueError("must be an ISO 8601 date and time")

    return BeforeValidator(check)


Instant = Annotated[datetime, _instant(naive_allowed=False, optional=False)]
OptionalInstant = Annotated[datetime | None, _instant(naive_allowed=False, optional=True)]
TownTime = Annotated[datetime | None, _instant(naive_allowed=True, optional=True)]
Day = Annotated[date, AfterValidator(check_day)]
