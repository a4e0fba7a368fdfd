"""The town's ways in on the console's settings screen (issue 18): the SMS number residents
text and the address they e-mail reports to, shown as they stand (the default address
when the town set none) and set through PATCH /admin/town's service. A refused number or
address comes back next to its field with the error summary (400, never a 500), nothing
stored; other towns' numbers and addresses are refused the same way."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from chalicelib.services.towns import DEMO_SMS_NUMBER
from tests.web.pages import html, text
from tests.web.test_console_entry import desk

TOWN = "maplefalls.example"
SETTINGS = "/console/admin/town"
WAYS_IN = SETTINGS + "/ways-in"
DOMAIN = "reports.town311.test"


@pytest.fixture
def receiving(deployment: Any) -> Any:
    """The deployment receiving mail on DOMAIN."""
    c = deployment.container
    c.settings = dataclasses.replace(c.settings, mail_intake_domain=DOMAIN)
    return deployment


def stored(deployment: Any, town: str = TOWN) -> Any:
    return deployment.container.town_store.get_town(town)


def test_the_settings_show_the_number_and_the_default_address(api, staff, receiving) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get(SETTINGS)
    assert page.status_code == 200
    words = text(page)
    assert "Ways in: texts and e-mail" in words
    assert f"Text messages to {DEMO_SMS_NUMBER}" in words
    assert f"E-mail to {TOWN}@{DOMAIN} (the town's default address)" in words
    assert f'id="sms_number" name="sms_number" type="tel" value="{DEMO_SMS_NUMBER}"' in html(page)
    # The address field is empty (the default), its hint names the default.
    assert 'id="intake_email" name="intake_email" type="email" value=""' in html(page)
    assert f"use the default address, {TOWN}@{DOMAIN}." in words


def test_a_town_admin_sets_the_number_and_the_address(api, staff, receiving) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SETTINGS)
    saved = admin.post(WAYS_IN, [("sms_number", "(800) 555-0377"),
                                 ("intake_email", f"Potholes@{DOMAIN}")])
    assert saved.status_code == 303, text(saved)
    assert saved.headers["Location"] == f"{SETTINGS}?saved=ways"
    town = stored(receiving)
    assert (town.sms_number, town.intake_email) == ("+18005550377", f"potholes@{DOMAIN}")
    page = admin.get(saved.headers["Location"])
    assert "The ways in were saved." in text(page)
    assert f"E-mail to potholes@{DOMAIN}" in text(page)
    assert "default address)" not in text(page).split("SMS number")[0]
    assert f'value="potholes@{DOMAIN}"' in html(page)
    # The admin API says the same.
    shown = json.loads(api.http.get("/admin/town", headers=staff.headers("town_admin")).body)
    assert shown["town"]["sms_number"] == "+18005550377"
    # Emptying both: no number, the default address again.
    cleared = admin.post(WAYS_IN, [("sms_number", ""), ("intake_email", "")])
    assert cleared.status_code == 303, text(cleared)
    assert (stored(receiving).sms_number, stored(receiving).intake_email) == (None, None)
    assert "No number yet: residents cannot report by text." in text(admin.get(SETTINGS))


@pytest.mark.parametrize("number", ["12", "not a number", "+1 555 0100 000 0000 0000"])
def test_a_bad_number_is_shown_next_to_its_field(api, staff, receiving, number) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SETTINGS)
    bad = admin.post(WAYS_IN, [("sms_number", number), ("intake_email", "")])
    assert bad.status_code == 400, text(bad)
    page = html(bad)
    assert 'id="sms_number-error"' in page and "usa-input--error" in page
    assert "There is a problem" in text(bad) and 'href="#sms_number"' in page
    assert "Enter a phone number residents can text, with its country code" in text(bad)
    assert f'value="{number}"' in page  # as typed, to correct
    assert stored(receiving).sms_number == DEMO_SMS_NUMBER
    assert text(bad).startswith("Error: ") or "<title>Error: " in page


def test_another_towns_number_is_a_field_error_not_a_500(api, staff, receiving) -> None:
    other = desk(api, staff, "town_admin")
    other.get(SETTINGS)
    theirs = api.http.patch("/admin/town", headers=staff.headers("town_admin",
                                                                 town="riverton.example"),
                            body=json.dumps({"sms_number": "+18005550388"}).encode())
    assert theirs.status_code == 200
    taken = other.post(WAYS_IN, [("sms_number", "+1 800 555 0388"), ("intake_email", "")])
    assert taken.status_code == 400, text(taken)
    assert 'id="sms_number-error"' in html(taken)
    assert "Another town already uses this number" in text(taken)
    assert stored(receiving).sms_number == DEMO_SMS_NUMBER
    assert stored(receiving, "riverton.example").sms_number == "+18005550388"


@pytest.mark.parametrize(("address", "says"), [
    ("potholes@gmail.com", f"Enter an address ending in @{DOMAIN}"),
    (f"potholes@mail.{DOMAIN}", f"Enter an address ending in @{DOMAIN}"),
    (f"pot holes@{DOMAIN}", f"Enter an address ending in @{DOMAIN}"),
    (f"postmaster@{DOMAIN}", f"Enter an address ending in @{DOMAIN}"),
    (f"riverton.example@{DOMAIN}", "Another town already uses this address"),
])
def test_a_bad_or_taken_address_is_shown_next_to_its_field(api, staff, receiving, address,
                                                         says) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SETTINGS)
    bad = admin.post(WAYS_IN, [("sms_number", DEMO_SMS_NUMBER), ("intake_email", address)])
    assert bad.status_code == 400, text(bad)
    assert 'id="intake_email-error"' in html(bad) and 'href="#intake_email"' in html(bad)
    assert says in text(bad)
    assert stored(receiving).intake_email is None


def test_without_an_intake_domain_there_is_no_address_to_set(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get(SETTINGS)
    assert "E-mail to This server receives no e-mail." in text(page)
    assert 'id="intake_email"' not in html(page)
    # The number alone is saved, and no address is touched.
    saved = admin.post(WAYS_IN, [("sms_number", "+1 800 555 0399")])
    assert saved.status_code == 303, text(saved)
    assert stored(deployment).sms_number == "+18005550399"


def test_only_those_who_configure_the_town_set_its_ways_in(api, staff, receiving) -> None:
    agent = desk(api, staff, "agent")
    agent.get("/console/inbox")
    refused = agent.post(WAYS_IN, [("sms_number", "+1 800 555 0366")])
    assert refused.status_code == 403
    assert stored(receiving).sms_number == DEMO_SMS_NUMBER


def test_the_ways_in_in_spanish(api, staff, receiving) -> None:
    admin = desk(api, staff, "town_admin")
    page = api.http.get(f"{SETTINGS}?lang=es", headers={"Cookie": admin.cookie()})
    words = text(page)
    assert "Vías de entrada: mensajes de texto y correo electrónico" in words
    assert "(la dirección predeterminada del municipio)" in words
