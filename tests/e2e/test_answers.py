"""Answers in a real browser: a resident asks "when is leaf pickup?" in the home page's
search, opens the answer (from the demo town's starter pack) and says it helped; the same
in Spanish. Accessibility checked on each page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot


def test_a_resident_asks_when_leaf_pickup_is_and_gets_the_answer(phone_page: Page,
                                                                  local_run) -> None:  # noqa: ANN001
    page = phone_page
    page.goto(f"/towns/{local_run.town}")
    page.get_by_label("Describe the problem in a few words").fill("when is leaf pickup?")
    page.get_by_role("button", name="Search").click()
    answers = page.get_by_role("region", name="Answers that may help")
    expect(answers).to_be_visible()
    expect(answers.get_by_role("listitem").first).to_contain_text("Answered by Sanitation")
    check_accessibility(page)
    screenshot(page, "answers-search")
    answers.get_by_role("link", name="When is leaf pickup?").click()
    expect(page.get_by_role("heading", level=1, name="When is leaf pickup?")).to_be_visible()
    expect(page.get_by_text(re.compile("Loose leaves are picked up"))).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thank you. We are glad it helped.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "answers-article")


def test_a_spanish_reader_gets_the_spanish_answer(desktop_page: Page, local_run) -> None:  # noqa: ANN001
    page = desktop_page
    page.goto(f"/towns/{local_run.town}/report?lang=es")
    page.get_by_label("Describa el problema en pocas palabras").fill("cuándo recogen las hojas")
    page.get_by_role("button", name="Buscar").click()
    page.get_by_role("link", name="¿Cuándo recogen las hojas?").click()
    expect(page.get_by_role("heading", level=1,
                            name="¿Cuándo recogen las hojas?")).to_be_visible()
    expect(page.get_by_role("button", name="Sí")).to_be_visible()
    check_accessibility(page)
