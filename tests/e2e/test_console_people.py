"""The console's people screens, in a real browser: a town administrator adds a member of
staff and removes them, creates an API key (its secret shown once), and opens the audit
log, and exports the town: its progress page refreshes itself until the link to the file
appears. axe-core on every screen."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_a_town_admin_adds_and_removes_a_member_of_staff(desktop_page, local_run) -> None:
    page = desktop_page
    tag = uuid.uuid4().hex[:8]
    name = f"Robin Field {tag}"
    _sign_in(page, "town_admin", "/console/admin/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff and roles")
    check_accessibility(page)
    page.get_by_label("E-mail address").fill(f"robin.{tag}@example.org")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("group", name="Roles").get_by_text("Department worker", exact=True).click()
    page.get_by_role("group", name="Departments").locator("label").first.click()
    # USWDS draws its own boxes over the real ones: a person clicks the label.
    expect(page.get_by_label("Department worker")).to_be_checked()
    page.get_by_role("button", name="Add to the staff").click()
    expect(page.get_by_role("status")).to_contain_text("The person was added to the staff.")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text("Department worker")
    expect(row).to_contain_text("Active")
    check_accessibility(page)
    screenshot(page, "console-staff-desktop")
    page.get_by_role("button", name=f"Remove {name}").click()
    expect(page.get_by_role("status")).to_contain_text("The person was removed")
    expect(row).to_contain_text("Removed")
    expect(page.get_by_role("button", name=f"Remove {name}")).to_have_count(0)
    check_accessibility(page)


def test_a_missing_role_is_named_in_the_error_summary(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/staff")
    page.get_by_label("E-mail address").fill(f"norole.{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Name", exact=True).fill("No Role")
    page.get_by_role("button", name="Add to the staff").click()
    summary = page.get_by_role("alert", name="There is a problem")
    expect(summary.get_by_role("link", name="Choose at least one role")).to_have_attribute(
        "href", "#roles")
    expect(page.get_by_label("E-mail address")).to_have_value(re.compile("^norole"))
    check_accessibility(page)


def test_a_town_admin_creates_an_api_key_whose_secret_is_shown_once(desktop_page,
                                                                  local_run) -> None:
    page = desktop_page
    key = f"Kiosk {uuid.uuid4().hex[:8]}"
    _sign_in(page, "town_admin", "/console/admin/api-keys")
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    check_accessibility(page)
    page.get_by_label("Name", exact=True).fill(key)
    scopes = page.get_by_role("group", name="What the key may do")
    # "Submit requests" comes ticked (the safe scope): clicking it would untick it.
    expect(scopes.get_by_label("Submit requests")).to_be_checked()
    expect(scopes.get_by_label("Update and close requests")).not_to_be_checked()
    page.get_by_role("button", name="Create the key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The key's secret")
    expect(page.get_by_role("status")).to_contain_text(f"The key {key} was created")
    secret = page.locator("#secret").input_value()
    assert len(secret) >= 20, secret
    check_accessibility(page)
    page.get_by_role("link", name="I have copied it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=key))
    expect(row).to_contain_text("Submit requests")
    expect(row).to_contain_text("Active")
    expect(page.locator("#secret")).to_have_count(0)
    assert secret not in page.content()
    # Going back to the secret's page does not show it again: it was a POST's answer.
    page.goto("/console/admin/api-keys")
    assert secret not in page.content()


def test_the_audit_log_and_export_screens(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_role("table")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Find in this page").fill("no-such-thing-" + uuid.uuid4().hex)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Nothing in this page matches.")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("navigation", name="Staff console").get_by_role(
        "link", name="Export the town").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export the town")
    check_accessibility(page)
    page.get_by_role("button", name="Start the export").click()
    # The job's own page: waiting or writing, then (the event pump runs the worker; the
    # page's script fetches the progress every 3 seconds) the link to the file.
    expect(page).to_have_url(re.compile(r"/console/admin/export/[0-9A-Z]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Export the town")
    check_accessibility(page)
    link = page.get_by_role("link", name="Download the export")
    expect(link).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The export is ready")
    check_accessibility(page)
    screenshot(page, "console-export-ready-desktop")
    download = page.request.get(link.get_attribute("href") or "")
    assert download.status == 200
    first = download.text().splitlines()[0]
    assert first.startswith("{") and "maplefalls.example" in download.text()
