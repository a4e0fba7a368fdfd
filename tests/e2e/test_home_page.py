"""The town's home page in a real browser: phone and desktop, Spanish, without JavaScript."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot


def test_the_home_page_offers_services_tracking_and_alerts(page, local_run) -> None:
    page.goto(f"/towns/{local_run.town}")
    expect(page.get_by_role("heading", level=1)).to_have_text("What's the problem?")
    expect(page.get_by_role("link", name="Pothole")).to_be_visible()
    expect(page.get_by_label("Tracking number")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"home-{screen_name(page)}")


def test_a_resident_finds_a_service_in_their_own_words(desktop_page, local_run) -> None:
    page = desktop_page
    page.goto(f"/towns/{local_run.town}")
    page.get_by_label("Describe the problem in a few words").fill("lamp post is dark")
    page.get_by_role("button", name="Search").click()
    matches = page.locator("section[aria-labelledby=matches]")
    expect(matches.get_by_role("link").first).to_have_text("Streetlight out")
    check_accessibility(page)


def test_the_page_switches_to_spanish_and_remembers_it(phone_page, local_run) -> None:
    page = phone_page
    page.goto(f"/towns/{local_run.town}")
    page.get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Cuál es el problema?")
    page.goto(f"/towns/{local_run.town}")  # the choice is kept in a cookie
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check_accessibility(page)
    screenshot(page, "home-spanish-phone")


def test_tracking_by_number_works_without_javascript(no_js_page, local_run) -> None:
    page = no_js_page
    page.goto(f"/towns/{local_run.town}")
    page.get_by_role("button", name="Track").click()
    expect(page.get_by_text("Enter a tracking number")).to_be_visible()
    page.get_by_label("Tracking number").fill("zz99 zz99")
    page.get_by_role("button", name="Track").click()
    expect(page).to_have_url(f"{local_run.base_url}/towns/{local_run.town}/track/ZZ99ZZ99")
