"""The town-wide list's filters on how a request reached the town, on being overdue and on
an open dispute (the console page and GET /staff/requests, through ``staff.search`` and the
DynamoDB store on moto), and the map view of the same filtered page."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from tests.functional.helpers import POTHOLE, body
from tests.web.pages import html, text
from tests.web.test_console_work import (  # noqa: F401 - crew: a fixture
    Session,
    _file,
    _stored,
    crew,
)

TOWN = "maplefalls.example"


@pytest.fixture
def desk(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("supervisor"))


def _phoned(api, staff) -> str:  # noqa: ANN001
    """A pothole an agent entered for a caller (channel ``phone``)."""
    entered = api.http.post(
        "/staff/requests", headers={**staff.headers("agent"), "Content-Type": "application/json"},
        body=json.dumps({"channel": "phone", "service_code": "pothole",
                         "lat": 41.8790, "long": -87.6290,
                         "description": "Caller says the hole is by the bakery",
                         "attributes": {"size": "small"}}))
    assert entered.status_code == 201, entered.body
    return body(entered)["service_request_id"]


def _json_ids(api, staff, query: str) -> set[str]:  # noqa: ANN001
    found = api.http.get(f"/staff/requests?{query}", headers=staff.headers("supervisor"))
    assert found.status_code == 200, found.body
    return {r["service_request_id"] for r in json.loads(found.body)["requests"]}


def _listed(page) -> set[str]:  # noqa: ANN001
    """The requests the list's table links to."""
    return set(re.findall(r'href="/console/requests/([0-9A-Z]{26})"', html(page)))


def test_the_channel_filter_keeps_the_requests_that_came_that_way(api, deployment, staff,
                                                                 desk) -> None:
    app = _file(api, deployment, POTHOLE)
    phoned = _phoned(api, staff)
    assert _listed(desk.get("/console/requests?channel=phone")) == {phoned}
    assert _listed(desk.get("/console/requests?channel=open311")) == {app}
    assert _listed(desk.get("/console/requests?channel=web")) == set()
    assert _json_ids(api, staff, "channel=phone") == {phoned}
    page = html(desk.get("/console/requests?channel=phone"))
    assert '<option value="phone" selected>Phone call</option>' in page


def test_the_overdue_filter_keeps_open_requests_past_their_expected_time(
        api, deployment, staff, desk) -> None:
    late = _file(api, deployment, POTHOLE)
    due = datetime.fromisoformat(_stored(api, staff, late)["expected_datetime"])
    deployment.clock[0] = due + timedelta(hours=1)
    fresh = _file(api, deployment, POTHOLE)  # filed now: due long after
    assert _listed(desk.get("/console/requests?overdue=true")) == {late}
    assert _listed(desk.get("/console/requests?overdue=false")) == {fresh}
    assert _listed(desk.get("/console/requests")) == {late, fresh}
    assert _json_ids(api, staff, "overdue=true") == {late}
    assert _json_ids(api, staff, "overdue=false") == {fresh}
    shown = text(desk.get("/console/requests?overdue=true"))
    assert "Overdue" in shown


def test_a_closed_request_is_never_overdue(api, deployment, staff, desk) -> None:
    done = _file(api, deployment, POTHOLE)
    closed = api.http.post(
        f"/departments/public_works/requests/{done}/close",
        headers={**staff.headers("supervisor"), "Content-Type": "application/json"},
        body=json.dumps({"resolution": "fixed"}))
    assert closed.status_code == 200, closed.body
    due = datetime.fromisoformat(_stored(api, staff, done)["expected_datetime"])
    deployment.clock[0] = due + timedelta(days=2)
    assert _listed(desk.get("/console/requests?overdue=true")) == set()
    assert _listed(desk.get("/console/requests?overdue=false")) == {done}


def _dispute(deployment, request_id: str) -> None:  # noqa: ANN001
    """The request as a resident's dispute leaves it: open again, ``disputed`` (the track
    page's dispute is tested in test_track_pages; here only what the store holds counts)."""
    from chalicelib.domain.requests import TimelineEvent

    store = deployment.container.requests
    found = store.get(TOWN, request_id, with_timeline=False)
    found.disputed = True
    store.record_change(found, TimelineEvent(
        at=deployment.clock[0], event_id="01JDISPUTE0000000000000000", kind="disputed",
        summary="Reopened: the resident says it is not fixed", public=True,
        actor_role="resident"))


def test_the_disputed_filter_keeps_requests_open_on_a_dispute(api, deployment, staff,
                                                              desk) -> None:
    argued = _file(api, deployment, POTHOLE)
    calm = _file(api, deployment, POTHOLE)
    _dispute(deployment, argued)
    assert _listed(desk.get("/console/requests?disputed=true")) == {argued}
    assert _listed(desk.get("/console/requests?disputed=false")) == {calm}
    assert _json_ids(api, staff, "disputed=true") == {argued}
    assert _json_ids(api, staff, "disputed=true&overdue=true") == set()


def test_a_department_worker_filters_only_their_departments(
        api, deployment, staff, crew) -> None:  # noqa: F811
    from tests.web.test_console_work import TRASH

    trash = _file(api, deployment, TRASH)
    _dispute(deployment, trash)
    mine = _file(api, deployment, POTHOLE)
    assert _listed(crew.get("/console/requests?disputed=true")) == set()
    assert _listed(crew.get("/console/requests?disputed=false")) == {mine}


@pytest.mark.parametrize(("query", "field"), [
    ("channel=fax", "channel"), ("overdue=maybe", "overdue"), ("disputed=2", "disputed"),
    ("status=pending", "status"), ("end_date=31-12-2026", "end_date"), ("page=0", "page"),
])
def test_a_bad_filter_value_is_the_form_again_with_a_message(api, staff, desk, query: str,
                                                            field: str) -> None:
    page = desk.get(f"/console/requests?{query}&view=map")
    assert page.status_code == 400
    shown = html(page)
    assert "data-error-summary" in shown
    assert f'href="#filter-{field}"' in shown
    assert "requests-map-points" not in shown
    if field not in ("end_date", "page"):
        assert f'id="filter-{field}-error"' in shown
        assert "Choose one of the listed values" in text(page)
    answered = api.http.get(f"/staff/requests?{query}", headers=staff.headers("supervisor"))
    assert answered.status_code == 400


def test_a_script_in_the_text_filter_stays_text(desk) -> None:
    page = desk.get("/console/requests?q=%3Cscript%3Ealert(1)%3C/script%3E&view=map")
    assert page.status_code == 200
    assert "<script>alert(1)" not in html(page)
    assert "&lt;script&gt;alert(1)" in html(page)


def test_the_map_view_shows_the_filtered_page_as_data_and_keeps_the_table(
        api, deployment, staff, desk) -> None:
    app = _file(api, deployment, POTHOLE)
    phoned = _phoned(api, staff)
    listed = desk.get("/console/requests?channel=phone")
    assert "requests-map-points" not in html(listed)
    toggle = re.search(r'href="([^"]*view=map[^"]*)"', html(listed))
    assert toggle and "channel=phone" in toggle.group(1)

    page = desk.get("/console/requests?channel=phone&view=map")
    assert page.status_code == 200
    shown = html(page)
    block = re.search(r'<script type="application/json" id="requests-map-points">(.*?)'
                      r'</script>', shown, re.S)
    assert block
    points = json.loads(block.group(1))
    assert [p["link"] for p in points] == [f"/console/requests/{phoned}"]
    assert points[0]["lat"] == pytest.approx(41.879) and points[0]["status"] == "open"
    assert app not in block.group(1)
    # The table stays, the scripts are files, and the filter keeps the map on.
    assert _listed(page) == {phoned}
    for script in re.findall(r"<script[^>]*>", shown):
        assert 'src="' in script or 'type="application/json"' in script, script
    assert re.search(r'src="[^"]*leaflet[^"]*\.js"', shown)
    assert '<input type="hidden" name="view" value="map">' in shown
    assert "Hide the map" in text(page)


def test_the_map_of_a_page_without_points_says_so(api, staff, desk) -> None:
    entered = api.http.post(
        "/staff/requests", headers={**staff.headers("agent"), "Content-Type": "application/json"},
        body=json.dumps({"channel": "counter", "service_code": "other",
                         "address_string": "1 Main St"}))
    assert entered.status_code == 201, entered.body
    page = desk.get("/console/requests?channel=counter&view=map")
    assert "requests-map-points" not in html(page)
    assert "None of the requests on this page has a point" in text(page)


def test_the_new_filters_and_the_map_speak_spanish(api, deployment, desk) -> None:
    _file(api, deployment, POTHOLE)
    page = text(desk.get("/console/requests?view=map&lang=es"))
    for words in ("Cómo nos llegó", "Solo vencidas", "Solo impugnadas", "Ocultar el mapa"):
        assert words in page, words
    bad = desk.get("/console/requests?overdue=maybe&lang=es")
    assert "Elija uno de los valores de la lista" in text(bad)
