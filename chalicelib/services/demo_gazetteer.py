"""Maple Falls' gazetteer for ``make run``: a small grid town around ``DEMO_CENTRE``.

Seven streets run east-west (Oak St, Maple St, Elm St, Main St, Pine St, Cedar St, Birch
St, north to south) and five avenues north-south (1st Ave to 5th Ave, west to east), a
block about 150 m long. Houses stand along every block, odd numbers on one side and even on
the other, numbered by hundreds from the grid's west or north edge, with some lots left
empty; every crossing is an intersection ("Oak St & 3rd Ave"); fifteen landmarks sit on
the blocks a town would put them on. The same seed gives the same town every time.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.gazetteer import (
    ADDRESS,
    INTERSECTION,
    LANDMARK,
    GazetteerEntry,
    GazetteerIndex,
    GazetteerSummary,
)

if TYPE_CHECKING:
    from chalicelib.services.gazetteer import GazetteerStore

# The middle of Maple Falls (Main St & 3rd Ave): where its map opens.
DEMO_CENTRE = (44.9778, -93.2650)
STREETS = ("Oak St", "Maple St", "Elm St", "Main St", "Pine St", "Cedar St", "Birch St")
AVENUES = ("1st Ave", "2nd Ave", "3rd Ave", "4th Ave", "5th Ave")
BLOCK_M = 150.0
LOTS_PER_SIDE = 8
SETBACK_M = 18.0  # from the street's middle to a house's front door
SEED = 1311
_METRES_PER_DEGREE = 111_195.0

# (label, street it fronts, position on the grid in blocks east and south of the grid's
# north-west corner (1st Ave & Oak St)).
LANDMARKS = (
    ("Town Hall", "Main St", 2.5, 3.2),
    ("Maple Falls Public Library", "Main St", 1.5, 3.2),
    ("Maple Falls Elementary School", "Maple St", 0.5, 1.3),
    ("Maple Falls High School", "Cedar St", 3.5, 5.3),
    ("Riverside Park", "Birch St", 2.0, 6.5),
    ("Post Office", "Main St", 3.5, 2.8),
    ("Fire Station No. 1", "2nd Ave", 1.1, 2.5),
    ("Police Department", "Main St", 2.5, 2.8),
    ("Community Center", "Elm St", 3.5, 1.8),
    ("Public Works Yard", "5th Ave", 4.2, 5.5),
    ("St. Mary's Church", "Pine St", 1.5, 3.8),
    ("Memorial Pool", "Cedar St", 0.5, 5.3),
    ("Maple Falls Clinic", "4th Ave", 2.9, 4.5),
    ("Farmers Market Square", "Main St", 2.0, 3.0),
    ("Water Tower", "Oak St", 3.5, -0.3),
)


def _point(east_blocks: float, south_blocks: float, rng: random.Random,
           jitter_m: float = 0.0) -> tuple[float, float]:
    """The point so many blocks east and south of the grid's north-west corner, which is
    placed so that Main St & 3rd Ave is ``DEMO_CENTRE``."""
    lat0, long0 = DEMO_CENTRE
    east_m = (east_blocks - 2) * BLOCK_M + rng.uniform(-jitter_m, jitter_m)
    south_m = (south_blocks - 3) * BLOCK_M + rng.uniform(-jitter_m, jitter_m)
    lat = lat0 - south_m / _METRES_PER_DEGREE
    long = long0 + east_m / (_METRES_PER_DEGREE * math.cos(math.radians(lat0)))
    return round(lat, 6), round(long, 6)


def demo_entries(seed: int = SEED) -> list[GazetteerEntry]:
    """Maple Falls' addresses, intersections and landmarks (about 1,050 entries)."""
    rng = random.Random(seed)
    entries: list[GazetteerEntry] = []
    setback = SETBACK_M / BLOCK_M
    # Streets run east-west: numbered from the west, odd numbers on the north side.
    for row, street in enumerate(STREETS):
        for block in range(len(AVENUES) - 1):
            for lot in range(LOTS_PER_SIDE):
                for side, parity in ((-setback, 1), (setback, 2)):
                    if rng.random() < 0.12:
                        continue  # an empty lot
                    number = str(100 * (block + 1) + 2 * lot + parity)
                    lat, long = _point(block + (lot + 0.5) / LOTS_PER_SIDE, row + side,
                                       rng, 3.0)
                    entries.append(GazetteerEntry(ADDRESS, f"{number} {street}", lat, long,
                                                  street=street, number=number))
    # Avenues run north-south: numbered from the north, odd numbers on the west side.
    for column, avenue in enumerate(AVENUES):
        for block in range(len(STREETS) - 1):
            for lot in range(LOTS_PER_SIDE):
                for side, parity in ((-setback, 1), (setback, 2)):
                    if rng.random() < 0.12:
                        continue
                    number = str(100 * (block + 1) + 2 * lot + parity)
                    lat, long = _point(column + side, block + (lot + 0.5) / LOTS_PER_SIDE,
                                       rng, 3.0)
                    entries.append(GazetteerEntry(ADDRESS, f"{number} {avenue}", lat, long,
                                                  street=avenue, number=number))
    for row, street in enumerate(STREETS):
        for column, avenue in enumerate(AVENUES):
            lat, long = _point(column, row, rng)
            entries.append(GazetteerEntry(INTERSECTION, f"{street} & {avenue}", lat, long,
                                          street=street))
    for label, street, east, south in LANDMARKS:
        lat, long = _point(east, south, rng, 5.0)
        entries.append(GazetteerEntry(LANDMARK, label, lat, long, street=street))
    return entries


def seed_demo_gazetteer(store: GazetteerStore, town_id: str, at: datetime) -> int:
    """Give the demo town its gazetteer; the number of entries."""
    entries = demo_entries()
    store.replace(town_id, entries, GazetteerSummary(
        version=f"demo-{SEED}-{at.strftime('%Y%m%dT%H%M%S')}", uploaded_at=at,
        counts=GazetteerIndex.counts_of(entries), uploaded_by="demo seed"))
    return len(entries)
