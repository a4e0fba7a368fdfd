"""Places on the map as index cells. A geohash of 7 characters is about 150 m square.

Open requests are indexed by the geohash-7 cell of their point (``by_place``). Finding the
ones within ``r`` metres of a point means reading every cell the circle can reach:
``cells_around`` gives them, and ``distance_m`` then keeps what is really within ``r``.
"""

from __future__ import annotations

import math

CELL_PRECISION = 7
EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG); haversine's error is under 0.5 %

# A geohash-7 interleaves 18 longitude bits and 17 latitude bits: the world is a regular
# grid of 2**18 columns by 2**17 rows, each 360/2**18 = 180/2**17 ≈ 0.00137° square.
_LON_BITS, _LAT_BITS = 18, 17
_COLUMNS, _ROWS = 1 << _LON_BITS, 1 << _LAT_BITS
CELL_DEGREES = 360.0 / _COLUMNS
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
# Near a pole a circle spans ever more columns (a 150 m circle touches 15 cells at 60°,
# 36 at 80°, hundreds at 89°): past this many the lookup is refused rather than
# fanned out. 100 serves the radii towns may set up to about 86° (Alert is at 82.5°).
MAX_CELLS = 100


def cell_of(lat: float, long: float, precision: int = CELL_PRECISION) -> str:
    import pygeohash  # small and pure Python; imported on the write path only

    return str(pygeohash.encode(lat, long, precision=precision))


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """The great-circle distance in metres between two points (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def cell_size_m(lat: float) -> tuple[float, float]:
    """A geohash-7 cell's width (east-west) and height in metres at latitude ``lat``."""
    side = math.radians(CELL_DEGREES) * EARTH_RADIUS_M
    return side * math.cos(math.radians(lat)), side


def cells_around(lat: float, long: float, radius_m: float) -> list[str]:
    """The geohash-7 cells that hold every point within ``radius_m`` of (lat, long): the
    point's own cell first, then those of its neighbours the circle reaches.

    The 3 x 3 block of the cell and its eight neighbours holds the circle whenever the
    radius is at most the cell's smaller side at that latitude (153 m north-south, 153 m x
    cos(latitude) east-west: 114 m at 42°, 76 m at 60°); a larger circle reaches a second
    ring (5 x 5), and so on. Rather than always reading the whole block, only the cells that
    the circle's bounding box overlaps are returned: that is exact (no point within the
    radius is missed) and cheaper, since a 50 m circle touches 1 to 4 cells, not 9. The
    box is the exact one of a spherical cap; longitudes wrap at the antimeridian and
    latitudes stop at the poles. A circle that would need more than ``MAX_CELLS`` cells
    (within a few hundred metres of a pole) raises ValueError.
    """
    if not (math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90
            and -180 <= long <= 180):
        raise ValueError("not a point on the map")
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise ValueError("the radius must be a distance in metres")
    own = cell_of(lat, long)
    if radius_m == 0:
        return [own]
    angle = radius_m / EARTH_RADIUS_M  # radians of arc
    dlat = math.degrees(angle)
    if abs(lat) + dlat >= 90 or angle >= math.pi / 2:
        dlon = 180.0  # the circle holds a pole: every longitude
    else:
        dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
    # A hair of slack so that a point on a cell's edge, which the encoder may put on
    # either side, is covered whichever side it lands on.
    slack = CELL_DEGREES * 1e-6
    row_lo = _row(max(-90.0, lat - dlat - slack))
    row_hi = _row(min(90.0, lat + dlat + slack))
    if dlon >= 180:
        columns = list(range(_COLUMNS))
    else:
        col_lo = math.floor((long - dlon - slack + 180.0) / CELL_DEGREES)
        col_hi = math.floor((long + dlon + slack + 180.0) / CELL_DEGREES)
        columns = sorted({c % _COLUMNS for c in range(col_lo, col_hi + 1)})
    if (row_hi - row_lo + 1) * len(columns) > MAX_CELLS:
        raise ValueError("too close to a pole to search around")
    cells = [own]
    for row in range(row_lo, row_hi + 1):
        for column in columns:
            cell = _cell(row, column)
            if cell != own:
                cells.append(cell)
    return cells


def _row(lat: float) -> int:
    return min(_ROWS - 1, max(0, math.floor((lat + 90.0) / CELL_DEGREES)))


def _cell(row: int, column: int) -> str:
    """The geohash-7 of grid cell (row, column): bits interleaved, longitude first."""
    bits = 0
    for k in range(_LON_BITS - 1, -1, -1):
        bits = (bits << 1) | ((column >> k) & 1)
        if k > 0:
            bits = (bits << 1) | ((row >> (k - 1)) & 1)
    return "".join(_BASE32[(bits >> shift) & 31] for shift in range(30, -1, -5))
