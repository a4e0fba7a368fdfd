"""Service levels: when a request is due, on the town's own clock.

A target is business hours (counted only inside the town's working hours, skipping
weekends and holidays), business days (due at the close of the Nth working day), or
calendar hours / days. Business time is walked on local wall-clock windows built with
``zoneinfo``, so a daylight-saving change inside a window shortens or lengthens it as the
town's clocks do; calendar hours are elapsed time; calendar days keep the local time of
day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.towns import WEEKDAYS, BusinessCalendar

UNITS = ("business_hours", "business_days", "hours", "days")
MAX_DAYS_AHEAD = 3660  # a target that needs ten years of working days is a mistake


@dataclass(frozen=True)
class SlaTarget:
    amount: float
    unit: str = "business_hours"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        if not self.amount > 0:
            raise ValueError("an SLA must be more than zero")


@dataclass(frozen=True)
class PriorityRule:
    """A quicker (or slower) target when the resident answered a question a certain way:
    "is it dangerous?" = yes → 4 hours."""

    question: str
    answer: str
    target: SlaTarget


@dataclass(frozen=True)
class SlaPolicy:
    """A service's promise: its target, and the targets for priority answers."""

    target: SlaTarget
    priorities: tuple[PriorityRule, ...] = ()

    def target_for(self, answers: dict[str, str | list[str]]) -> SlaTarget:
        for rule in self.priorities:
            given = answers.get(rule.question)
            values = given if isinstance(given, list) else [given]
            if rule.answer in values:
                return rule.target
        return self.target


def escalation_time(started: datetime, due: datetime, share: float) -> datetime:
    return started + (due - started) * share


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as an instant; a time skipped by a DST gap moves forward
    past the gap (as a clock on the wall would show it)."""
    # fold=0 reads a skipped time with the offset in force before the gap, which lands it
    # the gap's length later (02:30 on the spring-forward night is 03:30).
    return datetime.combine(day, at).replace(tzinfo=zone, fold=0).astimezone(UTC)


def working_windows(start: datetime, calendar: BusinessCalendar,
                    timezone: str) -> Iterator[tuple[datetime, datetime]]:
    """The town's working windows (UTC instants) from the local day of ``start`` on."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    holidays = set(calendar.holidays)
    for _ in range(MAX_DAYS_AHEAD):
        hours = calendar.hours.get(WEEKDAYS[day.weekday()])
        if hours and day not in holidays:
            opens, closes = _local(day, _clock(hours[0]), zone), \
                _local(day, _clock(hours[1]), zone)
            if closes > opens:
                yield opens, closes
        day += timedelta(days=1)


def due_at(start: datetime, target: SlaTarget, calendar: BusinessCalendar,
           timezone: str) -> datetime:
    """When a request made at ``start`` is due under ``target``."""
    if target.unit == "hours":  # elapsed time: UTC arithmetic, not wall-clock
        return start.astimezone(UTC) + timedelta(hours=target.amount)
    zone = ZoneInfo(timezone)
    if target.unit == "days":
        local = start.astimezone(zone)
        later = local.date() + timedelta(days=round(target.amount))
        return _local(later, local.time().replace(tzinfo=None), zone)
    if target.unit == "business_days":
        remaining = max(1, round(target.amount))
        for _opens, closes in working_windows(start, calendar, timezone):
            if closes <= start:
                continue
            # A request made after the day's close starts counting the next working day.
            remaining -= 1
            if remaining == 0:
                return closes
        raise ValueError("the town's calendar has no working days")
    left = timedelta(hours=target.amount)
    for opens, closes in working_windows(start, calendar, timezone):
        begin = max(opens, start)
        if closes <= begin:
            continue
        if begin + left <= closes:
            return begin + left
        left -= closes - begin
    raise ValueError("the town's calendar has no working hours")


def business_time_between(start: datetime, end: datetime, calendar: BusinessCalendar,
                          timezone: str) -> timedelta:
    """Working time between two instants (for "how late" and the SLA metrics)."""
    total = timedelta()
    for opens, closes in working_windows(start, calendar, timezone):
        if opens >= end:
            break
        begin, finish = max(opens, start), min(closes, end)
        if finish > begin:
            total += finish - begin
    return total


def us_federal_holidays(year: int) -> list[date]:
    """The eleven US federal holidays of ``year``, as observed (Saturday → Friday,
    Sunday → Monday): a starting set a town edits."""
    def nth(weekday: int, month: int, n: int) -> date:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last(weekday: int, month: int) -> date:
        end = date(year, month + 1, 1) - timedelta(days=1)
        return end - timedelta(days=(end.weekday() - weekday) % 7)

    def observed(day: date) -> date:
        return day - timedelta(days=1) if day.weekday() == 5 else \
            day + timedelta(days=1) if day.weekday() == 6 else day

    monday, thursday = 0, 3
    return sorted([
        observed(date(year, 1, 1)), nth(monday, 1, 3), nth(monday, 2, 3), last(monday, 5),
        observed(date(year, 6, 19)), observed(date(year, 7, 4)), nth(monday, 9, 1),
        nth(monday, 10, 2), observed(date(year, 11, 11)), nth(thursday, 11, 4),
        observed(date(year, 12, 25)),
    ])


# --- the one mapping of an SLA policy to a document -----------------------------------------
# ``{"amount", "unit", "priorities": [{"question", "answer", "amount", "unit"}]}``: how
# template packs write it, how the table stores it, and what the admin API shows.


def policy_from_document(doc: Mapping[str, Any]) -> SlaPolicy:
    """A policy from its document; a unit left out is business hours."""
    return SlaPolicy(
        SlaTarget(float(doc["amount"]), doc.get("unit") or "business_hours"),
        tuple(PriorityRule(p["question"], p["answer"],
                           SlaTarget(float(p["amount"]), p.get("unit") or "business_hours"))
              for p in doc.get("priorities") or ()))


def policy_document(policy: SlaPolicy) -> dict[str, Any]:
    return {"amount": policy.target.amount, "unit": policy.target.unit,
            "priorities": [{"question": p.question, "answer": p.answer,
                            "amount": p.target.amount, "unit": p.target.unit}
                           for p in policy.priorities]}
