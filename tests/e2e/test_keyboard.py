"""Filing a report with the keyboard alone: every step reachable by Tab, chosen by Space or
Enter, with the focus always visible where the reader is."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def _tab_to(page: Page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused element's accessible text is ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; const l = e.labels && e.labels[0];"
            " return ((l && l.innerText) || e.innerText || e.value ||"
            " e.getAttribute('aria-label') || '').trim(); }")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_a_report_can_be_filed_with_the_keyboard_alone(desktop_page, local_run) -> None:
    page = desktop_page
    page.goto(f"/towns/{local_run.town}")
    _tab_to(page, "Pothole")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/report/pothole$"))
    _tab_to(page, "Smaller than a dinner plate")  # the first choice of the size question
    page.keyboard.press("Space")
    expect(page.locator("input[value=small]")).to_be_checked()
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")
    box = page.get_by_label("Where is the problem?")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.type("Cedar St & 5", delay=20)
    suggestion = page.get_by_role("button", name="Cedar St & 5th Ave")
    expect(suggestion).to_be_visible()
    page.keyboard.press("ArrowDown")  # from the box into the suggestions
    expect(suggestion).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#place-status")).to_contain_text("Cedar St & 5th Ave")
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).not_to_have_text("Where is the problem?")
    if page.get_by_role("button", name="None of these: continue with my report").count():
        _tab_to(page, "None of these: continue with my report")
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("contact", re.I))
    _tab_to(page, "Continue")  # no contact given
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Send report")).to_be_visible()
    _tab_to(page, "Send report")
    page.keyboard.press("Enter")
    expect(page.locator("[data-tracking-number]")).to_have_text(
        re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
