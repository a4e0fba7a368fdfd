"""The map and list of a town's requests: filters, pages, public fields only, the map's
data as inert JSON, Spanish."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.functional.helpers import POTHOLE, body, post_request
from tests.web.pages import TOWN_PAGE, html, text

MAP = f"{TOWN_PAGE}/requests"
LIGHT = {"service_code": "streetlight_out", "lat": "41.8790", "long": "-87.6300",
         "attribute[problem]": "out", "address_string": "12 Elm St"}


def _file(api, fields: dict) -> str:
    (made,) = body(post_request(api, fields))
    return made["service_request_id"]


def _close(deployment, request_id: str) -> None:
    from chalicelib.domain.requests import TimelineEvent

    store = deployment.container.requests
    request = store.get("maplefalls.example", request_id, with_timeline=False)
    at = deployment.clock[0] + timedelta(minutes=5)
    request.status, request.lifecycle, request.closed_at, request.updated_at = \
        "closed", "closed", at, at
    store.record_change(request, TimelineEvent(at=at, event_id=f"close-{request_id}",
                                               kind="closed", summary="Fixed"))
    deployment.clock[0] = at + timedelta(minutes=1)


def _rows(page) -> list[str]:
    table = html(page).split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html(page) \
        else ""
    return re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)


def _points(page) -> list[dict]:
    found = re.search(r'<script type="application/json" id="requests-map-points">(.*?)'
                      r"</script>", html(page), flags=re.S)
    return json.loads(found.group(1)) if found else []


def test_the_list_shows_requests_with_links_to_track_them(api) -> None:
    _file(api, POTHOLE)
    _file(api, LIGHT)
    page = api.http.get(MAP)
    assert page.status_code == 200
    rows = _rows(page)
    assert len(rows) == 2
    assert "Streetlight out" in rows[0] and "12 Elm St" in rows[0]  # newest first
    assert "Pothole" in rows[1]
    assert all(re.search(rf'href="{TOWN_PAGE}/track/[A-Z0-9-]+"', row) for row in rows)
    assert "Nov 20, 2026" in text(page)  # the town's day, as a reader writes it


def test_filters_by_service_and_status_with_a_plain_get_form(api, deployment) -> None:
    pothole = _file(api, POTHOLE)
    _file(api, LIGHT)
    _close(deployment, pothole)
    page = api.http.get(MAP)
    assert f'action="{MAP}"' in html(page) and 'method="get"' in html(page)
    potholes = _rows(api.http.get(f"{MAP}?service=pothole"))
    assert len(potholes) == 1 and "Pothole" in potholes[0]
    closed = _rows(api.http.get(f"{MAP}?status=closed"))
    assert len(closed) == 1 and "Pothole" in closed[0] and "closed" in closed[0]
    assert _rows(api.http.get(f"{MAP}?status=open&service=pothole")) == []
    assert "No reports match" in text(api.http.get(f"{MAP}?status=open&service=pothole"))
    chosen = html(api.http.get(f"{MAP}?service=pothole&status=closed"))
    assert '<option value="pothole" selected>' in chosen
    assert '<option value="closed" selected>' in chosen


def test_a_filter_the_town_does_not_have_shows_everything_again(api) -> None:
    _file(api, POTHOLE)
    page = api.http.get(f"{MAP}?service=%3Cscript%3E&status=lost&page=-3")
    assert page.status_code == 200
    assert len(_rows(page)) == 1
    assert "<script>" not in html(page).split("</head>")[1].replace(
        '<script type="application/json" id="requests-map-points">', "")


def test_pages_move_through_the_list(api, monkeypatch) -> None:
    from chalicelib.services import resident_site

    monkeypatch.setattr(resident_site, "MAP_PAGE_SIZE", 2)
    for _ in range(3):
        _file(api, POTHOLE)
    first = api.http.get(f"{MAP}?service=pothole")
    assert len(_rows(first)) == 2
    older = re.search(r'href="([^"]+)" *>?<span class="usa-pagination__link-text">Older',
                      html(first).replace('rel="next" ', ""))
    assert older and "page=2" in older.group(1) and "service=pothole" in older.group(1)
    second = api.http.get(older.group(1).replace("&amp;", "&"))
    assert len(_rows(second)) == 1
    assert "Newer" in text(second) and "Older" not in text(second)
    numbers = {re.search(r"/track/([A-Z0-9-]+)", r).group(1)
               for r in _rows(first) + _rows(second)}
    assert len(numbers) == 3


def test_only_public_fields_are_shown_or_sent_to_the_map(api) -> None:
    _file(api, {**POTHOLE, "email": "private.person@example.org", "phone": "(312) 555-0142",
                "first_name": "Priscilla", "last_name": "Private",
                "description": "Hole by my house, call me"})
    page = api.http.get(MAP)
    for secret in ("private.person", "555-0142", "5550142", "Priscilla", "call me"):
        assert secret not in html(page)
    (point,) = _points(page)
    assert set(point) == {"lat", "long", "service", "status", "status_text", "address",
                          "number"}
    assert (point["lat"], point["long"], point["service"]) == (41.8781, -87.6298, "Pothole")


def test_the_map_is_data_and_files_never_inline_script(api) -> None:
    _file(api, {**LIGHT, "address_string": "</script><script>alert(1)</script>"})
    page = api.http.get(MAP)
    markup = html(page)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", markup, flags=re.S)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert "<script>alert(1)</script>" not in markup
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in markup  # the list: text
    (point,) = _points(page)
    assert point["address"] == "</script><script>alert(1)</script>"  # the map: inert JSON
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    for asset in ("leaflet", "map"):
        assert re.search(rf'src="/static/{asset}\.[0-9a-f]+\.js"', markup)
        served = re.search(rf'src="(/static/{asset}\.[0-9a-f]+\.js)"', markup).group(1)
        assert api.http.get(served).status_code == 200
    assert "L.circleMarker" in api.http.get(
        re.search(r'src="(/static/map\.[0-9a-f]+\.js)"', markup).group(1)).body.decode()


def test_an_empty_town_says_so_and_draws_no_map(api) -> None:
    page = api.http.get(MAP)
    assert "No reports match" in text(page)
    assert 'id="requests-map"' not in html(page)


def test_the_map_page_in_spanish(api) -> None:
    _file(api, POTHOLE)
    page = api.http.get(f"{MAP}?lang=es")
    seen = text(page)
    assert "Reportes en un mapa y en una lista" in seen
    assert "abierta" in seen or "abierto" in seen
    assert "20 nov 2026" in seen
    assert page.headers["Content-Language"] == "es"


def test_an_unknown_town_gets_a_404_page(api) -> None:
    page = api.http.get("/towns/nowhere.example/requests")
    assert page.status_code == 404 and "We could not find that" in text(page)
