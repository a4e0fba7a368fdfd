"""Town administration on the console, part two: a service's SLA and priority answers,
adding a template pack, opening hours, holidays and emergency mode, the preview of the
resident page with unsaved settings, and edits reaching this container's resident pages
at once. Each through the admin service (other roles refused there), bad input shown
next to its field with nothing stored."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.sla import SlaTarget, us_federal_holidays
from tests.web.pages import html, text
from tests.web.test_console_admin import KERB, SERVICES, TOWN, later, services_json, settings
from tests.web.test_console_entry import desk

HOURS = "/console/admin/town/hours"
PREVIEW = "/console/admin/town/preview"
PACKS = "/console/admin/services/packs"


def stored_town(deployment: Any) -> Any:
    return deployment.container.town_store.get_town(TOWN)


def stored_service(deployment: Any, code: str) -> Any:
    town = stored_town(deployment)
    return deployment.container.town_store.get_catalogue(TOWN, town.changeset).by_code.get(code)


WITH_SLA = [*KERB[:-1], ("sla_amount", "2"), ("sla_unit", "business_days"),
            ("priorities", "2"), ("p0_rule", "side=north"), ("p0_amount", "4"),
            ("p0_unit", "hours"), ("p1_rule", ""), ("p1_amount", ""),
            ("p1_unit", "business_hours"), ("action", "save")]


# --- the service level ------------------------------------------------------------------------


def test_a_service_gets_a_due_time_and_a_priority_answer(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    form = admin.get(SERVICES + "/new")
    assert "Due within" in text(form) and "working days" in text(form)
    saved = admin.post(SERVICES + "/new", WITH_SLA)
    assert saved.status_code == 303, text(saved)
    sla = stored_service(deployment, "kerb").sla
    assert sla.target == SlaTarget(2, "business_days")
    assert [(p.question, p.answer, p.target) for p in sla.priorities] == [
        ("side", "north", SlaTarget(4, "hours"))]
    # The form shows them again, the priority chosen among the list questions' answers.
    page = html(admin.get(f"{SERVICES}/edit/kerb"))
    assert 'id="sla_amount" name="sla_amount" inputmode="decimal" value="2"' in page
    assert re.search(r'<option value="business_days" selected>', page)
    assert '<option value="side=north" selected>Which side of the street?: North side' in page
    assert '<option value="side=south_side">' in page
    # Removing the priority and the due time leaves the service without an SLA.
    cleared = admin.post(f"{SERVICES}/edit/kerb", [
        *[(n, v) for n, v in WITH_SLA if n not in ("code", "sla_amount", "action")],
        ("sla_amount", ""), ("p0_remove", "yes"), ("action", "save")])
    assert cleared.status_code == 303, text(cleared)
    assert stored_service(deployment, "kerb").sla is None


def test_the_pack_services_priorities_are_shown_and_kept(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    listing = text(admin.get(SERVICES))
    assert "Pothole pothole Streets & Sidewalks 3 3 working days" in listing
    page = html(admin.get(f"{SERVICES}/edit/pothole"))
    assert '<option value="in_traffic_lane=yes" selected>' in page
    assert 'name="sla_amount" inputmode="decimal" value="3"' in page


def test_bad_service_levels_are_shown_next_to_fields_and_nothing_is_stored(
        api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(SERVICES + "/new")
    no_usual = admin.post(SERVICES + "/new", [
        (n, "") if n == "sla_amount" else (n, v) for n, v in WITH_SLA])
    assert no_usual.status_code == 400
    assert 'id="sla_amount-error"' in html(no_usual)
    assert "Enter a time greater than zero" in text(no_usual)
    bad_amounts = admin.post(SERVICES + "/new", [
        (n, {"sla_amount": "0", "p0_amount": "soon"}.get(n, v)) for n, v in WITH_SLA])
    assert bad_amounts.status_code == 400
    assert 'id="sla_amount-error"' in html(bad_amounts)
    assert 'id="p0_amount-error"' in html(bad_amounts)
    # A priority on an answer the question does not have (a forged form).
    forged = admin.post(SERVICES + "/new", [
        (n, "side=east" if n == "p0_rule" else v) for n, v in WITH_SLA])
    assert forged.status_code == 400 and 'id="p0_rule-error"' in html(forged)
    assert "Choose an answer of one of this service" in text(forged)
    assert stored_service(deployment, "kerb") is None


# --- template packs ---------------------------------------------------------------------------


def test_a_template_pack_shows_what_it_adds_then_adds_it(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    listing = admin.get(SERVICES)
    assert f'href="{PACKS}"' in html(listing)
    choose = admin.get(PACKS)
    assert choose.status_code == 200
    assert "Rural township starter catalogue" in text(choose)
    shown = admin.get(PACKS + "?pack=rural_township")
    page = text(shown)
    assert "Gravel road needs grading" in page and "Loose livestock" in page
    assert "Animal control" in page or "animal_control" in page
    assert "Pothole" not in page.split("What this pack would add")[1]  # the town has it
    assert "gravel_road" not in [s["service_code"] for s in services_json(api)]
    added = admin.post(PACKS, [("pack", "rural_township")])
    assert added.status_code == 303
    assert added.headers["Location"] == f"{SERVICES}?saved=pack&added=9"
    assert "9 services" in text(admin.get(added.headers["Location"]))
    later(deployment)
    assert "gravel_road" in [s["service_code"] for s in services_json(api)]
    again = admin.get(PACKS + "?pack=rural_township")
    assert "Your town already has everything in this pack." in text(again)


def test_an_unknown_pack_is_a_problem_on_the_form(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    unknown = admin.get(PACKS + "?pack=../../etc")
    assert unknown.status_code == 400
    assert 'id="pack-error"' in html(unknown)
    assert "Choose one of the template packs" in text(unknown)
    admin.get(PACKS)
    refused = admin.post(PACKS, [("pack", "no_such_pack")])
    assert refused.status_code == 400


# --- hours, holidays, emergency mode ----------------------------------------------------------


WEEK = [(f"{day}_{edge}", t) for day in ("monday", "tuesday", "wednesday", "thursday",
                                         "friday")
        for edge, t in (("opens", "07:30"), ("closes", "16:00"))] + [
    ("saturday_opens", "09:00"), ("saturday_closes", "12:00"),
    ("sunday_opens", ""), ("sunday_closes", "")]


def test_a_town_admin_sets_the_opening_hours(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert f'href="{HOURS}"' in html(admin.get("/console/admin/town"))
    page = admin.get(HOURS)
    assert page.status_code == 200
    assert 'id="monday_opens" name="monday_opens" value="08:00"' in html(page)
    saved = admin.post(HOURS, WEEK)
    assert saved.status_code == 303, text(saved)
    calendar = stored_town(deployment).calendar
    assert calendar.hours["monday"] == ("07:30", "16:00")
    assert calendar.hours["saturday"] == ("09:00", "12:00")
    assert calendar.hours["sunday"] is None
    assert "The opening hours were saved." in text(admin.get(saved.headers["Location"]))


def test_bad_opening_hours_are_shown_and_nothing_is_stored(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(HOURS)
    bad = admin.post(HOURS, [(n, {"monday_closes": "07:00", "tuesday_opens": "25:00",
                                  "sunday_opens": "10:00"}.get(n, v)) for n, v in WEEK])
    assert bad.status_code == 400
    for field in ("monday_closes", "tuesday_opens", "sunday_closes"):
        assert f'id="{field}-error"' in html(bad), field
    assert "There is a problem" in text(bad)
    assert 'value="25:00"' in html(bad)  # what was typed, to correct
    assert stored_town(deployment).calendar.hours["monday"] == ("08:00", "17:00")


def test_holidays_are_added_and_removed(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    before = stored_town(deployment).calendar.holidays
    admin.get(HOURS)
    added = admin.post(HOURS + "/holidays", [("holiday", "2026-12-24")])
    assert added.status_code == 303
    holidays = stored_town(deployment).calendar.holidays
    assert date(2026, 12, 24) in holidays and set(before) < set(holidays)
    page = admin.get(added.headers["Location"])
    assert "The holiday was added." in text(page) and "Remove 2026-12-24" in text(page)
    twice = admin.post(HOURS + "/holidays", [("holiday", "2026-12-24")])
    assert twice.status_code == 400 and "That day is already a holiday" in text(twice)
    nonsense = admin.post(HOURS + "/holidays", [("holiday", "24/12/2026")])
    assert nonsense.status_code == 400 and 'id="holiday-error"' in html(nonsense)
    removed = admin.post(HOURS + "/holidays", [("remove", "2026-12-24")])
    assert removed.status_code == 303
    assert stored_town(deployment).calendar.holidays == before


def test_the_us_federal_holidays_of_a_year_are_added(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(HOURS)
    admin.post(HOURS + "/holidays", [("holiday", "2028-03-01")])
    added = admin.post(HOURS + "/holidays", [("federal_year", "2028")])
    assert added.status_code == 303
    of_2028 = [d for d in stored_town(deployment).calendar.holidays if d.year == 2028]
    assert date(2028, 7, 4) in of_2028 and date(2028, 3, 1) in of_2028
    # New Year's Day 2028 is a Saturday: observed on Friday 31 December 2027.
    assert set(of_2028) >= set(us_federal_holidays(2028)) - {date(2027, 12, 31)}
    assert admin.post(HOURS + "/holidays", [("federal_year", "1066")]).status_code == 400


def test_emergency_mode_pauses_or_replaces_service_levels(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get(HOURS)
    assert "no one is sent anything" in text(page)
    codes = re.findall(r'name="service" value="([^"]+)"', html(page))
    assert "pothole" in codes
    fields = [("emergency", "on"), *[("service", c) for c in codes],
              ("e_pothole", "paused"), ("e_graffiti", "target"),
              ("e_graffiti_amount", "10"), ("e_graffiti_unit", "business_days")]
    saved = admin.post(HOURS + "/emergency", fields)
    assert saved.status_code == 303, text(saved)
    town = stored_town(deployment)
    assert town.emergency_active is True
    assert town.emergency_services == {"pothole": None,
                                       "graffiti": SlaTarget(10, "business_days")}
    assert town.sla_ladder == ((0.8, "department"), (1.0, "supervisor"), (1.5, "town_admin"))
    shown = admin.get(saved.headers["Location"])
    assert "Emergency mode is on." in text(shown)
    assert '<option value="paused" selected>' in html(shown)
    off = admin.post(HOURS + "/emergency", [("emergency", "off"),
                                            *[("service", c) for c in codes]])
    assert off.status_code == 303
    assert stored_town(deployment).emergency_active is False


def test_a_bad_emergency_time_is_shown_and_nothing_is_stored(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(HOURS)
    bad = admin.post(HOURS + "/emergency", [
        ("emergency", "on"), ("service", "graffiti"), ("e_graffiti", "target"),
        ("e_graffiti_amount", "-3"), ("e_graffiti_unit", "hours")])
    assert bad.status_code == 400
    assert 'id="e_graffiti_amount-error"' in html(bad) and 'value="-3"' in html(bad)
    assert stored_town(deployment).emergency_active is False


# --- the preview --------------------------------------------------------------------------------


def preview(admin: Any, **changes: str) -> Any:
    fields = {"name": "Maple Falls", "contact_email": "311@maplefalls.example",
              "contact_phone": "", "contact_url": "", "photo_limit": "5",
              "display_name": "", "logo_url": "", "primary_colour": "#1f5f8b",
              "accent_colour": "#f2a900"} | changes
    return admin.post(PREVIEW, [*fields.items(), ("locales", "en"), ("locales", "es")])


def test_the_preview_shows_the_resident_page_with_unsaved_settings(api, staff,
                                                                   deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert f'formaction="{PREVIEW}"' in html(admin.get("/console/admin/town"))
    shown = preview(admin, display_name="Maple Falls Preview", primary_colour="#123456",
                    logo_url="https://maplefalls.example/logo.png",
                    contact_phone="(612) 555-0100")
    assert shown.status_code == 200, text(shown)
    page = text(shown)
    assert page.count("Preview — not saved") >= 1 and "Nothing has been saved" in page
    assert "Maple Falls Preview" in page and "Pothole" in page
    assert "What's the problem?" in page and "(612) 555-0100" in page
    body = html(shown)
    assert "--town-primary:#123456" in body
    assert 'src="https://maplefalls.example/logo.png"' in body
    # The colours go in the one nonce'd style block; no inline style or script.
    nonce = re.search(r"'nonce-([^']+)'", shown.headers["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in body
    assert " style=" not in body and "<script>" not in body
    town = stored_town(deployment)
    assert town.branding.display_name is None and town.branding.primary_colour == "#1f5f8b"
    assert "Maple Falls Preview" not in text(api.http.get(f"/towns/{TOWN}"))


def test_a_refused_preview_is_the_settings_form_with_its_problems(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get("/console/admin/town")
    bad = preview(admin, primary_colour="red", display_name="<script>alert(1)</script>")
    assert bad.status_code == 400
    assert 'id="primary_colour-error"' in html(bad) and "Town settings" in text(bad)
    assert "<script>alert(1)</script>" not in html(bad)
    assert preview(admin, display_name="<b>Bold</b>").status_code == 200
    assert "<b>Bold</b>" not in html(preview(admin, display_name="<b>Bold</b>"))


def test_the_preview_needs_the_csrf_token_and_the_permission(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get("/console/admin/town")
    assert admin.post(PREVIEW, [("name", "X")], token="").status_code == 403
    for role in ("agent", "analyst", "emergency_manager"):
        other = desk(api, staff, role)
        other.get("/console")
        refused = preview(other, display_name="Taken over")
        assert refused.status_code == 403 and "Taken over" not in text(refused)
    # A link inside the preview (its language switcher) goes back to the settings.
    back = admin.get(PREVIEW + "?lang=es")
    assert back.status_code == 303 and back.headers["Location"] == "/console/admin/town"


# --- edits reaching residents -------------------------------------------------------------------


def test_this_containers_resident_pages_show_an_edit_at_once(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert "Maple Falls" in text(api.http.get(f"/towns/{TOWN}"))  # now cached here
    # The cache is real: a change behind its back is not seen yet...
    town = stored_town(deployment)
    deployment.container.town_store.save_town(town.__class__(**{
        **town.__dict__, "name": "Changed Behind"}))
    assert "Changed Behind" not in text(api.http.get(f"/towns/{TOWN}"))
    # ...but the console's own save drops this container's copy.
    deployment.clock[0] += timedelta(seconds=1)
    admin.get("/console/admin/town")
    saved = settings(admin, display_name="Maple Falls Works")
    assert saved.status_code == 303
    assert "Maple Falls Works" in text(api.http.get(f"/towns/{TOWN}"))
    page = text(admin.get("/console/admin/town?saved=1"))
    assert "the other servers pick them up within a minute" in page
    # A catalogue edit too (its new changeset comes with the re-read town).
    deployment.clock[0] += timedelta(seconds=1)
    admin.get(SERVICES)
    assert admin.post(f"{SERVICES}/edit/graffiti/retire", []).status_code == 303
    assert "graffiti" not in [s["service_code"] for s in services_json(api)]
    assert bootstrap.container().towns is deployment.container.towns


# --- Spanish ----------------------------------------------------------------------------------


def test_the_new_screens_in_spanish(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    cookie = {"Cookie": admin.cookie() + "; t311_lang=es"}
    hours = text(api.http.get(HOURS + "?lang=es", headers={"Cookie": admin.cookie()}))
    assert "Horario y festivos" in hours and "Lunes" in hours
    packs = text(api.http.get(PACKS + "?pack=rural_township", headers=cookie))
    assert "Añadir un paquete de plantillas" in packs
    service = text(api.http.get(f"{SERVICES}/edit/pothole", headers=cookie))
    assert "Nivel de servicio" in service
    admin.get("/console/admin/town")
    cookie = {"Cookie": admin.cookie() + "; t311_lang=es"}  # with the CSRF cookie now
    shown = api.http.post(PREVIEW, body="&".join([
        f"csrf_token={admin.csrf}", "name=Maple+Falls", "photo_limit=5", "locales=en",
        "locales=es", "primary_colour=%231f5f8b", "accent_colour=%23f2a900"]),
        headers={"Content-Type": "application/x-www-form-urlencoded", **cookie})
    assert shown.status_code == 200 and "Vista previa: no guardada" in text(shown)
    assert "¿Cuál es el problema?" in text(shown)  # the home page itself, in Spanish
