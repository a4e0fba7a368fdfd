"""``NearbyRequests``: the in-memory fake and the DynamoDB adapter on moto answer the same
(open requests of one service, in the cells asked, within the window), and a service's
duplicate settings survive the catalogue's stored form."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.geo import cell_of, cells_around, distance_m
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.services.towns import create_town
from tests.fakes import FakeNearbyRequests, FakeRequestStore, FakeTownDirectory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOWN, OTHER = "maplefalls.example", "riverton.example"
HERE = (41.8781, -87.6298)


def _request(n: int, lat: float, long: float, *, town: str = TOWN, service: str = "pothole",
             age: timedelta = timedelta(days=1),
             status: str = "open") -> tuple[ServiceRequest, TimelineEvent]:
    at = NOW - age
    event = TimelineEvent(at=at, event_id=f"E{n:05d}", kind="submitted", summary="Reported")
    return ServiceRequest(
        town_id=town, request_id=f"R{n:05d}", token_hash=f"T{n:05d}", service_code=service,
        service_name=service.title(), requested_at=at, updated_at=at,
        place=Place(lat=lat, long=long, address=f"{n} Main St"), status=status,
        timeline=[event]), event


def _around(rng: random.Random, metres: float) -> tuple[float, float]:
    """A random point within ``metres`` of HERE."""
    bearing, distance = rng.uniform(0, 2 * math.pi), metres * math.sqrt(rng.random())
    dlat = distance * math.cos(bearing) / 111_195
    dlong = distance * math.sin(bearing) / (111_195 * math.cos(math.radians(HERE[0])))
    return HERE[0] + dlat, HERE[1] + dlong


class NearbyContract:
    @pytest.fixture
    def stores(self):
        """(RequestStore, NearbyRequests) over the same requests."""
        raise NotImplementedError

    def test_only_open_requests_of_the_service_in_the_cells_and_window(self, stores):
        store, nearby = stores
        rng = random.Random(5)
        cells = cells_around(*HERE, 50)
        expected = set()
        for n in range(160):
            lat, long = _around(rng, 400)  # in and around the cells
            kind = n % 8
            if kind == 0:
                store.add(*_request(n, lat, long, status="closed"))
            elif kind == 1:
                store.add(*_request(n, lat, long, service="graffiti"))
            elif kind == 2:
                store.add(*_request(n, lat, long, town=OTHER))
            elif kind == 3:
                store.add(*_request(n, lat, long, age=timedelta(days=31)))
            else:
                store.add(*_request(n, lat, long, age=timedelta(days=n % 29)))
                if cell_of(lat, long) in cells:
                    expected.add(f"R{n:05d}")
        found = nearby.open_near(TOWN, "pothole", cells, NOW - timedelta(days=30))
        assert expected  # the random layout put some in the cells
        assert sorted(r.request_id for r in found) == sorted(expected)
        assert all(r.status == "open" and r.service_code == "pothole" for r in found)
        assert all(r.town_id == TOWN for r in found)

    def test_the_window_starts_at_since_inclusive(self, stores):
        store, nearby = stores
        store.add(*_request(1, *HERE, age=timedelta(days=30)))
        store.add(*_request(2, *HERE, age=timedelta(days=30, microseconds=1)))
        found = nearby.open_near(TOWN, "pothole", [cell_of(*HERE)], NOW - timedelta(days=30))
        assert [r.request_id for r in found] == ["R00001"]

    def test_a_closed_request_leaves_and_a_reopened_one_returns(self, stores):
        store, nearby = stores
        request, _ = _request(1, *HERE)
        store.add(request, request.timeline[0])
        stored = store.get(TOWN, "R00001", with_timeline=False)
        stored.status = "closed"
        store.record_change(stored, TimelineEvent(NOW, "E2", "closed", "Fixed"))
        assert nearby.open_near(TOWN, "pothole", [cell_of(*HERE)], NOW - timedelta(days=30)) \
            == []
        stored.status = "open"
        store.record_change(stored, TimelineEvent(NOW, "E3", "reopened", "Not fixed"))
        found = nearby.open_near(TOWN, "pothole", [cell_of(*HERE)], NOW - timedelta(days=30))
        assert [r.request_id for r in found] == ["R00001"]

    def test_what_comes_back_is_the_whole_request(self, stores):
        store, nearby = stores
        request, event = _request(1, *HERE)
        request = dataclasses.replace(request, tracking_number="K7QD-3M2P", followers=0)
        store.add(request, event)
        (found,) = nearby.open_near(TOWN, "pothole", [cell_of(*HERE)], NOW - timedelta(days=1))
        assert found.place == request.place and found.tracking_number == "K7QD-3M2P"
        assert found.requested_at == request.requested_at
        assert distance_m(*HERE, found.place.lat, found.place.long) < 0.01

    def test_no_cells_no_answer(self, stores):
        store, nearby = stores
        store.add(*_request(1, *HERE))
        assert nearby.open_near(TOWN, "pothole", [], NOW - timedelta(days=30)) == []


class TestFakeNearby(NearbyContract):
    @pytest.fixture
    def stores(self):
        store = FakeRequestStore()
        return store, FakeNearbyRequests(store)


class TestDynamoNearby(NearbyContract):
    @pytest.fixture
    def stores(self, deployment):
        return deployment.container.requests, deployment.container.nearby

    def test_one_query_per_cell_on_the_place_index(self, deployment):
        from chalicelib.adapters.dynamodb import RequestItem

        client = RequestItem._get_connection().connection.client
        seen: list[dict] = []
        client.meta.events.register("provide-client-params.dynamodb.*",
                                    lambda params, model, **_: seen.append(
                                        {"op": model.name, **params}))
        cells = cells_around(*HERE, 150)
        deployment.container.nearby.open_near(TOWN, "pothole", cells, NOW)
        assert [s["op"] for s in seen] == ["Query"] * len(cells)
        assert {s["IndexName"] for s in seen} == {"by_place"}
        assert sorted(s["ExpressionAttributeValues"][":0"]["S"].rsplit("#", 1)[1]
                      for s in seen) == sorted(cells)


@pytest.mark.parametrize("kind", ["fake", "dynamo"])
def test_a_services_duplicate_settings_are_stored_with_it(kind, request):
    directory = FakeTownDirectory() if kind == "fake" else \
        request.getfixturevalue("deployment").container.town_store
    create_town(directory, "contract.example", "Contract", "UTC", "small_town")
    town = directory.get_town("contract.example")
    pothole = directory.get_catalogue("contract.example", town.changeset).service("pothole")
    assert (pothole.duplicate_radius_m, pothole.duplicate_window_days) == (50, 30)
    directory.save_service("contract.example", dataclasses.replace(
        pothole, duplicate_radius_m=120, duplicate_window_days=7), 0, "2026-11-21T00:00:00Z")
    again = directory.get_catalogue("contract.example", "x").service("pothole")
    assert (again.duplicate_radius_m, again.duplicate_window_days) == (120, 7)
