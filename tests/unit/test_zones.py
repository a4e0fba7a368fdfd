"""Zones: what a town admin may upload as a ward, and which zones hold a reported point."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.zones import (
    MAX_PROBLEMS,
    MAX_ZONE_VERTICES,
    Zone,
    parse_zone_geometry,
    zone_code_problems,
    zones_containing,
)

ROOT = Path(__file__).resolve().parents[2]

# Roughly downtown Minneapolis, around 44.97 N, 93.26 W: [longitude, latitude] as GeoJSON.
WARD_3_RING = [[-93.280, 44.965], [-93.250, 44.965], [-93.245, 44.980],
               [-93.265, 44.990], [-93.285, 44.978], [-93.280, 44.965]]
WARD_3 = {"type": "Polygon", "coordinates": [WARD_3_RING]}
# A park district with a lake in the middle that is not part of it.
PARK_WITH_LAKE = {"type": "Polygon", "coordinates": [
    [[-93.31, 44.94], [-93.29, 44.94], [-93.29, 44.96], [-93.31, 44.96], [-93.31, 44.94]],
    [[-93.305, 44.945], [-93.305, 44.955], [-93.295, 44.955], [-93.295, 44.945],
     [-93.305, 44.945]],
]}
# A service area on both banks of the river.
RIVERBANKS = {"type": "MultiPolygon", "coordinates": [
    [[[-93.27, 44.98], [-93.26, 44.98], [-93.26, 44.99], [-93.27, 44.99], [-93.27, 44.98]]],
    [[[-93.24, 44.98], [-93.23, 44.98], [-93.23, 44.99], [-93.24, 44.99], [-93.24, 44.98]]],
]}
SQUARE = [[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]]


def _zone(geometry: dict, code: str = "ward-3") -> Zone:
    return Zone(code, code.title(), "ward", parse_zone_geometry(geometry))


def _problems(document, field: str = "geometry") -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        parse_zone_geometry(document, field)
    return {p.field: p.message for p in refused.value.problems}


def _polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def _circle(vertices: int) -> list[list[float]]:
    ring = [[-93.26 + 0.02 * math.cos(2 * math.pi * i / vertices),
             44.97 + 0.02 * math.sin(2 * math.pi * i / vertices)] for i in range(vertices - 1)]
    return [*ring, ring[0]]


# What is accepted, and how it comes back.

def test_a_ward_polygon_comes_back_as_floats():
    parsed = parse_zone_geometry({"type": "Polygon", "coordinates": [
        [[-93, 44], [-92, 44], [-92, 45], [-93, 44]]]})
    assert parsed == {"type": "Polygon",
                      "coordinates": [[[-93.0, 44.0], [-92.0, 44.0], [-92.0, 45.0],
                                       [-93.0, 44.0]]]}
    assert all(isinstance(n, float) for position in parsed["coordinates"][0] for n in position)


def test_a_realistic_ward_is_accepted_unchanged():
    assert parse_zone_geometry(WARD_3) == WARD_3


def test_a_polygon_with_a_hole_is_accepted():
    assert parse_zone_geometry(PARK_WITH_LAKE) == PARK_WITH_LAKE


def test_a_multipolygon_is_accepted():
    assert parse_zone_geometry(RIVERBANKS) == RIVERBANKS


def test_a_feature_is_unwrapped_and_its_properties_dropped():
    feature = {"type": "Feature", "properties": {"name": "Ward 3"}, "geometry": WARD_3}
    assert parse_zone_geometry(feature) == WARD_3


def test_a_feature_collection_of_one_feature_is_unwrapped():
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": RIVERBANKS}]}
    assert parse_zone_geometry(collection) == RIVERBANKS


def test_altitude_and_extra_members_are_dropped():
    ring = [[*position, 250.0] for position in WARD_3_RING]
    uploaded = {"type": "Polygon", "coordinates": [ring], "bbox": [0, 0, 1, 1], "crs": {}}
    assert parse_zone_geometry(uploaded) == WARD_3


def test_the_vertex_limit_itself_is_allowed():
    ring = _circle(MAX_ZONE_VERTICES)
    assert len(parse_zone_geometry(_polygon(ring))["coordinates"][0]) == MAX_ZONE_VERTICES


# What is refused, and what the admin is told.

def test_a_ring_that_does_not_close_is_refused_not_closed_for_them():
    problems = _problems(_polygon(WARD_3_RING[:-1]))
    assert "does not close" in problems["geometry.coordinates[0]"]


def test_a_bow_tie_ring_is_refused_naming_the_crossing():
    problems = _problems(_polygon([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]))
    message = problems["geometry.coordinates[0]"]
    assert "crosses itself" in message
    assert "Self-intersection at or near point (0.5, 0.5)" in message


def test_a_ring_of_three_positions_is_refused():
    problems = _problems(_polygon([[0, 0], [1, 1], [0, 0]]))
    assert "at least 4" in problems["geometry.coordinates[0]"]


def test_a_latitude_of_91_is_refused():
    ring = [[0, 0], [1, 91], [1, 0], [0, 0]]
    assert "latitude 91 is outside -90..90" in _problems(_polygon(ring))[
        "geometry.coordinates[0][1][1]"]


def test_swapped_latitude_and_longitude_are_pointed_out():
    ring = [[lat, long] for long, lat in WARD_3_RING]
    assert "swapped" in _problems(_polygon(ring))["geometry.coordinates[0][0][1]"]


@pytest.mark.parametrize("value", ["-93.26", True, None, [1]])
def test_a_coordinate_that_is_not_a_number_is_refused(value):
    ring = [[0, 0], [1, 1], [value, 0], [0, 0]]
    assert "longitude must be a number" in _problems(_polygon(ring))[
        "geometry.coordinates[0][2][0]"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400])
def test_a_coordinate_that_is_not_finite_is_refused(value):
    ring = [[0, 0], [1, value], [1, 0], [0, 0]]
    assert "finite" in _problems(_polygon(ring))["geometry.coordinates[0][1][1]"]


@pytest.mark.parametrize("position", [[1], [1, 2, 3, 4], "1,2", {"long": 1, "lat": 2}])
def test_a_position_must_be_a_pair_or_triple(position):
    ring = [[0, 0], position, [1, 0], [0, 0]]
    assert "[longitude, latitude]" in _problems(_polygon(ring))["geometry.coordinates[0][1]"]


@pytest.mark.parametrize("coordinates", [None, [], [[]], "[[0,0]]", [[[[0, 0]]]]])
def test_missing_or_wrongly_nested_coordinates_are_refused(coordinates):
    assert _problems({"type": "Polygon", "coordinates": coordinates})


def test_a_line_is_not_a_zone():
    problems = _problems({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    assert "must be Polygon or MultiPolygon (got LineString)" in problems["geometry.type"]


@pytest.mark.parametrize("document", [None, "POLYGON((0 0, 1 1, 1 0, 0 0))", [SQUARE]])
def test_something_that_is_not_an_object_is_refused(document):
    assert "GeoJSON object" in _problems(document)["geometry"]


def test_an_unknown_type_is_refused():
    assert "got 'Circle'" in _problems({"type": "Circle", "radius": 5})["geometry.type"]


def test_a_feature_collection_of_two_features_is_refused():
    feature = {"type": "Feature", "properties": {}, "geometry": WARD_3}
    problems = _problems({"type": "FeatureCollection", "features": [feature, feature]})
    assert "exactly one Feature" in problems["geometry.features"]
    assert "got 2" in problems["geometry.features"]


def test_a_feature_without_geometry_is_refused():
    problems = _problems({"type": "Feature", "properties": {}, "geometry": None})
    assert "Polygon or MultiPolygon" in problems["geometry.geometry"]


def test_a_feature_of_a_point_is_refused_at_its_geometry():
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}
    problems = _problems({"type": "FeatureCollection", "features": [point]})
    assert "a zone is an area" in problems["geometry.features[0].geometry.type"]


def test_a_hole_outside_its_shell_is_refused():
    hole = [[5, 5], [5, 6], [6, 6], [6, 5], [5, 5]]
    assert "not inside the outer ring" in _problems(_polygon(SQUARE, hole))[
        "geometry.coordinates[1]"]


def test_holes_that_cut_the_area_in_two_are_refused():
    diamond = [[0, 2], [2, 4], [4, 2], [2, 0], [0, 2]]
    assert "separate pieces" in _problems(_polygon(SQUARE, diamond))["geometry.coordinates"]


def test_a_ring_with_no_area_is_refused():
    problems = _problems(_polygon([[0, 0], [1, 1], [2, 2], [0, 0]]))
    assert "encloses no area" in problems["geometry.coordinates[0]"]


def test_overlapping_parts_of_a_multipolygon_are_refused():
    overlapping = [[[3, 3], [3, 5], [5, 5], [5, 3], [3, 3]]]
    problems = _problems({"type": "MultiPolygon", "coordinates": [[SQUARE], overlapping]})
    assert "overlap" in problems["geometry.coordinates"]


def test_parts_of_a_multipolygon_that_share_an_edge_are_refused():
    neighbour = [[[4, 0], [4, 4], [8, 4], [8, 0], [4, 0]]]
    problems = _problems({"type": "MultiPolygon", "coordinates": [[SQUARE], neighbour]})
    assert "share an edge" in problems["geometry.coordinates"]


def test_parts_of_a_multipolygon_may_touch_at_a_corner():
    diagonal = [[[4, 4], [4, 8], [8, 8], [8, 4], [4, 4]]]
    assert parse_zone_geometry({"type": "MultiPolygon", "coordinates": [[SQUARE], diagonal]})


def test_a_part_inside_another_part_is_refused():
    inner = [[[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]]]
    problems = _problems({"type": "MultiPolygon", "coordinates": [[SQUARE], inner]})
    assert "lies inside another" in problems["geometry.coordinates"]


@pytest.mark.parametrize(("holes", "said"), [
    ([[[0, 1], [0, 3], [2, 3], [2, 1], [0, 1]]], "shares an edge"),
    ([[[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]], [[1.5, 1.5], [1.5, 2], [2, 2], [1.5, 1.5]]],
     "inside another hole"),
])
def test_holes_that_clash_with_other_rings_are_refused(holes, said):
    assert said in _problems(_polygon(SQUARE, *holes))["geometry.coordinates"]


def test_more_than_the_vertex_limit_is_refused_cheaply():
    ring = _circle(MAX_ZONE_VERTICES + 1)
    problems = _problems(_polygon(ring))
    assert "20,001 positions" in problems["geometry.coordinates"]
    assert "at most 20,000" in problems["geometry.coordinates"]


def test_the_vertex_limit_counts_every_part_of_a_multipolygon():
    part = [_circle(MAX_ZONE_VERTICES // 2 + 1)]
    problems = _problems({"type": "MultiPolygon", "coordinates": [part, part]})
    assert "20,002 positions" in problems["geometry.coordinates"]


def test_every_problem_is_reported_at_once():
    shell = [[0, 0], [0, 91], ["4", 4], [4, math.nan], [0, 0]]
    open_hole = [[1, 1], [1, 2], [2, 2], [2, 1]]
    bow_tie = [[[10, 10], [11, 11], [11, 10], [10, 11], [10, 10]]]
    triangle = [[[20, 20], [21, 20], [20, 20]]]
    problems = _problems({"type": "MultiPolygon",
                          "coordinates": [[shell, open_hole], bow_tie, triangle]})
    assert set(problems) == {
        "geometry.coordinates[0][0][1][1]",
        "geometry.coordinates[0][0][2][0]",
        "geometry.coordinates[0][0][3][1]",
        "geometry.coordinates[0][1]",
        "geometry.coordinates[1][0]",
        "geometry.coordinates[2][0]",
    }


def test_problems_are_named_under_the_field_given():
    problems = _problems({"type": "Feature", "geometry": _polygon(WARD_3_RING[:-1])},
                         field="zones[2]")
    assert set(problems) == {"zones[2].geometry.coordinates[0]"}


def test_an_upload_wrong_everywhere_gets_a_bounded_answer():
    ring = [[0, 0], *([["x", "y"]] * 1000), [0, 0]]
    with pytest.raises(InvalidInput) as refused:
        parse_zone_geometry(_polygon(ring))
    problems = refused.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].field == "geometry"
    assert "1975 more problems" in problems[-1].message


def test_a_large_bad_value_is_not_echoed_whole():
    problems = _problems({"type": "x" * 10_000})
    assert len(problems["geometry.type"]) < 200


# Zone codes.

@pytest.mark.parametrize("code", ["ward-3", "w", "3", "district_12", "a" * 40])
def test_zone_codes_that_fit_urls_are_accepted(code):
    assert zone_code_problems(code) == []


@pytest.mark.parametrize("code", ["", "Ward3", "-ward", "_ward", "ward 3", "a" * 41,
                                  "ward-3\n", "wärd", None])
def test_zone_codes_that_do_not_fit_are_refused(code):
    [problem] = zone_code_problems(code)
    assert problem.field == "code"
    assert "lower-case" in problem.message


# Which zones hold a point.

def test_a_point_inside_a_ward_is_in_it():
    ward = _zone(WARD_3)
    assert zones_containing([ward], lat=44.975, long=-93.265) == [ward]


def test_a_point_outside_a_ward_is_not_in_it():
    assert zones_containing([_zone(WARD_3)], lat=44.95, long=-93.26) == []


def test_a_point_inside_the_bounding_box_but_outside_the_ward_is_not_in_it():
    # The ward's south-east corner is cut off: (44.966, -93.246) is inside its bbox only.
    assert zones_containing([_zone(WARD_3)], lat=44.966, long=-93.246) == []


@pytest.mark.parametrize(("lat", "long"), [(44.965, -93.265), (44.965, -93.280)])
def test_a_point_on_the_boundary_is_in_the_ward(lat, long):
    ward = _zone(WARD_3)
    assert zones_containing([ward], lat=lat, long=long) == [ward]


def test_a_point_in_the_hole_is_not_in_the_zone():
    park = _zone(PARK_WITH_LAKE, "park")
    assert zones_containing([park], lat=44.95, long=-93.30) == []
    assert zones_containing([park], lat=44.942, long=-93.30) == [park]
    assert zones_containing([park], lat=44.945, long=-93.30) == [park]  # the lake shore


def test_a_point_in_one_part_of_a_multipolygon_is_in_the_zone():
    banks = _zone(RIVERBANKS, "riverbanks")
    assert zones_containing([banks], lat=44.985, long=-93.235) == [banks]
    assert zones_containing([banks], lat=44.985, long=-93.25) == []  # the river


def test_overlapping_zones_are_all_found_in_the_order_given():
    ward, banks, park = _zone(WARD_3), _zone(RIVERBANKS, "banks"), _zone(PARK_WITH_LAKE, "p")
    assert zones_containing([banks, park, ward], lat=44.985, long=-93.265) == [banks, ward]


def test_finding_a_zone_for_a_submission_never_imports_shapely():
    # Residents' submissions look their zone up; only admins' zone edits may load shapely.
    script = ("import sys; from chalicelib.domain.zones import Zone, zones_containing; "
              f"z = Zone('w', 'W', 'ward', {WARD_3!r}); "
              "zones_containing([z], 44.975, -93.265); "
              "print(sorted({'shapely', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_bounding_box_is_long_lat_ordered():
    assert _zone(WARD_3).bbox == (-93.285, 44.965, -93.245, 44.990)
    assert _zone(RIVERBANKS).bbox == (-93.27, 44.98, -93.23, 44.99)


def test_a_zone_needs_a_parsed_polygon():
    with pytest.raises(ValueError):
        Zone("x", "X", "ward", {"type": "Point", "coordinates": [0, 0]})


def test_importing_zones_does_not_import_shapely():
    # The API's cold start must not pay for shapely and numpy unless zones are used.
    script = ("import sys, chalicelib.domain.zones; "
              "print(sorted({'shapely', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


# Any rectangle holds its own centre, and nothing outside its bounding box.

longitudes = st.floats(-180, 180, allow_nan=False)
latitudes = st.floats(-90, 90, allow_nan=False)


@given(longitudes, latitudes, longitudes, latitudes, longitudes, latitudes)
def test_a_rectangle_holds_its_centre_and_nothing_outside_it(x1, y1, x2, y2, px, py):
    assume(abs(x1 - x2) > 1e-6 and abs(y1 - y2) > 1e-6)
    west, east, south, north = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    rectangle = Zone("r", "R", "district", parse_zone_geometry(_polygon(ring)))
    assert rectangle.bbox == (west, south, east, north)
    centre = ((south + north) / 2, (west + east) / 2)
    assert zones_containing([rectangle], *centre) == [rectangle]
    assume(not (west <= px <= east and south <= py <= north))
    assert zones_containing([rectangle], lat=py, long=px) == []


@settings(max_examples=300, deadline=None, derandomize=True)
@given(lat=st.floats(44.96, 45.0), long=st.floats(-93.29, -93.22))
def test_plain_python_covers_agrees_with_shapely(lat, long):
    import shapely
    from shapely.geometry import shape

    for geometry in (WARD_3, PARK_WITH_LAKE):
        zone = _zone(geometry)
        expected = bool(shapely.covers(shape(zone.geometry), shapely.Point(long, lat)))
        assert zone.covers(lat, long) == expected
