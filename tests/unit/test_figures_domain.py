"""A town's figures (chalicelib.domain.figures): the duration sketch's quantiles within 5 %
of the truth on known distributions, merging in any order, and figures of periods added."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.figures import DIMENSIONS, Figures, Sketch, bucket_of

DAY = timedelta(days=1).total_seconds()


def true_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


@pytest.mark.parametrize(
    "draw",
    [
        lambda r: r.uniform(60, 30 * DAY),
        lambda r: r.expovariate(1 / (2 * DAY)) + 1,
        lambda r: r.lognormvariate(11, 1.5) + 1,
    ],
    ids=["uniform", "exponential", "lognormal"],
)
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 0.99])
def test_quantiles_within_five_percent_on_known_distributions(draw, q):
    rng = random.Random(17)
    values = [draw(rng) for _ in range(5000)]
    sketch = Sketch.of(values)
    truth = true_quantile(values, q)
    assert sketch.quantile(q) == pytest.approx(truth, rel=0.05)


def test_pothole_closing_times_median_and_p90():
    # 10 closings: 1..10 days; the median is the 5th (5 days), the 90th percentile the 9th.
    sketch = Sketch.of(n * DAY for n in range(1, 11))
    assert sketch.count == 10
    assert sketch.quantile(0.5) == pytest.approx(5 * DAY, rel=0.05)
    assert sketch.quantile(0.9) == pytest.approx(9 * DAY, rel=0.05)


def test_empty_sketch_has_no_quantile_and_bad_q_refused():
    assert Sketch().quantile(0.5) is None
    with pytest.raises(ValueError):
        Sketch().quantile(1.5)


def test_sub_second_and_odd_durations_count_as_zero():
    assert bucket_of(0.2) == bucket_of(-5) == bucket_of(float("nan")) == "z"
    sketch = Sketch.of([0.0, 0.5, 3600])
    assert sketch.quantile(0) == 0.0
    assert sketch.quantile(1) == pytest.approx(3600, rel=0.05)


durations = st.lists(st.floats(min_value=0, max_value=400 * DAY), max_size=40)


@given(durations, durations, durations)
def test_sketch_merge_is_associative_and_commutative(a, b, c):
    x, y, z = Sketch.of(a), Sketch.of(b), Sketch.of(c)
    assert x.merge(y).merge(z) == x.merge(y.merge(z))
    assert x.merge(y) == y.merge(x)
    assert x.merge(y) == Sketch.of(a + b)


@given(durations)
def test_sketch_survives_its_stored_map(values):
    sketch = Sketch.of(values)
    stored = {k: str(v) for k, v in sketch.to_map().items()}  # DynamoDB gives back numbers
    assert Sketch.from_map({k: int(v) for k, v in stored.items()}) == sketch
    assert all(isinstance(v, int) and v > 0 for v in sketch.to_map().values())


def figures(draw_counts: list[int], backlog: int | None, durations: list[float]) -> Figures:
    names = ["opened", "closed", "reopened", "disputes", "ratings", "rating_total",
             "sla_met", "sla_missed", "duplicates", "followers", "information"]
    return Figures(**dict(zip(names, draw_counts, strict=True)), backlog=backlog,
                   to_acknowledge=Sketch.of(durations[:3]), to_close=Sketch.of(durations))


day_figures = st.builds(
    figures,
    st.lists(st.integers(0, 50), min_size=11, max_size=11),
    st.none() | st.integers(0, 100),
    st.lists(st.floats(min_value=0, max_value=60 * DAY), max_size=10),
)


@given(day_figures, day_figures, day_figures)
def test_figures_merge_is_associative(a, b, c):
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert a.combine(b).combine(c) == a.combine(b.combine(c))


def test_a_period_keeps_the_last_known_backlog_and_adds_counters():
    monday = Figures(opened=3, closed=1, backlog=12, to_close=Sketch.of([DAY]))
    tuesday = Figures(opened=2, closed=4, backlog=10, to_close=Sketch.of([3 * DAY]))
    quiet = Figures()  # a day nothing was recorded: the backlog is not known from it
    week = monday.merge(tuesday).merge(quiet)
    assert (week.opened, week.closed, week.backlog) == (5, 5, 10)
    assert week.to_close.count == 2


def test_services_of_a_department_add_their_backlogs():
    potholes = Figures(opened=3, backlog=4)
    streetlights = Figures(opened=1, backlog=None)
    roads = potholes.combine(streetlights)
    assert (roads.opened, roads.backlog) == (4, 4)
    assert Figures().combine(Figures()).backlog is None


def test_shares_and_means():
    f = Figures(sla_met=3, sla_missed=1, ratings=2, rating_total=9)
    assert f.sla_met_share == 0.75
    assert f.mean_rating == 4.5
    empty = Figures()
    assert empty.sla_met_share is None and empty.mean_rating is None
    assert empty.median_to_close is None and empty.p90_to_acknowledge is None


def test_dimensions_are_the_agreed_ones():
    assert DIMENSIONS == ("town", "service", "department", "zone", "channel")
