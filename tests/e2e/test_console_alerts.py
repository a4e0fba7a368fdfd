"""Browser story of the emergency desk: the demo emergency manager composes an alert for
one zone and asks for approval; the demo town admin, in a browser of their own, approves
it; the pump of the local run drains the notice queue and the alert's progress bar
reaches done."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.browser import check_accessibility, screenshot
from tests.e2e.stack import LocalRun

# Sending is the pump's work in another process (fan-out, then the batches): generous.
SENT_MS = 90_000


def _subscriber(http: Any, local_run: LocalRun, zone: str) -> str:
    """A confirmed e-mail subscriber of one zone, through the public JSON API."""
    email = f"desk-{secrets.token_hex(4)}@example.org"
    base = f"/towns/{local_run.town}/alerts/subscribers"
    made = http.post(base, data={"email": email, "zones": [zone], "language": "en"})
    assert made.status == 201, made.text()
    code = re.search(r"\b(\d{6})\b", local_run.wait_for_message(email)["text"])
    assert code, "no confirmation code in the message"
    confirmed = http.post(f"{base}/{made.json()['subscriber_id']}/confirm",
                          data={"code": code.group(1)})
    assert confirmed.status == 200, confirmed.text()
    return email


def _sign_in(page: Any, path: str, role: str) -> None:
    """Open a console screen; the console sends the browser to the development sign-in,
    where the demo person of `role` signs in and comes back."""
    page.goto(path)
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_a_manager_composes_a_second_person_approves_and_it_is_sent(
        desktop_page: Any, phone_page: Any, http: Any, local_run: LocalRun) -> None:
    email = _subscriber(http, local_run, "riverside")
    title = f"Boil water order {secrets.token_hex(3)}"
    manager, admin = desktop_page, phone_page

    # The emergency manager composes, for Riverside only.
    _sign_in(manager, "/console/alerts/new", "emergency_manager")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Compose an alert")
    check_accessibility(manager)
    manager.get_by_label("Title (English)").fill(title)
    manager.get_by_label("Message (English)").fill("Boil tap water for one minute.")
    manager.get_by_label("Title (Spanish)").fill("Hervir el agua")
    manager.get_by_label("Message (Spanish)").fill("Hierva el agua del grifo un minuto.")
    manager.get_by_label("Severity").select_option("severe")
    manager.get_by_label("Category").select_option("water")
    ends = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")) + timedelta(days=1)
    manager.get_by_label("Ends").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    manager.locator("label[for=zone-riverside]").click()  # USWDS hides the box itself
    expect(manager.locator("#zone-riverside")).to_be_checked()
    screenshot(manager, "console-alert-compose-desktop")
    manager.get_by_role("button", name="Preview").click()

    # The preview: whom it reaches (our subscriber at least) and what it says.
    expect(manager.get_by_role("heading", level=1)).to_have_text(
        "Check the alert before asking for approval")
    expect(manager.locator(".alert-reach caption")).to_contain_text("would get this alert")
    expect(manager.get_by_text("Estimated cost of the texts")).to_be_visible()
    check_accessibility(manager)
    screenshot(manager, "console-alert-preview-desktop")
    manager.get_by_role("button", name="Ask for approval").click()
    expect(manager.get_by_role("heading", name="Waiting for approval")).to_be_visible()
    expect(manager.locator("[data-alert-state]")).to_have_attribute("data-alert-state",
                                                                    "awaiting_approval")
    check_accessibility(manager)
    alert_path = manager.url.split("?")[0][len(local_run.base_url):]

    # The town admin, in a browser of their own, finds it in the queue and approves it.
    _sign_in(admin, "/console/alerts/approvals", "town_admin")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Alerts to approve")
    check_accessibility(admin)
    screenshot(admin, "console-alert-approvals-phone")
    admin.get_by_role("link", name=f"Read and approve: {title}").click()
    expect(admin.get_by_text("Hierva el agua del grifo un minuto.")).to_be_visible()
    check_accessibility(admin)
    admin.get_by_role("button", name="Approve and send").click()
    expect(admin).to_have_url(re.compile(re.escape(alert_path) + "$"))

    # The page's script re-fetches the progress every 2 s until the pump has sent it.
    state = admin.locator("[data-alert-state]")
    expect(state).to_have_attribute("data-alert-state", "sent", timeout=SENT_MS)
    bar = admin.locator("progress")
    expect(bar).to_have_attribute("value", bar.get_attribute("max") or "1")
    check_accessibility(admin)
    screenshot(admin, "console-alert-sent-phone")
    local_run.wait_for_message(email, containing="Boil tap water")  # the subscriber has it

    # The manager's page says so too after a reload, with the counts per channel.
    manager.reload()
    expect(manager.locator("[data-alert-state]")).to_have_attribute("data-alert-state",
                                                                    "sent")
    expect(manager.locator(".alert-counts")).to_contain_text("E-mails sent")
    manager.get_by_role("link", name="All alerts").click()
    expect(manager.get_by_role("link", name=title)).to_be_visible()
    check_accessibility(manager)
    screenshot(manager, "console-alerts-desktop")
