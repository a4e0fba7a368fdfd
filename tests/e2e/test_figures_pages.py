"""The figures pages in a real browser: the analyst opens the console's dashboard, changes
the period, gets the form back with the problem for dates the wrong way round; a resident
opens the performance page from the home page, picks another quarter, and reads it in
Spanish. axe-core on each; screenshots of both pages at phone and desktop widths."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.test_resident_journeys import _file


def _sign_in_as_the_analyst(page: Page) -> None:
    page.goto("/console/sign-in?next=/console/dashboard")
    page.get_by_role("button", name="Sign in as analyst").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")


def test_the_analyst_reads_the_dashboard_and_changes_the_period(page, local_run,
                                                                http) -> None:
    _file(http, local_run)  # at least one request this month
    _sign_in_as_the_analyst(page)
    expect(page.get_by_role("heading", name="Headline figures")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Requests opened and closed, by day"))
           ).to_be_visible()
    expect(page.get_by_role("heading", name="Overdue now, by department")).to_be_visible()
    expect(page.get_by_role("table", name="Requests opened in each zone")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"console-dashboard-{screen_name(page)}")

    # The trend's table opens under its chart.
    page.get_by_text("The figures as a table").first.click()
    expect(page.get_by_role("table", name=re.compile("^Requests opened and closed"))
           ).to_be_visible()

    page.get_by_text("This year so far", exact=True).click()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"period=year"))
    expect(page.get_by_role("img", name=re.compile("^Requests opened and closed, by week"))
           ).to_be_visible()


def test_dates_the_wrong_way_round_give_the_form_back(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in_as_the_analyst(page)
    page.get_by_text("Between two dates", exact=True).click()
    page.get_by_label("From", exact=True).fill("2026-03-10")
    page.get_by_label("Until", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Show", exact=True).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("The start must not be after the end")
    expect(summary).to_be_focused()
    check_accessibility(page)


def test_the_crew_has_no_dashboard(desktop_page, local_run) -> None:
    page = desktop_page
    page.goto("/console/sign-in?next=/console")
    page.get_by_role("button", name="Sign in as department_worker").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff console")
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    page.goto("/console/dashboard")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Dashboard")


def test_a_resident_reads_how_the_town_is_doing(page, local_run, http) -> None:
    _file(http, local_run)
    page.goto(f"/towns/{local_run.town}")
    page.get_by_role("link", name=re.compile("^How we are doing")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How we are doing")
    expect(page.get_by_role("heading", name="Service by service")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"performance-{screen_name(page)}")

    quarter = page.get_by_label("Quarter")
    second = quarter.locator("option").nth(1)
    quarter.select_option(second.get_attribute("value"))
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(r"quarter=\d{4}-Q[1-4]"))
    expect(page.get_by_text(re.compile(r"^From .+ to .+\.$"))).to_be_visible()

    page.get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cómo lo estamos haciendo")
    check_accessibility(page)


def test_a_quarter_not_offered_is_the_selector_with_the_problem(desktop_page,
                                                                local_run) -> None:
    page = desktop_page
    page.goto(f"/towns/{local_run.town}/performance?quarter=1999-Q1")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Choose one of the listed quarters")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Quarter")).to_be_visible()
    check_accessibility(page)


def test_the_town_admin_sees_the_forecast_and_the_months_cost(desktop_page, local_run,
                                                              http) -> None:
    _file(http, local_run)  # a request filed this month: counted in the usage
    page = desktop_page
    page.goto("/console/sign-in?next=/console/dashboard")
    page.get_by_role("button", name="Sign in as town_admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("heading", name="Next 8 weeks")).to_be_visible()
    expect(page.get_by_label("Service", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^(Method: .+|No history yet: .+)\."))
           ).to_be_visible()
    panel = page.get_by_role("region", name="This month's use and estimated cost")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("table", name=re.compile(r"^Usage in \d{4}-\d{2}$"))
           ).to_contain_text("Requests filed")
    expect(panel.get_by_role("table", name="Estimated cost")).to_contain_text("Total")
    expect(panel).to_contain_text("an estimate from list prices")
    check_accessibility(page)
    screenshot(page, f"console-dashboard-admin-{screen_name(page)}")
