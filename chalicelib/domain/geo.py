"""Places on the map as index cells. A geohash of 7 characters is about 150 m square."""

from __future__ import annotations

CELL_PRECISION = 7


def cell_of(lat: float, long: float, precision: int = CELL_PRECISION) -> str:
    import pygeohash  # small and pure Python; imported on the write path only

    return str(pygeohash.encode(lat, long, precision=precision))
