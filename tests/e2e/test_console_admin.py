"""The console's request entry and town administration, in a real browser: an agent
enters a phone request for a resident; a town administrator adds a service with a
single-choice question and residents see it (their home page, Open311's services.json);
the settings screen. axe-core on every screen."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.stack import wait_until

# The resident paths remember a town for a minute (config.cache_seconds): a change shows
# there within that, so the wait is bounded a little beyond it.
CACHE_BOUND_S = 90.0


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_an_agent_enters_a_phone_request(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "agent", "/console/requests/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a request for a resident")
    check_accessibility(page)
    page.get_by_role("link", name="Pothole").click()
    expect(page.get_by_role("group", name="How did the resident reach us?")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Phone call").check()
    page.get_by_role("group", name=re.compile("About how big is it")).get_by_text(
        "Larger than a car tire").click()
    page.get_by_label("Describe the problem (optional)").fill("Caller says it is deep")
    page.get_by_label("Address, intersection or place").fill("Main St & 3rd")
    page.get_by_role("button", name="Find the address").click()
    places = page.get_by_role("group", name="Which place did the resident mean?")
    expect(places).to_be_visible()
    check_accessibility(page)
    places.locator("label").first.click()
    page.get_by_label("First name (optional)").fill("Ana")
    page.get_by_label("Phone (optional)").fill("(612) 555-0134")
    screenshot(page, f"console-entry-{screen_name(page)}")
    page.get_by_role("button", name="Enter the request").click()
    # Another test's pothole may be there already: the agent enters a new one anyway.
    entered = page.get_by_role("heading", name="Request entered")
    offered = page.get_by_role("heading", name="Has someone reported this already?")
    expect(entered.or_(offered)).to_be_visible()
    if offered.is_visible():
        page.get_by_role("button", name="None of these: enter the request").click()
    expect(entered).to_be_visible()
    expect(page.locator(".console-number")).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    expect(page.get_by_role("link", name="Open the request")).to_have_attribute(
        "href", re.compile(r"^/console/requests/[A-Za-z0-9_-]+$"))
    check_accessibility(page)
    screenshot(page, "console-entered-desktop")


def test_a_town_admin_adds_a_service_residents_see(page, local_run, http) -> None:
    code = f"kerb-{uuid.uuid4().hex[:6]}"
    name = f"Broken kerb {code[-6:]}"
    _sign_in(page, "town_admin", "/console/admin/services")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    check_accessibility(page)
    page.get_by_role("link", name="Add a service").click()
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Group").fill("Streets")
    page.get_by_label("Description").fill("A kerb stone broken or missing.")
    question = page.get_by_role("group", name="Question 1")
    question.get_by_label("Question code").fill("side")
    question.get_by_label("Question", exact=True).fill("Which side of the street?")
    question.get_by_label("Kind of answer").select_option("singlevaluelist")
    question.get_by_label("Answers to choose from (lists only)").fill("North side\nSouth side")
    question.get_by_text("An answer is required").click()
    check_accessibility(page)
    screenshot(page, f"console-service-{screen_name(page)}")
    page.get_by_role("button", name="Save the service").click()
    expect(page.get_by_role("status")).to_contain_text("The service was saved.")
    expect(page.get_by_role("link", name=name)).to_be_visible()

    listed = wait_until(lambda: code in http.get(
        f"/towns/{local_run.town}/open311/v2/services.json").text(), "services.json",
        timeout=CACHE_BOUND_S)
    assert listed
    wait_until(lambda: name in http.get(f"/towns/{local_run.town}").text(),
               "the resident home page", timeout=CACHE_BOUND_S)
    page.goto(f"/towns/{local_run.town}")
    expect(page.get_by_text(name)).to_be_visible()
    page.goto(f"/towns/{local_run.town}/report/{code}")
    expect(page.get_by_role("group", name=re.compile("Which side of the street"))).to_be_visible()


def test_the_town_settings_screen(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/town")
    expect(page.get_by_role("heading", level=1)).to_have_text("Town settings")
    page.get_by_label("Photos per request").fill("99")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("alert").first).to_contain_text("Enter a whole number from 1 to 10")
    check_accessibility(page)
    page.get_by_label("Photos per request").fill("5")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("status")).to_contain_text("The settings were saved.")
    check_accessibility(page)
    screenshot(page, "console-town-settings-desktop")
