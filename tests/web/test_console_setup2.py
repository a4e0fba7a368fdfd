"""The console's setup screens, part two: a department's test delivery and its recent
delivery results, the zones on a map, and the routing dry run's point on a map. The test
goes down the real path (the webhook queue on moto, then the webhook function's
``deliver_webhook``), refused for other roles, budgeted, and needs the CSRF token."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.schemas.delivery import WebhookDelivery
from chalicelib.services.delivery import DeliveryFailed, deliver_webhook
from tests.fakes.webhooks import FakePoster
from tests.web.pages import html, text
from tests.web.test_console_entry import Desk, desk
from tests.web.test_console_setup import (
    DEPARTMENTS,
    ROUTING,
    SQUARE,
    ZONES,
    catalogue,
    dns,  # noqa: F401 - a fixture
    upload,
)

BRIDGES = DEPARTMENTS + "/edit/bridges"


def _drain(deployment: Any, url: str) -> list[str]:
    sqs = deployment.client("sqs")
    bodies: list[str] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _webhook_messages(deployment: Any) -> list[WebhookDelivery]:
    return [WebhookDelivery.model_validate_json(b) for b in _drain(
        deployment, deployment.container.settings.webhook_queue_url)]


def _queue_messages(deployment: Any, code: str) -> list[dict[str, Any]]:
    url = bootstrap.container().channels.queue_url_for("maplefalls.example", code)
    return [json.loads(b) for b in _drain(deployment, url)]


@pytest.fixture
def bridges(api, staff, deployment, dns) -> Desk:  # noqa: ANN001, F811 - fixtures
    """A town admin, and the department Bridges with a queue and a webhook."""
    # A warm function holds the catalogue from before the department was made: the
    # webhook function must not send by it (a test comes right after saving a webhook).
    towns = deployment.container.towns
    towns.get_catalogue("maplefalls.example", towns.get_town("maplefalls.example").changeset)
    admin = desk(api, staff, "town_admin")
    admin.get(DEPARTMENTS + "/new")
    made = admin.post(DEPARTMENTS + "/new", [
        ("code", "bridges"), ("name", "Bridges"), ("email", ""), ("queue", "yes"),
        ("webhook_url", "https://hooks.example.com/town311")])
    assert made.status_code == 200, text(made)
    return admin


def _rows(page: Any) -> list[str]:
    table = html(page).split('class="usa-table usa-table--borderless usa-table--stacked '
                             'console-table console-deliveries"')[1].split("</table>")[0]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]


# --- the test delivery and the results --------------------------------------------------------


def test_a_test_delivery_goes_down_the_real_path_and_its_results_are_listed(
        bridges, deployment) -> None:
    page = bridges.get(BRIDGES)
    assert "Send a test delivery" in text(page)
    assert "Nothing was delivered in the last two weeks." in text(page)

    sent = bridges.post(BRIDGES + "/test", [])
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"{BRIDGES}?tested=queue%2Cwebhook"
    # On the department's own queue: the document, marked as a test.
    (queued,) = _queue_messages(deployment, "bridges")
    assert queued["event"] == "test" and queued["delivery_id"].startswith("test-")
    assert queued["service_request"]["service_name"] == "Test delivery"
    # On the webhook queue, for the webhook function, which POSTs it: refused once, then taken.
    (message,) = _webhook_messages(deployment)
    assert message.assignment.delivery_id == queued["delivery_id"]
    ports = deployment.container.webhook_ports
    with pytest.raises(DeliveryFailed, match="answered 503"):
        deliver_webhook(message, 1, replace(ports, poster=FakePoster(503)))
    poster = FakePoster(204)
    assert deliver_webhook(message, 2, replace(ports, poster=poster)) is True
    assert json.loads(poster.posts[0][1])["event"] == "test"
    assert "X-Town311-Signature" in poster.posts[0][2]

    shown = bridges.get(sent.headers["Location"])
    assert "A test delivery is on its way." in text(shown)
    assert _rows(shown) == [
        "2026-11-20 15:30:00 Test Webhook 2 Delivered · HTTP 204",
        "2026-11-20 15:30:00 Test Webhook 1 Refused: it will be tried again · HTTP 503",
        "2026-11-20 15:30:00 Test Queue 1 On the queue",
    ]
    entry = deployment.container.audit.page("maplefalls.example", None, 1)[0]
    assert (entry.action, entry.target) == ("department.test_delivery", "bridges")


def test_a_real_assignment_is_listed_as_one(bridges, deployment) -> None:
    from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent

    c = deployment.container
    at = deployment.clock[0]
    request = ServiceRequest(
        town_id="maplefalls.example", request_id="R1", token_hash="t", service_code="pothole",
        service_name="Pothole", requested_at=at, updated_at=at, place=Place())
    c.channels.deliver("maplefalls.example", catalogue(deployment).department("bridges"),
                       request, TimelineEvent(at=at, event_id="E1", kind="routed", summary="x"))
    (message,) = _webhook_messages(deployment)
    deliver_webhook(message, 1, replace(c.webhook_ports, poster=FakePoster(200)))
    rows = _rows(bridges.get(BRIDGES))
    assert [r.split(" ", 2)[2] for r in rows] == [
        "Assignment Webhook 1 Delivered · HTTP 200", "Assignment Queue 1 On the queue"]


def test_test_deliveries_are_budgeted(bridges, deployment) -> None:
    for _ in range(3):
        assert bridges.post(BRIDGES + "/test", []).status_code == 303
    refused = bridges.post(BRIDGES + "/test", [])
    assert refused.status_code == 429
    assert "Too many test deliveries were sent just now." in text(refused)
    assert "Send a test delivery" in text(refused)  # still the department's page
    assert len(_webhook_messages(deployment)) == 3  # the fourth sent nothing


def test_a_department_without_a_channel_or_unknown_has_no_test(bridges, deployment) -> None:
    water = bridges.get(DEPARTMENTS + "/edit/water")
    assert water.status_code == 200 and "Send a test delivery" not in text(water)
    assert bridges.post(DEPARTMENTS + "/edit/water/test", []).status_code == 409
    assert bridges.post(DEPARTMENTS + "/edit/nope/test", []).status_code == 404
    assert _webhook_messages(deployment) == []


def test_other_roles_and_posts_without_the_token_send_nothing(api, staff, bridges,
                                                              deployment) -> None:
    for who in (desk(api, staff, "agent"), desk(api, staff, "analyst"),
                desk(api, staff, "supervisor"),
                desk(api, staff, "department_worker", departments=("bridges",))):
        who.get("/console")
        assert who.post(BRIDGES + "/test", []).status_code == 403
        assert who.get(BRIDGES).status_code == 403
    bridges.get(BRIDGES)
    assert bridges.post(BRIDGES + "/test", [], token="").status_code == 403
    assert _webhook_messages(deployment) == []
    assert _queue_messages(deployment, "bridges") == []
    assert "Nothing was delivered" in text(bridges.get(BRIDGES))


def test_the_deliveries_in_spanish(api, bridges) -> None:
    page = api.http.get(f"{BRIDGES}?lang=es", headers={"Cookie": bridges.cookie()})
    assert "Enviar una entrega de prueba" in text(page)
    assert "No se entregó nada en las últimas dos semanas." in text(page)


# --- the maps ----------------------------------------------------------------------------------


def _data(page: Any, block: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{block}">(.*?)</script>',
                      html(page), re.S)
    assert found, block
    return json.loads(found.group(1))


def test_the_zones_screen_draws_the_zones_and_marks_the_one_just_saved(
        api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get(ZONES)
    assert 'id="setup-zones-map"' in html(page) and "console_setup" in html(page)
    shown = _data(page, "setup-zones-shapes")
    assert {z["code"] for z in shown["zones"]} == {z.code for z in catalogue(deployment).zones}
    assert shown["highlight"] == []
    saved = upload(admin, ZONES, [("code", "north"), ("name", "North <b>end</b>"),
                                  ("kind", "ward"), ("geometry", json.dumps(SQUARE))])
    assert saved.status_code == 303
    after = admin.get(saved.headers["Location"])
    drawn = _data(after, "setup-zones-shapes")
    assert drawn["highlight"] == ["north"]
    (north,) = [z for z in drawn["zones"] if z["code"] == "north"]
    assert north["geometry"] == SQUARE and north["name"] == "North <b>end</b>"
    # A name is data in the block, never markup on the page.
    assert "<b>end</b>" not in html(after).split('id="setup-zones-shapes"')[0]


def test_the_dry_run_shows_its_point_and_the_zone_it_fell_in(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    page = admin.get(ROUTING)
    assert 'id="dry-run-map"' in html(page) and _data(page, "dry-run-shapes")["point"] is None
    # The typed fields stay, for keyboards and browsers without JavaScript.
    assert 'id="lat"' in html(page) and 'id="long"' in html(page)
    tried = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=44.975&long=-93.268")
    assert tried.status_code == 200
    point = _data(tried, "dry-run-shapes")["point"]
    assert point == {"lat": 44.975, "long": -93.268, "zones": ["old-town"]}
    assert "At the point 44.975000, -93.268000" in text(tried)
    assert re.search(r"Zones here: \S.* \(old-town\)", text(tried))
    nowhere = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=1&long=2")
    assert _data(nowhere, "dry-run-shapes")["point"]["zones"] == []
    assert "Zones here: none" in text(nowhere)


def test_a_bad_point_shows_no_point_on_the_map(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    for query in ("lat=95&long=2", "lat=abc&long=2", "lat=1", "lat=nan&long=1"):
        bad = admin.get(f"{ROUTING}/dry-run?service_code=pothole&{query}")
        assert bad.status_code == 400, query
        assert _data(bad, "dry-run-shapes")["point"] is None
        assert "data-error-summary" in html(bad)


# --- the gazetteer's report ---------------------------------------------------------------------


def test_the_gazetteer_report_lists_rows_kept_and_each_row_refused_with_its_reason(
        api, staff) -> None:
    from tests.web.test_console_setup import CSV, PLACES

    admin = desk(api, staff, "town_admin")
    admin.get(PLACES)
    sent = upload(admin, PLACES, [], ("places.csv", CSV, "text/csv"))
    assert sent.status_code == 200, text(sent)
    assert "2 rows kept, 2 refused." in text(sent)
    assert "Rows kept, by kind: address: 2" in text(sent)
    table = html(sent).split("<caption>Rows refused</caption>")[1].split("</table>")[0]
    rows = [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    assert rows == ["4 lat is not a number", "5 an address needs a number and a street"]
