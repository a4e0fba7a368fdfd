"""Town administration on the console: the catalogue editor (a service with questions of
every datatype reaches Open311 and the resident pages), retire/restore, the town's
settings and branding; refused for other roles, field problems shown next to fields."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib import bootstrap
from tests.web.pages import html, text
from tests.web.test_console_entry import Desk, desk

TOWN = "maplefalls.example"
SERVICES = "/console/admin/services"

KERB = [("code", "kerb"), ("name", "Broken kerb"), ("group", "Streets"),
        ("description", "A kerb stone broken or missing."), ("keywords", "curb, kerb"),
        ("department", ""), ("duplicate_radius_m", "40"), ("duplicate_window_days", "20"),
        ("questions", "3"),
        ("q0_code", "side"), ("q0_datatype", "singlevaluelist"),
        ("q0_description", "Which side of the street?"), ("q0_required", "yes"),
        ("q0_values", "north = North side\nSouth side"),
        ("q1_code", "length"), ("q1_datatype", "number"),
        ("q1_description", "About how many metres?"), ("q1_hint", "A rough guess is fine"),
        ("q2_code", "damage"), ("q2_datatype", "multivaluelist"),
        ("q2_description", "What is damaged?"), ("q2_values", "Stone\nDrain grate"),
        ("action", "save")]


def later(deployment: Any) -> None:
    """A moment later, past the resident paths' cache (each container forgets within its
    window; the catalogue's changeset is the time of the change)."""
    deployment.clock[0] += timedelta(seconds=1)
    bootstrap.container().towns.forget()


def services_json(api: Any) -> list[dict[str, Any]]:
    listed = api.http.get(f"/towns/{TOWN}/open311/v2/services.json")
    assert listed.status_code == 200
    return json.loads(listed.body)


def test_a_town_admin_adds_a_service_with_questions(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    listing = admin.get(SERVICES)
    assert listing.status_code == 200 and "Pothole" in text(listing)
    admin.get(SERVICES + "/new")
    saved = admin.post(SERVICES + "/new", KERB)
    assert saved.status_code == 303, text(saved)
    later(deployment)
    assert saved.headers["Location"] == f"{SERVICES}?saved=kerb"
    assert "The service was saved." in text(admin.get(saved.headers["Location"]))
    kerb = next(s for s in services_json(api) if s["service_code"] == "kerb")
    assert kerb["service_name"] == "Broken kerb" and kerb["metadata"] is True
    definition = json.loads(api.http.get(
        f"/towns/{TOWN}/open311/v2/services/kerb.json").body)
    questions = {a["code"]: a for a in definition["attributes"]}
    assert questions["side"]["datatype"] == "singlevaluelist"
    assert questions["side"]["required"] is True
    assert [v["key"] for v in questions["side"]["values"]] == ["north", "south_side"]
    assert questions["length"]["datatype"] == "number"
    assert questions["length"]["datatype_description"] == "A rough guess is fine"
    assert [v["key"] for v in questions["damage"]["values"]] == ["stone", "drain_grate"]
    # The resident pages list it, and its report form asks its questions.
    assert "Broken kerb" in text(api.http.get(f"/towns/{TOWN}"))
    form = api.http.get(f"/towns/{TOWN}/report/kerb")
    assert "Which side of the street?" in text(form) and "South side" in text(form)
    # Editing keeps it whole, and removes a question when asked.
    page = admin.get(f"{SERVICES}/edit/kerb")
    assert 'value="Broken kerb"' in html(page) and "north = North side" in text(page)
    changed = admin.post(f"{SERVICES}/edit/kerb", [(n, v) for n, v in KERB if n != "code"]
                         + [("q1_remove", "yes")])
    assert changed.status_code == 303, text(changed)
    later(deployment)
    definition = json.loads(api.http.get(
        f"/towns/{TOWN}/open311/v2/services/kerb.json").body)
    assert [a["code"] for a in definition["attributes"]] == ["side", "damage"]


def test_a_service_is_retired_and_restored(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SERVICES)
    retired = admin.post(f"{SERVICES}/edit/pothole/retire", [])
    assert retired.status_code == 303
    later(deployment)
    assert "pothole" not in [s["service_code"] for s in services_json(api)]
    listing = admin.get(SERVICES)
    assert "Retired" in text(listing) and "Restore Pothole" in text(listing)
    restored = admin.post(f"{SERVICES}/edit/pothole/restore", [])
    assert restored.status_code == 303
    later(deployment)
    assert "pothole" in [s["service_code"] for s in services_json(api)]


def test_add_a_question_shows_one_more_without_saving(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SERVICES + "/new")
    more = admin.post(SERVICES + "/new", [*KERB[:-1], ("action", "add_question")])
    assert more.status_code == 200
    assert "Question 4" in text(more) and 'value="side"' in html(more)
    assert "kerb" not in [s["service_code"] for s in services_json(api)]


def test_bad_service_input_is_shown_next_to_fields_and_nothing_is_stored(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SERVICES + "/new")
    bad = admin.post(SERVICES + "/new", [
        ("code", "Bad Code!"), ("name", "<script>alert(1)</script>"), ("group", ""),
        ("description", ""), ("duplicate_radius_m", "9000"), ("duplicate_window_days", "30"),
        ("questions", "2"), ("q0_code", "side"), ("q0_datatype", "singlevaluelist"),
        ("q0_description", "Which side?"), ("q0_values", ""),
        ("q1_code", "side"), ("q1_datatype", "string"), ("q1_description", "Again"),
        ("action", "save")])
    assert bad.status_code == 400
    page = text(bad)
    assert "There is a problem" in page
    assert "A list question needs its answers, one a line" in page
    assert "Use 1 to 40 lowercase letters" in page
    assert 'id="q0_values-error"' in html(bad) and 'id="q1_code-error"' in html(bad)
    assert "<script>alert(1)</script>" not in html(bad)
    # Once the form's own problems are fixed, the API's checks speak per field too.
    worse = admin.post(SERVICES + "/new", [
        ("code", "Bad Code!"), ("name", "Fine"), ("group", ""), ("description", ""),
        ("duplicate_radius_m", "9000"), ("duplicate_window_days", "30"), ("questions", "0"),
        ("action", "save")])
    assert worse.status_code == 400
    assert 'id="group-error"' in html(worse)
    assert 'id="duplicate_radius_m-error"' in html(worse)
    assert "Enter a whole number of metres from 10 to 150" in text(worse)
    codes = [s["service_code"] for s in services_json(api)]
    assert "Bad Code!" not in codes and "fine" not in codes


def test_other_roles_are_refused_the_catalogue_and_the_settings(api, staff) -> None:
    for who in (desk(api, staff, "agent"), desk(api, staff, "analyst"),
                desk(api, staff, "department_worker", departments=("public_works",))):
        who.get("/console")
        assert who.post(SERVICES + "/new", KERB).status_code == 403
        assert who.post(f"{SERVICES}/edit/pothole/retire", []).status_code == 403
        assert who.get("/console/admin/town").status_code == 403
        assert who.post("/console/admin/town", [("name", "Taken over")]).status_code == 403
        menu = html(who.get("/console"))
        assert "/console/admin/services" not in menu and "/console/admin/town" not in menu
    assert "kerb" not in [s["service_code"] for s in services_json(api)]
    assert "pothole" in [s["service_code"] for s in services_json(api)]


def test_posts_without_the_csrf_token_are_refused(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SERVICES)
    assert admin.post(SERVICES + "/new", KERB, token="").status_code == 403
    assert admin.post(f"{SERVICES}/edit/pothole/retire", [], token="").status_code == 403
    assert admin.post("/console/admin/town", [("name", "X")], token="").status_code == 403
    assert "kerb" not in [s["service_code"] for s in services_json(api)]


def settings(admin: Desk, **changes: str) -> Any:
    fields = {"name": "Maple Falls", "contact_email": "311@maplefalls.example",
              "contact_phone": "", "contact_url": "", "photo_limit": "5",
              "display_name": "", "logo_url": "", "primary_colour": "#1f5f8b",
              "accent_colour": "#f2a900"} | changes
    return admin.post("/console/admin/town", [*fields.items(), ("locales", "en"),
                                              ("locales", "es")])


def test_a_town_admin_changes_the_settings_and_branding(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get("/console/admin/town")
    assert page.status_code == 200
    assert 'value="Maple Falls"' in html(page)
    assert f'href="/towns/{TOWN}"' in html(page)
    saved = settings(admin, display_name="Maple Falls Public Works",
                     primary_colour="#123456", photo_limit="3")
    assert saved.status_code == 303, text(saved)
    later(deployment)
    town = deployment.container.towns.get_town(TOWN)
    assert town.branding.display_name == "Maple Falls Public Works"
    assert town.branding.primary_colour == "#123456" and town.photo_limit == 3
    assert town.locales == ("en", "es")
    assert "Maple Falls Public Works" in text(api.http.get(f"/towns/{TOWN}"))
    assert "The settings were saved." in text(admin.get("/console/admin/town?saved=1"))


def test_bad_settings_are_shown_next_to_fields_and_nothing_is_stored(api, staff,
                                                                     deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get("/console/admin/town")
    bad = settings(admin, name="", photo_limit="99", primary_colour="red",
                   logo_url="http://insecure.example/logo.png", contact_email="nope")
    assert bad.status_code == 400
    for field in ("name", "photo_limit", "primary_colour", "logo_url", "contact_email"):
        assert f'id="{field}-error"' in html(bad), field
    assert "Enter a whole number from 1 to 10" in text(bad)
    town = deployment.container.towns.get_town(TOWN)
    assert town.name == "Maple Falls" and town.photo_limit != 99


def test_the_catalogue_editor_in_spanish(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    page = api.http.get(f"{SERVICES}?lang=es", headers={"Cookie": admin.cookie()})
    assert "Añadir un servicio" in text(page)


def test_a_town_admin_sets_what_open_data_blurs(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get("/console/admin/town")
    assert 'id="open_data_grid_m"' in html(page) and 'value="250"' in html(page)
    assert 'id="sensitive-abandoned_vehicle"' in html(page)
    fields = {"name": "Maple Falls", "contact_email": "311@maplefalls.example",
              "contact_phone": "", "contact_url": "", "photo_limit": "5",
              "display_name": "", "logo_url": "", "primary_colour": "#1f5f8b",
              "accent_colour": "#f2a900", "open_data_grid_m": "500"}
    saved = admin.post("/console/admin/town", [*fields.items(), ("locales", "en"),
                                               ("sensitive_services", "abandoned_vehicle"),
                                               ("sensitive_services", "water_leak")])
    assert saved.status_code == 303, text(saved)
    town = deployment.container.town_store.get_town(TOWN)
    assert town.open_data_grid_m == 500
    assert town.sensitive_services == ("abandoned_vehicle", "water_leak")
    shown = admin.get("/console/admin/town")
    assert 'id="sensitive-water_leak" name="sensitive_services" value="water_leak" checked' \
        in html(shown)
    bad = admin.post("/console/admin/town", [*(fields | {"open_data_grid_m": "5"}).items(),
                                             ("locales", "en")])
    assert bad.status_code == 400
    assert 'id="open_data_grid_m-error"' in html(bad)
    assert "Enter a whole number of metres from 50 to 5000" in text(bad)
    assert deployment.container.town_store.get_town(TOWN).open_data_grid_m == 500
