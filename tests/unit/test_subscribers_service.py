"""Residents signing up for emergency alerts, with fakes (chalicelib.services.subscribers):
double opt-in, zones from a list or a home point, and leaving by STOP, link or delete."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from chalicelib.domain.followers import contact_hashes, secret_hash
from chalicelib.domain.subscribers import ACTIVE, MAX_TRIES, PENDING
from chalicelib.domain.towns import Town
from chalicelib.domain.zones import Zone
from chalicelib.services import subscribers
from tests.fakes import FakeAlerts, FakeMessenger, FakeSubscribers, counter_ids

NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
TOWN = Town("maple", "Maple Falls", "America/Chicago", "c1", locale="en-US",
            locales=("en", "es"))
OTHER = Town("river", "Riverton", "America/New_York", "c1", locale="en-US")
PHONE = "+16125550100"


def _square(code: str, west: float) -> Zone:
    return Zone(code, code.title(), "ward", {"type": "Polygon", "coordinates": [[
        [west, 44.0], [west + 1, 44.0], [west + 1, 45.0], [west, 45.0], [west, 44.0]]]})


CATALOGUE = Catalogue((), zones=(_square("ward-1", -94.0), _square("ward-2", -93.0)))


class World:
    def __init__(self) -> None:
        self.clock = [NOON]
        self.store = FakeSubscribers()
        self.messenger = FakeMessenger()
        self.deliveries = FakeAlerts()
        self.ports = subscribers.SubscriberPorts(
            store=self.store, messenger=self.messenger, new_id=counter_ids("S"),
            now=lambda: self.clock[0], deliveries=self.deliveries)

    def subscribe(self, town: Town = TOWN, *, phone: str | None = PHONE,
                  email: str | None = None, zones: list[str] | None = None,
                  home: tuple[float, float] | None = None, language: str | None = None):
        return subscribers.subscribe(self.ports, town, CATALOGUE, email=email, phone=phone,
                                     language=language, zones=zones or [], home=home)

    def code(self) -> str:
        return re.search(r"\b(\d{6})\b", self.messenger.sent[-1]["text"]).group(1)

    def joined(self, town: Town = TOWN, **kwargs):  # noqa: ANN003
        pending = self.subscribe(town, **kwargs)
        return subscribers.confirm(self.ports, town, pending.subscriber_id, self.code())


@pytest.fixture
def world() -> World:
    return World()


def test_a_sign_up_is_pending_until_its_code_comes_back(world):
    pending = world.subscribe(zones=["ward-1"], language="es")
    assert pending.status == PENDING and pending.language == "es"
    sent = world.messenger.sent[0]
    assert sent["phone"] == PHONE and "Responda STOP" in sent["text"]
    assert list(world.store.audience("maple", "ward-1")) == []
    active = subscribers.confirm(world.ports, TOWN, pending.subscriber_id, world.code())
    assert active.status == ACTIVE and active.code_hash is None
    assert [p["subscriber_id"] for p in world.store.audience("maple", "ward-1")] == [
        pending.subscriber_id]


def test_without_a_phone_the_code_goes_by_email(world):
    world.subscribe(phone=None, email="ana@example.org")
    assert world.messenger.sent[0]["email"] == "ana@example.org"
    assert world.messenger.sent[0]["phone"] is None


def test_a_sign_up_needs_a_contact_and_the_towns_own_zones(world):
    with pytest.raises(InvalidInput):
        world.subscribe(phone=None, email=None)
    with pytest.raises(InvalidInput) as refused:
        world.subscribe(zones=["ward-9"])
    assert "ward-9" in str(refused.value.problems)
    assert world.messenger.sent == []


def test_a_home_point_adds_the_zones_it_lies_in(world):
    pending = world.subscribe(zones=["ward-1"], home=(44.5, -92.5))
    assert pending.zones == ("ward-1", "ward-2")


def test_a_wrong_code_is_refused_and_tries_run_out(world):
    pending = world.subscribe()
    right = world.code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(MAX_TRIES):
        with pytest.raises(Unauthenticated):
            subscribers.confirm(world.ports, TOWN, pending.subscriber_id, wrong)
    with pytest.raises(Conflict):
        subscribers.confirm(world.ports, TOWN, pending.subscriber_id, right)


def test_a_code_expires_after_a_day(world):
    pending = world.subscribe()
    world.clock[0] = NOON + timedelta(hours=25)
    with pytest.raises(Conflict):
        subscribers.confirm(world.ports, TOWN, pending.subscriber_id, world.code())


def test_a_confirmed_sign_up_cannot_be_confirmed_again(world):
    active = world.joined()
    with pytest.raises(Conflict):
        subscribers.confirm(world.ports, TOWN, active.subscriber_id, world.code())
    with pytest.raises(NotFound):
        subscribers.confirm(world.ports, TOWN, "S404", "000000")


def test_confirming_a_new_sign_up_replaces_the_contacts_earlier_one(world):
    first = world.joined(zones=["ward-1"])
    second = world.subscribe(zones=["ward-2"])
    # Until it is confirmed, the earlier subscription stays exactly as it was.
    assert subscribers.own(world.ports, TOWN, contact_hashes(None, PHONE)[0]) == first
    subscribers.confirm(world.ports, TOWN, second.subscriber_id, world.code())
    assert world.store.get("maple", first.subscriber_id) is None
    assert [p["subscriber_id"] for p in world.store.audience("maple", "*")] == [
        second.subscriber_id]


def test_stop_by_text_leaves_every_towns_alerts(world):
    world.joined(TOWN)
    world.joined(OTHER)
    assert subscribers.stop_by_phone(world.store, "(612) 555-0100") == 2
    assert list(world.store.audience("maple", "*")) == []
    assert list(world.store.audience("river", "*")) == []
    assert subscribers.stop_by_phone(world.store, PHONE) == 0


def test_the_stop_link_of_an_alert_email_stops_that_email_only(world):
    both = world.joined(email="ana@example.org")
    world.deliveries.claim("maple", "A1", f"{both.subscriber_id}#email", 0,
                           stop_hash=secret_hash("s3cret"))
    with pytest.raises(NotFound):
        subscribers.stop_by_link(world.ports, TOWN, both.subscriber_id, "A1.wrong")
    subscribers.stop_by_link(world.ports, TOWN, both.subscriber_id, "A1.s3cret")
    left = world.store.get("maple", both.subscriber_id)
    assert left.email is None and left.phone == PHONE  # the phone is not the link's to stop


def test_an_email_only_subscriber_leaves_with_an_older_link_too(world):
    # Links sent before each e-mail had its own carry the subscriber's stop key.
    only = dataclasses.replace(world.joined(phone=None, email="bo@example.org"),
                               stop_key="legacy-key")
    world.store.save(only)
    with pytest.raises(NotFound):
        subscribers.stop_by_link(world.ports, TOWN, only.subscriber_id, "other-key")
    subscribers.stop_by_link(world.ports, TOWN, only.subscriber_id, "legacy-key")
    assert world.store.get("maple", only.subscriber_id) is None
    with pytest.raises(NotFound):
        subscribers.stop_by_link(world.ports, TOWN, only.subscriber_id, "legacy-key")


def test_own_finds_only_a_confirmed_subscription(world):
    world.subscribe()
    with pytest.raises(NotFound):
        subscribers.own(world.ports, TOWN, contact_hashes(None, PHONE)[0])
