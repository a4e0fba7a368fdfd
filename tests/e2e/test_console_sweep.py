"""Every console screen a town administrator and an analyst can reach from the console's
menu, in a real browser: axe-core on each, and the keyboard reaches every menu link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility

ROLES = ["town_admin", "analyst"]


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def _menu(page: Page) -> list[tuple[str, str]]:
    links = page.get_by_role("navigation", name="Staff console").get_by_role("link")
    expect(links.first).to_be_visible()
    return [(link.inner_text().strip(), link.get_attribute("href") or "")
            for link in links.all()]


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_screen_is_accessible(desktop_page, local_run, role) -> None:
    page = desktop_page
    _sign_in(page, role, "/console")
    menu = _menu(page)
    assert len(menu) > 1, menu
    for label, href in menu:
        assert href.startswith("/console"), (label, href)
        response = page.goto(href)
        assert response is not None and response.status == 200, (label, href)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        try:
            check_accessibility(page)
        except AssertionError as problem:
            raise AssertionError(f"{role}, menu entry {label!r}: {problem}") from None


@pytest.mark.parametrize("role", ROLES)
def test_tab_reaches_every_menu_link(desktop_page, local_run, role) -> None:
    page = desktop_page
    _sign_in(page, role, "/console")
    wanted = {href for _, href in _menu(page)}
    reached: set[str] = set()
    focusable = page.locator("a[href], button, input, select, textarea").count()
    for _ in range(focusable + 5):
        page.keyboard.press("Tab")
        href = page.evaluate("() => document.activeElement?.getAttribute('href')")
        if href in wanted:
            reached.add(href)
        if reached == wanted:
            break
    assert reached == wanted, f"Tab never reached {sorted(wanted - reached)}"
