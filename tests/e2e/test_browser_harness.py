"""The browser harness on the small HTML pages that exist today (the confirm link a resident
gets by e-mail or text): what a resident sees, with and without JavaScript, at phone and
desktop widths, checked by axe-core; and proof that the app the browser talks to is
`make run`'s, wired to the emulator and its event pump."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.stack import wait_until

ASK = "Get messages about this request?"
YES = "Yes, send me messages about this request"


def _press_yes(page) -> int:  # noqa: ANN001 - playwright Page
    """Press the confirm page's one button (a plain form POST); the answer's status."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=YES).click()
    return answer.value.status


def test_a_confirm_link_that_does_not_work_says_so_plainly(page, local_run):
    page.goto(f"/towns/{local_run.town}/confirm/not-a-link-we-sent")

    expect(page).to_have_title(ASK)
    expect(page.get_by_role("heading", level=1)).to_have_text(ASK)
    expect(page.get_by_text("If you did not ask for them, close this page.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"confirm-ask-{screen_name(page)}")

    assert _press_yes(page) == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    expect(page.get_by_text("this link is not valid")).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"confirm-invalid-{screen_name(page)}")


def test_without_javascript_the_confirm_form_still_posts(no_js_page, local_run):
    # The fixture really turns scripts off: this one would say "on".
    no_js_page.set_content('<p id="s">off</p>'
                           "<script>document.getElementById('s').textContent = 'on'</script>")
    expect(no_js_page.locator("#s")).to_have_text("off")

    no_js_page.goto(f"/towns/{local_run.town}/confirm/not-a-link-we-sent")
    expect(no_js_page.get_by_role("heading", level=1)).to_have_text(ASK)
    assert _press_yes(no_js_page) == 404
    expect(no_js_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    screenshot(no_js_page, "confirm-invalid-no-js")
    with pytest.raises(AssertionError, match="axe-core needs JavaScript"):
        check_accessibility(no_js_page)


def test_an_unknown_town_is_a_plain_404_page(desktop_page):
    desktop_page.goto("/towns/nowhere.example/confirm/anything")
    assert _press_yes(desktop_page) == 404
    expect(desktop_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    expect(desktop_page.locator("body")).to_contain_text("nowhere.example")


def test_the_accessibility_check_names_each_rule_element_and_fix(desktop_page):
    desktop_page.set_content('<!doctype html><html lang="en"><title>Broken</title><main>'
                             '<img src="data:," id="sign"><button id="go"></button></main>')

    with pytest.raises(AssertionError) as failed:
        check_accessibility(desktop_page)

    message = str(failed.value)
    assert "2 accessibility violation(s)" in message
    assert "image-alt (critical): Images must have alternative text" in message
    assert "button-name (critical): Buttons must have discernible text" in message
    assert "#sign" in message and "#go" in message
    assert "https://dequeuniversity.com/rules/axe/" in message


def test_a_request_filed_through_open311_reaches_the_browser_through_the_emulator(
        desktop_page, http, local_run):
    town, email = local_run.town, f"resident-{uuid.uuid4().hex[:10]}@example.org"
    filed = http.post(f"/towns/{town}/open311/v2/requests.json", form={
        "service_code": "pothole", "lat": "41.8781", "long": "-87.6298",
        "description": "Deep hole by the school crossing", "attribute[size]": "large",
        "email": email, "api_key": local_run.api_key})
    assert filed.ok, filed.text()
    (receipt,) = filed.json()
    request_id = receipt["service_request_id"]

    # The event pump runs the routing queue's handler, which assigns a department.
    def routed() -> dict | None:
        (found,) = http.get(f"/towns/{town}/open311/v2/requests/{request_id}.json",
                            params={"extensions": "true"}).json()
        return found if found.get("agency_responsible") else None

    request = wait_until(routed, "the event pump to route the request")
    number = request["extended_attributes"]["tracking_number"]
    tracked = http.get(f"/towns/{town}/track/{number}").json()
    assert (tracked["service_request_id"], tracked["status"]) == (request_id, "open")

    # The receipt went through the notice queue, the pump and the emulator's SES to the
    # outbox; its confirm link points at the app the browser sees.
    mail = local_run.wait_for_message(email, containing="/confirm/")
    (link,) = re.findall(r"https?://\S+/confirm/[A-Za-z0-9_-]+", mail["text"])
    assert link.startswith(f"{local_run.base_url}/towns/{town}/confirm/")
    desktop_page.goto(link)
    assert _press_yes(desktop_page) == 200
    expect(desktop_page.get_by_role("heading", level=1)).to_have_text("Done")
    expect(desktop_page.get_by_text("You will get a message when this request moves.")
           ).to_be_visible()
    check_accessibility(desktop_page)
    screenshot(desktop_page, "confirm-done-desktop")

    desktop_page.goto(link)  # a link works once
    assert _press_yes(desktop_page) == 404
