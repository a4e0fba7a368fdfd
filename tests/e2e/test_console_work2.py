"""The console's work screens in a real browser, continued: the demo supervisor merges a
duplicate from a request's page (the nearby open request of the same service), and the
demo department worker (Public Works) who opens another department's request is refused
by a page that names nothing of it. axe-core on each screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot
from tests.e2e.stack import wait_until
from tests.e2e.test_resident_journeys import _file

TRASH = {"service_code": "missed_trash", "lat": "44.97702", "long": "-93.26411",
         "address_string": "7 Elm Court", "description": "Bins left full behind the bakery",
         "attribute[cart_type][]": "trash"}


def _file_trash(http, local_run) -> str:  # noqa: ANN001
    filed = http.post(f"/towns/{local_run.town}/open311/v2/requests.json",
                      form={**TRASH, "api_key": local_run.api_key})
    assert filed.status == 201, filed.text()
    request_id = filed.json()[0]["service_request_id"]

    def routed() -> str | None:
        found = http.get(f"/towns/{local_run.town}/open311/v2/requests/{request_id}.json")
        return found.json()[0].get("agency_responsible") or None

    wait_until(routed, "the pump routing the trash request")
    return request_id


def _sign_in(page: Page, role: str, next_path: str) -> None:
    page.goto(f"/console/sign-in?next={next_path}")
    page.get_by_role("button", name=f"Sign in as {role}").click()


def test_the_supervisor_merges_a_duplicate_from_the_request_page(desktop_page, local_run,
                                                                 http) -> None:
    page = desktop_page
    first = _file(http, local_run)
    again = _file(http, local_run)
    _sign_in(page, "supervisor", f"/console/requests/{again['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(again["number"])
    expect(page.get_by_role("heading", name="Possible duplicates nearby")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "console-request-duplicates-desktop")
    page.get_by_role("button", name=f"Merge this one into {first['number']}").click()
    expect(page.get_by_role("heading", name="State: Closed")).to_be_visible()
    expect(page.get_by_text("Done.")).to_be_visible()
    expect(page.get_by_role("heading", name="Possible duplicates nearby")).to_have_count(0)
    check_accessibility(page)

    page.goto(f"/console/requests/{first['id']}")
    expect(page.get_by_role("heading", name=re.compile("^State: "))).not_to_have_text(
        "State: Closed")
    expect(page.get_by_text(f"Report {again['number']} merged into this one")).to_be_visible()


def test_a_worker_opening_another_departments_request_learns_nothing_of_it(
        desktop_page, local_run, http) -> None:
    page = desktop_page
    trash = _file_trash(http, local_run)
    _sign_in(page, "department_worker", f"/console/requests/{trash}")
    expect(page.get_by_text("not assigned to your department")).to_be_visible()
    shown = page.locator("body").inner_text()
    source = page.content()  # not only what is visible: nothing of it in the HTML either
    for secret in (TRASH["description"], TRASH["address_string"], "Missed trash"):
        assert secret not in shown, secret
        assert secret not in source, secret
    check_accessibility(page)
    screenshot(page, "console-request-refused-desktop")
