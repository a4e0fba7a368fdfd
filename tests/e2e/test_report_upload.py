"""A phone's photo sent from the confirmation page straight to the town's bucket: a file
bigger than a photo through the app may be, the progress bar, "Photo received", and the
photo on the report once the bucket's event (the pump, locally) ran the photo worker."""

from __future__ import annotations

import io
import os
import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.stack import wait_until

# Watches the page's progress bar from outside report.js: every value it shows while it
# is visible goes to the test (a binding survives the reload that follows the upload).
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.querySelector("#photo-progress");
  if (!bar) { return; }
  const box = bar.closest("[data-photo-progress]");
  new MutationObserver(() => {
    if (!box.hidden) { window.progressShown(Number(bar.value)); }
  }).observe(box, { attributes: true, subtree: true });
});
"""


def _big_jpeg(megabytes: float = 2.0) -> bytes:
    """Random noise does not compress: a JPEG of about `megabytes`."""
    from PIL import Image

    side = int((megabytes * 1024 * 1024 / 1.2) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        out, "JPEG", quality=95)
    return out.getvalue()


def test_a_photo_goes_straight_to_the_bucket_with_a_progress_bar(desktop_page, local_run,
                                                                 http) -> None:
    page = desktop_page
    shown: list[float] = []
    posts: list[tuple[str, int]] = []
    page.expose_function("progressShown", lambda value: shown.append(value))
    page.add_init_script(WATCH_PROGRESS)
    page.on("requestfinished", lambda r: posts.append((r.url, r.response().status))
            if r.method == "POST" else None)
    page.goto(f"/towns/{local_run.town}/report/pothole")
    page.locator("label").filter(has_text="Smaller than a dinner plate").first.click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Where is the problem?").fill("Elm St & 2")
    page.get_by_role("button", name="Elm St & 2nd Ave").click()
    page.get_by_role("button", name="Continue").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).not_to_have_text(re.compile("^$"))
    if page.get_by_role("button", name="None of these: continue with my report").count():
        page.get_by_role("button", name="None of these: continue with my report").click()
    page.get_by_role("button", name="Continue").click()  # no contact
    page.get_by_role("button", name="Send report").click()
    number = page.locator("[data-tracking-number]")
    expect(number).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    tracking_number = number.inner_text()

    photo = _big_jpeg()
    assert len(photo) > 1_800_000
    page.set_input_files("#media", files=[{"name": "pothole.jpg",
                                           "mimeType": "image/jpeg", "buffer": photo}])
    page.get_by_role("button", name="Add photo").click()
    expect(page.get_by_text("Photo received")).to_be_visible()

    bucket = local_run.facts["aws_endpoint_url"].rstrip("/")
    assert [status for url, status in posts if url.startswith(bucket + "/")] == [204]
    assert not [url for url, _ in posts if url.endswith("/photos")]  # not through the app
    assert shown and max(shown) == 100, shown

    def public_photos() -> list[Any]:
        tracked = http.get(f"/towns/{local_run.town}/track/{tracking_number}",
                           headers={"Accept": "application/json"})
        return tracked.json()["photos"] if tracked.ok else []

    (published,) = wait_until(public_photos, "the photo worker to add the photo")
    assert published["url"].endswith(".jpg")
