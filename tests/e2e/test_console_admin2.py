"""Town administration, part three, in a real browser: a town admin sets opening hours,
adds and removes a holiday and turns emergency mode on and off; gives a new service a
due time and a priority answer; looks at what a template pack would add; and previews
the resident page with unsaved branding (in a new tab, marked as a preview, nothing
stored). axe-core on every screen."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_hours_holidays_and_emergency_mode(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/town")
    page.get_by_role("link", name="Hours, holidays and emergency mode").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hours and holidays")
    check_accessibility(page)
    saturday = page.get_by_role("group", name="Saturday")
    saturday.get_by_label("Opens").fill("09:00")
    saturday.get_by_label("Closes").fill("08:00")
    page.get_by_role("button", name="Save the opening hours").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("Enter a closing time")
    check_accessibility(page)
    page.get_by_role("group", name="Saturday").get_by_label("Closes").fill("12:00")
    page.get_by_role("button", name="Save the opening hours").click()
    expect(page.get_by_role("status")).to_contain_text("The opening hours were saved.")
    expect(page.get_by_role("group", name="Saturday").get_by_label("Closes")).to_have_value(
        "12:00")

    # A holiday of its own (the stack is shared by the worker's tests).
    day = (date(2031, 1, 1) + timedelta(days=uuid.uuid4().int % 365)).isoformat()
    page.get_by_label("Add a holiday").fill(day)
    page.get_by_role("button", name="Add the holiday").click()
    expect(page.get_by_role("status")).to_contain_text("The holiday was added.")
    remove = page.get_by_role("button", name=f"Remove {day}")
    expect(remove).to_be_visible()
    page.get_by_label("Add a holiday").fill(day)
    page.get_by_role("button", name="Add the holiday").click()
    expect(page.locator("[data-error-summary]")).to_contain_text("That day is already a holiday")
    check_accessibility(page)
    page.get_by_role("button", name=f"Remove {day}").click()
    expect(page.get_by_role("status")).to_contain_text("The holiday was removed.")
    expect(page.get_by_role("button", name=f"Remove {day}")).to_have_count(0)

    emergency = page.get_by_role("group", name="Emergency mode")
    expect(page.get_by_text(re.compile("no one is sent anything"))).to_be_visible()
    emergency.get_by_text("On: the services below follow their emergency setting").click()
    graffiti = page.get_by_role("group", name="Graffiti")
    graffiti.get_by_label("During an emergency").select_option("target")
    graffiti.get_by_label("Time").fill("10")
    graffiti.get_by_label("Counted in").select_option("business_days")
    page.get_by_role("button", name="Save emergency mode").click()
    expect(page.get_by_role("status")).to_contain_text("Emergency mode was saved.")
    expect(page.get_by_text("Emergency mode is on.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "console-hours-desktop")
    page.get_by_role("group", name="Emergency mode").get_by_text(
        "Off: every service keeps its usual due time").click()
    page.get_by_role("button", name="Save emergency mode").click()
    expect(page.get_by_role("status")).to_contain_text("Emergency mode was saved.")
    expect(page.get_by_text("Emergency mode is on.")).to_have_count(0)


def test_a_service_gets_a_due_time_and_a_priority_answer(page, local_run) -> None:
    code = f"sign-{uuid.uuid4().hex[:6]}"
    _sign_in(page, "town_admin", "/console/admin/services/new")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Name", exact=True).fill(f"Fallen sign {code[-6:]}")
    page.get_by_label("Group").fill("Streets")
    page.get_by_label("Description").fill("A street sign knocked down.")
    question = page.get_by_role("group", name="Question 1")
    question.get_by_label("Question code").fill("blocking")
    question.get_by_label("Question", exact=True).fill("Is it blocking the road?")
    question.get_by_label("Kind of answer").select_option("singlevaluelist")
    question.get_by_label("Answers to choose from (lists only)").fill("yes = Yes\nno = No")
    # "Add a question" shows the form again: the list's answers can now be chosen.
    page.get_by_role("button", name="Add a question").click()
    usual = page.get_by_role("group", name="Due within").first
    usual.get_by_label("Time").fill("2")
    usual.get_by_label("Counted in").select_option("business_days")
    priority = page.get_by_role("group", name="Add a priority answer")
    priority.get_by_label("When the answer is").select_option("blocking=yes")
    priority.get_by_label("Time").fill("4")
    priority.get_by_label("Counted in").select_option("hours")
    check_accessibility(page)
    screenshot(page, f"console-service-sla-{screen_name(page)}")
    page.get_by_role("button", name="Save the service").click()
    expect(page.get_by_role("status")).to_contain_text("The service was saved.")
    page.get_by_role("link", name=f"Fallen sign {code[-6:]}").click()
    usual = page.get_by_role("group", name="Due within").first
    expect(usual.get_by_label("Time")).to_have_value("2")
    expect(page.get_by_role("group", name="Priority 1").get_by_label(
        "When the answer is")).to_have_value("blocking=yes")
    check_accessibility(page)


def test_what_a_template_pack_would_add(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/services")
    page.get_by_role("link", name="Add a template pack").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a template pack")
    check_accessibility(page)
    page.get_by_text("Rural township starter catalogue").click()
    page.get_by_role("button", name="See what it would add").click()
    expect(page.get_by_role("heading", name="What this pack would add")).to_be_visible()
    expect(page.get_by_text("Gravel road needs grading")).to_be_visible()
    expect(page.get_by_role("button", name="Add these to the town")).to_be_visible()
    check_accessibility(page)


def test_the_preview_of_unsaved_branding(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "town_admin", "/console/admin/town")
    page.get_by_label("Name shown on the pages (optional)").fill("Maple Falls (preview)")
    page.get_by_label("Main colour").fill("#2e6b30")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview the resident page (opens in a new tab)").click()
    preview = opened.value
    expect(preview.get_by_text("Preview — not saved").first).to_be_visible()
    expect(preview.get_by_role("heading", level=1)).to_have_text("What's the problem?")
    expect(preview.locator(".town-header__name")).to_contain_text("Maple Falls (preview)")
    assert preview.evaluate("getComputedStyle(document.documentElement)"
                            ".getPropertyValue('--town-primary').trim()") == "#2e6b30"
    check_accessibility(preview)
    screenshot(preview, "console-preview-desktop")
    # Nothing was stored: the resident page and the form's saved values are as before.
    page.goto(f"/towns/{local_run.town}")
    expect(page.locator(".town-header__name")).not_to_contain_text("(preview)")
