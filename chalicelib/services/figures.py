"""A town's figures: counted as each request event happens, read per period, rebuilt from
history.

- ``record_event``: one event (from the table's stream, chalicelib.events.figures) added
  to the day items of its town-time day: one conditional transaction, never twice.
- ``backfill``: the town's figures rebuilt from its stored requests and timelines by the
  same counting (chalicelib.domain.figures.count), so live and rebuilt figures are equal.
- ``period``, ``daily``, ``weekly_opened``, ``public_period``: what the dashboard, the
  forecast and the public page read. A period costs one Query per dimension over its
  days (and the days since, for the backlog) and one GetItem: never a read of requests.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.figures import (
    DIMENSIONS,
    DayChange,
    DayFigures,
    FigureEvent,
    Figures,
    RequestTally,
    Sketch,
    count,
)
from chalicelib.services.retries import retry_on_conflict

if TYPE_CHECKING:  # only named in annotations: the ports are not loaded at run time
    from chalicelib.domain.towns import Town
    from chalicelib.services.ports import FigureStore, TownDirectory

log = logging.getLogger(__name__)

# Events of one request counted at once race on its tally; more than a few in the same
# moment is rare (a merge moves followers), so a few tries, then the stream retries.
TRIES = 5
# The longest period read at once: three years, a dashboard's year-on-year comparison.
MAX_PERIOD_DAYS = 3 * 366
DEFAULT_PERIOD_DAYS = 30
# Figures are kept for days in this range (and a date outside it is someone's typo).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


@dataclass(frozen=True)
class FigurePorts:
    towns: TownDirectory
    figures: FigureStore
    now: Callable[[], datetime]


# --- counting -------------------------------------------------------------------------------


def record_event(ports: FigurePorts, event: FigureEvent) -> bool:
    """Count one request event in its town's figures. False when there is nothing to count:
    it was counted before (a stream record delivered again), it changes no figure (a note),
    or its town or request is gone. Conflict only if its request's tally kept moving."""
    town = ports.towns.get_town(event.town_id)
    if town is None:
        log.warning("figures: an event of a town that is gone", extra={"town": event.town_id})
        return False
    if event.facts is None:
        facts = ports.figures.facts(event.town_id, event.request_id)
        if facts is None:
            return False
        event = dataclasses.replace(event, facts=facts)

    def attempt(_: int) -> bool:
        before = ports.figures.tally(event.town_id, event.request_id)
        after, changes = count(before, event, town.zone)
        if not changes:
            return False
        ports.figures.record(event.town_id, event.request_id, before, after, changes)
        return True

    return retry_on_conflict(attempt, tries=TRIES)


@dataclass(frozen=True)
class Backfill:
    requests: int
    events: int
    days: int


def backfill(ports: FigurePorts, town_id: str) -> Backfill:
    """Rebuild the town's figures from its stored history (its requests through the town's
    index, each with its timeline and followers): the same counting as live updates, in
    the order things happened. Replaces what was stored; events that arrive afterwards are
    counted on top (each request's tally says which it has)."""
    town = _town(ports, town_id)
    days: dict[tuple[str, date, str], DayFigures] = {}
    tallies: dict[str, RequestTally] = {}
    requests = events = 0
    for history in ports.figures.history(town_id):
        if not history:
            continue
        requests += 1
        tally = RequestTally()
        for event in sorted(history, key=lambda e: (e.at, e.mark)):
            events += 1
            tally, changes = count(tally, event, town.zone)
            for c in changes:
                key = (c.dimension, c.day, c.value)
                was = days.get(key) or DayFigures(c.day, c.dimension, c.value, Figures())
                days[key] = DayFigures(c.day, c.dimension, c.value,
                                       was.figures.merge(_figures_of(c)),
                                       was.open_delta + c.open_delta)
        tallies[history[0].request_id] = tally
    # Questions answered (``information``) are counted as they are answered
    # (services.knowledge.record_answered), not from request events: a rebuild keeps them.
    for dimension in ("town", "channel"):
        for d in ports.figures.days(town_id, dimension, FIRST_DAY):
            if d.figures.information:
                key = (d.dimension, d.day, d.value)
                was = days.get(key) or DayFigures(d.day, d.dimension, d.value, Figures())
                days[key] = DayFigures(d.day, d.dimension, d.value, was.figures.merge(
                    Figures(information=d.figures.information)), was.open_delta)
    open_now: dict[tuple[str, str], int] = defaultdict(int)
    for d in days.values():
        open_now[(d.dimension, d.value)] += d.open_delta
    ports.figures.replace(town_id, days.values(),
                          {k: n for k, n in open_now.items() if n}, tallies)
    log.info("figures rebuilt", extra={"town": town_id, "requests": requests,
                                       "events": events, "days": len(days)})
    return Backfill(requests, events, len(days))


def _figures_of(c: DayChange) -> Figures:
    return Figures.of(
        c.counters,
        to_acknowledge=Sketch.of([c.to_acknowledge] if c.to_acknowledge is not None else []),
        to_close=Sketch.of([c.to_close] if c.to_close is not None else []))


# --- reading --------------------------------------------------------------------------------


def _town(ports: FigurePorts, town_id: str) -> Town:
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:64]!r}")
    return town


def check_period(start: date, end: date, by: str) -> None:
    """InvalidInput unless ``by`` is a dimension and [start, end] a period we read."""
    problems = []
    if by not in DIMENSIONS:
        problems.append(Problem("by", f"must be one of {', '.join(DIMENSIONS)}"))
    for name, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            problems.append(Problem(name, f"must be between {FIRST_DAY} and {LAST_DAY}"))
    if problems:
        raise InvalidInput.of(problems)
    if start > end:
        problems.append(Problem("start", "must not be after end"))
    elif (end - start).days >= MAX_PERIOD_DAYS:
        problems.append(Problem("end", f"a period is at most {MAX_PERIOD_DAYS} days"))
    if problems:
        raise InvalidInput.of(problems)


@dataclass
class _Read:
    """A dimension's days over a period, and what the backlog at its end needs."""

    in_period: dict[str, list[DayFigures]]
    after: dict[str, list[DayFigures]]
    open_now: dict[tuple[str, str], int] | None

    def backlog(self, by: str, value: str) -> int | None:
        """Open at the end of the period: open now, less what opened since (net)."""
        if self.open_now is None:
            return None
        return self.open_now.get((by, value), 0) - sum(d.open_delta
                                                       for d in self.after.get(value, []))


def _read(ports: FigurePorts, town_id: str, by: str, start: date, end: date) -> _Read:
    in_period: dict[str, list[DayFigures]] = defaultdict(list)
    after: dict[str, list[DayFigures]] = defaultdict(list)
    for d in ports.figures.days(town_id, by, start):
        (in_period if d.day <= end else after)[d.value].append(d)
    return _Read(in_period, after, ports.figures.open_now(town_id))


def _period(ports: FigurePorts, town_id: str, start: date, end: date,
            by: str) -> dict[str, Figures]:
    check_period(start, end, by)
    read = _read(ports, town_id, by, start, end)
    values = set(read.in_period) | {v for (dim, v), n in (read.open_now or {}).items()
                                    if dim == by and read.backlog(by, v)}
    found: dict[str, Figures] = {}
    for value in sorted(values):
        total = Figures()
        for d in read.in_period.get(value, []):
            total = total.merge(d.figures)
        total.backlog = read.backlog(by, value)
        found[value] = total
    return found


def period(ports: FigurePorts, who: Principal, start: date, end: date,
           by: str) -> dict[str, Figures]:
    """The figures of [start, end] (town-time days, inclusive), one entry per value of the
    dimension ``by`` (service code, department, zone, channel; "all" for "town")."""
    require(who, Permission.READ_REQUESTS, who.town_id)
    return _period(ports, who.town_id or "", start, end, by)


def daily(ports: FigurePorts, who: Principal, start: date, end: date, by: str,
          value: str) -> list[tuple[date, Figures]]:
    """Each day of [start, end] for one value of ``by`` (a day with nothing: zeros), each
    with the backlog at its end: for trends."""
    require(who, Permission.READ_REQUESTS, who.town_id)
    check_period(start, end, by)
    read = _read(ports, who.town_id or "", by, start, end)
    by_day = {d.day: d for d in read.in_period.get(value, [])}
    backlog = read.backlog(by, value)
    found: list[tuple[date, Figures]] = []
    day = end
    while day >= start:
        stored = by_day.get(day)
        figures = dataclasses.replace(stored.figures) if stored else Figures()
        figures.backlog = backlog
        found.append((day, figures))
        if backlog is not None and stored is not None:
            backlog -= stored.open_delta  # the end of the day before
        day -= timedelta(days=1)
    return found[::-1]


def weekly_opened(ports: FigurePorts, town_id: str, service_code: str, weeks: int,
                  until: date) -> list[tuple[date, int]]:
    """Requests opened for one service in each of the last ``weeks`` complete weeks
    (Monday to Sunday) that end on or before ``until``, oldest first, as (Monday, count):
    the forecast's history. A week is only complete once its Sunday is over, so a week
    still running is left out rather than counted short."""
    return weekly_opened_by_service(ports, town_id, weeks, until, (service_code,))[
        service_code]


def weekly_opened_by_service(ports: FigurePorts, town_id: str, weeks: int, until: date,
                             service_codes: tuple[str, ...]) -> dict[str, list[tuple[date, int]]]:
    """``weekly_opened`` for several services from ONE read of the service figures: a
    day's items hold every service (its sort key starts with the day), so reading them
    once per service would read the same items once per service."""
    if not 1 <= weeks <= 520:
        raise InvalidInput.of([Problem("weeks", "must be between 1 and 520")])
    last_sunday = until - timedelta(days=(until.weekday() + 1) % 7)
    first_monday = last_sunday - timedelta(days=7 * weeks - 1)
    mondays = [first_monday + timedelta(weeks=n) for n in range(weeks)]
    opened = {code: dict.fromkeys(mondays, 0) for code in service_codes}
    for d in ports.figures.days(town_id, "service", first_monday, last_sunday):
        if d.value in opened:
            opened[d.value][d.day - timedelta(days=d.day.weekday())] += d.figures.opened
    return {code: sorted(weeks_of.items()) for code, weeks_of in opened.items()}


def public_period(ports: FigurePorts, town_id: str, start: date, end: date,
                  by: str) -> dict[str, Figures]:
    """The figures residents may see: by service, only the services the town offers
    (active in its catalogue). Figures are counts and durations: nothing of a resident."""
    town = _town(ports, town_id)
    found = _period(ports, town_id, start, end, by)
    if by != "service":
        return found
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset)
    return {code: f for code, f in found.items() if catalogue.service(code) is not None}


# --- the staff JSON report ------------------------------------------------------------------


def document(figures: Figures) -> dict[str, Any]:
    """Figures as JSON: the counters, the backlog, durations in seconds, shares."""

    def seconds(value: float | None) -> int | None:
        return round(value) if value is not None else None

    return {
        **figures.counters(),
        "backlog": figures.backlog,
        "median_to_acknowledge": seconds(figures.median_to_acknowledge),
        "p90_to_acknowledge": seconds(figures.p90_to_acknowledge),
        "median_to_close": seconds(figures.median_to_close),
        "p90_to_close": seconds(figures.p90_to_close),
        "sla_met_share": round(figures.sla_met_share, 3)
        if figures.sla_met_share is not None else None,
        "mean_rating": round(figures.mean_rating, 2)
        if figures.mean_rating is not None else None,
    }


def report(ports: FigurePorts, who: Principal, start: date | None, end: date | None,
           by: str, value: str | None, per_day: bool) -> dict[str, Any]:
    """``GET /staff/reports/figures``: a period (by default the last 30 days to today in
    the town's time) by a dimension, or one value of it day by day."""
    require(who, Permission.READ_REQUESTS, who.town_id)
    town = _town(ports, who.town_id or "")
    end = end or ports.now().astimezone(town.zone).date()
    if start is None:
        start = max(end, FIRST_DAY + timedelta(days=DEFAULT_PERIOD_DAYS)) - timedelta(
            days=DEFAULT_PERIOD_DAYS - 1)
    head = {"start": start.isoformat(), "end": end.isoformat(), "by": by}
    if per_day:
        if not value:
            raise InvalidInput.of([Problem("value", "name the value to show day by day")])
        days = daily(ports, who, start, end, by, value)
        return {**head, "value": value,
                "days": [{"day": d.isoformat(), **document(f)} for d, f in days]}
    found = period(ports, who, start, end, by)
    if value:
        found = {v: f for v, f in found.items() if v == value}
    return {**head, "figures": [{"value": v, **document(f)} for v, f in found.items()]}
