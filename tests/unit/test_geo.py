"""Distances and the index cells a nearby search reads."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.geo import (
    EARTH_RADIUS_M,
    MAX_CELLS,
    cell_of,
    cell_size_m,
    cells_around,
    distance_m,
)

CHICAGO = (41.8781, -87.6298)


def _destination(lat: float, long: float, bearing_deg: float,
                 distance: float) -> tuple[float, float]:
    """The point ``distance`` metres from (lat, long) along ``bearing_deg`` (on the same
    sphere as ``distance_m``)."""
    p1, l1, b = math.radians(lat), math.radians(long), math.radians(bearing_deg)
    d = distance / EARTH_RADIUS_M
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1),
                         math.cos(d) - math.sin(p1) * math.sin(p2))
    long2 = (math.degrees(l2) + 540.0) % 360.0 - 180.0
    return max(-90.0, min(90.0, math.degrees(p2))), long2


def test_distance_of_known_places():
    assert distance_m(*CHICAGO, *CHICAGO) == 0
    # One degree of latitude is about 111.2 km on the mean sphere.
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    # Chicago's Loop to O'Hare, about 24 km.
    assert distance_m(*CHICAGO, 41.9742, -87.9073) == pytest.approx(25_300, rel=0.02)
    # Across the antimeridian the short way, not around the world.
    assert distance_m(0, 179.9995, 0, -179.9995) == pytest.approx(111.2, rel=1e-3)


def test_a_small_circle_reads_at_most_four_cells_and_its_own_first():
    cells = cells_around(*CHICAGO, 50)
    assert cells[0] == cell_of(*CHICAGO)
    assert 1 <= len(cells) <= 4
    assert all(len(c) == 7 for c in cells) and len(set(cells)) == len(cells)


@pytest.mark.parametrize("lat", [0.0, 41.88, 60.0, -45.0])
def test_a_radius_up_to_the_smaller_side_stays_within_the_three_by_three_block(lat):
    width, height = cell_size_m(lat)
    assert cells_around(lat, 10.0, min(width, height) * 0.999).__len__() <= 9


def test_a_larger_radius_reaches_a_second_ring():
    width, _ = cell_size_m(60.0)  # about 76 m wide
    cells = cells_around(60.0, 10.0, 150)
    assert 9 < len(cells) <= 25, width


def test_antimeridian_and_poles_do_not_crash():
    east = cells_around(0.0, 180.0, 100)
    west = cells_around(0.0, -180.0, 100)
    assert set(east) == set(west)
    assert any(c.startswith("x") for c in east) and any(c.startswith("8") for c in east)
    assert cells_around(-90.0, 0.0, 0)  # the point itself, at the pole
    assert len(cells_around(84.0, 179.9999, 150)) <= MAX_CELLS  # wraps, far north
    with pytest.raises(ValueError):
        cells_around(89.9999, 0.0, 150)  # every longitude: more than MAX_CELLS cells
    with pytest.raises(ValueError):
        cells_around(math.nan, 0.0, 50)
    with pytest.raises(ValueError):
        cells_around(91.0, 0.0, 50)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(lat=st.floats(-84, 84), long=st.floats(-180, 180), radius=st.integers(10, 150),
       bearing=st.floats(0, 360), fraction=st.floats(0, 1))
def test_every_point_within_the_radius_lies_in_a_returned_cell(lat, long, radius, bearing,
                                                              fraction):
    cells = cells_around(lat, long, radius)
    assert len(cells) <= MAX_CELLS
    point = _destination(lat, long, bearing, radius * fraction)
    if distance_m(lat, long, *point) <= radius:
        assert cell_of(*point) in cells, (lat, long, radius, point)


def test_every_point_within_the_radius_near_cell_edges_and_the_antimeridian():
    # Points sampled densely near the edges of the centre's cell, where a miss would show.
    rng = random.Random(311)
    for _ in range(3000):
        lat = rng.choice([rng.uniform(-60, 60), 41.8781, 0.0, -33.9])
        long = rng.choice([rng.uniform(-180, 180), 179.9999, -179.9999, -87.6298])
        radius = rng.choice([10, 50, 150, 300])
        cells = set(cells_around(lat, long, radius))
        point = _destination(lat, long, rng.uniform(0, 360), radius * rng.uniform(0.9, 1.0))
        if distance_m(lat, long, *point) <= radius:
            assert cell_of(*point) in cells, (lat, long, radius, point)
