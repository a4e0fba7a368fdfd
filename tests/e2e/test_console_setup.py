"""The console's town administration, part two, in a real browser: axe-core on the
departments, zones, routing rules (with a dry run) and gazetteer screens."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_the_setup_screens_are_accessible(page, local_run) -> None:
    _sign_in(page, "town_admin", "/console/admin/departments")
    expect(page.get_by_role("heading", level=1)).to_have_text("Departments")
    check_accessibility(page)
    page.get_by_role("link", name="Add a department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a department")
    check_accessibility(page)
    page.get_by_role("link", name="Zones").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zones")
    check_accessibility(page)
    page.get_by_role("link", name="Routing rules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Routing rules")
    check_accessibility(page)
    page.get_by_label("Service", exact=True).last.select_option("pothole")
    page.get_by_label("Latitude").fill("44.975")
    page.get_by_label("Longitude").fill("-93.268")
    page.get_by_role("button", name="Try it").click()
    expect(page.get_by_text(re.compile("^It would go to"))).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Places (gazetteer)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Places (gazetteer)")
    check_accessibility(page)
