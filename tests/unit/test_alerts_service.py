"""Emergency alerts with fakes (chalicelib.services.alerts): the second person's approval,
who is reached, each message once, stops honoured, test alerts kept to the test list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.alerts import Alert
from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.errors import AccessDenied, Conflict, InvalidInput
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.subscribers import ACTIVE, Subscriber
from chalicelib.domain.towns import Town
from chalicelib.domain.zones import Zone
from chalicelib.schemas.notices import BATCH_SIZE
from chalicelib.services import alerts
from tests.fakes import (
    FakeAlerts,
    FakeAuditLog,
    FakeMessenger,
    FakeNoticeBook,
    FakeNoticeQueue,
    FakeSubscribers,
    FakeTownDirectory,
    counter_ids,
)

NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
TOWN_ID = "maple"


def _square(code: str, west: float) -> Zone:
    return Zone(code, code.title(), "ward", {"type": "Polygon", "coordinates": [[
        [west, 44.0], [west + 1, 44.0], [west + 1, 45.0], [west, 45.0], [west, 44.0]]]})


@dataclass(frozen=True)
class Draft:
    """What a manager writes (the edge's AlertIn, as services.alerts.AlertDraft)."""

    title: Mapping[str, str] = field(default_factory=lambda: {"en": "Boil water",
                                                              "es": "Hierva el agua"})
    body: Mapping[str, str] = field(default_factory=lambda: {"en": "Boil tap water.",
                                                             "es": "Hierva el agua."})
    fallback_language: str = "en"
    severity: str = "severe"
    category: str = "water"
    expires_at: datetime = NOON + timedelta(days=1)
    zones: list[str] = field(default_factory=lambda: ["ward-1"])
    area: Mapping[str, object] | None = None
    test: bool = False


def _manager(subject: str) -> Principal:
    return Principal(subject=subject, town_id=TOWN_ID,
                     roles=frozenset({Role.EMERGENCY_MANAGER}))


WRITER, APPROVER = _manager("em-1"), _manager("em-2")


class World:
    def __init__(self, **town: object) -> None:
        self.towns = FakeTownDirectory()
        self.towns.towns[TOWN_ID] = Town(TOWN_ID, "Maple Falls", "America/Chicago", "c1",
                                         locale="en-US", **town)
        self.towns.catalogues[TOWN_ID] = Catalogue(
            (), zones=(_square("ward-1", -94.0), _square("ward-2", -93.0)))
        self.subscribers = FakeSubscribers()
        self.queue = FakeNoticeQueue()
        self.messenger = FakeMessenger()
        self.book = FakeNoticeBook()
        self.audit = FakeAuditLog()
        self.store = FakeAlerts()
        self.clock = [NOON]
        self.ports = alerts.AlertPorts(
            alerts=self.store, subscribers=self.subscribers, towns=self.towns,
            audit=self.audit, queue=self.queue, messenger=self.messenger, book=self.book,
            new_id=counter_ids("A"), now=lambda: self.clock[0],
            base_url="https://311.example", sleep=self.sleep)

    def sleep(self, seconds: float) -> None:
        self.clock[0] += timedelta(seconds=seconds)

    def join(self, n: int, zones: tuple[str, ...], *, phone: bool = True,
             email: bool = False, language: str = "en") -> Subscriber:
        s = Subscriber(town_id=TOWN_ID, subscriber_id=f"S{n:03d}", language=language,
                       zones=zones, created_at=NOON, status=ACTIVE,
                       phone=f"+1612555{n:04d}" if phone else None,
                       email=f"s{n}@example.org" if email else None)
        self.subscribers.save(s)
        return s

    def sent_alert(self, draft: Draft | None = None) -> Alert:
        made = alerts.compose(self.ports, WRITER, draft or Draft())
        return alerts.approve(self.ports, APPROVER, made.alert_id)

    def run_queue(self) -> list[dict[str, int]]:
        """Deliver what is on the queue as the notices worker would, fan-out first."""
        outcomes = []
        while self.queue.sent:
            body = json.loads(self.queue.sent.pop(0))
            if body["type"] == "alert":
                alerts.fan_out(self.ports, body["town_id"], body["alert_id"])
            else:
                outcomes.append(alerts.deliver(self.ports, body["town_id"],
                                               body["alert_id"], body["recipients"]))
        return outcomes


@pytest.fixture
def world() -> World:
    return World()


def test_a_draft_names_only_the_towns_zones_and_its_fallback_texts(world):
    with pytest.raises(InvalidInput) as refused:
        alerts.compose(world.ports, WRITER, Draft(zones=["ward-9"], body={"es": "Hierva"},
                                                  expires_at=NOON - timedelta(minutes=1)))
    assert {p.field for p in refused.value.problems} == {"zones", "body", "expires_at"}
    made = alerts.compose(world.ports, WRITER, Draft())
    assert made.status == "draft" and world.queue.sent == []
    assert [e.action for e in world.audit.entries] == ["alert.composed"]


def test_an_alert_needs_a_second_person_to_approve_it(world):
    made = alerts.compose(world.ports, WRITER, Draft())
    with pytest.raises(AccessDenied):
        alerts.approve(world.ports, WRITER, made.alert_id)
    approved = alerts.approve(world.ports, APPROVER, made.alert_id)
    assert approved.status == "sending" and approved.approved_by == "em-2"
    assert [json.loads(b)["type"] for b in world.queue.sent] == ["alert"]
    with pytest.raises(Conflict):
        alerts.approve(world.ports, APPROVER, made.alert_id)


def test_a_writer_approves_their_own_test_alert_only_where_the_town_allows_it():
    strict = World(alert_test_recipients=("em@maple.example",))
    test = alerts.compose(strict.ports, WRITER, Draft(test=True))
    with pytest.raises(AccessDenied):
        alerts.approve(strict.ports, WRITER, test.alert_id)
    relaxed = World(alert_test_recipients=("em@maple.example",),
                    alert_test_self_approval=True)
    test = alerts.compose(relaxed.ports, WRITER, Draft(test=True))
    assert alerts.approve(relaxed.ports, WRITER, test.alert_id).status == "sending"


def test_a_test_alert_with_no_test_list_is_not_approved(world):
    test = alerts.compose(world.ports, WRITER, Draft(test=True))
    with pytest.raises(Conflict):
        alerts.approve(world.ports, APPROVER, test.alert_id)


def test_each_subscriber_of_the_zones_is_reached_once_and_the_alert_is_then_sent(world):
    world.join(1, ("ward-1",))
    world.join(2, ("ward-1", "ward-2"), email=True)
    world.join(3, ("ward-2",))
    world.join(4, ())  # the whole town only: not in a ward's audience
    alert = world.sent_alert(Draft(zones=["ward-1", "ward-2"]))
    (outcome,) = world.run_queue()
    assert outcome["sent"] == 4 and outcome["repeated"] == 0
    assert sorted(m["phone"] or m["email"] for m in world.messenger.sent) == [
        "+16125550001", "+16125550002", "+16125550003", "s2@example.org"]
    found = world.store.get(TOWN_ID, alert.alert_id)
    assert found.status == "sent"
    assert alerts.progress(found)["settled"] == 4
    assert found.counts["recipients"] == 3 and found.counts["messages"] == 4


def test_a_whole_town_alert_reaches_everyone_in_batches(world):
    for n in range(BATCH_SIZE + 3):
        world.join(n, ("ward-1",) if n % 2 else ())
    world.sent_alert(Draft(zones=[]))
    outcomes = world.run_queue()
    assert [o["sent"] for o in outcomes] == [BATCH_SIZE, 3]
    assert len(world.messenger.sent) == BATCH_SIZE + 3
    # The town's number sent at most its texts per second: the batch waited its turns.
    assert max(world.store.slots.values()) == 5
    assert world.clock[0] >= NOON + timedelta(seconds=(BATCH_SIZE + 3) // 5 - 1)


def test_a_retried_batch_sends_nobody_the_alert_twice(world):
    world.join(1, ("ward-1",), email=True)
    alert = world.sent_alert()
    alerts.fan_out(world.ports, TOWN_ID, alert.alert_id)
    batch = json.loads(world.queue.sent[-1])["recipients"]
    first = alerts.deliver(world.ports, TOWN_ID, alert.alert_id, batch)
    again = alerts.deliver(world.ports, TOWN_ID, alert.alert_id, batch)
    assert (first["sent"], again["sent"], again["repeated"]) == (2, 0, 2)
    assert len(world.messenger.sent) == 2


def test_a_phone_that_texted_stop_gets_no_text_but_its_email_still_goes(world):
    s = world.join(1, ("ward-1",), email=True)
    (phone_hash,) = contact_hashes(None, s.phone)
    world.book.stop(None, phone_hash, NOON)
    world.sent_alert()
    (outcome,) = world.run_queue()
    assert (outcome["sent"], outcome["opted_out"]) == (1, 1)
    assert [m["email"] for m in world.messenger.sent] == ["s1@example.org"]


def test_each_subscriber_reads_it_in_their_language(world):
    world.join(1, ("ward-1",), language="es")
    world.join(2, ("ward-1",), language="fr")  # not written in French: the fallback
    world.sent_alert()
    world.run_queue()
    texts = {m["phone"]: m["text"] for m in world.messenger.sent}
    assert texts["+16125550001"].startswith("Hierva el agua: Hierva el agua.")
    assert texts["+16125550002"].startswith("Boil water: Boil tap water.")


def test_a_cancelled_alert_sends_nothing_more(world):
    world.join(1, ("ward-1",))
    alert = world.sent_alert()
    alerts.fan_out(world.ports, TOWN_ID, alert.alert_id)
    alerts.cancel(world.ports, WRITER, alert.alert_id)
    (outcome,) = world.run_queue()
    assert outcome["cancelled"] == 1 and world.messenger.sent == []


def test_a_test_alert_goes_to_the_test_list_only_and_says_test_first():
    world = World(alert_test_recipients=("em@maple.example", "+16125559999"))
    world.join(1, ("ward-1",))
    world.sent_alert(Draft(test=True))
    world.run_queue()
    assert sorted(m["email"] or m["phone"] for m in world.messenger.sent) == [
        "+16125559999", "em@maple.example"]
    assert all(m["text"].startswith("TEST") for m in world.messenger.sent)


def test_a_correction_goes_only_to_those_the_first_alert_reached(world):
    world.join(1, ("ward-1",))
    first = world.sent_alert()
    world.run_queue()
    world.join(2, ("ward-1",))  # joined after the first alert went out
    draft = alerts.correct(world.ports, WRITER, first.alert_id,
                           Draft(zones=["ward-2"], title={"en": "Correction"}))
    assert draft.zones == ("ward-1",) and draft.corrects == first.alert_id
    alerts.approve(world.ports, APPROVER, draft.alert_id)
    world.messenger.sent.clear()
    world.run_queue()
    assert [m["phone"] for m in world.messenger.sent] == ["+16125550001"]


def test_the_preview_counts_people_per_channel_and_language(world):
    world.join(1, ("ward-1",), email=True)
    world.join(2, ("ward-1",), language="es")
    made = alerts.compose(world.ports, WRITER, Draft())
    preview = alerts.preview(world.ports, WRITER, made.alert_id)
    assert preview["recipients"] == 2
    assert preview["by_channel"] == {"sms": {"en": 1, "es": 1}, "email": {"en": 1}}
    assert preview["sms_segments"] == 2 and world.messenger.sent == []
