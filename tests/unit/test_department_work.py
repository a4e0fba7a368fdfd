"""A department works its requests, with fakes (chalicelib.services.work): the lifecycle's
legal moves, whose work it is, declines and hand-offs, and no update lost to a race."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.services import work
from chalicelib.services.routing import RoutingPorts
from chalicelib.services.towns import DEMO_JURISDICTION, seed_demo_town
from tests.fakes import (
    FakeAssignmentChannels,
    FakeNoticeQueue,
    FakeRequestStore,
    FakeTownDirectory,
    counter_ids,
)

TOWN = DEMO_JURISDICTION
NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
WORKS = Principal(subject="w1", town_id=TOWN, roles=frozenset({Role.DEPARTMENT_WORKER}),
                  departments=frozenset({"public_works"}))
PARKS = Principal(subject="p1", town_id=TOWN, roles=frozenset({Role.DEPARTMENT_WORKER}),
                  departments=frozenset({"parks_forestry"}))
SUPERVISOR = Principal(subject="s1", town_id=TOWN, roles=frozenset({Role.SUPERVISOR}))


class RacingStore(FakeRequestStore):
    """Someone else changes the request between our read and our write, once."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def record_change(self, request, event, once=None, tally=None):  # noqa: ANN001, ANN201
        if not self.raced and event.kind != "routed":
            self.raced = True
            theirs = self.get(request.town_id, request.request_id, with_timeline=False)
            note = TimelineEvent(at=NOON, event_id="THEIRS", kind="note", summary="Note added",
                                 description="their note")
            theirs.timeline.append(note)
            super().record_change(theirs, note)
        super().record_change(request, event, once, tally)


class World:
    def __init__(self, store: FakeRequestStore | None = None) -> None:
        self.towns = FakeTownDirectory()
        seed_demo_town(self.towns)
        town = self.towns.get_town(TOWN)
        self.towns.save_department(TOWN, Department("parks_forestry", "Parks & Forestry",
                                                    queue=True), town.changeset)
        self.store = store or FakeRequestStore()
        self.notices = FakeNoticeQueue()
        self.channels = FakeAssignmentChannels()
        self.clock = [NOON]
        self.ports = RoutingPorts(towns=self.towns, store=self.store, new_id=counter_ids("E"),
                                  now=lambda: self.clock[0], channels=self.channels,
                                  notices=self.notices)

    def routed(self, n: int, department: str = "public_works", hours: int = 0) -> str:
        at = NOON - timedelta(days=1) + timedelta(hours=hours)
        event = TimelineEvent(at=at, event_id=f"S{n}", kind="submitted", summary="Reported")
        self.store.add(ServiceRequest(
            town_id=TOWN, request_id=f"R{n}", token_hash=f"T{n}", service_code="pothole",
            service_name="Pothole", requested_at=at, updated_at=at,
            place=Place(address=f"{n} Main St"), lifecycle="routed", department=department,
            agency_responsible="Public Works — Streets", timeline=[event]), event)
        return f"R{n}"

    def act(self, name: str, who: Principal = WORKS, request_id: str = "R1",
            department: str = "public_works", **fields: object) -> ServiceRequest:
        return work.act(self.ports, who, department, request_id, work.Action(name, **fields))

    def kinds(self, request_id: str = "R1") -> list[str]:
        return [e.kind for e in self.store.get(TOWN, request_id, with_timeline=True).timeline]

    def announced(self) -> list[str]:
        return self.notices.kinds()


@pytest.fixture
def world() -> World:
    return World()


def test_a_request_is_worked_from_acknowledged_to_closed_with_a_resolution(world):
    world.routed(1)
    world.act("acknowledge")
    world.act("accept")
    world.act("hold", note="waiting for asphalt")
    world.act("accept")
    closed = world.act("close", resolution="fixed", note="Patched")
    assert (closed.status, closed.lifecycle, closed.resolution) == ("closed", "closed", "fixed")
    assert closed.closed_at == NOON and closed.status_notes == "Patched"
    assert world.kinds() == ["submitted", "acknowledged", "in_progress", "on_hold",
                             "in_progress", "closed"]
    assert world.announced() == ["acknowledged", "closed"]  # what residents hear about


def test_a_move_the_lifecycle_does_not_allow_is_refused_and_changes_nothing(world):
    world.routed(1)
    with pytest.raises(Conflict):
        world.act("hold")  # not acknowledged yet
    with pytest.raises(Conflict):
        world.act("reopen")  # not closed
    world.act("close", resolution="duplicate")
    with pytest.raises(Conflict):
        world.act("accept")
    assert world.kinds() == ["submitted", "closed"]
    reopened = world.act("reopen", note="Still there")
    assert reopened.status == "open" and reopened.resolution is None


def test_only_the_departments_own_workers_and_supervisors_act(world):
    world.routed(1)
    with pytest.raises(AccessDenied):
        world.act("acknowledge", who=PARKS)
    with pytest.raises(NotFound):  # not this department's request
        world.act("acknowledge", who=PARKS, department="parks_forestry")
    assert world.act("acknowledge", who=SUPERVISOR).lifecycle == "acknowledged"


def test_an_internal_note_is_kept_but_not_announced(world):
    world.routed(1)
    world.act("note", note="call the contractor", public=False)
    world.act("note", note="Crew booked for Tuesday")
    found = world.store.get(TOWN, "R1", with_timeline=True)
    assert [(e.kind, e.public) for e in found.timeline[1:]] == [("note", False), ("note", True)]
    assert [e.kind for e in found.timeline if e.public] == ["submitted", "note"]
    assert world.announced() == ["note"]


def test_a_decline_sends_the_request_back_to_triage(world):
    world.routed(1)
    declined = world.act("decline", note="not a road")
    assert (declined.department, declined.lifecycle) == ("triage", "routed")
    assert world.kinds()[-1] == "declined"


def test_a_hand_off_reaches_the_new_departments_own_queue(world):
    world.routed(1)
    handed = work.act(world.ports, WORKS, "public_works", "R1",
                      work.Action("hand_off", note="a tree", department="parks_forestry"))
    assert handed.department == "parks_forestry" and handed.agency_responsible == \
        "Parks & Forestry"
    assert world.channels.delivered == [("queue", TOWN, "parks_forestry", "R1")]
    with pytest.raises(NotFound):  # no longer Public Works' request
        world.act("acknowledge")


def test_a_hand_off_names_another_existing_department(world):
    world.routed(1)
    for target in ("public_works", "nowhere"):
        with pytest.raises(InvalidInput):
            work.act(world.ports, WORKS, "public_works", "R1",
                     work.Action("hand_off", department=target))
    assert world.kinds() == ["submitted"]


def test_two_people_acting_at_once_lose_neither_change():
    world = World(RacingStore())
    world.routed(1)
    world.act("acknowledge")
    found = world.store.get(TOWN, "R1", with_timeline=True)
    assert found.lifecycle == "acknowledged"
    # Their note stays, and ours is written once, on top of what they wrote.
    assert [(e.kind, e.event_id == "THEIRS") for e in found.timeline[1:]] == [
        ("note", True), ("acknowledged", False)]


def test_the_inbox_lists_open_work_oldest_first_by_state(world):
    world.routed(1, hours=3)
    world.routed(2, hours=1)
    world.routed(3, hours=2)
    world.routed(4, department="parks_forestry")
    world.act("acknowledge", request_id="R3")
    world.act("close", request_id="R2", resolution="fixed")
    inbox = work.department_queue(world.ports, WORKS, "public_works", None, 50, None)
    assert [r.request_id for r in inbox.items] == ["R3", "R1"] and not inbox.has_more
    acknowledged = work.department_queue(world.ports, WORKS, "public_works", "acknowledged",
                                         50, None)
    assert [r.request_id for r in acknowledged.items] == ["R3"]
    first = work.department_queue(world.ports, WORKS, "public_works", None, 1, None)
    assert [r.request_id for r in first.items] == ["R3"] and first.has_more
    rest = work.department_queue(world.ports, WORKS, "public_works", None, 1, "R3")
    assert [r.request_id for r in rest.items] == ["R1"]
    with pytest.raises(InvalidInput):
        work.department_queue(world.ports, WORKS, "public_works", "closed", 50, None)
    with pytest.raises(AccessDenied):
        work.department_queue(world.ports, PARKS, "public_works", None, 50, None)
