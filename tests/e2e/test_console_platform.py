"""The platform operator's towns screens, in a real browser: create a town with its first
administrator, then suspend it. axe-core on both screens."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_the_operator_creates_and_suspends_a_town(desktop_page, local_run) -> None:
    page = desktop_page
    tag = uuid.uuid4().hex[:8]
    town_id = f"e2e{tag}.example.gov"
    name = f"Cedar Bend {tag}"
    _sign_in(page, "operator", "/console")
    page.get_by_role("navigation", name="Staff console").get_by_role(
        "link", name="Towns").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Towns")
    check_accessibility(page)
    page.get_by_role("link", name="Create a town").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a town")
    check_accessibility(page)
    page.get_by_label("Town id").fill(town_id)
    page.get_by_label("Town name").fill(name)
    page.get_by_label("Time zone").fill("America/Chicago")
    page.get_by_text("Small town", exact=True).click()
    expect(page.get_by_label("Small town")).to_be_checked()
    page.get_by_label("Administrator's e-mail address").fill(f"clerk@{town_id}")
    page.get_by_label("Administrator's name").fill("Pat Clerk")
    page.get_by_role("button", name="Create the town").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Towns")
    expect(page.get_by_role("status")).to_contain_text(
        f"Town {town_id} created. Its administrator has been invited to sign in.")
    towns = page.get_by_role("table", name="Towns")  # the other table is their usage
    row = towns.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    expect(row).to_contain_text(town_id)
    expect(row).to_contain_text("Active")
    check_accessibility(page)
    screenshot(page, "console-towns-desktop")
    page.get_by_role("button", name=f"Suspend {name}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Town {town_id} is suspended")
    expect(row).to_contain_text("Suspended")
    expect(page.get_by_role("button", name=f"Resume {name}")).to_be_visible()
    check_accessibility(page)


def test_a_bad_town_is_refused_with_the_fields_named(desktop_page, local_run) -> None:
    page = desktop_page
    _sign_in(page, "operator", "/console/towns/new")
    page.get_by_role("button", name="Create the town").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name=re.compile("^Town id"))).to_be_visible()
    check_accessibility(page)


def test_the_operator_sees_each_towns_usage_and_cost_this_month(page, local_run,
                                                               http) -> None:
    filed = http.post(f"/towns/{local_run.town}/open311/v2/requests.json", form={
        "service_code": "pothole", "lat": "44.97702", "long": "-93.26411",
        "description": "Usage check", "attribute[size]": "small",
        "api_key": local_run.api_key})
    assert filed.status == 201, filed.text()
    _sign_in(page, "operator", "/console/towns")
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^Usage in \d{4}-\d{2}$"))
           ).to_be_visible()
    usage = page.get_by_role("table", name="Usage and estimated cost per town")
    row = usage.get_by_role("row").filter(has=page.get_by_role("rowheader",
                                                               name="Maple Falls"))
    expect(row).to_contain_text(re.compile(r"Apps \(Open311\): [1-9]"))
    expect(row).to_contain_text(re.compile(r"\$\d+\.\d\d"))
    expect(usage.get_by_role("row").last).to_contain_text(re.compile(r"All towns\s*(< )?\$\d"))
    check_accessibility(page)
    screenshot(page, f"console-towns-usage-{screen_name(page)}")
    page.get_by_role("link", name=re.compile(r"^Usage in \d{4}-\d{2}$")).click()
    expect(page.get_by_role("link", name="This month")).to_be_visible()
    check_accessibility(page)
