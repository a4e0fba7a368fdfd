"""Expected requests per week for the weeks ahead, from a town's own weekly history.

Pure Python (the API package has no numpy). docs/forecast.md explains the method, its
assumptions and its measured errors; in short:

- a year or more of history (48 weeks will do): a **seasonal profile** (the mean count of
  each week of the year over the years there are, smoothed across neighbouring weeks,
  weeks not seen drawn in a line between their neighbours) scaled by the
  **recent level** (the last 8 weeks against what the profile expected of them) and, with
  two years, the **year-over-year growth**;
- less than a year: a **straight line** through the last (up to) 26 weeks, with an interval
  widened because a season the history has not seen may be coming;
- an interval from a count model: Poisson-like noise with the over-dispersion the history
  shows, plus the uncertainty of the level (and of the profile, or of the line).

Weeks are Monday-started; the week of the year is the ISO week (week 53 shares week 52's
profile), so seasons stay on the calendar whatever weekday a year starts on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SEASON_WEEKS = 52
# A year less a month is enough for the seasonal method: a history that starts on a
# Wednesday has 51 complete weeks after a year, and the weeks of the year it has not seen
# lie next to weeks it has (each unseen week is read from its nearest seen neighbours).
SEASONAL_MIN_WEEKS = 48
LEVEL_WEEKS = 8  # the recent window the level is read from
TREND_WEEKS = 26  # the window the fallback line is fitted to
# Pseudo-weeks at the profile's average that the level is shrunk towards 1 with: a quiet
# service (snow in July) has a recent window near zero, and 0/0 must not set the level.
LEVEL_PRIOR_WEEKS = 4.0
GROWTH_LIMITS = (0.5, 2.0)  # year-over-year growth beyond these is a change, not a trend
# Pseudo-requests added to both years' totals: 12 against 8 a year is not 50 % growth.
GROWTH_PRIOR = 20.0
# Two-sided 90 % interval of a normal approximation.
Z90 = 1.6449
# How much wider the fallback's interval is: it cannot see a season coming.
FALLBACK_WIDENING = 1.5


@dataclass(frozen=True)
class ForecastWeek:
    """The expected count of one Monday-started week, with a 90 % prediction interval."""

    week_start: date
    expected: float
    low: float
    high: float


@dataclass(frozen=True)
class Forecast:
    """What is forecast, and how: ``method`` is "seasonal", "trend", "mean" or "none"."""

    method: str
    history_weeks: int
    weeks: tuple[ForecastWeek, ...]


def season_week(monday: date) -> int:
    """The week of the year, 0..51, that a Monday-started week's profile is read at."""
    return min(monday.isocalendar().week, SEASON_WEEKS) - 1


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def complete_weeks(weekly: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The history as consecutive Mondays from its first week to its last, a missing week
    counted as 0 (no requests is what a week without a row means). Raises ValueError on
    a date that is not a Monday, a week given twice or a negative count."""
    counts: dict[date, int] = {}
    for week, count in weekly:
        if week.weekday() != 0:
            raise ValueError(f"{week.isoformat()} is not a Monday")
        if week in counts:
            raise ValueError(f"the week of {week.isoformat()} is given twice")
        if count < 0:
            raise ValueError(f"the week of {week.isoformat()} has a negative count")
        counts[week] = count
    if not counts:
        return []
    first, last = min(counts), max(counts)
    span = (last - first).days // 7 + 1
    return [(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
            for i in range(span)]


def forecast(weekly: Sequence[tuple[date, int]], weeks: int = 8) -> Forecast:
    """The next ``weeks`` weeks after the last week of ``weekly`` (Monday, count)."""
    if not 1 <= weeks <= SEASON_WEEKS:
        raise ValueError("weeks must be between 1 and 52")
    history = complete_weeks(weekly)
    if not history:
        return Forecast("none", 0, ())
    ahead = [history[-1][0] + timedelta(weeks=h) for h in range(1, weeks + 1)]
    counts = [float(c) for _, c in history]
    if len(history) >= SEASONAL_MIN_WEEKS:
        rows = _seasonal(history, ahead)
        method = "seasonal"
    elif len(history) >= 4:
        rows = _trend(counts, ahead)
        method = "trend"
    else:
        rows = _mean(counts, ahead)
        method = "mean"
    return Forecast(method, len(history), tuple(rows))


def _week(monday: date, expected: float, variance: float, widen: float = 1.0) -> ForecastWeek:
    expected = max(expected, 0.0)
    spread = Z90 * math.sqrt(max(variance, 0.0)) * widen
    return ForecastWeek(monday, round(expected, 2), round(max(expected - spread, 0.0), 2),
                        round(expected + spread, 2))


def _smoothing_weights(years: float) -> list[float]:
    """Triangular weights over neighbouring weeks: ±2 weeks with one year (a single
    year's week is noisy), ±1 with two or more."""
    return [1.0, 2.0, 3.0, 2.0, 1.0] if years < 2 else [1.0, 2.0, 1.0]


def _seasonal(history: list[tuple[date, int]], ahead: list[date]) -> list[ForecastWeek]:
    n = len(history)
    years = n / SEASON_WEEKS
    # Growth: this year against the year before, where there are two.
    growth = 1.0
    if n >= 2 * SEASON_WEEKS:
        this_year = sum(c for _, c in history[-SEASON_WEEKS:])
        year_before = sum(c for _, c in history[-2 * SEASON_WEEKS:-SEASON_WEEKS])
        ratio = (this_year + GROWTH_PRIOR) / (year_before + GROWTH_PRIOR)
        growth = min(max(ratio, GROWTH_LIMITS[0]), GROWTH_LIMITS[1])
    weekly_growth = growth ** (1 / SEASON_WEEKS)
    # Each week of the year's mean over the years seen (at most the last three), every
    # count first brought to the last week's level: otherwise a growing series would give
    # the weeks seen last a higher profile than the weeks seen first.
    recent = history[-3 * SEASON_WEEKS:]
    sums = [0.0] * SEASON_WEEKS
    seen = [0] * SEASON_WEEKS
    for back, (monday, count) in enumerate(reversed(recent)):
        p = season_week(monday)
        sums[p] += count * weekly_growth ** back
        seen[p] += 1
    raw = _fill_gaps([sums[p] / seen[p] if seen[p] else None for p in range(SEASON_WEEKS)])
    seen = [max(n, 1) for n in seen]  # a filled week counts as seen once
    weights = _smoothing_weights(years)
    half = len(weights) // 2
    profile: list[float] = []
    support: list[float] = []  # effective number of weeks behind each profile value
    for p in range(SEASON_WEEKS):
        total = weight_sum = square_sum = 0.0
        for k, w in enumerate(weights):
            value = raw[(p + k - half) % SEASON_WEEKS]
            n_seen = seen[(p + k - half) % SEASON_WEEKS]
            total += w * value
            weight_sum += w
            square_sum += w * w / n_seen
        profile.append(total / weight_sum if weight_sum else 0.0)
        support.append(weight_sum * weight_sum / square_sum if square_sum else 1.0)
    mean_profile = sum(profile) / SEASON_WEEKS
    # The level: the last weeks against what the profile expected of them, shrunk to 1.
    window = history[-LEVEL_WEEKS:]
    actual = sum(c for _, c in window)
    expected = sum(profile[season_week(m)] for m, _ in window)
    prior = LEVEL_PRIOR_WEEKS * max(mean_profile, 0.25)
    level = (actual + prior) / (expected + prior)
    # Over-dispersion: how much more the weeks vary around the profile (scaled to each
    # year's own level) than Poisson counts would; at least 1.
    dispersion = _dispersion(recent, profile)
    level_relvar = dispersion / (actual + prior)
    rows = []
    for h, monday in enumerate(ahead, start=1):
        p = season_week(monday)
        # The profile is at the last week's level; the level ratio (centred on the
        # window, half of it back) is brought forward with it.
        value = level * profile[p] * weekly_growth ** (h + (LEVEL_WEEKS - 1) / 2)
        profile_relvar = dispersion / max(profile[p] * support[p], 1.0)
        variance = dispersion * value + value * value * (level_relvar + profile_relvar)
        rows.append(_week(monday, value, max(variance, dispersion * 0.25)))
    return rows


def _fill_gaps(raw: list[float | None]) -> list[float]:
    """Weeks of the year not seen (a history of less than 52 weeks) drawn in a straight
    line between the nearest seen weeks on either side, round the year's end."""
    seen = [p for p, v in enumerate(raw) if v is not None]
    filled = [v if v is not None else 0.0 for v in raw]
    for p, value in enumerate(raw):
        if value is not None:
            continue
        before = max((q for q in seen if q < p), default=seen[-1] - SEASON_WEEKS)
        after = min((q for q in seen if q > p), default=seen[0] + SEASON_WEEKS)
        low, high = raw[before % SEASON_WEEKS] or 0.0, raw[after % SEASON_WEEKS] or 0.0
        filled[p] = low + (high - low) * (p - before) / (after - before)
    return filled


def _dispersion(history: list[tuple[date, int]], profile: list[float]) -> float:
    """Pearson's chi-square per week of the history around the profile, each year scaled
    to its own total (so growth between years is not counted as noise)."""
    chi = 0.0
    weeks = 0
    for start in range(0, len(history), SEASON_WEEKS):
        year = history[start:start + SEASON_WEEKS]
        expected_total = sum(profile[season_week(m)] for m, _ in year)
        scale = sum(c for _, c in year) / expected_total if expected_total > 0 else 1.0
        for monday, count in year:
            fitted = profile[season_week(monday)] * scale
            if fitted > 0.5:
                chi += (count - fitted) ** 2 / fitted
                weeks += 1
    return max(chi / weeks, 1.0) if weeks else 1.0


def _trend(counts: list[float], ahead: list[date]) -> list[ForecastWeek]:
    """Least squares through the last TREND_WEEKS weeks, with the line's prediction
    variance (residual variance, at least the counts' own Poisson variance)."""
    ys = counts[-TREND_WEEKS:]
    m = len(ys)
    xs = list(range(m))
    x_mean = (m - 1) / 2
    y_mean = sum(ys) / m
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    sigma2 = residual / (m - 2) if m > 2 else 0.0
    rows = []
    for h, monday in enumerate(ahead, start=1):
        x = m - 1 + h
        value = intercept + slope * x
        noise = max(sigma2, max(value, y_mean, 1.0))
        variance = noise * (1 + 1 / m + (x - x_mean) ** 2 / sxx)
        rows.append(_week(monday, value, variance, FALLBACK_WIDENING))
    return rows


def _mean(counts: list[float], ahead: list[date]) -> list[ForecastWeek]:
    """A few weeks only: their mean, with an interval as wide as its own value or more."""
    mean = sum(counts) / len(counts)
    variance = max(mean, 1.0) + mean * mean
    return [_week(monday, mean, variance, FALLBACK_WIDENING) for monday in ahead]
