"""After the report, in a real browser: following a request, signing in with the code from
the emulator's outbox and disputing a closure, signing up for emergency alerts, and the map
and list of requests (with and without JavaScript)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.stack import wait_until


def _choose(page: Page, label: str) -> None:
    page.locator("label").filter(has_text=label).first.click()


def _file(http, local_run, email: str | None = None) -> dict:  # noqa: ANN001
    form = {"service_code": "pothole", "lat": "44.97781", "long": "-93.26365",
            "address_string": "120 Main St", "description": "Deep hole at the crossing",
            "attribute[size]": "large", "api_key": local_run.api_key}
    if email:
        form["email"] = email
    filed = http.post(f"/towns/{local_run.town}/open311/v2/requests.json", form=form)
    assert filed.status == 201, filed.text()
    request_id = filed.json()[0]["service_request_id"]

    def routed() -> dict | None:
        found = http.get(f"/towns/{local_run.town}/open311/v2/requests/{request_id}.json")
        doc = found.json()[0]
        return doc if doc.get("agency_responsible") else None

    wait_until(routed, "the pump routing the request")
    found = http.get(f"/towns/{local_run.town}/open311/v2/requests/{request_id}.json"
                     "?extensions=true")
    return {"id": request_id,
            "number": found.json()[0]["extended_attributes"]["tracking_number"]}


def _code_for(local_run, to: str) -> str:  # noqa: ANN001
    """The six digits of the newest message to ``to`` that has them (a reporter also gets
    a receipt, which may arrive before or after the code)."""
    def code() -> str | None:
        for message in reversed(local_run.messages()):
            found = re.search(r"\b(\d{6})\b", message.get("text", ""))
            if message["to"] == to and found:
                return found.group(1)
        return None

    return wait_until(code, f"a code sent to {to}")


def test_a_neighbour_follows_a_request_and_confirms(phone_page, local_run, http) -> None:
    page = phone_page
    filed = _file(http, local_run)
    typed = filed["number"].lower().replace("-", " ")  # as a person might type it
    page.goto(f"/towns/{local_run.town}/track/{typed}")
    expect(page.get_by_role("heading", name=re.compile("^Status: "))).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"track-{screen_name(page)}")
    email = f"neighbour-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Follow this request").click()
    expect(page.get_by_text("Check your e-mail or phone")).to_be_visible()
    link = re.search(r"https?://\S+/confirm/\S+", local_run.wait_for_message(email)["text"])
    page.goto(link.group(0).rstrip(".,"))
    page.get_by_role("button").first.click()
    page.goto(f"/towns/{local_run.town}/track/{filed['number']}")
    followers = page.locator("dt", has_text="Neighbours following it").locator(
        "xpath=following-sibling::dd[1]")
    expect(followers).to_have_text("1")


def test_the_reporter_signs_in_with_a_code_and_disputes_the_closure(desktop_page, local_run,
                                                                     http) -> None:
    page = desktop_page
    email = f"reporter-{uuid.uuid4().hex[:8]}@example.org"
    filed = _file(http, local_run, email)
    worker = local_run.facts["logins"]["department_worker"]["token"]
    closed = http.post(f"/departments/public_works/requests/{filed['id']}/close",
                       data='{"resolution": "fixed", "note": "Filled with asphalt"}',
                       headers={"Authorization": f"Bearer {worker}",
                                "Content-Type": "application/json"})
    assert closed.ok, closed.text()
    page.goto(f"/towns/{local_run.town}/track/{filed['number']}")
    page.get_by_role("link", name="Sign in to say it is not fixed").click()
    page.get_by_label("E-mail address or mobile phone").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Six-digit code").fill(_code_for(local_run, email))
    check_accessibility(page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("What is still wrong?").fill("The hole is back after the rain")
    page.get_by_role("button", name="Reopen this request").click()
    expect(page.get_by_role("heading", name=re.compile("^Status: Reopened"))).to_be_visible()
    check_accessibility(page)
    screenshot(page, "track-disputed-desktop")


def test_a_resident_signs_up_for_alerts_with_the_texted_code(phone_page, local_run) -> None:
    page = phone_page
    number = f"612555{uuid.uuid4().int % 10000:04d}"
    page.goto(f"/towns/{local_run.town}/alerts")
    page.get_by_role("link", name="Sign up for alerts").first.click()
    page.get_by_label("Mobile phone").fill(number)
    _choose(page, "Riverside")
    check_accessibility(page)
    screenshot(page, "alerts-sign-up-phone")
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Confirmation code").fill(_code_for(local_run, f"+1{number}"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed up")
    check_accessibility(page)


def test_the_map_shows_requests_and_still_works_without_tiles(desktop_page, local_run) -> None:
    page = desktop_page
    page.route(re.compile(r"https://tile\.openstreetmap\.org/.*"), lambda route: route.abort())
    page.goto(f"/towns/{local_run.town}/requests")
    expect(page.locator("#requests-map")).to_be_visible()
    expect(page.locator("#requests-map .leaflet-interactive").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "requests-map-desktop")


def test_the_list_of_requests_filters_without_javascript(no_js_page, local_run) -> None:
    page = no_js_page
    page.goto(f"/towns/{local_run.town}/requests")
    expect(page.locator("#requests-map")).to_be_hidden()
    page.get_by_label("Service").select_option("pothole")
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"service=pothole.*status=closed|status=closed.*service=pothole"))
    expect(page.locator("table").first).to_be_visible()
    screenshot(page, "requests-list-no-js")
