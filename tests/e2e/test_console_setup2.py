"""The console's setup screens in a real browser, part two: a town admin sends a test
delivery to a department's webhook (a receiver this test runs on loopback, which `make
run` allows) and sees its result on the department's screen; the zones on a map, with a
zone just uploaded marked; the routing dry run's point chosen by clicking the map. axe-core
on each screen; screenshots of the maps."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import check_accessibility, screen_name, screenshot
from tests.e2e.stack import wait_until

# Blocks of 150 m around Maple Falls' centre (chalicelib/services/demo_gazetteer.py).
CENTRE_LAT, CENTRE_LONG = 44.9778, -93.2650
LAT_PER_BLOCK, LONG_PER_BLOCK = 150 / 111_195, 150 / (111_195 * 0.7073)


def _sign_in(page: Page, role: str, target: str) -> None:
    page.goto(f"/console/sign-in?next={target}")
    page.get_by_role("button", name=f"Sign in as {role}").click()
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


class Receiver:
    """A department's work-order system: takes every POST (200) and keeps it."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/town311"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


def test_a_town_admin_sends_a_test_delivery_to_a_webhook(desktop_page, local_run,
                                                         receiver) -> None:
    page = desktop_page
    code = f"hooks-{uuid.uuid4().hex[:6]}"
    _sign_in(page, "town_admin", "/console/admin/departments/new")
    page.get_by_label("Code").fill(code)
    page.get_by_label("Name").fill("Work orders")
    page.get_by_label("Webhook address (optional)").fill(receiver.url)
    page.get_by_role("button", name="Save the department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The webhook's signing secret")
    secret = page.get_by_label("Signing secret").input_value()

    page.goto(f"/console/admin/departments/edit/{code}")
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    expect(page.get_by_text("Nothing was delivered in the last two weeks.")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Send a test delivery").click()
    expect(page.get_by_text(re.compile("^A test delivery is on its way"))).to_be_visible()

    # The event pump runs the webhook function, which POSTs it here, signed.
    headers, body = wait_until(lambda: receiver.posts and receiver.posts[0],
                               "the test delivery at the receiver")
    document = json.loads(body)
    assert document["event"] == "test" and document["department"]["code"] == code
    assert document["delivery_id"].startswith("test-")
    signed = f"{headers['x-town311-timestamp']}.".encode() + body
    assert headers["x-town311-signature"] == "sha256=" + hmac.new(
        secret.encode(), signed, hashlib.sha256).hexdigest()

    results = page.locator(".console-deliveries tbody")

    def delivered() -> bool:
        page.reload()
        return "Delivered" in results.inner_text()

    wait_until(delivered, "the webhook's result on the department's screen", interval=0.5)
    row = results.get_by_role("row").filter(has_text="Webhook")
    expect(row).to_contain_text("Test")
    expect(row).to_contain_text("HTTP 200")
    check_accessibility(page)
    screenshot(page, "console-department-deliveries-desktop")


def test_the_zones_map_shows_an_uploaded_zone(page, local_run) -> None:
    _sign_in(page, "town_admin", "/console/admin/zones")
    expect(page.get_by_role("region", name=re.compile("^Map of the zones"))).to_be_visible()
    expect(page.locator("#setup-zones-map path.town-zone")).to_have_count(4)
    check_accessibility(page)
    screenshot(page, f"console-zones-map-{screen_name(page)}")

    code = f"e2e-{uuid.uuid4().hex[:6]}"
    south, west = CENTRE_LAT - 6 * LAT_PER_BLOCK, CENTRE_LONG - 2 * LONG_PER_BLOCK
    north, east = CENTRE_LAT - 5 * LAT_PER_BLOCK, CENTRE_LONG + 2 * LONG_PER_BLOCK
    square = {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                  [west, north], [west, south]]]}
    page.get_by_label("Code").fill(code)
    page.get_by_label("Name").fill("South fields")
    page.get_by_label("Or paste the GeoJSON").fill(json.dumps(square))
    page.get_by_role("button", name="Save the zone").click()
    expect(page.get_by_text(f"The zone {code} was saved.")).to_be_visible()
    expect(page.locator("#setup-zones-map path.town-zone")).to_have_count(5)
    expect(page.locator("#setup-zones-map path.console-zone--marked")).to_have_count(1)
    check_accessibility(page)
    screenshot(page, f"console-zones-map-uploaded-{screen_name(page)}")
    # Not left for other tests' zone lists.
    page.get_by_role("button", name="Delete South fields").click()
    expect(page.get_by_text(f"The zone {code} was deleted.")).to_be_visible()


def test_the_dry_run_takes_its_point_from_a_click_on_the_map(page, local_run) -> None:
    _sign_in(page, "town_admin", "/console/admin/routing")
    area = page.get_by_role("region", name=re.compile("^Map of the zones: choose a point"))
    expect(area).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Service", exact=True).last.select_option("pothole")
    # A little south-west of the centre, inside Old Town: the map fits the four zones
    # (8.5 blocks high), about 35 px a block at either width.
    box = area.bounding_box()
    assert box is not None
    area.click(position={"x": box["width"] / 2 - 40, "y": box["height"] / 2 + 40})
    expect(page.get_by_label("Latitude")).to_have_value(re.compile(r"^44\.\d{6}$"))
    expect(page.get_by_label("Longitude")).to_have_value(re.compile(r"^-93\.\d{6}$"))
    expect(page.locator("#dry-run-picked")).to_contain_text("Point chosen on the map")
    lat = float(page.get_by_label("Latitude").input_value())
    long = float(page.get_by_label("Longitude").input_value())
    assert lat < CENTRE_LAT and long < CENTRE_LONG
    page.get_by_role("button", name="Try it").click()
    expect(page.get_by_text(re.compile("^It would go to"))).to_be_visible()
    expect(page.get_by_text(f"At the point {lat:.6f}, {long:.6f}")).to_be_visible()
    expect(page.get_by_text("Zones here: Old Town (old-town)")).to_be_visible()
    expect(page.locator("#dry-run-map path.console-point")).to_have_count(1)
    expect(page.locator("#dry-run-map path.console-zone--marked")).to_have_count(1)
    check_accessibility(page)
    screenshot(page, f"console-dry-run-map-{screen_name(page)}")
