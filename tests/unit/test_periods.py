"""The periods the figures pages compare: a unit so far against the same span of the unit
before, two dates against as many days before, quarters by their keys."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.web import periods
from chalicelib.web.periods import Period


@pytest.mark.parametrize("kind, now, before", [
    ("week", Period(date(2026, 11, 16), date(2026, 11, 20), "week"),
     Period(date(2026, 11, 9), date(2026, 11, 13), "week")),
    ("month", Period(date(2026, 11, 1), date(2026, 11, 20), "month"),
     Period(date(2026, 10, 1), date(2026, 10, 20), "month")),
    ("quarter", Period(date(2026, 10, 1), date(2026, 11, 20), "quarter"),
     Period(date(2026, 7, 1), date(2026, 8, 20), "quarter")),
    ("year", Period(date(2026, 1, 1), date(2026, 11, 20), "year"),
     Period(date(2025, 1, 1), date(2025, 11, 20), "year")),
])
def test_a_unit_so_far_is_compared_with_the_same_span_of_the_unit_before(kind, now,
                                                                          before) -> None:
    found = periods.so_far(kind, date(2026, 11, 20))
    assert found == now
    assert found.previous() == before
    assert found.previous().days == found.days


def test_a_longer_month_is_compared_with_all_of_a_shorter_one() -> None:
    december = periods.so_far("month", date(2026, 12, 31))
    assert december.previous() == Period(date(2026, 11, 1), date(2026, 11, 30), "month")


def test_two_dates_are_compared_with_as_many_days_just_before() -> None:
    found = periods.between("2026-11-11", "2026-11-20", date(2026, 11, 20))
    assert found.days == 10
    assert found.previous() == Period(date(2026, 11, 1), date(2026, 11, 10))


@pytest.mark.parametrize("start, end, field", [
    ("2026-11-1x", "2026-11-20", "start"), ("", "2026-11-20", "start"),
    ("2026-11-01", "2026-11-21", "end"), ("2026-11-10", "2026-11-09", "start"),
    ("2025-11-19", "2026-11-20", "start"),
])
def test_dates_that_make_no_period_name_the_field_to_fix(start, end, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        periods.between(start, end, date(2026, 11, 20))
    assert field in [p.field for p in refused.value.problems]


def test_a_year_of_days_is_allowed() -> None:
    assert periods.between("2025-11-20", "2026-11-20", date(2026, 11, 20)).days == 366


def test_quarters_by_key() -> None:
    assert periods.quarter("2026-Q4") == Period(date(2026, 10, 1), date(2026, 12, 31),
                                                "quarter")
    assert periods.quarter("2024-Q1") == Period(date(2024, 1, 1), date(2024, 3, 31), "quarter")
    for bad in ("2026-Q0", "2026-Q5", "26-Q1", "2026Q1", "1999-Q1"):
        assert periods.quarter(bad) is None
    assert periods.recent_quarters(date(2026, 1, 5), 3) == ["2026-Q1", "2025-Q4", "2025-Q3"]
