"""Filing a report in a real browser: typing an address, answering the questions, the
possible duplicates, a photo; with JavaScript, without it, in Spanish."""

from __future__ import annotations

import io
import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screenshot


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(out, "JPEG")
    return out.getvalue()


def _choose(page: Page, label: str) -> None:
    """Tick a radio button or checkbox as a person does: by its label (USWDS draws its own
    box and moves the input itself off screen)."""
    page.locator("label").filter(has_text=label).first.click()


def _past_duplicates(page: Page, label: str) -> None:
    """The demo month may hold a pothole near the place: go on with a new report."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).not_to_have_text(re.compile("^$"))
    if page.get_by_role("button", name=label).count():
        page.get_by_role("button", name=label).click()


def test_a_resident_files_a_pothole_by_typing_an_address(desktop_page, local_run, http
                                                         ) -> None:
    page = desktop_page
    page.goto(f"/towns/{local_run.town}/report")
    page.get_by_label("Describe the problem in a few words").fill("hole in road")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Pothole").first.click()
    check_accessibility(page)
    _choose(page, "Larger than a car tire")
    page.get_by_label("Describe the problem (optional)").fill("Deep hole by the crossing")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Where is the problem?").fill("Main St & 3")
    page.get_by_role("button", name="Main St & 3rd Ave").click()  # a suggestion, by script
    expect(page.locator("#place-status")).to_contain_text("Main St & 3rd Ave")
    check_accessibility(page)
    screenshot(page, "report-place-desktop")
    page.get_by_role("button", name="Continue").click()
    _past_duplicates(page, "None of these: continue with my report")
    page.get_by_label("E-mail address (optional)").fill("e2e-filer@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Deep hole by the crossing")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Send report").click()
    number = page.locator("[data-tracking-number]")
    expect(number).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    check_accessibility(page)
    page.set_input_files("#media", files=[{"name": "pothole.jpg", "mimeType": "image/jpeg",
                                           "buffer": _jpeg()}])
    page.get_by_role("button", name="Add photo").click()
    expect(page.get_by_text("Photo received")).to_be_visible()
    screenshot(page, "report-sent-desktop")
    tracked = http.get(f"/towns/{local_run.town}/track/{number.inner_text()}",
                                 headers={"Accept": "application/json"})
    assert tracked.ok and "Main St & 3rd Ave" in tracked.text()


def test_the_same_report_works_without_javascript(no_js_page, local_run) -> None:
    page = no_js_page
    page.goto(f"/towns/{local_run.town}/report/pothole")
    _choose(page, "Smaller than a dinner plate")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Where is the problem?").fill("oak and 2nd")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose the place")
    _choose(page, "Oak St & 2nd Ave")
    page.get_by_role("button", name="Continue").click()
    _past_duplicates(page, "None of these: continue with my report")
    page.get_by_role("button", name="Continue").click()  # no contact
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("[data-tracking-number]")).to_be_visible()
    page.set_input_files("#media", files=[{"name": "notes.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"%PDF-1.4 not a photo"}])
    page.get_by_role("button", name="Add photo").click()
    expect(page.get_by_text("is not a photo").first).to_be_visible()
    page.set_input_files("#media", files=[{"name": "pothole.jpg", "mimeType": "image/jpeg",
                                           "buffer": _jpeg()}])
    page.get_by_role("button", name="Add photo").click()
    expect(page.get_by_text("Photo received")).to_be_visible()
    screenshot(page, "report-sent-no-js")


def test_the_whole_report_in_spanish_on_a_phone(phone_page, local_run) -> None:
    page = phone_page
    page.goto(f"/towns/{local_run.town}/report?lang=es")
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Qué quiere reportar?")
    page.get_by_role("link", name="Bache").first.click()
    _choose(page, "Más grande que una llanta")
    page.get_by_role("button", name="Continuar").click()
    page.get_by_label(re.compile("¿Dónde está el problema?")).fill("Elm St & 4")
    page.get_by_role("button", name="Elm St & 4th Ave").click()
    page.get_by_role("button", name="Continuar").click()
    _past_duplicates(page, "Ninguno de estos: seguir con mi reporte")
    page.get_by_role("button", name="Continuar").click()
    check_accessibility(page)
    page.get_by_role("button", name="Enviar reporte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reporte enviado")
    expect(page.get_by_text("Esperamos atenderlo a más tardar el")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "report-sent-spanish-phone")


def test_a_file_that_is_not_a_photo_is_refused_before_upload(desktop_page, local_run) -> None:
    page = desktop_page
    page.goto(f"/towns/{local_run.town}/report/graffiti")
    _choose(page, "Utility box")  # a multiple-choice question (checkboxes)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Where is the problem?").fill("Pine St & 1")
    page.get_by_role("button", name="Pine St & 1st Ave").click()
    page.get_by_role("button", name="Continue").click()
    _past_duplicates(page, "None of these: continue with my report")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send report").click()
    page.set_input_files("#media", files=[{"name": "virus.jpg", "mimeType": "image/jpeg",
                                           "buffer": b"MZ\x90\x00 not a photo"}])
    page.get_by_role("button", name="Add photo").click()
    expect(page.locator("#media-error")).to_contain_text("not a photo")
    expect(page.get_by_text("Photo received")).to_have_count(0)
