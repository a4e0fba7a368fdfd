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
        f = Follower.make(role, NOON, f"n{n}@example.org", f"+1312555{n:04d}", None,
                          confirmed=("email", "sms"))
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


def _add(store: FakeRequestStore, role: str, email: str | None, phone: str | None,
         confirmed: tuple[str, ...]) -> Follower:
    f = Follower.make(role, NOON, email, phone, None, confirmed=confirmed)
    store.followers.setdefault(("maple", "R1"), {})[f.follower_id] = f
    return f


def test_an_unproved_address_gets_nothing_but_the_receipts_confirm_link():
    ports, store, request = _setup(0)
    _add(store, FOLLOWER, "stranger@example.org", "+13125550199", ())
    assert handle(_event(), ports).unconfirmed == 2 and ports.messenger.sent == []
    # The reporter's own receipt is the one message an unproved address gets.
    submitted = TimelineEvent(at=NOON, event_id="E0", kind="submitted", summary="Reported")
    request.timeline.insert(0, submitted)
    _add(store, REPORTER, "ana@example.org", None, ())
    outcome = handle(NoticeEvent(town_id="maple", request_id="R1", event_id="E0",
                                 kind="submitted").model_dump_json(), ports)
    assert (outcome.sent, outcome.unconfirmed) == (1, 2)
    (mail,) = ports.messenger.sent
    assert mail["email"] == "ana@example.org" and "/towns/maple/confirm/" in mail["text"]
    assert "stop?key=" not in mail["text"]
    assert len(store.links) == 1 and all(len(k[1]) == 64 for k in store.links)  # hashes


def test_a_stop_link_stops_only_the_address_it_was_sent_to():
    from chalicelib.services.notices import stop_following

    ports, store, _ = _setup(0)
    follower = _add(store, FOLLOWER, "ben@example.org", "+13125550200", ("email", "sms"))
    handle(_event(), ports)
    mail = next(m for m in ports.messenger.sent if m["email"])
    key = mail["text"].split("stop?key=")[1].split()[0]
    assert stop_following(ports, "maple", "R1", follower.follower_id, key, True) == "town"
    kept = store.get_follower("maple", "R1", follower.follower_id)
    assert (kept.email, kept.phone) == (None, "+13125550200")
    # The town-wide stop covers the e-mail only; the phone still hears.
    assert ports.book.stopped("maple", kept.contact_hashes, []) == (set(), set())
