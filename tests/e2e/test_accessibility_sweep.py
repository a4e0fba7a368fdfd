"""axe-core on the pages the stories do not pass through, and on error states: no serious
or critical violation anywhere a resident can land."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_accessibility

PAGES = [
    "/towns/{town}/alerts",
    "/towns/{town}/alerts/sign-up",
    "/towns/{town}/alerts/manage",
    "/towns/{town}/sign-in",
    "/towns/{town}/report",
    "/towns/{town}/report?q=zzzz",
    "/towns/{town}/report/graffiti",
    "/towns/{town}/report/other",
    "/towns/{town}/requests?status=closed",
    "/towns/{town}/track/ZZZZ-ZZZZ",
    "/towns/{town}?lang=es",
    "/towns/nowhere.example",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_passes_axe(desktop_page, local_run, path: str) -> None:
    page = desktop_page
    page.goto(path.format(town=local_run.town))
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    check_accessibility(page)


def test_form_errors_pass_axe_and_name_each_field(phone_page, local_run) -> None:
    page = phone_page
    page.goto(f"/towns/{local_run.town}/report/pothole")
    page.get_by_role("button", name="Continue").click()  # the required size left out
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    check_accessibility(page)
    page.goto(f"/towns/{local_run.town}/alerts/sign-up")
    page.get_by_role("button", name="Send me a code").click()  # no phone, no e-mail
    expect(page.locator("[data-error-summary]")).to_be_visible()
    check_accessibility(page)
