"""The forecast on synthetic series whose answer is known (chalicelib.domain.forecast)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from chalicelib.domain.forecast import complete_weeks, forecast, season_week

START = date(2024, 1, 1)  # a Monday


def weeks(n: int, start: date = START) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def seasonal_rate(monday: date) -> float:
    """A smooth season peaking in spring (ISO week ~14): 5 to 35 a week."""
    return 20 + 15 * math.cos(2 * math.pi * (season_week(monday) - 13) / 52)


def test_a_constant_series_forecasts_the_constant_whatever_its_length() -> None:
    for n in (3, 20, 52, 104):
        result = forecast([(m, 12) for m in weeks(n)], weeks=8)
        assert len(result.weeks) == 8
        for row in result.weeks:
            assert row.expected == pytest.approx(12, abs=0.01)
            assert row.low <= 12 <= row.high


def test_the_weeks_forecast_are_the_eight_mondays_after_the_history() -> None:
    history = [(m, 5) for m in weeks(60)]
    result = forecast(history)
    last = history[-1][0]
    assert [r.week_start for r in result.weeks] == [last + timedelta(weeks=h)
                                                    for h in range(1, 9)]


def test_a_pure_season_repeated_forecasts_the_season() -> None:
    history = [(m, round(seasonal_rate(m))) for m in weeks(104)]
    result = forecast(history)
    assert result.method == "seasonal"
    for row in result.weeks:
        truth = seasonal_rate(row.week_start)
        assert row.expected == pytest.approx(truth, rel=0.08)
        assert row.low < truth < row.high


def test_one_year_of_a_season_is_enough_to_forecast_it() -> None:
    history = [(m, round(seasonal_rate(m))) for m in weeks(52, date(2025, 1, 6))]
    result = forecast(history)
    assert result.method == "seasonal"
    for row in result.weeks:
        assert row.expected == pytest.approx(seasonal_rate(row.week_start), rel=0.1)


def test_a_season_in_spring_is_forecast_rising_into_spring() -> None:
    # History up to mid-January: the forecast climbs towards the spring peak.
    history = [(m, round(seasonal_rate(m))) for m in weeks(104, date(2024, 1, 22))]
    result = forecast(history)
    assert result.weeks[-1].expected > result.weeks[0].expected + 5


def test_a_linear_trend_is_followed_with_less_than_a_year() -> None:
    history = [(m, 10 + 2 * i) for i, m in enumerate(weeks(30))]
    result = forecast(history)
    assert result.method == "trend"
    for h, row in enumerate(result.weeks, start=1):
        assert row.expected == pytest.approx(10 + 2 * (29 + h), abs=0.01)


def test_growth_between_two_years_is_carried_forward() -> None:
    # A season growing 30 % a year: the forecast is above last year's same weeks.
    def rate(i: int, monday: date) -> float:
        return seasonal_rate(monday) * 1.3 ** (i / 52)

    history = [(m, round(rate(i, m))) for i, m in enumerate(weeks(104))]
    result = forecast(history)
    for h, row in enumerate(result.weeks, start=1):
        truth = rate(103 + h, row.week_start)
        assert row.expected == pytest.approx(truth, rel=0.08)


def test_noisy_counts_fall_inside_the_interval_about_nine_times_in_ten() -> None:
    rng = random.Random(7)
    inside = total = 0
    for _trial in range(40):
        series = [(m, _poisson(rng, seasonal_rate(m))) for m in weeks(112)]
        history, held_out = series[:104], series[104:]
        result = forecast(history)
        for row, (_, actual) in zip(result.weeks, held_out, strict=True):
            inside += row.low <= actual <= row.high
            total += 1
    assert 0.8 <= inside / total <= 0.99


def test_a_quiet_service_in_its_quiet_season_forecasts_near_zero_not_nonsense() -> None:
    # Snow: only in winter weeks; the history ends in July.
    history = [(m, 8 if season_week(m) < 10 or season_week(m) > 47 else 0)
               for m in weeks(78)]
    result = forecast(history)
    for row in result.weeks:
        assert row.expected < 1 and row.low == 0


def test_a_missing_week_counts_as_none_and_a_non_monday_is_refused() -> None:
    assert complete_weeks([(START, 3), (START + timedelta(weeks=2), 5)]) == [
        (START, 3), (START + timedelta(weeks=1), 0), (START + timedelta(weeks=2), 5)]
    with pytest.raises(ValueError, match="not a Monday"):
        forecast([(START + timedelta(days=1), 3)])
    with pytest.raises(ValueError, match="twice"):
        forecast([(START, 3), (START, 4)])


def test_no_history_forecasts_nothing() -> None:
    assert forecast([]).weeks == ()


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of these tests.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_a_year_short_of_a_few_weeks_still_forecasts_the_season() -> None:
    # 49 weeks ending in mid-December: the weeks of the year not seen are read from their
    # neighbours, and the spring peak still lies ahead beyond them.
    history = [(m, round(seasonal_rate(m))) for m in weeks(49, date(2025, 1, 13))]
    result = forecast(history)
    assert result.method == "seasonal"
    for row in result.weeks:
        assert row.expected == pytest.approx(seasonal_rate(row.week_start), rel=0.12)
