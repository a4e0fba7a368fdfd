"""Residents following a request and staff merging duplicates, with fakes
(chalicelib.services.tracking): "me too", disputes within the window, one rating, merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from chalicelib.domain.followers import REPORTER, Follower, contact_hashes
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.services import tracking
from chalicelib.services.towns import DEMO_JURISDICTION, seed_demo_town
from tests.fakes import (
    FakeAssignmentChannels,
    FakeNoticeQueue,
    FakePhotoStorage,
    FakeRequestStore,
    FakeTownDirectory,
    counter_ids,
)

TOWN_ID = DEMO_JURISDICTION
NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
ANA = "ana@example.org"
ANA_HASH = contact_hashes(ANA, None)[0]
SUPERVISOR = Principal(subject="s1", town_id=TOWN_ID, roles=frozenset({Role.SUPERVISOR}))


class World:
    def __init__(self) -> None:
        self.towns = FakeTownDirectory()
        seed_demo_town(self.towns)
        self.town = self.towns.get_town(TOWN_ID)
        self.towns.save_department(TOWN_ID, Department("public_works", "Public Works",
                                                       queue=True), self.town.changeset)
        self.town = self.towns.get_town(TOWN_ID)
        self.store = FakeRequestStore()
        self.notices = FakeNoticeQueue()
        self.channels = FakeAssignmentChannels()
        self.photos = FakePhotoStorage()
        self.clock = [NOON]
        self.ports = tracking.TrackingPorts(
            store=self.store, towns=self.towns, new_id=counter_ids("E"),
            now=lambda: self.clock[0], notices=self.notices, channels=self.channels,
            photos=self.photos)

    def report(self, n: int, *, closed: bool = False, number: str | None = None) -> str:
        at = NOON - timedelta(days=3)
        event = TimelineEvent(at=at, event_id=f"S{n}", kind="submitted", summary="Reported")
        self.store.add(ServiceRequest(
            town_id=TOWN_ID, request_id=f"R{n:020d}", token_hash=f"T{n}",
            service_code="pothole", service_name="Pothole", requested_at=at, updated_at=at,
            place=Place(address=f"{n} Main St"), department="public_works",
            lifecycle="closed" if closed else "routed", status="closed" if closed else "open",
            resolution="fixed" if closed else None, closed_at=NOON - timedelta(days=1)
            if closed else None, tracking_number=number or f"K7QD-3M{n:02d}",
            reporter=Reporter(email=ANA) if n == 1 else Reporter(email=f"r{n}@example.org"),
            timeline=[event]), event,
            reporter=Follower.make(REPORTER, at, ANA if n == 1 else f"r{n}@example.org", None,
                                   None, confirmed=("email",)))
        return f"R{n:020d}"

    def announced(self) -> list[str]:
        return self.notices.kinds()


@pytest.fixture
def world() -> World:
    return World()


def test_a_request_is_found_by_its_tracking_number_however_it_is_typed(world):
    request_id = world.report(1, number="K7QD-3M2P")
    assert tracking.find_by_number(world.store, world.town, " k7qd 3m2p ").request_id == \
        request_id
    assert tracking.find(world.store, world.town, request_id).tracking_number == "K7QD-3M2P"
    with pytest.raises(InvalidInput):
        tracking.find_by_number(world.store, world.town, "hello")
    with pytest.raises(NotFound):
        tracking.find_by_number(world.store, world.town, "ZZZZ-ZZZZ")


def test_me_too_counts_a_neighbour_once(world):
    request_id = world.report(1)
    first = tracking.follow(world.ports, world.town, request_id, "bo@example.org", None, "en")
    again = tracking.follow(world.ports, world.town, request_id, "BO@example.org ", None, "en")
    assert (first.followers, first.new) == (1, True)
    assert (again.followers, again.new) == (1, False)


def test_a_closed_request_cannot_be_followed(world):
    request_id = world.report(1, closed=True)
    with pytest.raises(Conflict):
        tracking.follow(world.ports, world.town, request_id, "bo@example.org", None, "en")
    with pytest.raises(InvalidInput):
        tracking.follow(world.ports, world.town, request_id, None, None, "en")


def test_the_signed_in_residents_own_address_is_proved_already(world):
    request_id = world.report(1)
    tracking.follow(world.ports, world.town, request_id, "bo@example.org", None, "en",
                    signed_in=contact_hashes("bo@example.org", None)[0])
    (bo,) = [f for f in world.store.followers_of(TOWN_ID, request_id)
             if f.email == "bo@example.org"]
    assert bo.confirmed == ("email",)


def test_the_reporter_disputes_a_closure_and_it_goes_back_to_the_department(world):
    request_id = world.report(1, closed=True)
    reopened = tracking.dispute(world.ports, world.town, request_id, ANA_HASH,
                                "  still a hole  ", photo=(b"\xff\xd8\xff\xe0jpeg", "image/jpeg"))
    assert (reopened.status, reopened.lifecycle, reopened.disputed) == (
        "open", "reopened", True)
    assert reopened.resolution is None and reopened.status_notes == "still a hole"
    assert reopened.timeline[-1].summary.endswith("(with a photo)")
    assert list(world.photos.objects) == [f"incoming/{TOWN_ID}/{request_id}/E000001"]
    assert world.announced() == ["disputed", "dispute_alert"]
    assert world.channels.delivered == [("queue", TOWN_ID, "public_works", request_id)]
    assert world.store.tallies(TOWN_ID, "disputes#") == {"disputes#public_works": 1}


def test_only_its_people_dispute_and_only_a_recent_closure(world):
    request_id = world.report(1, closed=True)
    with pytest.raises(AccessDenied):
        tracking.dispute(world.ports, world.town, request_id, "stranger", "not fixed")
    with pytest.raises(InvalidInput):
        tracking.dispute(world.ports, world.town, request_id, ANA_HASH, "  ")
    world.clock[0] = NOON + timedelta(days=world.town.notices.dispute_window_days)
    with pytest.raises(Conflict):
        tracking.dispute(world.ports, world.town, request_id, ANA_HASH, "not fixed")
    open_one = world.report(2)
    with pytest.raises(Conflict):
        tracking.dispute(world.ports, world.town, open_one,
                         contact_hashes("r2@example.org", None)[0], "not fixed")


def test_the_reporter_rates_a_closed_request_once(world):
    request_id = world.report(1, closed=True)
    with pytest.raises(AccessDenied):
        tracking.rate(world.ports, world.town, request_id, "stranger", 5, None)
    rated = tracking.rate(world.ports, world.town, request_id, ANA_HASH, 4, "quick")
    assert (rated.rating, rated.rating_comment) == (4, "quick")
    assert not rated.timeline[-1].public
    with pytest.raises(Conflict):
        tracking.rate(world.ports, world.town, request_id, ANA_HASH, 1, None)
    feedback = tracking.feedback_by_department(world.store, SUPERVISOR)
    assert [(f.department, f.ratings, f.average_rating) for f in feedback] == [
        ("public_works", 1, 4.0)]


def test_an_open_request_is_not_rated(world):
    request_id = world.report(1)
    with pytest.raises(Conflict):
        tracking.rate(world.ports, world.town, request_id, ANA_HASH, 5, None)


def test_a_merge_closes_the_duplicate_and_moves_its_people_to_the_parent(world):
    parent = world.report(1)
    duplicate = world.report(2)
    tracking.follow(world.ports, world.town, duplicate, "cy@example.org", None, "en")
    merged = tracking.merge(world.ports, SUPERVISOR, duplicate, parent, "same hole")
    assert merged.followers_moved == 2  # the duplicate's reporter and its follower
    assert (merged.duplicate.status, merged.duplicate.resolution) == ("closed", "duplicate")
    assert merged.duplicate.parent_request_id == parent
    assert merged.parent.timeline[-1].kind == "merged"
    assert world.store.get(TOWN_ID, parent, with_timeline=False).followers == 2
    again = tracking.merge(world.ports, SUPERVISOR, duplicate, parent, None)  # safe to repeat
    assert again.followers_moved == 0
    assert [e.kind for e in world.store.get(TOWN_ID, parent, with_timeline=True).timeline] \
        == ["submitted", "merged"]


def test_a_merge_needs_two_open_requests_and_the_right_to_merge(world):
    parent, duplicate = world.report(1), world.report(2)
    closed = world.report(3, closed=True)
    with pytest.raises(InvalidInput):
        tracking.merge(world.ports, SUPERVISOR, parent, parent, None)
    with pytest.raises(Conflict):
        tracking.merge(world.ports, SUPERVISOR, duplicate, closed, None)
    with pytest.raises(NotFound):
        tracking.merge(world.ports, SUPERVISOR, "R-nothing", parent, None)
    with pytest.raises(AccessDenied):
        tracking.merge(world.ports, Principal(subject="x", town_id=TOWN_ID,
                                              roles=frozenset({Role.ANALYST})),
                       duplicate, parent, None)
