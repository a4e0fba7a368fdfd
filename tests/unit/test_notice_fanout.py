"""Fan-out and sending of residents' messages, with fakes: batching, no repeats, stops."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.followers import FOLLOWER, REPORTER, Follower
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.schemas.notices import NoticeEvent
from chalicelib.services.notices import NoticePorts, handle, sms_reply
from tests.fakes import (
    FakeMessenger,
    FakeNoticeBook,
    FakeNoticeQueue,
    FakeRequestStore,
    FakeTownDirectory,
)

NOON = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 12:00 in Chicago


def _setup(followers: int) -> tuple[NoticePorts, FakeRequestStore, ServiceRequest]:
    towns = FakeTownDirectory()
    towns.towns["maple"] = Town("maple", "Maple Falls", "America/Chicago", "c1")
    store = FakeRequestStore()
    event = TimelineEvent(at=NOON, event_id="E1", kind="closed", summary="Closed: fixed")
    request = ServiceRequest(
        town_id="maple", request_id="R1", token_hash="T1", service_code="pothole",
        service_name="Pothole", requested_at=NOON, updated_at=NOON,
        place=Place(address="1 Main St"), status="closed", lifecycle="closed",
        resolution="fixed", tracking_number="K7QD-3M2P", timeline=[event])
    store.requests[("maple", "R1")] = request
    store.events[("maple", "R1")] = [event]
    for n in range(followers):
        role = REPORTER if n == 0 else FOLLOWER
        f = Follower.make(role, NOON, f"n{n}@example.org", f"+1555{n:07d}", None)
        store.followers.setdefault(("maple", "R1"), {})[f.follower_id] = f
    ports = NoticePorts(store=store, towns=towns, book=FakeNoticeBook(),
                        queue=FakeNoticeQueue(), messenger=FakeMessenger(), now=lambda: NOON)
    return ports, store, request


def _event() -> str:
    return NoticeEvent(town_id="maple", request_id="R1", event_id="E1",
                       kind="closed").model_dump_json()


def test_a_few_followers_are_told_at_once():
    ports, _, _ = _setup(3)
    outcome = handle(_event(), ports)
    assert outcome.sent == 6 and ports.queue.sent == []
    assert {m["email"] or m["phone"] for m in ports.messenger.sent} >= {"n0@example.org"}


def test_many_followers_go_back_on_the_queue_in_batches_of_fifty():
    ports, _, _ = _setup(120)
    assert handle(_event(), ports).sent == 0
    batches = list(ports.queue.sent)
    assert len(batches) == 3
    total = sum(handle(b, ports).sent for b in batches)
    assert total == 240
    # A redelivered batch sends nothing again.
    again = handle(batches[0], ports)
    assert (again.sent, again.repeated) == (0, 100)


def test_stopped_contacts_get_nothing_on_that_channel():
    ports, store, _ = _setup(2)
    first, second = store.followers_of("maple", "R1")
    sms_reply(ports.book, first.phone, "Stop", NOON)
    ports.book.stop("maple", second.contact_hashes[0], NOON)  # the e-mail link: everything
    outcome = handle(_event(), ports)
    sent = [m["email"] or m["phone"] for m in ports.messenger.sent]
    assert sent == [first.email]
    assert outcome.stopped == 2
    assert sms_reply(ports.book, first.phone, "start", NOON) == "restarted"
    assert sms_reply(ports.book, first.phone, "hello", NOON) is None
