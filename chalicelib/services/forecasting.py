"""Expected requests per service per week for the weeks ahead (chalicelib.domain.forecast),
for the staff console's reports beside the actual weeks."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.forecast import Forecast, forecast

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
