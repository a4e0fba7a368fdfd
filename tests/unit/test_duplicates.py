"""Possible duplicates, over the in-memory store: radius, window, service, town and order."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.catalogue import Catalogue, Service
from chalicelib.domain.errors import AccessDenied, InvalidInput
from chalicelib.domain.geo import distance_m
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.services.duplicates import possible_duplicates, staff_town
from tests.fakes import FakeNearbyRequests, FakeRequestStore, FakeTownDirectory

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
TOWN = Town("t.example", "T", "America/Chicago", "2026-01-01T00:00:00Z")
HERE = (41.8781, -87.6298)
CATALOGUE = Catalogue((
    Service("pothole", "Pothole", "d", "Streets"),
    Service("graffiti", "Graffiti", "d", "Walls", duplicate_radius_m=120,
            duplicate_window_days=7),
    Service("old", "Old", "d", "Gone", active=False),
))
METRES_PER_DEGREE = 111_195.0


def _north(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / METRES_PER_DEGREE, HERE[1]


def _east(metres: float) -> tuple[float, float]:
    return HERE[0], HERE[1] + metres / (METRES_PER_DEGREE * math.cos(math.radians(HERE[0])))


def _add(store: FakeRequestStore, n: int, point: tuple[float, float], *, service="pothole",
         town=TOWN.town_id, age=timedelta(days=1), status="open", followers=0) -> str:
    at = NOW - age
    request = ServiceRequest(
        town_id=town, request_id=f"R{n:03d}", token_hash=f"T{n:03d}", service_code=service,
        service_name=service.title(), requested_at=at, updated_at=at,
        place=Place(lat=point[0], long=point[1], address=f"{n} Main St"), status=status,
        followers=followers, tracking_number=f"K{n:03d}")
    store.add(request, TimelineEvent(at=at, event_id=f"E{n}", kind="submitted", summary="x"))
    return request.request_id


@pytest.fixture
def store():
    return FakeRequestStore()


def _ids(check):
    return [r.request_id for r, _ in check.matches]


def test_open_requests_within_the_radius_come_nearest_first(store):
    _add(store, 1, _north(40))
    _add(store, 2, _east(10), followers=3)
    _add(store, 3, _north(-25))
    _add(store, 4, _north(60))  # beyond 50 m
    check = possible_duplicates(FakeNearbyRequests(store), TOWN, CATALOGUE, "pothole",
                                *HERE, NOW)
    assert (check.radius_m, check.window_days) == (50, 30)
    assert _ids(check) == ["R002", "R003", "R001"]
    distances = [d for _, d in check.matches]
    assert distances == sorted(distances)
    assert distances[0] == pytest.approx(10, abs=0.1)
    assert check.matches[0][0].followers == 3


def test_closed_old_other_service_and_other_town_requests_are_left_out(store):
    _add(store, 1, _north(5), status="closed")
    _add(store, 2, _north(5), age=timedelta(days=31))
    _add(store, 3, _north(5), service="graffiti")
    _add(store, 4, _north(5), town="other.example")
    _add(store, 5, _north(5), age=timedelta(days=29))
    check = possible_duplicates(FakeNearbyRequests(store), TOWN, CATALOGUE, "pothole",
                                *HERE, NOW)
    assert _ids(check) == ["R005"]


def test_the_services_own_radius_and_window_apply(store):
    _add(store, 1, _east(110), service="graffiti")
    _add(store, 2, _east(5), service="graffiti", age=timedelta(days=8))
    nearby = FakeNearbyRequests(store)
    check = possible_duplicates(nearby, TOWN, CATALOGUE, "graffiti", *HERE, NOW)
    assert (check.radius_m, check.window_days) == (120, 7)
    assert _ids(check) == ["R001"]
    (_, service, cells, since), = nearby.calls
    assert service == "graffiti" and since == NOW - timedelta(days=7)
    assert len(cells) <= 9


def test_at_most_the_limit_is_returned(store):
    for n in range(30):
        _add(store, n, _north(n))
    check = possible_duplicates(FakeNearbyRequests(store), TOWN, CATALOGUE, "pothole",
                                *HERE, NOW, limit=5)
    assert _ids(check) == ["R000", "R001", "R002", "R003", "R004"]


@pytest.mark.parametrize(("code", "lat", "long", "fields"), [
    ("nope", *HERE, {"service_code"}),
    ("old", *HERE, {"service_code"}),  # retired
    ("pothole", 91.0, 0.0, {"lat"}),
    ("pothole", 0.0, math.inf, {"long"}),
    ("nope", math.nan, 181.0, {"service_code", "lat", "long"}),
    ("pothole", 89.9999, 0.0, {"lat"}),  # too close to the pole to search around
])
def test_bad_input_is_refused_with_every_problem(store, code, lat, long, fields):
    with pytest.raises(InvalidInput) as refused:
        possible_duplicates(FakeNearbyRequests(store), TOWN, CATALOGUE, code, lat, long, NOW)
    assert {p.field for p in refused.value.problems} == fields


def test_distances_are_great_circle_metres(store):
    point = _north(30)
    _add(store, 1, point)
    (request, distance), = possible_duplicates(FakeNearbyRequests(store), TOWN, CATALOGUE,
                                                "pothole", *HERE, NOW).matches
    assert distance == pytest.approx(distance_m(*HERE, *point)) == pytest.approx(30, abs=0.1)


def test_only_staff_who_enter_requests_get_their_town():
    towns = FakeTownDirectory()
    towns.towns[TOWN.town_id] = TOWN
    agent = Principal("a", TOWN.town_id, roles=frozenset({Role.AGENT}))
    assert staff_town(towns, agent) == TOWN
    analyst = Principal("b", TOWN.town_id, roles=frozenset({Role.ANALYST}))
    with pytest.raises(AccessDenied):
        staff_town(towns, analyst)
