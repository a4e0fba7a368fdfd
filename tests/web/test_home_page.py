"""The town's front page, its static files, languages and error pages."""

from __future__ import annotations

import re

from tests.functional.helpers import POTHOLE, post_request
from tests.web.pages import TOWN_PAGE, cookies, html, text


def test_home_page_shows_the_towns_services_grouped_and_a_track_form(api) -> None:
    page = api.http.get(TOWN_PAGE)
    assert page.status_code == 200
    seen = text(page)
    assert "Maple Falls" in seen and "What's the problem?" in seen
    assert "Streets & Sidewalks" in seen and "Pothole" in seen
    assert f'href="{TOWN_PAGE}/report/pothole"' in html(page)
    assert f'action="{TOWN_PAGE}/track"' in html(page)


def test_searching_in_residents_words_finds_the_service(api) -> None:
    page = api.http.get(f"{TOWN_PAGE}?q=hole+in+the+road")
    matches = html(page).split('id="matches"')[1].split("</section>")[0]
    assert matches.index("Pothole") >= 0
    assert re.findall(r"/report/(\w+)", matches)[0] == "pothole"


def test_a_search_that_matches_nothing_says_so(api) -> None:
    seen = text(api.http.get(f"{TOWN_PAGE}?q=zzzz+qqqq"))
    assert "No service matches those words" in seen


def test_script_typed_into_the_search_is_shown_as_text(api) -> None:
    page = html(api.http.get(f"{TOWN_PAGE}?q=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_recent_requests_are_listed_with_their_tracking_numbers(api) -> None:
    post_request(api, POTHOLE)
    page = html(api.http.get(TOWN_PAGE))
    recent = page.split('id="recent"')[1]
    number = re.search(r"/track/([A-Z0-9-]+)", recent)
    assert number and "Pothole" in recent


def test_pages_allow_no_inline_script_and_set_a_csrf_cookie(api) -> None:
    page = api.http.get(TOWN_PAGE)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "<script>" not in html(page)  # scripts only by src=
    cookie = page.headers["Set-Cookie"]
    assert "t311_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" in cookie


def test_the_language_switch_is_remembered(api) -> None:
    spanish = api.http.get(f"{TOWN_PAGE}?lang=es")
    assert "¿Cuál es el problema?" in text(spanish)
    assert html(spanish).startswith("<!doctype html>\n<html lang=\"es\">")
    assert cookies(spanish)["t311_lang"] == "es"
    again = api.http.get(TOWN_PAGE, headers={"Cookie": "t311_lang=es"})
    assert "¿Cuál es el problema?" in text(again)


def test_the_browsers_language_is_used_when_nothing_was_chosen(api) -> None:
    page = api.http.get(TOWN_PAGE, headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert page.headers["Content-Language"] == "es"
    french = api.http.get(TOWN_PAGE, headers={"Accept-Language": "fr-FR"})
    assert french.headers["Content-Language"] == "en"


def test_an_unknown_town_gets_a_plain_404_page(api) -> None:
    page = api.http.get("/towns/nowhere.example")
    assert page.status_code == 404
    assert "We could not find that" in text(page)
    assert "nowhere.example" in text(page)


def test_the_track_form_goes_to_the_requests_page(api) -> None:
    moved = api.http.get(f"{TOWN_PAGE}/track?number=k7qd 3m2p")
    assert moved.status_code == 303
    assert moved.headers["Location"] == f"{TOWN_PAGE}/track/K7QD3M2P"
    empty = api.http.get(f"{TOWN_PAGE}/track?number=")
    assert empty.headers["Location"] == f"{TOWN_PAGE}?missing_number=1"


def test_static_files_are_fingerprinted_and_cached_for_a_year(api) -> None:
    page = html(api.http.get(TOWN_PAGE))
    for href in re.findall(r'(?:href|src)="(/static/[^"]+)"', page):
        asset = api.http.get(href)
        assert asset.status_code == 200, href
        assert "immutable" in asset.headers["Cache-Control"]
    css = re.search(r'href="(/static/uswds\.[0-9a-f]+\.css)"', page).group(1)
    body = api.http.get(css).body.decode()
    assert "@font-face" not in body and "../img/" not in body and "data:image/svg+xml" in body
    stale = api.http.get("/static/uswds.000000000000.css")
    assert stale.status_code == 404
    assert api.http.get("/static/..%2f..%2fapp.py").status_code == 404


def test_services_are_listed_and_found_in_spanish(api) -> None:
    page = api.http.get(f"{TOWN_PAGE}?lang=es&q=bache")
    matches = html(page).split('id="matches"')[1].split("</section>")[0]
    assert re.findall(r"/report/(\w+)", matches)[0] == "pothole"
    assert "Pothole" not in text(page)


def test_an_emergency_alert_in_force_is_a_banner_in_the_residents_language(
        api, deployment) -> None:
    from tests.web.test_alerts_pages import _alert

    _alert(deployment, title="Boil water order")
    english = text(api.http.get(TOWN_PAGE))
    assert english.index("Boil water order") < english.index("What's the problem?")
    assert "Boil tap water for one minute." in english
    spanish = text(api.http.get(f"{TOWN_PAGE}?lang=es"))
    assert "Hierva el agua" in spanish and "Boil water order" not in spanish


def test_near_me_lists_the_months_reports_close_to_the_resident(api) -> None:
    from urllib.parse import urlencode

    near = {"service_code": "pothole", "lat": "44.97781", "long": "-93.26365",
            "address_string": "120 Main St", "attribute[size]": "large"}
    far = {**near, "lat": "44.99000", "long": "-93.30000", "address_string": "Far Rd"}
    for fields in (near, far):
        post_request(api, fields)
    page = api.http.get(f"{TOWN_PAGE}?{urlencode({'lat': '44.9779', 'long': '-93.2637'})}")
    recent = html(page).split('id="recent"')[1].split("</section>")[0]
    assert "Reported near you" in recent
    assert "120 Main St" in recent and "Far Rd" not in recent
    nowhere = api.http.get(f"{TOWN_PAGE}?lat=10&long=10")
    assert "Nothing reported near you" in text(nowhere)
    ignored = api.http.get(f"{TOWN_PAGE}?lat=999&long=x")
    assert "Recently reported" in text(ignored)
