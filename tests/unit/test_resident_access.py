"""Residents signing in with a one-time code, reading their own requests and erasing
their contact, with fakes (chalicelib.services.residents)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import InvalidInput, Throttled, Unauthenticated
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.services import residents
from chalicelib.services.admin import AdminPorts
from chalicelib.services.delivery import WebhookDestinations
from chalicelib.services.outreach import OutreachPorts
from tests.fakes import (
    FakeAuditLog,
    FakeIdentity,
    FakeLimits,
    FakeMessenger,
    FakeRequestStore,
    FakeResidentAccess,
    FakeResolver,
    FakeTownDirectory,
    counter_ids,
)

NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
TOWN = Town("maple", "Maple Falls", "America/Chicago", "c1", locale="en-US")
PHONE = "+16125550100"


class World:
    def __init__(self) -> None:
        self.clock = [NOON]
        self.access = FakeResidentAccess()
        self.messenger = FakeMessenger()
        self.store = FakeRequestStore()
        self.towns = FakeTownDirectory()
        self.towns.towns[TOWN.town_id] = TOWN
        self.audit = FakeAuditLog()
        now = lambda: self.clock[0]  # noqa: E731 - the test's clock
        self.ports = residents.SignInPorts(
            access=self.access, messenger=self.messenger,
            outreach=OutreachPorts(limits=FakeLimits(), now=now), now=now)
        self.admin = AdminPorts(towns=self.towns, audit=self.audit, identity=FakeIdentity(),
                                new_id=counter_ids("E"), now=now,
                                webhooks=WebhookDestinations(FakeResolver()))

    def code(self, phone: str = PHONE) -> str:
        residents.send_sign_in_code(self.ports, TOWN, None, phone, "203.0.113.9")
        return re.search(r"code is (\d{6})", self.messenger.sent[-1]["text"]).group(1)

    def sign_in(self, phone: str = PHONE) -> str:
        code = self.code(phone)
        return residents.open_session(self.ports, TOWN, None, phone, code, "203.0.113.9").token

    def report(self, n: int, phone: str | None = PHONE, hours: int = 0) -> None:
        at = NOON - timedelta(days=2) + timedelta(hours=hours)
        event = TimelineEvent(at=at, event_id=f"S{n}", kind="submitted", summary="Reported")
        self.store.add(ServiceRequest(
            town_id=TOWN.town_id, request_id=f"R{n}", token_hash=f"T{n}",
            service_code="pothole", service_name="Pothole", requested_at=at, updated_at=at,
            place=Place(address=f"{n} Main St"),
            reporter=Reporter(phone=phone, email=f"r{n}@example.org", first_name="Ana")), event)


@pytest.fixture
def world() -> World:
    return World()


def test_the_code_sent_by_text_opens_a_session_for_that_phone(world):
    token = world.sign_in()
    assert world.messenger.sent[0]["phone"] == PHONE and world.messenger.sent[0]["email"] is None
    assert residents.signed_in_contact(world.access, TOWN, token, NOON) == \
        contact_hashes(None, PHONE)[0]


def test_a_code_works_once(world):
    code = world.code()
    residents.open_session(world.ports, TOWN, None, PHONE, code, None)
    with pytest.raises(Unauthenticated):
        residents.open_session(world.ports, TOWN, None, PHONE, code, None)


def test_a_second_code_within_a_minute_is_refused_and_not_sent(world):
    world.code()
    with pytest.raises(Throttled):
        world.code()
    assert len(world.messenger.sent) == 1
    world.clock[0] = NOON + timedelta(seconds=61)
    world.code()
    assert len(world.messenger.sent) == 2


def test_five_wrong_tries_spend_the_code(world):
    code = world.code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(residents.MAX_TRIES):
        with pytest.raises(Unauthenticated):
            residents.open_session(world.ports, TOWN, None, PHONE, wrong, None)
    with pytest.raises(Unauthenticated):
        residents.open_session(world.ports, TOWN, None, PHONE, code, None)


def test_a_code_expires_after_fifteen_minutes(world):
    code = world.code()
    world.clock[0] = NOON + timedelta(minutes=16)
    with pytest.raises(Unauthenticated):
        residents.open_session(world.ports, TOWN, None, PHONE, code, None)


def test_a_session_ends_after_an_hour(world):
    token = world.sign_in()
    residents.signed_in_contact(world.access, TOWN, token, NOON + timedelta(minutes=59))
    with pytest.raises(Unauthenticated):
        residents.signed_in_contact(world.access, TOWN, token, NOON + timedelta(minutes=61))
    with pytest.raises(Unauthenticated):
        residents.signed_in_contact(world.access, TOWN, "made-up", NOON)
    with pytest.raises(Unauthenticated):
        residents.signed_in_contact(world.access, TOWN, None, NOON)


def test_a_resident_signs_in_with_one_contact_not_two(world):
    with pytest.raises(InvalidInput):
        residents.send_sign_in_code(world.ports, TOWN, "ana@example.org", PHONE, None)
    with pytest.raises(InvalidInput):
        residents.send_sign_in_code(world.ports, TOWN, None, None, None)
    assert world.messenger.sent == []


def test_a_resident_sees_only_their_own_requests_newest_first(world):
    world.report(1, hours=1)
    world.report(2, hours=5)
    world.report(3, phone="+16125550199")
    token = world.sign_in()
    mine = residents.own_requests(world.access, world.store, TOWN, token, NOON)
    assert [r.request_id for r in mine] == ["R2", "R1"]


def test_erasing_their_contact_anonymises_their_requests_and_keeps_them(world):
    world.report(1)
    world.report(2, phone="+16125550199")
    token = world.sign_in()
    erased = residents.erase_own_contact(world.admin, world.access, world.store, TOWN, token,
                                         "203.0.113.9")
    assert erased.requests_anonymised == 1
    kept = world.store.get(TOWN.town_id, "R1", with_timeline=True)
    assert kept.reporter.is_empty() and kept.timeline[-1].kind == "contact_erased"
    assert not world.store.get(TOWN.town_id, "R2", with_timeline=False).reporter.is_empty()
    # every contact the request carried is forgotten, the e-mail too
    assert world.store.requests_of_resident(TOWN.town_id, contact_hashes(None, PHONE)[0]) == []
    assert world.store.requests_of_resident(
        TOWN.town_id, contact_hashes("r1@example.org", None)[0]) == []
    (entry,) = world.audit.entries
    assert entry.action == "resident.contact_erased" and entry.target == "1 requests"
    assert PHONE not in repr(entry)
