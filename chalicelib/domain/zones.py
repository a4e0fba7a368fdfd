"""A town's zones: wards, districts and service areas drawn as GeoJSON polygons.

A town admin uploads each zone once; requests are later routed by the zones that hold
their location (streetlights in Ward 3 go to the utility contractor) and emergency alerts
are aimed at them. ``parse_zone_geometry`` is the single place that decides whether an
upload is a usable area, and ``zones_containing`` answers "which zones is this point in?".

The geometry itself (is a ring closed on itself, is a hole inside its shell, do parts
overlap) is ``polygons``: plain Python giving GEOS's verdicts, so the API package carries
no shapely or numpy (issue 14). This module says those verdicts in a town admin's words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from chalicelib.domain import polygons

# A city boundary traced from survey data has a few thousand vertices; 20,000 leaves room
# and bounds the work (and the item size) one upload can cause.
MAX_ZONE_VERTICES = 20_000
# An upload that is wrong everywhere would otherwise answer with 20,000 problems.
MAX_PROBLEMS = 25

ZONE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
POLYGON_TYPES = ("Polygon", "MultiPolygon")
_OTHER_GEOJSON_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString",
                        "GeometryCollection")

# [longitude, latitude], as GeoJSON (RFC 7946) orders them; altitude is dropped.
Position = list[float]
Ring = list[Position]
PolygonRings = list[Ring]
# A GeoJSON geometry as parsed JSON (Polygon or MultiPolygon once checked).
Geometry = dict[str, Any]

# GEOS's reasons (as ``polygons`` names them, after shapely's explain_validity), said to a
# town admin.
_GEOS_REASONS = {
    "Self-intersection": "the boundary crosses itself",
    "Ring Self-intersection": "a ring touches itself",
    "Hole lies outside shell": "a hole lies outside the outer ring",
    "Holes are nested": "a hole lies inside another hole",
    "Interior is disconnected": "the holes cut the area into separate pieces",
    "Nested shells": "one polygon lies inside another",
    "Duplicate Rings": "two rings are the same",
    "Too few points": "a ring has too few distinct positions",
}
# The same reasons when each ring, or each part, has already been found sound on its own.
_BETWEEN_RINGS = {"Self-intersection": "a hole crosses or shares an edge with another ring"}
_BETWEEN_PARTS = {
    "Self-intersection": "its polygons overlap or share an edge (merge parts that touch)",
    "Nested shells": "one of its polygons lies inside another",
}


@dataclass(frozen=True)
class Zone:
    """A named area of a town, as its admin drew it.

    ``geometry`` is what ``parse_zone_geometry`` returned: a GeoJSON Polygon or
    MultiPolygon with [longitude, latitude] float positions. The bounding box and the
    bounding box is worked out on first use and kept with the zone.
    """

    code: str
    name: str
    # The town's word for it: "ward", "district", "service-area", ...
    kind: str
    geometry: Geometry

    def __post_init__(self) -> None:
        if self.geometry.get("type") not in POLYGON_TYPES:
            raise ValueError(f"zone {self.code} needs a parsed Polygon or MultiPolygon")

    @cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_long, min_lat, max_long, max_lat): a cheap first test before ray casting."""
        longs: list[float] = []
        lats: list[float] = []
        for polygon in _polygons(self.geometry):
            # Holes lie inside the outer ring, so the outer ring bounds the polygon.
            longs.extend(p[0] for p in polygon[0])
            lats.extend(p[1] for p in polygon[0])
        return min(longs), min(lats), max(longs), max(lats)

    def covers(self, lat: float, long: float) -> bool:
        """Whether the point lies inside the zone or on its boundary (not in a hole).

        Plain ray casting: this runs on residents' submissions, and a polygon that
        ``parse_zone_geometry`` found valid needs nothing more."""
        min_long, min_lat, max_long, max_lat = self.bbox
        if not (min_long <= long <= max_long and min_lat <= lat <= max_lat):
            return False
        for polygon in _polygons(self.geometry):
            shell, holes = polygon[0], polygon[1:]
            if _on_boundary(shell, long, lat) or any(_on_boundary(h, long, lat) for h in holes):
                return True
            if _inside(shell, long, lat) and not any(_inside(h, long, lat) for h in holes):
                return True
        return False


def _inside(ring: list[list[float]], x: float, y: float) -> bool:
    """Even-odd ray casting: a ray from the point crosses the ring an odd number of times."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _on_boundary(ring: list[list[float]], x: float, y: float, tolerance: float = 1e-12) -> bool:
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
        if abs(cross) <= tolerance and min(x1, x2) <= x <= max(x1, x2) \
                and min(y1, y2) <= y <= max(y1, y2):
            return True
    return False


def zones_containing(zones: Sequence[Zone], lat: float, long: float) -> list[Zone]:
    """The zones that hold the point, boundary included, in the order given.

    A point on the line between two wards is in both; routing rules decide which wins.
    """
    return [zone for zone in zones if zone.covers(lat, long)]


def zone_code_problems(code: str) -> list[Problem]:
    """What is wrong with a zone code; codes appear in URLs and routing rules."""
    if isinstance(code, str) and ZONE_CODE.fullmatch(code):
        return []
    return [Problem("code", "must be 1 to 40 lower-case letters, digits, '-' or '_', "
                            f"starting with a letter or digit (got {_show(code)})")]


def parse_zone_geometry(document: object, field: str = "geometry") -> Geometry:
    """Check an uploaded zone boundary and return it as a plain GeoJSON geometry.

    Accepts a Polygon or MultiPolygon, or a Feature (or a FeatureCollection of exactly
    one Feature) wrapping one; the wrapper and its properties are dropped. Positions come
    back as [longitude, latitude] floats. Nothing is repaired: a ring that does not
    close, crosses itself or has a hole outside it is refused, because a silently
    "fixed" ward would route requests somewhere the admin never drew. Every problem found
    is reported at once, each with the path of the offending member.
    """
    problems = _Problems(field)
    geometry, path = _unwrap(document, field, problems)
    if geometry is None:
        raise InvalidInput.of(problems.listed())
    kind = geometry["type"]
    coordinates = geometry.get("coordinates")
    where = f"{path}.coordinates"
    vertices = _count_positions(coordinates, depth=2 if kind == "Polygon" else 3)
    if vertices > MAX_ZONE_VERTICES:
        # Checked before anything else so an oversized upload costs little to refuse.
        problems.add(where, f"has {vertices:,} positions; a zone may have at most "
                            f"{MAX_ZONE_VERTICES:,} (simplify the boundary before uploading)")
        raise InvalidInput.of(problems.listed())

    if kind == "Polygon":
        polygon = _polygon(coordinates, where, problems)
        if polygon is not None and _shape_problems(polygon, where, problems):
            return {"type": "Polygon", "coordinates": polygon}
    else:
        parts = _multipolygon(coordinates, where, problems)
        if parts is not None and _parts_problems(parts, where, problems):
            return {"type": "MultiPolygon", "coordinates": parts}
    raise InvalidInput.of(problems.listed())


class _Problems:
    """The problems found so far, keeping the first MAX_PROBLEMS and counting the rest."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.problems: list[Problem] = []
        self.unlisted = 0

    def add(self, field: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(field, message))
        else:
            self.unlisted += 1

    def __len__(self) -> int:
        return len(self.problems) + self.unlisted

    def listed(self) -> list[Problem]:
        if not self.unlisted:
            return list(self.problems)
        more = Problem(self.field, f"has {self.unlisted} more problems not listed here")
        return [*self.problems, more]


def _unwrap(document: object, field: str, problems: _Problems) -> tuple[Geometry | None, str]:
    """The Polygon or MultiPolygon inside the upload, and the path it was found at."""
    if not isinstance(document, dict):
        problems.add(field, "must be a GeoJSON object: a Polygon, a MultiPolygon, or a "
                            f"Feature holding one (got {_show(document)})")
        return None, field
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list) or len(features) != 1:
            count = f"{len(features)}" if isinstance(features, list) else _show(features)
            problems.add(f"{field}.features", "must hold exactly one Feature; upload each "
                                              f"zone on its own (got {count})")
            return None, field
        feature, path = features[0], f"{field}.features[0]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(path, f"must be a GeoJSON Feature (got {_show(feature)})")
            return None, path
        return _geometry(feature.get("geometry"), f"{path}.geometry", problems)
    if kind == "Feature":
        return _geometry(document.get("geometry"), f"{field}.geometry", problems)
    return _geometry(document, field, problems)


def _geometry(value: object, path: str, problems: _Problems) -> tuple[Geometry | None, str]:
    if not isinstance(value, dict):
        problems.add(path, f"must be a Polygon or MultiPolygon (got {_show(value)})")
        return None, path
    kind = value.get("type")
    if kind in POLYGON_TYPES:
        return value, path
    if kind in _OTHER_GEOJSON_TYPES:
        problems.add(f"{path}.type", f"must be Polygon or MultiPolygon (got {kind}); "
                                     "a zone is an area")
    else:
        problems.add(f"{path}.type", "must be Polygon, MultiPolygon, Feature or "
                                     f"FeatureCollection (got {_show(kind)})")
    return None, path


def _count_positions(value: object, depth: int) -> int:
    """How many positions sit ``depth`` lists down, without looking at them."""
    if not isinstance(value, list | tuple):
        return 0
    if depth == 1:
        return len(value)
    return sum(_count_positions(item, depth - 1) for item in value)


def _multipolygon(value: object, path: str, problems: _Problems) -> list[PolygonRings] | None:
    if not isinstance(value, list | tuple) or not value:
        problems.add(path, "must be a list of polygons, each a list of rings "
                           f"(got {_show(value)})")
        return None
    parts: list[PolygonRings] = []
    whole = True
    for i, rings in enumerate(value):
        polygon = _polygon(rings, f"{path}[{i}]", problems)
        # Each part that parsed is checked on its own, so its problems are heard too.
        if polygon is not None and _shape_problems(polygon, f"{path}[{i}]", problems):
            parts.append(polygon)
        else:
            whole = False
    return parts if whole else None


def _polygon(value: object, path: str, problems: _Problems) -> PolygonRings | None:
    if not isinstance(value, list | tuple) or not value:
        problems.add(path, "must be a list of rings: the outer boundary first, then any "
                           f"holes (got {_show(value)})")
        return None
    rings = [_ring(ring, f"{path}[{i}]", problems) for i, ring in enumerate(value)]
    whole = [ring for ring in rings if ring is not None]
    return whole if len(whole) == len(rings) else None


def _ring(value: object, path: str, problems: _Problems) -> Ring | None:
    if not isinstance(value, list | tuple):
        problems.add(path, "must be a list of [longitude, latitude] positions "
                           f"(got {_show(value)})")
        return None
    before = len(problems)
    positions = [_position(p, f"{path}[{j}]", problems) for j, p in enumerate(value)]
    if len(positions) < 4:
        problems.add(path, f"has {len(positions)} positions; a ring needs at least 4, "
                           "the last repeating the first")
    whole = [p for p in positions if p is not None]
    if len(problems) > before or len(whole) != len(positions):
        return None
    if whole[0] != whole[-1]:
        # Not closed for them: a missing last position is as likely a truncated upload.
        problems.add(path, f"does not close: its last position {positions[-1]} must "
                           f"repeat the first {positions[0]}")
        return None
    return whole


def _position(value: object, path: str, problems: _Problems) -> Position | None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        problems.add(path, "must be a [longitude, latitude] pair of numbers "
                           f"(got {_show(value)})")
        return None
    numbers = []
    for axis, (name, number) in enumerate(zip(("longitude", "latitude", "altitude"), value,
                                              strict=False)):
        if isinstance(number, bool) or not isinstance(number, int | float):
            problems.add(f"{path}[{axis}]", f"{name} must be a number (got {_show(number)})")
        elif not _finite(number):
            problems.add(f"{path}[{axis}]", f"{name} must be a finite number "
                                            f"(got {_show(number)})")
        else:
            numbers.append(float(number))
    if len(numbers) != len(value):
        return None
    long, lat = numbers[0], numbers[1]
    ok = True
    if not -180 <= long <= 180:
        problems.add(f"{path}[0]", f"longitude {long:g} is outside -180..180")
        ok = False
    if not -90 <= lat <= 90:
        swapped = " (positions are [longitude, latitude]; are these swapped?)" \
            if -90 <= long <= 90 and -180 <= lat <= 180 else ""
        problems.add(f"{path}[1]", f"latitude {lat:g} is outside -90..90{swapped}")
        ok = False
    return [long, lat] if ok else None


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float
        return False


def _shape_problems(rings: PolygonRings, path: str, problems: _Problems) -> bool:
    """Check one polygon's shape; True when it encloses a proper area."""
    # Loaded here: only an upload is checked, and every resident's call reads zones.
    from chalicelib.domain import polygons

    shell, holes = rings[0], rings[1:]
    ok = True
    for i, ring in enumerate(rings):
        said = "the outer ring" if i == 0 else "this hole"
        # A bow tie's two lobes cancel to no area too; only a flat hull means a line.
        if polygons.encloses_no_area(ring):
            problems.add(f"{path}[{i}]", f"encloses no area: {said}'s positions lie on a line")
            ok = False
        elif (flaw := polygons.polygon_flaw([ring])) is not None:
            problems.add(f"{path}[{i}]", _flaw_message(flaw))
            ok = False
    if not ok:
        return False
    for i, hole in enumerate(holes, start=1):
        if not polygons.ring_covers(shell, hole):
            problems.add(f"{path}[{i}]", f"is a hole that is not inside the outer ring "
                                         f"({path}[0])")
            ok = False
    if not ok:
        return False
    flaw = polygons.polygon_flaw(rings, rings_sound=True)
    if flaw is not None:
        # Each ring is sound alone, so this is between rings: holes that overlap, nest,
        # share an edge with the outer ring, or together cut the area in two.
        problems.add(path, _flaw_message(flaw, _BETWEEN_RINGS))
        return False
    if polygons.area(rings) <= 0:
        problems.add(path, "encloses no area")
        return False
    return True


def _parts_problems(parts: list[PolygonRings], path: str, problems: _Problems) -> bool:
    """Each part was checked alone; a MultiPolygon's parts must also not overlap."""
    from chalicelib.domain import polygons

    flaw = polygons.multipolygon_flaw(parts, parts_sound=True)
    if flaw is None:
        return True
    problems.add(path, _flaw_message(flaw, _BETWEEN_PARTS))
    return False


def _flaw_message(flaw: polygons.Flaw, reasons: dict[str, str] | None = None) -> str:
    """GEOS's reason, "Self-intersection" at (0.5, 0.5), as a sentence naming the point."""
    said = {**_GEOS_REASONS, **(reasons or {})}.get(flaw.reason, "is not a valid polygon")
    # Fifteen significant digits, as GEOS (and so the zone checks before) wrote them.
    long, lat = (f"{n:.15g}" for n in flaw.point)
    return f"{said}: {flaw.reason} at or near point ({long}, {lat})"


def _polygons(geometry: Geometry) -> list[PolygonRings]:
    coordinates = geometry["coordinates"]
    return [coordinates] if geometry["type"] == "Polygon" else coordinates


def _show(value: object) -> str:
    """A short echo of what was sent, never the whole of a large upload."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
