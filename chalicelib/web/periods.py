"""The periods the dashboard and the public performance page compare: this week, month,
quarter or year so far, or two dates; and the period just before it to compare with.

Days are the town's days (inclusive at both ends), as the figures are kept. A preset is
the calendar unit holding today, up to today, compared with the same span of the unit
before (this month's first 20 days with last month's first 20), so a weekday or a
month-start pattern is compared with itself; the previous unit's span is cut at its own
end when it is shorter (31 days of December against the 30 of November). Two dates are
compared with as many days just before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.domain.errors import InvalidInput, Problem

PRESETS = ("week", "month", "quarter", "year")
# Daily figures for the trend are one read per day: a year is the most a page asks for.
MAX_DAYS = 366
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


@dataclass(frozen=True)
class Period:
    """Town days ``start`` to ``end``, both included; ``kind`` is a preset or "dates"."""

    start: date
    end: date
    kind: str = "dates"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period to compare with (see the module's docstring)."""
        if self.kind not in PRESETS:
            before = self.start - timedelta(days=1)
            return Period(before - timedelta(days=self.days - 1), before)
        begin = _unit_start(self.kind, self.start - timedelta(days=1))
        end = min(begin + timedelta(days=self.days - 1), self.start - timedelta(days=1))
        return Period(begin, end, self.kind)


def _unit_start(kind: str, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday (ISO 8601)
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def so_far(kind: str, today: date) -> Period:
    """This week, month, quarter or year, up to today."""
    return Period(_unit_start(kind, today), today, kind)


def between(start: str, end: str, today: date) -> Period:
    """Two dates a person typed (``YYYY-MM-DD``): in order, not after today, at most
    ``MAX_DAYS`` apart; else InvalidInput naming the field to fix."""
    problems: list[Problem] = []
    days: dict[str, date] = {}
    for name, value in (("start", start), ("end", end)):
        try:
            days[name] = date.fromisoformat(value.strip())
        except ValueError:
            problems.append(Problem(name, "enter a date, like 2026-11-20"))
    if problems:
        raise InvalidInput.of(problems)
    if days["end"] > today:
        problems.append(Problem("end", "must not be after today"))
    if days["start"] > days["end"]:
        problems.append(Problem("start", "must not be after the end"))
    elif days["end"] - days["start"] >= timedelta(days=MAX_DAYS):
        problems.append(Problem("start", f"must be at most {MAX_DAYS} days before the end"))
    if problems:
        raise InvalidInput.of(problems)
    return Period(days["start"], days["end"])


def quarter(key: str) -> Period | None:
    """``2026-Q3`` as its days (None if it is not one)."""
    found = _QUARTER.fullmatch(key)
    if not found:
        return None
    year, number = int(found.group(1)), int(found.group(2))
    if not 2000 <= year <= 9998:
        return None
    start = date(year, 3 * number - 2, 1)
    following = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return Period(start, following - timedelta(days=1), "quarter")


def quarter_key(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def recent_quarters(today: date, count: int = 8) -> list[str]:
    """This quarter and the ones before it, newest first."""
    keys: list[str] = []
    day = today
    for _ in range(count):
        keys.append(quarter_key(day))
        day = _unit_start("quarter", day) - timedelta(days=1)
    return keys
