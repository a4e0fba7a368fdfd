"""What strangers can make a town send, with fakes: countries, budgets, guesses, the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import InvalidInput, StorageUnavailable, Throttled
from chalicelib.domain.towns import Town
from chalicelib.services import outreach
from tests.fakes import FakeLimits, FakeMessenger, FakeTownDirectory

NOON = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
TOWN = Town("maple", "Maple Falls", "America/Chicago", "c1", locale="en-US")


def _ports(clock: list[datetime] | None = None) -> outreach.OutreachPorts:
    clock = clock or [NOON]
    return outreach.OutreachPorts(limits=FakeLimits(), now=lambda: clock[0])


def test_a_phone_is_e164_in_one_of_the_towns_countries():
    assert outreach.phone_for(TOWN, "(415) 555-0123") == "+14155550123"
    assert outreach.phone_for(TOWN, "  ") is None
    for foreign in ("+44 20 7946 0958", "+1 876 555 0100", "+882 1234 5678"):
        with pytest.raises(InvalidInput):
            outreach.phone_for(TOWN, foreign)
    both = Town("maple", "Maple Falls", "America/Chicago", "c1", sms_countries=("US", "CA"))
    assert outreach.phone_for(both, "+1 416 555 0123") == "+14165550123"  # Toronto


def test_a_contact_gets_three_an_hour_and_ten_a_day():
    clock = [NOON]
    ports = _ports(clock)
    allowed = 0
    for hour in range(6):
        clock[0] = NOON + timedelta(hours=hour)
        for _ in range(4):
            try:
                outreach.allow_anonymous_send(ports, TOWN, email="a@example.org", phone=None,
                                              source_ip=f"10.0.0.{hour}{_}", purpose="t")
                allowed += 1
            except Throttled:
                pass
    assert allowed == 10  # 3 an hour, until the day's 10 are spent


def test_a_source_and_a_town_have_budgets_and_refusals_are_counted():
    ports = _ports()
    for n in range(10):
        outreach.allow_anonymous_send(ports, TOWN, email=f"p{n}@example.org", phone=None,
                                      source_ip="203.0.113.1", purpose="sign_in")
    with pytest.raises(Throttled):
        outreach.allow_anonymous_send(ports, TOWN, email="p10@example.org", phone=None,
                                      source_ip="203.0.113.1", purpose="sign_in")
    small = Town("maple", "Maple Falls", "America/Chicago", "c1",
                 anonymous_messages_per_hour=11)
    outreach.allow_anonymous_send(ports, small, email="q@example.org", phone=None,
                                  source_ip="203.0.113.2", purpose="sign_in")
    with pytest.raises(Throttled):
        outreach.allow_anonymous_send(ports, small, email="r@example.org", phone=None,
                                      source_ip="203.0.113.3", purpose="sign_in")
    assert outreach.refusals(ports, TOWN) == {"2026-12-01": {"sign_in/source": 1,
                                                             "sign_in/town": 1}}


def test_guesses_are_budgeted_per_contact_and_per_source():
    ports = _ports()
    for _ in range(10):
        outreach.allow_guess(ports, TOWN, "contact-hash", None)
    with pytest.raises(Throttled):
        outreach.allow_guess(ports, TOWN, "contact-hash", None)
    for n in range(30):
        outreach.allow_guess(ports, TOWN, f"other-{n}", "198.51.100.1")
    with pytest.raises(Throttled):
        outreach.allow_guess(ports, TOWN, "yet-another", "198.51.100.1")


def test_every_text_is_metered_and_a_failed_one_is_given_back():
    towns = FakeTownDirectory()
    capped = Town("maple", "Maple Falls", "America/Chicago", "c1", sms_monthly_cap_usd=0.02)
    towns.towns["maple"] = capped
    outbox = FakeMessenger(fail_for={"+13125550199"})
    limits = FakeLimits()
    messenger = outreach.MeteredMessenger(lambda: outbox, towns, limits, lambda: NOON)
    messenger.send(town_id="maple", email="a@example.org", phone=None, subject="s", text="t")
    with pytest.raises(StorageUnavailable):
        messenger.send(town_id="maple", email=None, phone="+13125550199", subject="s",
                       text="t")
    assert limits.totals("maple", "sms#") == {"sms#2026-12": 0}  # given back
    for n in range(3):  # 0.02 USD is 3 segments
        messenger.send(town_id="maple", email=None, phone=f"(312) 555-010{n}", subject="s",
                       text="t")
    with pytest.raises(outreach.SmsCapReached):
        messenger.send(town_id="maple", email=None, phone="+13125550104", subject="s",
                       text="t")
    with pytest.raises(outreach.CountryNotServed):
        messenger.send(town_id="maple", email=None, phone="+442079460958", subject="s",
                       text="t")
    assert [m["phone"] or m["email"] for m in outbox.sent] == [
        "a@example.org", "+13125550100", "+13125550101", "+13125550102"]
