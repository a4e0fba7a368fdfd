"""The console's work screens in a real browser: the demo department worker (Public Works)
signs in, opens the inbox, acknowledges and closes a request the test filed through
Open311, and the resident's track page shows it closed; axe-core on the inbox and the
request page; the inbox used from the keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot
from tests.e2e.test_resident_journeys import _file


def _sign_in_as_the_crew(page: Page) -> None:
    page.goto("/console/sign-in?next=/console/inbox")
    page.get_by_role("button", name="Sign in as department_worker").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My inbox")


def _tab_to_first_request(page: Page, limit: int = 60) -> None:
    """Press Tab until the focus is on the inbox's first request link."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === "
                         "document.querySelector('.console-table a')"):
            return
    raise AssertionError("Tab never reached the inbox's first request")


def test_the_crew_acknowledges_and_closes_a_request_the_resident_then_sees_closed(
        desktop_page, local_run, http) -> None:
    page = desktop_page
    filed = _file(http, local_run)
    _sign_in_as_the_crew(page)
    link = page.get_by_role("link", name=re.compile(re.escape(filed["number"])))
    expect(link).to_be_visible()
    check_accessibility(page)
    screenshot(page, "console-inbox-desktop")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(filed["number"])
    expect(page.get_by_role("heading", name="State: With the department")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "console-request-desktop")

    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.get_by_role("heading", name="State: Acknowledged")).to_be_visible()
    page.get_by_label("Fixed", exact=True).check()
    page.get_by_label("Closing note for the resident (optional)").fill(
        "Filled with hot asphalt")
    page.get_by_role("button", name="Close the request").click()
    expect(page.get_by_role("heading", name="State: Closed")).to_be_visible()
    expect(page.get_by_text("Filled with hot asphalt").first).to_be_visible()

    page.goto(f"/towns/{local_run.town}/track/{filed['number']}")
    expect(page.get_by_role("heading", name=re.compile("^Status: Closed"))).to_be_visible()
    expect(page.get_by_text("Filled with hot asphalt").first).to_be_visible()


def test_the_inbox_works_from_the_keyboard_alone(desktop_page, local_run, http) -> None:
    page = desktop_page
    _file(http, local_run)  # at least one request in the inbox
    _sign_in_as_the_crew(page)
    _tab_to_first_request(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/requests/[A-Za-z0-9_-]+$"))
    expect(page.get_by_role("heading", name=re.compile("^State: "))).to_be_visible()
