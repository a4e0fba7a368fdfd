"""A town admin's ways in through the admin API (issue 18): ``GET /admin/town`` shows the
town's SMS number and where residents e-mail reports (its own address or the default);
``PATCH /admin/town`` sets the e-mail intake address on the deployment's intake domain
(what a deployed stage can receive), refuses another town's address with a 409, and
goes back to the default when emptied. Mail follows the address."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib.services.towns import DEMO_SMS_NUMBER
from tests.functional.test_mail_intake import DOMAIN, _deliver, _mail

TOWN = "maplefalls.example"


@pytest.fixture
def mailroom(deployment):  # noqa: ANN001, ANN201
    """The deployment receiving mail on DOMAIN (as test_mail_intake's)."""
    c = deployment.container
    c.settings = dataclasses.replace(c.settings, mail_intake_domain=DOMAIN)
    return deployment


def _patch(api, staff, changes: dict, *, town: str = TOWN):  # noqa: ANN001, ANN202
    return api.http.patch("/admin/town", headers=staff.headers("town_admin", town=town),
                          body=json.dumps(changes).encode())


def _town(api, staff, *, town: str = TOWN) -> dict:  # noqa: ANN001
    r = api.http.get("/admin/town", headers=staff.headers("town_admin", town=town))
    assert r.status_code == 200, r.body
    return json.loads(r.body)["town"]


def _problems(response) -> list[str]:  # noqa: ANN001
    return [p["field"] for p in json.loads(response.body)["error"]["problems"]]


def test_the_town_shows_its_number_and_its_default_mail_address(api, staff, mailroom):
    town = _town(api, staff)
    assert town["sms_number"] == DEMO_SMS_NUMBER
    assert town["intake_email"] == f"{TOWN}@{DOMAIN}"
    assert town["intake_email_is_default"] is True


def test_a_town_admin_sets_the_towns_own_address_and_mail_to_it_is_drafted(api, staff,
                                                                          mailroom):
    r = _patch(api, staff, {"intake_email": f" Potholes@{DOMAIN.upper()} "})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["intake_email"] == f"potholes@{DOMAIN}"
    shown = _town(api, staff)
    assert (shown["intake_email"], shown["intake_email_is_default"]) == \
        (f"potholes@{DOMAIN}", False)
    assert _deliver(mailroom, _mail(to=f"potholes@{DOMAIN}"))[0] == {"drafted": 1}
    # The default address keeps working: its local part is the town's id.
    assert _deliver(mailroom, _mail(to=f"{TOWN}@{DOMAIN}", subject="Another"))[0] == \
        {"drafted": 1}
    entries = json.loads(api.http.get("/admin/audit", headers=staff.headers(
        "town_admin")).body)["entries"]
    assert any(e["action"] == "town.settings_changed" and
               e["details"].get("intake_email") == f"potholes@{DOMAIN}" for e in entries)


def test_a_bare_name_means_an_address_on_the_intake_domain(api, staff, mailroom):
    r = _patch(api, staff, {"intake_email": "streets"})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["intake_email"] == f"streets@{DOMAIN}"


def test_emptying_the_address_goes_back_to_the_default_and_frees_the_old_one(api, staff,
                                                                             mailroom):
    assert _patch(api, staff, {"intake_email": f"potholes@{DOMAIN}"}).status_code == 200
    for empty in ("", None):
        r = _patch(api, staff, {"intake_email": empty})
        assert r.status_code == 200, r.body
        assert json.loads(r.body)["intake_email"] == f"{TOWN}@{DOMAIN}"
        assert json.loads(r.body)["intake_email_is_default"] is True
    assert _deliver(mailroom, _mail(to=f"potholes@{DOMAIN}"))[0] == {"unknown_recipient": 1}
    # Freed: another town may now take it.
    assert _patch(api, staff, {"intake_email": f"potholes@{DOMAIN}"},
                  town="riverton.example").status_code == 200


def test_another_towns_address_is_a_conflict_naming_the_field(api, staff, mailroom):
    assert _patch(api, staff, {"intake_email": f"potholes@{DOMAIN}"},
                  town="riverton.example").status_code == 200
    for taken in (f"potholes@{DOMAIN}", f"riverton.example@{DOMAIN}"):
        r = _patch(api, staff, {"intake_email": taken})
        assert r.status_code == 409, (taken, r.body)
        assert _problems(r) == ["intake_email"]
    assert _town(api, staff)["intake_email_is_default"] is True
    # Mail to Riverton's address still reaches Riverton, not Maple Falls.
    assert _deliver(mailroom, _mail(to=f"potholes@{DOMAIN}"))[0] == {"drafted": 1}
    assert _town(api, staff, town="riverton.example")["intake_email"] == f"potholes@{DOMAIN}"


def test_addresses_a_deployment_cannot_receive_are_refused(api, staff, mailroom):
    for address in (f"potholes@mail.{DOMAIN}", "potholes@gmail.com", f"pot holes@{DOMAIN}",
                    f".potholes@{DOMAIN}", f"pot..holes@{DOMAIN}", f"postmaster@{DOMAIN}",
                    f"@{DOMAIN}", "x" * 255):
        r = _patch(api, staff, {"intake_email": address})
        assert r.status_code == 400, (address, r.body)
        assert _problems(r) == ["intake_email"], address
    assert _town(api, staff)["intake_email"] == f"{TOWN}@{DOMAIN}"


def test_without_an_intake_domain_no_address_can_be_set(api, staff):
    assert _town(api, staff)["intake_email"] is None
    r = _patch(api, staff, {"intake_email": "potholes@reports.town311.test"})
    assert r.status_code == 400
    assert "receives no e-mail" in r.body.decode()
    assert _patch(api, staff, {"intake_email": None}).status_code == 200


def test_a_refused_number_leaves_the_address_where_it_was(api, staff, mailroom):
    assert _patch(api, staff, {"sms_number": "+18005550399"},
                  town="riverton.example").status_code == 200
    r = _patch(api, staff, {"intake_email": f"potholes@{DOMAIN}",
                            "sms_number": "+18005550399"})
    assert r.status_code == 409, r.body
    assert _problems(r) == ["sms_number"]
    shown = _town(api, staff)
    assert shown["sms_number"] == DEMO_SMS_NUMBER and shown["intake_email_is_default"]
    # The new address's pointer was put back: it reaches nobody.
    assert _deliver(mailroom, _mail(to=f"potholes@{DOMAIN}"))[0] == {"unknown_recipient": 1}
