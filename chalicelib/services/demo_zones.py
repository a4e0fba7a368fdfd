"""Maple Falls' zones for ``make run``: four neighbourhoods around ``DEMO_CENTRE``, so that
signing up for alerts by zone, and routing by zone, have something to choose.

Main St (east-west) and 3rd Ave (north-south) cross at the centre and split the town's
grid (``demo_gazetteer``) into quarters; each zone reaches a block past the grid's edge,
so every house and landmark of the gazetteer is in one of them (a point on the dividing
streets is in both, as ``zones_containing`` says of a boundary).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from chalicelib.domain.zones import Zone, parse_zone_geometry
from chalicelib.services.demo_gazetteer import BLOCK_M, DEMO_CENTRE

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town
    from chalicelib.services.ports import TownDirectory

_METRES_PER_DEGREE = 111_195.0

# (code, name, corners in blocks east and north of the centre, walked around the edge).
# The corners are not all square: the North End takes the school's block past 2nd Ave,
# as a ward drawn around a neighbourhood would.
NEIGHBOURHOODS = (
    ("north-end", "North End", ((-3.5, 0), (-3.5, 4), (0, 4), (0, 1.5), (0.5, 1.5),
                                (0.5, 0))),
    ("hilltop", "Hilltop", ((0.5, 0), (0.5, 1.5), (0, 1.5), (0, 4), (3.5, 4), (3.5, 0))),
    ("old-town", "Old Town", ((-3.5, -4.5), (-3.5, 0), (0, 0), (0, -4.5))),
    ("riverside", "Riverside", ((0, -4.5), (0, 0), (3.5, 0), (3.5, -4.5))),
)


def _position(east_blocks: float, north_blocks: float) -> list[float]:
    """[longitude, latitude] so many blocks east and north of the centre (GeoJSON order)."""
    lat0, long0 = DEMO_CENTRE
    lat = lat0 + north_blocks * BLOCK_M / _METRES_PER_DEGREE
    long = long0 + east_blocks * BLOCK_M / (_METRES_PER_DEGREE * math.cos(math.radians(lat0)))
    return [round(long, 6), round(lat, 6)]


def demo_zones() -> list[Zone]:
    """The four neighbourhoods, each checked as an admin's upload would be."""
    zones = []
    for code, name, corners in NEIGHBOURHOODS:
        ring = [_position(*corner) for corner in corners]
        geometry = parse_zone_geometry({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
        zones.append(Zone(code=code, name=name, kind="neighbourhood", geometry=geometry))
    return zones


def seed_demo_zones(towns: TownDirectory, town: Town) -> None:
    """Save the zones into the demo town's catalogue (its changeset stays the one it was
    created with: nobody has read the catalogue yet)."""
    for zone in demo_zones():
        towns.save_zone(town.town_id, zone, town.changeset)
