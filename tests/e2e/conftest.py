"""Browser tests: Playwright driving Debian's Chromium against `make run`'s own stack.

The stack (`local_run`, once per xdist worker that runs a file from here) is
`python -m local.run` in a child process, on free ports and in a temporary state
directory: moto's server, the resources of infra/template.yaml, the demo town Maple Falls,
`chalice local` serving the API and the pages, the event pump (queues, S3, SNS,
schedules) and the outbox of what the app "sent" (see tests/e2e/stack.py for why a child
process). `make test` installs Chromium (apt-get) and Playwright; without Chromium the
browser tests are skipped with the reason, never passed.

Writing a page test
-------------------
One short function per page. Ask for `page` to get it at phone and desktop widths (two
runs, one screenshot each), or for `phone_page`, `desktop_page`, or `no_js_page`
(JavaScript off; progressive enhancement means every story must work there too). Pages
are relative to the stack (`base_url`); `local_run` has the town, its API key and the
outbox; `http` is a Playwright API client on the same stack for setting things up::

    from playwright.sync_api import expect

    from tests.e2e.browser import check_accessibility, screen_name, screenshot

    def test_home_page(page, local_run):
        page.goto(f"/towns/{local_run.town}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Maple Falls")
        check_accessibility(page)                      # fails on serious/critical
        screenshot(page, f"home-{screen_name(page)}")  # docs/screenshots/home-phone.png

Use Playwright's auto-waiting (`expect(...)`, locators), never sleeps. For what happens in
another process (the pump routing a request, a message reaching the outbox) use
`local_run.wait_for_message(...)` or `stack.wait_until(...)`: a deadline on a condition.
Each test gets a fresh browser context (cookies, storage), but the stack is shared by the
worker's tests: create what a test needs (its own request, its own e-mail address)
rather than counting what is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import (
    SCRIPTLESS_CONTEXTS,
    chromium_path,
    launch_arguments,
    wanted_chromium,
)
from tests.e2e.stack import LocalRun, start_local_run

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# Generous: it bounds a failure only (auto-waiting returns as soon as the page is right),
# and two busy cores can make the first request to a cold `chalice local` slow.
WAIT_MS = 20_000


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """`make run`'s stack for this worker (see the module docstring)."""
    run = start_local_run(tmp_path_factory.mktemp("local-run"))
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright: Any) -> Iterator[Any]:
    """Chromium, headless; the tests using it are skipped (with the reason) only if there
    is no Chromium on this machine."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(f"no Chromium at {wanted_chromium()} to drive: `make test` installs "
                    "Debian's with apt-get (as root), or set CHROMIUM=/path/to/chromium")
    browser = _playwright.chromium.launch(executable_path=executable,
                                          args=launch_arguments())
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def http(_playwright: Any, local_run: LocalRun) -> Iterator[Any]:
    """A Playwright API client (no browser) on the stack: `http.post("/towns/...",
    form={...})`, `.json()`. For setting up what a page test then looks at."""
    client = _playwright.request.new_context(base_url=local_run.base_url)
    try:
        yield client
    finally:
        client.dispose()


def _page(browser: Any, local_run: LocalRun, **options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=local_run.base_url, locale="en-US", **options)
    context.set_default_timeout(WAIT_MS)
    if options.get("java_script_enabled") is False:
        SCRIPTLESS_CONTEXTS.add(context)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Any, local_run: LocalRun) -> Iterator[Any]:
    """A phone-sized page (390×844, mobile, touch) in a fresh context."""
    yield from _page(browser, local_run, **PHONE)


@pytest.fixture
def desktop_page(browser: Any, local_run: LocalRun) -> Iterator[Any]:
    """A desktop-sized page (1280×900) in a fresh context."""
    yield from _page(browser, local_run, **DESKTOP)


@pytest.fixture
def no_js_page(browser: Any, local_run: LocalRun) -> Iterator[Any]:
    """A phone-sized page with JavaScript off: what a resident on a locked-down or very old
    phone gets. axe-core cannot run here (check the page with `page` instead)."""
    yield from _page(browser, local_run, java_script_enabled=False, **PHONE)


@pytest.fixture(params=["phone", "desktop"])
def page(request: pytest.FixtureRequest, browser: Any, local_run: LocalRun) -> Iterator[Any]:
    """The test runs twice: at phone width, then at desktop width."""
    yield from _page(browser, local_run, **(PHONE if request.param == "phone" else DESKTOP))
