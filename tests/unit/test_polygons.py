"""Plain-Python polygon validity (chalicelib.domain.polygons) against shapely's GEOS.

Shapely is installed for the tests only (requirements-dev.txt): it is the oracle here and
is never imported by chalicelib. Coordinates come from a small integer grid so shared
vertices, collinear edges, spikes and touching rings, where validity is decided, are common.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.validation import explain_validity

from chalicelib.domain import polygons
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.zones import MAX_ZONE_VERTICES, parse_zone_geometry

ROOT = Path(__file__).resolve().parents[2]
PROPERTY = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

grid = st.integers(0, 6)
point = st.tuples(grid, grid)


def _closed(points: list) -> list:
    return [*points, points[0]]


def _rectangle(x: int, y: int, w: int, h: int) -> list:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]


# Random vertex lists: mostly self-intersecting, sometimes flat or too short.
vertex_lists = st.lists(point, min_size=3, max_size=9).map(_closed)


@st.composite
def simple_polygons(draw: st.DrawFn) -> list:
    """A star-shaped ring: integer points sorted by angle around a centre (often simple,
    sometimes with collinear runs or a point on the centre's ray)."""
    cx, cy = draw(st.floats(1, 5)), draw(st.floats(1, 5))
    points = draw(st.lists(point, min_size=3, max_size=12, unique=True))
    points.sort(key=lambda p: (math.atan2(p[1] - cy, p[0] - cx), math.dist(p, (cx, cy))))
    if draw(st.booleans()):
        points.reverse()  # either orientation is accepted
    return _closed(points)


@st.composite
def rectangles_with_damage(draw: st.DrawFn) -> list:
    """A rectangle with repeated vertices, a collinear spike or a vertex moved onto an edge."""
    ring = _rectangle(0, 0, draw(st.integers(2, 6)), draw(st.integers(2, 6)))[:-1]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(ring) - 1))
        change = draw(st.sampled_from(["repeat", "spike", "insert"]))
        if change == "repeat":
            ring.insert(i, ring[i])
        elif change == "spike":
            x, y = ring[i]
            tip = (x + draw(st.integers(-2, 2)), y + draw(st.integers(-2, 2)))
            ring[i + 1:i + 1] = [tip, (x, y)]
        else:
            ring.insert(i, draw(point))
    return _closed(ring)


rings = st.one_of(vertex_lists, simple_polygons(), rectangles_with_damage())


@st.composite
def holes_in(draw: st.DrawFn) -> list:
    """Small rectangles and triangles placed anywhere: inside the shell, outside it,
    touching it at a point, sharing an edge, crossing it, inside each other."""
    holes = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            holes.append(_rectangle(draw(grid), draw(grid), draw(st.integers(1, 3)),
                                    draw(st.integers(1, 3))))
        else:
            holes.append(_closed(draw(st.lists(point, min_size=3, max_size=3))))
    return holes


def _verdict_agrees(geometry: shapely.Geometry, flaw: polygons.Flaw | None) -> None:
    assert (flaw is None) == geometry.is_valid, (geometry.wkt, explain_validity(geometry), flaw)


@PROPERTY
@given(rings)
def test_a_single_ring_is_judged_as_geos_judges_it(ring):
    _verdict_agrees(shapely.Polygon(ring), polygons.polygon_flaw([ring]))


@PROPERTY
@given(st.one_of(simple_polygons(), st.just(_rectangle(0, 0, 6, 6))), holes_in())
def test_holes_are_judged_as_geos_judges_them(shell, holes):
    _verdict_agrees(shapely.Polygon(shell, holes), polygons.polygon_flaw([shell, *holes]))


@st.composite
def multipolygons(draw: st.DrawFn) -> list:
    """Parts that are disjoint, touch at a point or along an edge, overlap, nest, or sit
    on an island in another part's lake."""
    parts = []
    for _ in range(draw(st.integers(2, 3))):
        x, y = draw(grid), draw(grid)
        w, h = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        shell = _rectangle(x, y, w, h)
        if w >= 3 and h >= 3 and draw(st.booleans()):
            parts.append([shell, _rectangle(x + 1, y + 1, w - 2, h - 2)])
        elif draw(st.booleans()):
            parts.append([draw(simple_polygons())])
        else:
            parts.append([shell])
    return parts


@PROPERTY
@given(multipolygons())
def test_multipolygons_are_judged_as_geos_judges_them(parts):
    whole = shapely.MultiPolygon([(rings[0], rings[1:]) for rings in parts])
    _verdict_agrees(whole, polygons.multipolygon_flaw(parts))


@PROPERTY
@given(multipolygons())
def test_parts_found_sound_alone_are_judged_between_them_as_geos_does(parts):
    # How zones calls it: each part was valid on its own.
    sound = [rings for rings in parts if shapely.Polygon(rings[0], rings[1:]).is_valid]
    whole = shapely.MultiPolygon([(rings[0], rings[1:]) for rings in sound])
    _verdict_agrees(whole, polygons.multipolygon_flaw(sound, parts_sound=True))


@PROPERTY
@given(simple_polygons(), holes_in())
def test_a_hole_is_covered_exactly_when_shapely_says_so(shell, holes):
    for hole in holes:
        if shapely.Polygon(shell).is_valid and shapely.Polygon(hole).is_valid:
            expected = shapely.Polygon(shell).covers(shapely.Polygon(hole))
            assert polygons.ring_covers(shell, hole) == expected, (shell, hole)


@PROPERTY
@given(rings)
def test_a_flat_ring_is_one_whose_convex_hull_has_no_area(ring):
    assert polygons.encloses_no_area(ring) == (shapely.Polygon(ring).convex_hull.area == 0)


def test_the_reason_is_geos_reason_at_geos_point():
    bow_tie = [(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]
    assert polygons.polygon_flaw([bow_tie]) == polygons.Flaw("Self-intersection", (0.5, 0.5))
    spike = [(0, 0), (4, 0), (4, 4), (2, 4), (2, 6), (2, 4), (0, 4), (0, 0)]
    assert polygons.polygon_flaw([spike]) == polygons.Flaw("Self-intersection", (2, 6))
    figure_eight = [(0, 0), (4, 0), (4, 4), (2, 2), (3, 1), (1, 1), (2, 2), (0, 4), (0, 0)]
    assert polygons.polygon_flaw([figure_eight]) == \
        polygons.Flaw("Ring Self-intersection", (2, 2))


# Scale: 20,000 positions without comparing every segment with every other.

def _circle(vertices: int) -> list:
    ring = [(-93.26 + 0.02 * math.cos(2 * math.pi * i / (vertices - 1)),
             44.97 + 0.02 * math.sin(2 * math.pi * i / (vertices - 1)))
            for i in range(vertices - 1)]
    return [*ring, ring[0]]


def _coastline(vertices: int) -> list:
    """A long thin strip whose north edge is a deterministic jagged coast: each step east
    moves up to four steps north or south."""
    width = vertices - 4
    coast = [(-93.3 + 0.1 * i / width, 45.0 + 0.00002 * ((i * 7919) % 13 - 6) / 6)
             for i in range(width + 1)]
    return [(-93.3, 44.99), (-93.2, 44.99), *reversed(coast), (-93.3, 44.99)]


@pytest.mark.parametrize("shape", [_circle, _coastline])
def test_checking_20000_positions_compares_a_near_linear_number_of_segment_pairs(shape):
    ring = shape(MAX_ZONE_VERTICES)
    assert len(ring) == MAX_ZONE_VERTICES
    effort = polygons.Effort()
    assert polygons.polygon_flaw([ring], effort=effort) is None
    # All pairs would be about 200 million; a grid finds each segment's few neighbours.
    assert MAX_ZONE_VERTICES <= effort.segment_pairs <= 3 * MAX_ZONE_VERTICES


def test_a_flaw_in_a_20000_position_ring_is_found_with_the_same_little_work():
    ring = _circle(MAX_ZONE_VERTICES)
    ring[5000], ring[5001] = ring[5001], ring[5000]  # two neighbours swapped: a tiny bow tie
    effort = polygons.Effort()
    assert polygons.polygon_flaw([ring], effort=effort).reason == "Self-intersection"
    assert effort.segment_pairs <= 3 * MAX_ZONE_VERTICES


def test_many_holes_are_checked_against_each_other_through_their_bounding_boxes():
    shell = _rectangle(0, 0, 1000, 10)
    holes = [_rectangle(2 * i + 1, 1, 1, 1) for i in range(499)]
    effort = polygons.Effort()
    assert polygons.polygon_flaw([shell, *holes], effort=effort) is None
    assert effort.ring_pairs < 10 * len(holes)
    assert effort.segment_pairs < 10 * 4 * len(holes)


# The deployed code never needs the oracle.

def test_chalicelib_imports_neither_shapely_nor_numpy():
    heavy = {"shapely", "numpy"}
    found = []
    for source in (ROOT / "chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            found += [f"{source.relative_to(ROOT)}: {n}" for n in names
                      if n.split(".")[0] in heavy]
    assert found == []


def test_the_runtime_requirements_leave_shapely_to_the_tests():
    def names(path: str) -> set[str]:
        lines = (ROOT / path).read_text().splitlines()
        return {line.split(">")[0].split("=")[0].split("[")[0].strip().lower()
                for line in lines if line.strip() and not line.startswith(("#", "-"))}

    assert "shapely" not in names("requirements.txt")
    assert "shapely" in names("requirements-dev.txt")


# What a town admin is told, one message at a time, for cases test_zones does not cover.

def _problems(geometry: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        parse_zone_geometry(geometry)
    return {p.field: p.message for p in refused.value.problems}


SQUARE = _rectangle(0, 0, 4, 4)


def test_a_ring_touching_itself_is_told_so_at_the_touch():
    ring = [(0, 0), (4, 0), (4, 4), (2, 2), (3, 1), (1, 1), (2, 2), (0, 4), (0, 0)]
    message = _problems({"type": "Polygon", "coordinates": [ring]})["geometry.coordinates[0]"]
    assert message == "a ring touches itself: Ring Self-intersection at or near point (2, 2)"


def test_a_spike_is_told_as_crossing_itself_at_its_tip():
    spike = [(0, 0), (4, 0), (4, 4), (2, 4), (2, 6), (2, 4), (0, 4), (0, 0)]
    message = _problems({"type": "Polygon", "coordinates": [spike]})["geometry.coordinates[0]"]
    assert message == "the boundary crosses itself: Self-intersection at or near point (2, 6)"


def test_the_point_is_written_with_fifteen_digits_as_geos_wrote_it():
    ring = [(-93.3, 44.9), (-93.1, 45.1), (-93.1, 44.9), (-93.3, 45.0), (-93.3, 44.9)]
    message = _problems({"type": "Polygon", "coordinates": [ring]})["geometry.coordinates[0]"]
    assert message.endswith("at or near point (-93.2333333333333, 44.9666666666667)")


def test_holes_crossing_each_other_are_told_so():
    holes = [_rectangle(1, 1, 2, 2), _rectangle(2, 2, 1, 1.5)]
    message = _problems({"type": "Polygon", "coordinates": [SQUARE, *holes]})[
        "geometry.coordinates"]
    assert message.startswith("a hole crosses or shares an edge with another ring: "
                              "Self-intersection at or near point (")


def test_a_hole_touching_the_outer_ring_at_two_points_cuts_the_area():
    hole = [(0, 2), (2, 1), (4, 2), (2, 3), (0, 2)]  # reaches both sides of the square
    message = _problems({"type": "Polygon", "coordinates": [SQUARE, hole]})[
        "geometry.coordinates"]
    assert message.startswith("the holes cut the area into separate pieces: Interior is "
                              "disconnected at or near point (")


def test_holes_in_a_chain_from_side_to_side_cut_the_area():
    holes = [[(0, 2), (1, 1), (2, 2), (1, 3), (0, 2)], [(2, 2), (3, 1), (4, 2), (3, 3), (2, 2)]]
    assert "separate pieces" in _problems({"type": "Polygon", "coordinates": [SQUARE, *holes]})[
        "geometry.coordinates"]


@pytest.mark.parametrize("rings", [
    [SQUARE, [(0, 2), (2, 1), (2, 3), (0, 2)]],  # a hole touching the outer ring once
    [SQUARE, [(1, 1), (2, 2), (1, 3), (1, 1)], [(2, 2), (3, 1), (3, 3), (2, 2)]],  # holes meet
    [SQUARE, [(0, 2), (1, 1), (2, 2), (1, 3), (0, 2)], [(2, 2), (3, 1), (3, 3), (2, 2)]],
])
def test_rings_touching_at_single_points_are_accepted(rings):
    assert parse_zone_geometry({"type": "Polygon", "coordinates": rings})


def test_an_island_in_a_lake_is_accepted_as_a_second_part():
    lake = _rectangle(1, 1, 2, 2)
    island = [_rectangle(1.5, 1.5, 1, 1)]
    assert parse_zone_geometry({"type": "MultiPolygon",
                                "coordinates": [[SQUARE, lake], island]})


def test_parts_touching_at_two_points_are_accepted_as_geos_accepts_them():
    notched = [(4, 0), (8, 0), (8, 4), (4, 4), (5, 2), (4, 0)]
    assert parse_zone_geometry({"type": "MultiPolygon",
                                "coordinates": [[SQUARE], [notched]]})


def test_a_part_crossing_another_is_told_where():
    crossing = [_rectangle(2, 1, 4, 2)]
    message = _problems({"type": "MultiPolygon", "coordinates": [[SQUARE], crossing]})[
        "geometry.coordinates"]
    assert message.startswith("its polygons overlap or share an edge (merge parts that "
                              "touch): Self-intersection at or near point (4, ")
