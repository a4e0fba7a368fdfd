"""Expected requests per service per week for the weeks ahead (chalicelib.domain.forecast),
from a town's figures, for the staff console's reports beside the actual weeks.
docs/forecast.md describes the method and its measured errors."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.forecast import Forecast, forecast

if TYPE_CHECKING:
    from chalicelib.services.figures import FigurePorts

MAX_WEEKS = 26


def forecast_service(weekly: list[tuple[date, int]], weeks: int = 8) -> Forecast:
    """The next ``weeks`` Monday-started weeks after ``weekly`` (Monday, requests opened),
    a week missing from it counted as none. Bad history or a horizon out of 1..26 is
    InvalidInput."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput.of([Problem("weeks", f"must be between 1 and {MAX_WEEKS}")])
    try:
        return forecast(weekly, weeks)
    except ValueError as e:
        raise InvalidInput.of([Problem("weekly", str(e))]) from e


def forecast_document(result: Forecast) -> dict[str, object]:
    """A forecast as JSON: its method, the weeks of history behind it, and each week."""
    return {"method": result.method, "history_weeks": result.history_weeks,
            "interval": 0.9,
            "weeks": [{"week_start": w.week_start.isoformat(), "expected": w.expected,
                       "low": w.low, "high": w.high} for w in result.weeks]}


HISTORY_WEEKS = 104  # two years: what the seasonal method uses at most but one
ACTUAL_WEEKS = 12  # the recent weeks shown beside the forecast


def town_forecast(ports: FigurePorts, who: Principal, service: str | None = None,
                  weeks: int = 8) -> dict[str, object]:
    """Each service's (or one ``service``'s) expected requests for the next ``weeks``
    weeks, beside its last complete weeks, from the town's figures (requests opened per
    week, ``figures.weekly_opened``): staff who may read the town's reports.

    The history starts after the town's first week with any request, not two years back
    whatever happened: weeks before a town used Town311 are not weeks without requests,
    and its first week was most likely not a whole one."""
    from chalicelib.services.directory import catalogue_of
    from chalicelib.services.figures import weekly_opened_by_service

    require(who, Permission.READ_REQUESTS, who.town_id)
    town_id = who.town_id or ""
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:64]!r}")
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput.of([Problem("weeks", f"must be between 1 and {MAX_WEEKS}")])
    catalogue = catalogue_of(ports.towns, town)
    if service is not None and catalogue.service(service) is None:
        raise InvalidInput.of([Problem("service", f"{service[:64]!r} is not a service of "
                                                  f"{town.name}")])
    codes = [service] if service is not None else [s.code for s in catalogue.services]
    today = ports.now().astimezone(ZoneInfo(town.timezone)).date()
    histories = weekly_opened_by_service(ports, town_id, HISTORY_WEEKS, today, tuple(codes))
    started = min((week for history in histories.values() for week, n in history if n),
                  default=None)
    services: dict[str, object] = {}
    for code, history in histories.items():
        # From the week after the first: a town starts in the middle of its first week.
        kept = [(week, n) for week, n in history if started is not None and week > started]
        found = catalogue.service(code)
        services[code] = {
            "name": found.name if found else code,
            "actual": [{"week_start": week.isoformat(), "opened": n}
                       for week, n in kept[-ACTUAL_WEEKS:]],
            **forecast_document(forecast(kept, weeks)),
        }
    return {"as_of": today.isoformat(), "weeks": weeks, "services": services}
