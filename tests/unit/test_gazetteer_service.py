"""The gazetteer service on fakes: a town admin's upload replaces the town's gazetteer and
reports what it refused, only an admin of that town may upload, residents' suggestions
come from a copy kept for the cache period, and another town sees none of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, InvalidInput, NotFound, UnknownJurisdiction
from chalicelib.domain.gazetteer import GazetteerSummary
from chalicelib.domain.zones import Zone
from chalicelib.services import gazetteer
from chalicelib.services.demo_gazetteer import DEMO_CENTRE, demo_entries, seed_demo_gazetteer
from chalicelib.services.towns import create_town, seed_demo_town
from tests.fakes import FakeAuditLog, FakeTownDirectory
from tests.fakes.gazetteer import FakeGazetteerStore

TOWN, OTHER = "maplefalls.example", "riverton.example"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
CSV = (b"kind,label,lat,long\n"
       b"address,12 Oak Street,44.9778,-93.2650\n"
       b"landmark,Town Hall,44.9790,-93.2640\n"
       b"address,14 Oak Street,44.9778,nowhere\n")


class World:
    def __init__(self) -> None:
        self.towns = FakeTownDirectory()
        seed_demo_town(self.towns, api_key="k" * 20)
        create_town(self.towns, OTHER, "Riverton", "America/New_York", "small_town",
                    api_key="o" * 20)
        self.store = FakeGazetteerStore()
        self.audit = FakeAuditLog()
        self.clock = [0.0]
        self.geocoder = gazetteer.TownGazetteer(self.store, 60, clock=lambda: self.clock[0])
        ids = iter(f"V{n:04d}" for n in range(1000))
        self.ports = gazetteer.GazetteerPorts(
            towns=self.towns, store=self.store, audit=self.audit, new_id=lambda: next(ids),
            now=lambda: NOW, forget=self.geocoder.forget)


@pytest.fixture
def world() -> World:
    return World()


def _admin(town: str = TOWN, *roles: Role) -> Principal:
    return Principal(subject="sub-admin", town_id=town, roles=frozenset(roles or
                                                                         {Role.TOWN_ADMIN}))


def test_an_upload_replaces_the_gazetteer_and_reports_refused_rows(world: World) -> None:
    report = gazetteer.upload(world.ports, _admin(), CSV)
    assert report.kept == 2 and report.layout == "gazetteer"
    assert report.refused == [(4, "long is not a number")] and report.refused_count == 1
    assert report.summary.counts == {"address": 1, "intersection": 0, "landmark": 1}
    assert world.store.summary(TOWN) == report.summary
    assert [e.action for e in world.audit.entries] == ["gazetteer.replace"]
    assert world.audit.entries[0].details["kept"] == 2

    second = gazetteer.upload(world.ports, _admin(),
                              b"kind,label,lat,long\nlandmark,Library,44.98,-93.26\n")
    assert second.summary.version != report.summary.version
    found = gazetteer.suggest(world.geocoder, world.towns, TOWN, "oak", 5)
    assert found == []  # the whole gazetteer was replaced, not added to
    assert [e.label for e in gazetteer.suggest(world.geocoder, world.towns, TOWN, "lib", 5)] \
        == ["Library"]


def test_a_file_nobody_can_use_changes_nothing(world: World) -> None:
    gazetteer.upload(world.ports, _admin(), CSV)
    before = world.store.summary(TOWN)
    with pytest.raises(InvalidInput) as refused:
        gazetteer.upload(world.ports, _admin(), b"kind,label,lat,long\nshop,X,1,2\n")
    assert [p.field for p in refused.value.problems] == ["line 2"]
    with pytest.raises(InvalidInput, match="not UTF-8"):
        gazetteer.upload(world.ports, _admin(), b"kind,label,lat,long\n\xff\xff")
    with pytest.raises(InvalidInput, match="no rows"):
        gazetteer.upload(world.ports, _admin(), b"kind,label,lat,long\n")
    assert world.store.summary(TOWN) == before


@pytest.mark.parametrize("roles", [(Role.AGENT,), (Role.ANALYST,), (Role.EMERGENCY_MANAGER,)])
def test_only_a_town_admin_uploads(world: World, roles: tuple[Role, ...]) -> None:
    with pytest.raises(AccessDenied):
        gazetteer.upload(world.ports, _admin(TOWN, *roles), CSV)
    assert world.store.summary(TOWN) is None


def test_an_admin_uploads_to_their_own_town_only(world: World) -> None:
    gazetteer.upload(world.ports, _admin(OTHER), CSV)
    assert world.store.summary(OTHER) is not None and world.store.summary(TOWN) is None
    assert gazetteer.suggest(world.geocoder, world.towns, TOWN, "oak", 5) == []
    assert gazetteer.read_summary(world.ports, _admin(TOWN)) is None


def test_the_towns_zones_bound_what_is_kept(world: World) -> None:
    ward = Zone("w1", "Ward 1", "ward", {"type": "Polygon", "coordinates": [[
        [-93.27, 44.97], [-93.26, 44.97], [-93.26, 44.98], [-93.27, 44.98], [-93.27, 44.97]]]})
    world.towns.save_zone(TOWN, ward, "2026-11-20T00:00:00.000000Z")
    report = gazetteer.upload(world.ports, _admin(), CSV + b"address,1 Far Rd,45.5,-93.26\n")
    assert report.kept == 2
    assert (5, "the point is outside the town's area (a minus sign lost, or lat and long "
               "swapped?)") in report.refused


def test_suggestions_are_read_once_per_cache_period(world: World) -> None:
    seed_demo_gazetteer(world.store, TOWN, NOW)
    for _ in range(5):
        gazetteer.suggest(world.geocoder, world.towns, TOWN, "oak", 5)
    gazetteer.nearest(world.geocoder, world.towns, TOWN, *DEMO_CENTRE)
    assert world.store.loads == 1
    world.clock[0] += 61  # the period is over, and the gazetteer is the same: kept
    gazetteer.suggest(world.geocoder, world.towns, TOWN, "oak", 5)
    assert world.store.loads == 1
    # Another container's upload is seen once the period is over.
    entries = demo_entries()[:3]
    world.store.replace(TOWN, entries, GazetteerSummary("V2", NOW, {"address": 3}, "x"))
    assert gazetteer.suggest(world.geocoder, world.towns, TOWN, "town hall", 1) != []
    world.clock[0] += 61
    assert gazetteer.suggest(world.geocoder, world.towns, TOWN, "town hall", 1) == []
    assert world.store.loads == 2


def test_an_upload_is_seen_at_once_by_the_container_that_made_it(world: World) -> None:
    seed_demo_gazetteer(world.store, TOWN, NOW)
    assert gazetteer.suggest(world.geocoder, world.towns, TOWN, "town hall", 1)
    gazetteer.upload(world.ports, _admin(), CSV)
    assert [e.label for e in gazetteer.suggest(world.geocoder, world.towns, TOWN, "town h", 3)] \
        == ["Town Hall"]
    assert gazetteer.suggest(world.geocoder, world.towns, TOWN, "elm st", 3) == []


def test_nearest_says_plainly_when_nothing_is_near(world: World) -> None:
    seed_demo_gazetteer(world.store, TOWN, NOW)
    found = gazetteer.nearest(world.geocoder, world.towns, TOWN, *DEMO_CENTRE)
    assert found.entry.label == "Main St & 3rd Ave"
    with pytest.raises(NotFound, match="no address within 250 m"):
        gazetteer.nearest(world.geocoder, world.towns, TOWN, DEMO_CENTRE[0] + 0.1,
                          DEMO_CENTRE[1])
    with pytest.raises(InvalidInput):  # within metres of the pole: cannot be searched
        gazetteer.nearest(world.geocoder, world.towns, TOWN, 90.0, 0.0)


def test_an_unknown_town_is_not_found(world: World) -> None:
    with pytest.raises(UnknownJurisdiction):
        gazetteer.suggest(world.geocoder, world.towns, "nowhere.example", "oak", 5)


def test_the_demo_seed_gives_maple_falls_its_gazetteer() -> None:
    towns, store = FakeTownDirectory(), FakeGazetteerStore()
    seed_demo_town(towns, api_key="k" * 20, places=store)
    summary = store.summary(TOWN)
    assert summary is not None and summary.total == len(demo_entries())
