"""Possible duplicates: before a request is made (by a resident on the web, an agent taking
a call, or an app), the open requests of the same service close by, nearest first, so
that the person can follow one ("me too") instead of reporting the same thing again.

How close and how recent is the service's own setting (``duplicate_radius_m``,
``duplicate_window_days``; 50 m and 30 days unless the town changed them).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import geo
from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.duplicates import DuplicateCheck
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.requests import OPEN
from chalicelib.domain.towns import Town

if TYPE_CHECKING:
    from chalicelib.services.ports import NearbyRequests, TownDirectory

MAX_LIMIT = 50


def possible_duplicates(nearby: NearbyRequests, town: Town, catalogue: Catalogue,
                        service_code: str, lat: float, long: float, now: datetime,
                        limit: int = 20) -> DuplicateCheck:
    """Open requests of ``service_code`` in ``town`` within the service's radius of
    (lat, long), requested within its window before ``now``: at most ``limit``, nearest
    first. An unknown or retired service, or a point off the map, is InvalidInput."""
    problems = []
    service = catalogue.service(service_code)
    if service is None:
        problems.append(Problem("service_code", f"no service {service_code[:40]!r} in "
                                                f"{town.name}"))
    problems += _point_problems(lat, long)
    if problems:
        raise InvalidInput.of(problems)
    assert service is not None
    radius, days = service.duplicate_radius_m, service.duplicate_window_days
    try:
        cells = geo.cells_around(lat, long, radius)
    except ValueError:
        raise InvalidInput.of([Problem("lat", "is too close to a pole to search "
                                              "around")]) from None
    since = now - timedelta(days=days)
    found = nearby.open_near(town.town_id, service.code, cells, since)
    matches = []
    for request in found:
        place = request.place
        if request.status != OPEN or request.requested_at < since or not place.has_point:
            continue
        distance = geo.distance_m(lat, long, place.lat, place.long)  # type: ignore[arg-type]
        if distance <= radius:
            matches.append((request, distance))
    matches.sort(key=lambda m: (m[1], m[0].requested_at, m[0].request_id))
    return DuplicateCheck(radius, days, matches[:max(1, min(limit, MAX_LIMIT))])


def duplicates_in_town(nearby: NearbyRequests, towns: TownDirectory, town: Town,
                       service_code: str, lat: float, long: float,
                       now: datetime) -> DuplicateCheck:
    """The check in ``town``: the town asked (residents on the web, apps through Open311)
    or the agent's own (``staff_town``)."""
    catalogue = towns.get_catalogue(town.town_id, town.changeset)
    return possible_duplicates(nearby, town, catalogue, service_code, lat, long, now)


def staff_town(towns: TownDirectory, who: Principal) -> Town:
    """The town of an agent about to enter a request; checked before anything they send
    is read, so a caller without the right learns nothing from the answer."""
    require(who, Permission.ENTER_REQUESTS, who.town_id)
    town = towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    return town


def _point_problems(lat: float, long: float) -> list[Problem]:
    problems = []
    for name, value, bound in (("lat", lat, 90.0), ("long", long, 180.0)):
        if not (isinstance(value, (int, float)) and math.isfinite(value)
                and -bound <= value <= bound):
            problems.append(Problem(name, f"must be a number of degrees between {-bound:g} "
                                          f"and {bound:g}"))
    return problems
