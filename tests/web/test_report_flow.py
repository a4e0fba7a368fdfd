"""Reporting a problem on the town's pages, screen by screen, as a browser without
JavaScript does it: every screen's form posted with its hidden fields."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.functional.helpers import post_request
from tests.web.pages import TOWN_PAGE, csrf, html, text

REPORT = f"{TOWN_PAGE}/report"
TOWN = "maplefalls.example"


@pytest.fixture
def places(deployment) -> None:  # noqa: ANN001 - the conftest Deployment
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, TOWN, deployment.clock[0])


def hidden_fields(page: Any) -> list[tuple[str, str]]:
    """The form's hidden fields, in page order, as a browser sends them."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html(page))
    return [(n, unescape(v)) for n, v in found if n != "csrf_token"]


def send(api: Any, page: Any, *extra: tuple[str, str], path: str = f"{REPORT}/pothole",
         cookie: str = "") -> Any:
    """Post the page's form: its hidden fields, then ``extra`` (later fields win)."""
    token = csrf(page)
    pairs = [("csrf_token", token), *hidden_fields(page), *extra]
    return api.http.post(path, body=urlencode(pairs), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"t311_csrf={token}" + (f"; {cookie}" if cookie else "")})


def first_place(page: Any) -> str:
    return unescape(re.search(r'name="place" value="([^"]+)"', html(page)).group(1))


def to_review(api: Any, *, description: str = "Deep hole by the school",
              contact: tuple[tuple[str, str], ...] = (("email", "ana@example.com"),
                                                     ("notify", "yes")),
              cookie: str = "") -> Any:
    page = api.http.get(f"{REPORT}/pothole", headers={"Cookie": cookie} if cookie else {})
    page = send(api, page, ("attribute[size]", "large"), ("attribute[depth_inches]", "4"),
                ("description", description), cookie=cookie)
    assert "Where is the problem?" in text(page) or "¿Dónde está el problema?" in text(page)
    page = send(api, page, ("place_text", "Main St & 3rd"), cookie=cookie)
    page = send(api, page, ("place", first_place(page)), cookie=cookie)
    if 'value="duplicates"' in html(page):
        page = send(api, page, cookie=cookie)
    return send(api, page, *contact, cookie=cookie)


def stored(deployment, number: str):  # noqa: ANN001, ANN201
    from chalicelib.services.tracking import find_by_number

    c = deployment.container
    return find_by_number(c.requests, c.towns.get_town(TOWN), number)


def report_cookie(response: Any) -> str:
    raw = response.headers.get("Set-Cookie", "")
    values = raw if isinstance(raw, list) else [raw]
    return next(v.split(";")[0] for v in values if v.startswith("t311_report="))


def test_a_resident_reports_a_pothole_from_service_to_confirmation(api, deployment,
                                                                   places) -> None:
    choose = api.http.get(f"{REPORT}?q=hole+in+the+road")
    assert choose.status_code == 200
    assert re.findall(r"/report/(\w+)", html(choose).split('id="matches"')[1])[0] == "pothole"
    review = to_review(api)
    seen = text(review)
    assert "Check your answers" in seen and "Larger than a car tire" in seen
    assert "Main St & 3rd Ave" in seen and "ana@example.com" in seen
    done = send(api, review)
    assert done.status_code == 303
    number = done.headers["Location"].rsplit("/", 1)[1]
    assert done.headers["Location"] == f"{REPORT}/sent/{number}"
    sent = api.http.get(done.headers["Location"], headers={"Cookie": report_cookie(done)})
    assert number in text(sent) and "Report sent" in text(sent)
    assert f'href="{TOWN_PAGE}/track/{number}"' in html(sent)
    # Due in 3 business days, written in the town's time zone in the page's language.
    assert "We expect to deal with it by Tuesday, November 24, 2026." in text(sent)
    request = stored(deployment, number)
    assert request.channel == "web" and request.reporter.language == "en"
    assert request.answers == {"size": "large", "depth_inches": "4"}
    assert request.place.address == "Main St & 3rd Ave" and request.place.has_point
    assert request.description == "Deep hole by the school"
    assert request.reporter.email == "ana@example.com"


def test_a_place_that_is_not_listed_is_sent_as_an_address_without_a_point(
        api, deployment, places) -> None:
    page = send(api, api.http.get(f"{REPORT}/graffiti"), ("attribute[surface][]", "sign"),
                path=f"{REPORT}/graffiti")
    page = send(api, page, ("place_text", "behind the old mill"), path=f"{REPORT}/graffiti")
    assert "It is not listed" in text(page)
    page = send(api, page, ("place", "typed"), path=f"{REPORT}/graffiti")
    page = send(api, page, path=f"{REPORT}/graffiti")  # no contact
    done = send(api, page, path=f"{REPORT}/graffiti")
    request = stored(deployment, done.headers["Location"].rsplit("/", 1)[1])
    assert request.place.address == "behind the old mill" and not request.place.has_point
    assert request.answers == {"surface": ["sign"]}


def test_a_place_picked_by_the_script_skips_the_suggestions(api, places) -> None:
    page = send(api, api.http.get(f"{REPORT}/pothole"), ("attribute[size]", "small"))
    page = send(api, page, ("place_text", "Town Hall"), ("address_string", "Town Hall"),
                ("lat", "44.9778"), ("long", "-93.2650"))
    assert "How can we contact you?" in text(page)


def test_each_datatype_gets_its_own_message_next_to_the_field(api, places) -> None:
    page = api.http.get(f"{REPORT}/missed_trash")
    assert re.search(r"Which carts were missed\?\s*<abbr title=\"required\"", html(page))
    bad = send(api, page, ("attribute[set_out_at]", "last tuesday"),
               ("attribute[notice]", "x" * 4001), path=f"{REPORT}/missed_trash")
    assert bad.status_code == 400
    seen = text(bad)
    assert "There is a problem" in seen and 'data-error-summary' in html(bad)
    assert "Choose an answer for “Which carts were missed?”" in seen
    assert "Enter a date and time, like 2026-11-20 14:30" in seen
    assert "Shorten this to 4000 characters or fewer" in seen
    assert 'id="attribute-set_out_at-error"' in html(bad)
    assert 'href="#q-set_out_at"' in html(bad)
    assert "last tuesday" in html(bad)  # what they typed is kept
    car = send(api, api.http.get(f"{REPORT}/abandoned_vehicle"),
               ("attribute[days_parked]", "a week"), ("attribute[plate]", "x" * 300),
               path=f"{REPORT}/abandoned_vehicle")
    seen = text(car)
    assert "Answer “Make and color”" in seen and "Enter a number, like 3 or 4.5" in seen
    assert "Shorten this to 255 characters or fewer" in seen
    light = send(api, api.http.get(f"{REPORT}/streetlight_out"),
                 ("attribute[problem]", "exploded"), path=f"{REPORT}/streetlight_out")
    assert "Choose one of the answers shown" in text(light)
    graffiti = send(api, api.http.get(f"{REPORT}/graffiti"),
                    ("attribute[surface][]", "moon"), path=f"{REPORT}/graffiti")
    assert "Choose one of the answers shown" in text(graffiti)


def test_contact_and_location_are_checked_on_their_screens(api, places) -> None:
    page = send(api, api.http.get(f"{REPORT}/pothole"), ("attribute[size]", "small"))
    empty = send(api, page, ("place_text", ""))
    assert empty.status_code == 400
    assert "Enter an address, an intersection or a place" in text(empty)
    page = send(api, page, ("place_text", "Town Hall"))
    unpicked = send(api, page)
    assert "Choose a place from the list" in text(unpicked)
    page = send(api, page, ("place", first_place(page)))
    bad = send(api, page, ("email", "not-an-address"), ("phone", "12"))
    assert "Enter an e-mail address like name@example.com" in text(bad)
    assert "Enter a phone number we can text" in text(bad)


def test_a_change_from_check_your_answers_comes_back_to_it(api, places) -> None:
    review = to_review(api)
    questions = send(api, review, ("change", "questions"))
    assert "Tell us about the problem" in text(questions)
    again = send(api, questions, ("attribute[size]", "small"))
    assert "Check your answers" in text(again) and "Smaller than a dinner plate" in text(again)


def test_script_typed_in_the_description_is_shown_as_text(api, places) -> None:
    review = to_review(api, description="<script>alert(1)</script><b>big</b>")
    assert "<script>alert(1)</script>" not in html(review)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html(review)
    done = send(api, review)
    sent = api.http.get(done.headers["Location"])
    assert "<script>alert" not in html(sent)


def test_a_post_without_its_csrf_token_is_refused_and_nothing_is_stored(api, deployment,
                                                                        places) -> None:
    review = to_review(api)
    pairs = hidden_fields(review)
    refused = api.http.post(f"{REPORT}/pothole", body=urlencode(pairs), headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 403 and "That is not allowed" in text(refused)
    forged = api.http.post(f"{REPORT}/pothole", body=urlencode(
        [("csrf_token", "x" * 43), *pairs]), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "t311_csrf=" + "y" * 43})
    assert forged.status_code == 403
    from chalicelib.domain.queries import RequestQuery

    c = deployment.container
    now = c.now()
    from datetime import timedelta

    found = c.requests.find(TOWN, RequestQuery(start=now - timedelta(days=1), end=now))
    assert found.items == []


def test_sending_the_review_twice_makes_one_request(api, deployment, places) -> None:
    review = to_review(api)
    first = send(api, review)
    second = send(api, review)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    from datetime import timedelta

    from chalicelib.domain.queries import RequestQuery

    now = deployment.container.now()
    found = deployment.container.requests.find(TOWN, RequestQuery(
        start=now - timedelta(days=1), end=now))
    assert len(found.items) == 1


def test_one_address_cannot_flood_the_town(api, deployment, places, monkeypatch) -> None:
    from chalicelib.services import web_reports

    monkeypatch.setattr(web_reports, "PER_SOURCE_REPORTS_PER_HOUR", 1)
    assert send(api, to_review(api)).status_code == 303
    refused = send(api, to_review(api))
    assert refused.status_code == 429 and "Too many tries" in text(refused)


def test_reports_nearby_are_offered_before_a_new_one(api, places) -> None:
    existing = post_request(api, {"service_code": "pothole", "lat": "44.9778",
                                  "long": "-93.2650", "address_string": "Main St & 3rd Ave",
                                  "attribute[size]": "small"})
    assert existing.status_code == 201
    page = send(api, api.http.get(f"{REPORT}/pothole"), ("attribute[size]", "large"))
    page = send(api, page, ("place_text", "Main St & 3rd"))
    page = send(api, page, ("place", first_place(page)))
    assert "Has someone reported this already?" in text(page)
    number = re.search(r'href="[^"]*/track/([A-Z0-9-]+)"', html(page)).group(1)
    assert "Follow this one instead" in text(page) and number
    assert "How can we contact you?" in text(send(api, page))


def test_an_unknown_service_is_a_404_page(api) -> None:
    page = api.http.get(f"{REPORT}/time_machine")
    assert page.status_code == 404 and "We could not find that" in text(page)
    assert api.http.get("/towns/nowhere.example/report").status_code == 404
    assert api.http.get(f"{REPORT}/sent/ZZZZ-ZZZZ").status_code == 404


def test_the_whole_flow_reads_in_spanish(api, deployment, places) -> None:
    choose = api.http.get(f"{REPORT}?lang=es&q=bache")
    assert "¿Qué quiere reportar?" in text(choose) and "Bache" in text(choose)
    assert "Calles y aceras" in text(choose)
    spanish = "t311_lang=es"
    page = api.http.get(f"{REPORT}/pothole", headers={"Cookie": spanish})
    seen = text(page)
    assert "Cuéntenos sobre el problema" in seen and "¿Qué tan grande es, más o menos?" in seen
    assert "Más grande que una llanta" in seen and 'lang="es"' in html(page)
    bad = send(api, page, ("attribute[depth_inches]", "mucho"), cookie=spanish)
    assert "Elija una respuesta para «¿Qué tan grande es, más o menos?»" in text(bad)
    assert "Escriba un número, como 3 o 4.5" in text(bad)
    review = to_review(api, cookie=spanish, contact=(("phone", "(612) 555-0134"),))
    assert "Revise sus respuestas" in text(review)
    done = send(api, review, cookie=spanish)
    sent = api.http.get(done.headers["Location"], headers={"Cookie": spanish})
    assert "Reporte enviado" in text(sent)
    assert "Esperamos atenderlo a más tardar el martes, 24 de noviembre de 2026." in text(sent)
    request = stored(deployment, done.headers["Location"].rsplit("/", 1)[1])
    assert request.reporter.language == "es" and request.reporter.phone == "+16125550134"


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def _multipart(token: str, content: bytes, filename: str, content_type: str) -> tuple[bytes,
                                                                                       str]:
    boundary = "----town311test"
    parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
             f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; "
             f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    body = parts + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _incoming(deployment) -> list[str]:  # noqa: ANN001
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    found = deployment.client("s3").list_objects_v2(Bucket=bucket, Prefix="incoming/")
    return [o["Key"] for o in found.get("Contents", [])]


def _sent(api, places_done) -> tuple[str, str, Any]:  # noqa: ANN001
    done = send(api, to_review(api))
    cookie = report_cookie(done)
    page = api.http.get(done.headers["Location"], headers={"Cookie": cookie})
    return done.headers["Location"], cookie, page


def test_a_photo_is_attached_through_the_photo_pipeline(api, deployment, places) -> None:
    from chalicelib.services import photos

    location, cookie, page = _sent(api, places)
    assert 'enctype="multipart/form-data"' in html(page)
    token = csrf(page)
    body, kind = _multipart(token, _jpeg(), "hole.jpg", "image/jpeg")
    added = api.http.post(f"{location}/photos", body=body, headers={
        "Content-Type": kind, "Cookie": f"t311_csrf={token}; {cookie}"})
    assert added.status_code == 303 and added.headers["Location"].endswith("?added=1")
    (key,) = _incoming(deployment)
    # What the bucket's event does with every upload, presigned or through the app.
    assert photos.process_upload(key, deployment.container.photo_ports) == "published"
    request = stored(deployment, location.rsplit("/", 1)[1])
    assert len(request.photos) == 1 and request.photos[0].added_by == "resident"
    again = api.http.get(f"{location}?added=1", headers={"Cookie": cookie})
    assert "Photo received" in text(again) and "You can add 4 more photos" in text(again)


def test_a_file_that_is_not_a_photo_is_refused_before_anything_is_stored(
        api, deployment, places) -> None:
    location, cookie, page = _sent(api, places)
    token = csrf(page)
    body, kind = _multipart(token, b"%PDF-1.7 not a picture", "hole.jpg", "image/jpeg")
    refused = api.http.post(f"{location}/photos", body=body, headers={
        "Content-Type": kind, "Cookie": f"t311_csrf={token}; {cookie}"})
    assert refused.status_code == 400
    assert "The file you chose is not a photo" in text(refused)
    assert 'id="media-error"' in html(refused)
    assert _incoming(deployment) == []


def test_without_the_submitters_cookie_no_photo_can_be_added(api, deployment,
                                                             places) -> None:
    location, _, _ = _sent(api, places)
    stranger = api.http.get(location)
    assert "Add a photo" not in text(stranger)
    token = "s" * 43  # a browser's own CSRF token: the form and cookie agree
    body, kind = _multipart(token, _jpeg(), "hole.jpg", "image/jpeg")
    refused = api.http.post(f"{location}/photos", body=body, headers={
        "Content-Type": kind, "Cookie": f"t311_csrf={token}"})
    assert refused.status_code == 404
    assert _incoming(deployment) == []
