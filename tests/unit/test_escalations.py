"""Escalation topics as town admins see them, on fakes (services.escalations)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, InvalidInput
from chalicelib.services.escalations import EscalationPorts, subscribe, topics
from chalicelib.services.outreach import OutreachPorts
from chalicelib.services.towns import seed_demo_town
from tests.fakes import FakeEscalationTopics, FakeLimits, FakeTownDirectory


@pytest.fixture
def ports() -> EscalationPorts:
    towns = FakeTownDirectory()
    seed_demo_town(towns)
    return EscalationPorts(towns=towns, topics=FakeEscalationTopics(),
                           outreach=OutreachPorts(limits=FakeLimits(),
                                                  now=lambda: datetime(2026, 12, 1, tzinfo=UTC)))


def _admin(town: str = "maplefalls.example") -> Principal:
    return Principal("admin-1", town, roles=frozenset({Role.TOWN_ADMIN}))


def test_a_town_admin_sees_one_topic_per_audience(ports: EscalationPorts) -> None:
    found = topics(ports, _admin())
    audiences = [t["audience"] for t in found]
    assert audiences[:2] == ["supervisor", "town_admin"]
    assert all(a.startswith("department:") for a in audiences[2:]) and len(audiences) > 2
    assert found[0]["topic_arn"].endswith("escalations-maplefalls.example-supervisor")


def test_an_agent_may_not_see_the_topics(ports: EscalationPorts) -> None:
    with pytest.raises(AccessDenied):
        topics(ports, Principal("agent-1", "maplefalls.example", roles=frozenset({Role.AGENT})))


def test_an_unknown_audience_is_refused(ports: EscalationPorts) -> None:
    with pytest.raises(InvalidInput):
        subscribe(ports, _admin(), "department:nope", "email", "boss@maplefalls.example")
    assert ports.topics.subscriptions == []  # type: ignore[attr-defined]


def test_a_phone_is_stored_as_e164_and_counted_as_a_text_subscriber(
        ports: EscalationPorts) -> None:
    arn = subscribe(ports, _admin(), "supervisor", "sms", "+1 312 555 0111")
    assert arn.endswith(":1")
    assert ports.topics.subscriptions == [  # type: ignore[attr-defined]
        ("maplefalls.example", "supervisor", "sms", "+13125550111")]
    tallies = ports.outreach.limits.tallies  # type: ignore[attr-defined]
    assert tallies == {("maplefalls.example", "smssubs#supervisor"): 1}
