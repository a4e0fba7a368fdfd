"""Browser story of the emergency desk's second part: the demo town admin puts an address
on the staff test list; the demo emergency manager draws an area on the compose map
(undoing a corner), marks the alert as a test and asks for approval; the town admin finds
it, marked TEST, in the approvals queue and approves it; the pump sends it to the test
list only, TEST first."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.browser import check_accessibility, screenshot
from tests.e2e.stack import LocalRun
from tests.e2e.test_console_alerts import SENT_MS, _sign_in


def test_a_drawn_test_alert_is_asked_for_approved_and_sent_to_the_test_list(
        desktop_page: Any, phone_page: Any, local_run: LocalRun) -> None:
    tester = f"qa-{secrets.token_hex(4)}@example.org"
    title = f"Siren test {secrets.token_hex(3)}"
    manager, admin = desktop_page, phone_page

    # The town admin fills in the staff test list on the desk.
    _sign_in(admin, "/console/alerts", "town_admin")
    expect(admin.get_by_role("heading", name="Subscribers per zone")).to_be_visible()
    expect(admin.locator("[data-zone-count=riverside]")).to_contain_text("Riverside")
    admin.get_by_label("Change the staff test list").fill(tester)
    admin.get_by_role("button", name="Save the test list").click()
    expect(admin.get_by_text("The staff test list is saved.")).to_be_visible()
    expect(admin.locator("ul[data-test-list]")).to_contain_text(tester)
    check_accessibility(admin)
    screenshot(admin, "console-alerts-counts-phone")

    # The emergency manager composes a test alert for an area drawn on the map.
    _sign_in(manager, "/console/alerts/new", "emergency_manager")
    expect(manager.get_by_text(f"The test list: {tester}.")).to_be_visible()
    manager.get_by_label("Title (English)").fill(title)
    manager.get_by_label("Message (English)").fill("This is only a test of the sirens.")
    manager.get_by_label("Severity").select_option("minor")
    manager.get_by_label("Category").select_option("safety")
    ends = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")) + timedelta(hours=6)
    manager.get_by_label("Ends").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    the_map = manager.locator("#alert-compose-map")
    expect(the_map).to_be_visible()
    draw = manager.get_by_role("button", name="Draw an area")
    draw.click()
    expect(draw).to_have_attribute("aria-pressed", "true")
    box = the_map.bounding_box()
    assert box is not None
    middle_x, middle_y = box["width"] / 2, box["height"] / 2
    for dx, dy in ((-60, -40), (60, -40), (60, 40), (-60, 40), (0, 80)):
        the_map.click(position={"x": middle_x + dx, "y": middle_y + dy})
    status = manager.locator("[data-draw-status]")
    expect(status).to_contain_text("5")
    manager.get_by_role("button", name="Undo the last point").click()
    expect(status).to_contain_text("4")
    draw.click()  # done drawing: clicks tick zones again
    expect(draw).to_have_attribute("aria-pressed", "false")
    area = json.loads(manager.get_by_label(re.compile("^Drawn area")).input_value())
    assert area["type"] == "Polygon" and len(area["coordinates"][0]) == 5  # 4 + closing
    assert area["coordinates"][0][0] == area["coordinates"][0][-1]
    manager.locator("label[for=test-only]").click()  # USWDS hides the box itself
    expect(manager.locator("#test-only")).to_be_checked()
    check_accessibility(manager)
    screenshot(manager, "console-alert-compose-map-desktop")
    manager.get_by_role("button", name="Preview").click()

    # The preview says TEST and shows the area; the manager asks for approval.
    expect(manager.get_by_role("heading", level=1)).to_have_text(
        "TEST: Check the alert before asking for approval")
    expect(manager.get_by_text("A polygon of 4 points")).to_be_visible()
    expect(manager.locator(".alert-reach caption")).to_contain_text("1 person would get")
    check_accessibility(manager)
    manager.get_by_role("button", name="Ask for approval").click()
    expect(manager.locator("[data-alert-state]")).to_have_attribute("data-alert-state",
                                                                    "awaiting_approval")
    check_accessibility(manager)
    alert_path = manager.url.split("?")[0][len(local_run.base_url):]

    # The town admin finds it, marked TEST, in the queue, and approves it.
    admin.goto("/console/alerts/approvals")
    card = admin.locator(".usa-card").filter(has_text=title)
    expect(card.locator(".alert-test-tag")).to_have_text("TEST")
    check_accessibility(admin)
    screenshot(admin, "console-alert-approvals-test-phone")
    card.get_by_role("link", name=f"Read and approve: {title}").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"TEST: {title}")
    check_accessibility(admin)
    admin.get_by_role("button", name="Approve and send").click()
    expect(admin).to_have_url(re.compile(re.escape(alert_path) + "$"))
    expect(admin.locator("[data-alert-state]")).to_have_attribute(
        "data-alert-state", "sent", timeout=SENT_MS)
    message = local_run.wait_for_message(tester, containing="TEST")
    assert message["text"].startswith("TEST: ")
