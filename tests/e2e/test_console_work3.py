"""The console's work screens in a real browser, part three: the town-wide list filtered on
how requests came and on being overdue, then the same page on a map (the table kept);
a crew closes a request with an "after" photo that the resident's track page then shows;
an agent taking a call about a reported pothole adds the caller as its follower instead
of entering it again. axe-core on each new screen."""

from __future__ import annotations

import io
import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot
from tests.e2e.stack import wait_until
from tests.e2e.test_resident_journeys import _file


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 60)).save(out, "JPEG", quality=85)
    return out.getvalue()


def test_the_list_filters_on_channel_and_overdue_and_shows_the_page_on_a_map(
        desktop_page, local_run, http) -> None:
    page = desktop_page
    filed = _file(http, local_run)
    _sign_in(page, "supervisor", "/console/requests")
    page.get_by_label("How it reached us").select_option(label="An app (Open311)")
    page.get_by_label("Overdue", exact=True).select_option(label="Not overdue")
    page.get_by_label("Status").select_option(label="Open")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"channel=open311.*overdue=false|overdue=false.*"
                                        r"channel=open311"))
    link = page.get_by_role("link", name=re.compile(re.escape(filed["number"])))
    expect(link).to_be_visible()

    page.get_by_role("link", name="Show these requests on a map").click()
    expect(page).to_have_url(re.compile(r"view=map"))
    expect(page.locator("#requests-map.leaflet-container")).to_be_visible()
    expect(page.locator("#requests-map path.town-marker").first).to_be_visible()
    expect(link).to_be_visible()  # the table stays under the map
    expect(page.get_by_label("How it reached us")).to_have_value("open311")
    check_accessibility(page)
    screenshot(page, "console-requests-map-desktop")
    page.get_by_role("link", name="Hide the map").click()
    expect(page.locator("#requests-map")).to_have_count(0)
    expect(link).to_be_visible()

    page.goto("/console/requests?overdue=maybe&channel=fax")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name="Choose one of the listed values")).to_have_count(2)
    check_accessibility(page)


def test_the_crew_closes_with_an_after_photo_the_resident_then_sees(desktop_page, local_run,
                                                                   http) -> None:
    page = desktop_page
    filed = _file(http, local_run)
    _sign_in(page, "department_worker", f"/console/requests/{filed['id']}")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.get_by_role("heading", name="State: Acknowledged")).to_be_visible()
    page.get_by_label("Fixed", exact=True).check()
    page.get_by_label("Closing note for the resident (optional)").fill("Patched and rolled")
    page.set_input_files("#close-photo", files=[{"name": "after.jpg", "mimeType": "image/jpeg",
                                                 "buffer": _jpeg()}])
    page.get_by_role("button", name="Close the request").click()
    expect(page.get_by_role("heading", name="State: Closed")).to_be_visible()

    def public_photos() -> list | None:
        tracked = http.get(f"/towns/{local_run.town}/track/{filed['number']}",
                           headers={"Accept": "application/json"})
        return (tracked.json().get("photos") or None) if tracked.ok else None

    (published,) = wait_until(public_photos, "the photo worker to publish the after photo")
    page.goto(f"/towns/{local_run.town}/track/{filed['number']}")
    expect(page.get_by_role("heading", name=re.compile("^Status: Closed"))).to_be_visible()
    photo = page.get_by_role("region", name="Photos").get_by_role("img")
    expect(photo).to_have_count(1)
    expect(photo).to_have_attribute("src", re.compile(re.escape(published["thumbnail_url"])
                                                      + "$"))
    served = http.get(published["thumbnail_url"])
    assert served.ok and served.headers["content-type"].startswith("image/"), served.status
    expect(page.get_by_text("Patched and rolled").first).to_be_visible()


def _enter_at_main_and_third(page: Page) -> None:
    """The entry form for a pothole at Main St & 3rd, filled as for a caller, up to the
    point of sending it."""
    page.goto("/console/requests/new/pothole")
    page.get_by_label("Phone call").check()
    page.get_by_role("group", name=re.compile("About how big is it")).get_by_text(
        "Larger than a car tire").click()
    page.get_by_label("Address, intersection or place").fill("Main St & 3rd")
    page.get_by_role("button", name="Find the address").click()
    places = page.get_by_role("group", name="Which place did the resident mean?")
    places.locator("label").first.click()


def test_an_agent_adds_a_second_caller_as_a_follower_instead(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "agent", "/console/requests/new")
    _enter_at_main_and_third(page)
    page.get_by_role("button", name="Enter the request").click()
    done = page.get_by_role("heading", name="Request entered")
    offered = page.get_by_role("heading", name="Has someone reported this already?")
    expect(done.or_(offered)).to_be_visible()
    if offered.is_visible():  # another test's pothole is there already: a new one anyway
        page.get_by_role("button", name="None of these: enter the request").click()
    expect(done).to_be_visible()
    number = page.locator(".console-number").inner_text()

    _enter_at_main_and_third(page)
    page.get_by_label("E-mail (optional)").fill("second.caller@example.org")
    page.get_by_role("button", name="Enter the request").click()
    expect(offered).to_be_visible()
    follow = page.get_by_role(
        "button", name=f"Add the caller as a follower of this one instead ({number})")
    expect(follow).to_be_visible()
    check_accessibility(page)
    screenshot(page, "console-entry-duplicates-desktop")
    follow.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.get_by_text("The caller follows this request now")).to_be_visible()
    check_accessibility(page)
