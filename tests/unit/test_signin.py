"""The staff record behind a sign-in: read at most once a minute per person, and it decides."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.towns import StaffMember
from chalicelib.services.signin import StaffRoster
from tests.fakes import FakeTownDirectory

TOWN = "maplefalls.example"
AGENT = StaffMember("u1", TOWN, "avery@maplefalls.example", "Avery", ("agent",))


class CountingDirectory(FakeTownDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        self.reads += 1
        return super().get_staff(town_id, user_id)


@pytest.fixture
def world():  # noqa: ANN201
    directory, now = CountingDirectory(), [1000.0]
    directory.save_staff(AGENT)
    return directory, now, StaffRoster(directory, 60, clock=lambda: now[0])


def _claim(*roles: Role, town: str | None = TOWN, subject: str = "u1",
           departments: frozenset[str] = frozenset()) -> Principal:
    return Principal(subject=subject, town_id=town, roles=frozenset(roles),
                     departments=departments, email="token@example.org", source_ip="1.2.3.4")


def test_one_read_a_minute_per_person(world):
    directory, now, roster = world
    for _ in range(5):
        roster.confirm(_claim(Role.AGENT))
    assert directory.reads == 1
    now[0] += 61
    roster.confirm(_claim(Role.AGENT))
    assert directory.reads == 2


def test_a_removal_is_seen_once_the_minute_is_over(world):
    directory, now, roster = world
    roster.confirm(_claim(Role.AGENT))
    directory.save_staff(dataclasses.replace(AGENT, active=False))
    now[0] += 61
    with pytest.raises(Unauthenticated):
        roster.confirm(_claim(Role.AGENT))


def test_someone_not_yet_on_the_list_is_remembered_as_absent_for_the_minute_only(world):
    directory, now, roster = world
    with pytest.raises(Unauthenticated):
        roster.confirm(_claim(Role.AGENT, subject="u2"))
    directory.save_staff(dataclasses.replace(AGENT, user_id="u2"))
    now[0] += 61
    assert roster.confirm(_claim(Role.AGENT, subject="u2")).subject == "u2"


def test_the_record_gives_roles_departments_and_e_mail(world):
    directory, _, roster = world
    directory.save_staff(dataclasses.replace(AGENT, roles=("agent", "analyst", "mayor")))
    roster.forget()
    who = roster.confirm(_claim(Role.AGENT))
    assert who.roles == {Role.AGENT, Role.ANALYST}  # unknown roles in a record grant nothing
    assert who.email == AGENT.email and who.source_ip == "1.2.3.4"


def test_claims_beyond_the_record_are_refused(world):
    _, _, roster = world
    with pytest.raises(Unauthenticated, match="sign in again"):
        roster.confirm(_claim(Role.AGENT, Role.TOWN_ADMIN))
    with pytest.raises(Unauthenticated, match="sign in again"):
        roster.confirm(_claim(Role.AGENT, departments=frozenset({"water"})))


def test_a_record_that_names_an_impossible_identity_is_refused(world):
    directory, _, roster = world
    directory.save_staff(dataclasses.replace(AGENT, roles=("operator",)))
    with pytest.raises(Unauthenticated):
        roster.confirm(_claim())


def test_operators_are_read_from_the_platforms_records(world):
    directory, _, roster = world
    directory.save_staff(StaffMember("op", None, "op@town311.example", "Op", ("operator",)))
    assert roster.confirm(_claim(Role.OPERATOR, town=None, subject="op")).town_id is None
    with pytest.raises(Unauthenticated):
        roster.confirm(_claim(Role.OPERATOR, town=None, subject="u1"))


def test_a_longer_town_cache_does_not_stretch_the_minute():
    directory, now = CountingDirectory(), [0.0]
    directory.save_staff(AGENT)
    roster = StaffRoster(directory, 3600, clock=lambda: now[0])
    roster.confirm(_claim(Role.AGENT))
    now[0] += 61
    roster.confirm(_claim(Role.AGENT))
    assert directory.reads == 2
