"""The resident site's open-data page: what is published, removed and blurred in plain
words, links to the feed and to each year's file; a year's page makes the file in the
background and links it once written; unknown towns and years are friendly pages."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.functional.test_open_data import _download, _file_requests, _run_worker
from tests.web.pages import html, text

TOWN = "maplefalls.example"
PAGE = f"/towns/{TOWN}/open-data"


def test_the_page_explains_what_is_removed_and_links_the_files(api) -> None:
    page = api.http.get(PAGE)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    words = text(page)
    assert "Open data" in words and "What is left out" in words
    assert "phone numbers" in words
    assert "has not marked any kind of report as sensitive" in words
    for link in (f"{PAGE}/requests.csv", f"{PAGE}/requests.geojson", f"{PAGE}/files/2026",
                 f"{PAGE}/files/2025"):
        assert f'href="{link}"' in html(page)


def test_the_page_names_the_blurred_services_and_the_grid(api, staff) -> None:
    admin = {**staff.headers("town_admin"), "Content-Type": "application/json"}
    api.http.patch("/admin/town", headers=admin, body=json.dumps(
        {"sensitive_services": ["pothole"], "open_data_grid_m": 400}))
    words = text(api.http.get(PAGE))
    assert "400 metres" in words and "Pothole" in words


def test_the_page_in_spanish(api) -> None:
    words = text(api.http.get(f"{PAGE}?lang=es"))
    assert "Datos abiertos" in words and "Lo que no se publica" in words
    assert "Reportes de 2026 (CSV)" in words


def test_a_years_file_is_prepared_then_linked(api, deployment) -> None:
    _file_requests(api, deployment, 2)
    waiting = api.http.get(f"{PAGE}/files/2026")
    assert waiting.status_code == 200 and "The file is being prepared" in text(waiting)
    assert waiting.headers["Cache-Control"] == "no-store"
    assert f'href="{PAGE}/files/2026"' in html(waiting)  # Check again
    _run_worker(deployment)
    ready = api.http.get(f"{PAGE}/files/2026")
    assert "The file is ready: 2 reports." in text(ready)
    link = next(part.split('"')[0] for part in html(ready).split('href="')
                if "exports/" in part)
    from html import unescape

    assert _download(unescape(link)).decode().startswith("service_request_id,")
    deployment.clock[0] += timedelta(days=1)  # another day: a fresh file
    assert "The file is being prepared" in text(api.http.get(f"{PAGE}/files/2026"))


def test_unknown_towns_and_bad_years_are_friendly_pages(api) -> None:
    missing = api.http.get("/towns/nowhere.example/open-data")
    assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]
    for year in ("20x6", "1999", "2999", "<script>"):
        bad = api.http.get(f"{PAGE}/files/{year}")
        assert bad.status_code in (400, 404), year
        assert "text/html" in bad.headers["Content-Type"] and "<script>" not in html(bad)


def test_the_home_page_links_to_the_open_data_page(api) -> None:
    assert f'href="{PAGE}"' in html(api.http.get(f"/towns/{TOWN}"))
