"""The forecasting service: bad history is a clear InvalidInput, a good one a document."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.services.forecasting import forecast_document, forecast_service

MONDAY = date(2026, 6, 1)


def test_a_service_forecast_is_a_document_of_eight_weeks_with_intervals() -> None:
    weekly = [(MONDAY + timedelta(weeks=i), 7) for i in range(20)]
    document = forecast_document(forecast_service(weekly))
    assert document["method"] == "trend" and document["history_weeks"] == 20
    rows = document["weeks"]
    assert isinstance(rows, list) and len(rows) == 8
    assert rows[0] == {"week_start": "2026-10-19", "expected": 7.0,
                       "low": rows[0]["low"], "high": rows[0]["high"]}
    assert rows[0]["low"] < 7 < rows[0]["high"]


def test_a_history_of_a_tuesday_is_invalid_input_naming_the_day() -> None:
    with pytest.raises(InvalidInput, match="2026-06-02 is not a Monday"):
        forecast_service([(MONDAY + timedelta(days=1), 3)])


@pytest.mark.parametrize("weeks", [0, 27])
def test_a_horizon_outside_one_to_26_weeks_is_invalid_input(weeks: int) -> None:
    with pytest.raises(InvalidInput, match="weeks"):
        forecast_service([(MONDAY, 3)], weeks=weeks)
