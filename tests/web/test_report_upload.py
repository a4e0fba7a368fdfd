"""Photos sent straight to the bucket from the confirmation page: report.js asks the page
for a presigned form (with the page's CSRF token; the submitter's token stays in its
HttpOnly cookie) and posts the photo to S3 itself. In-process moto cannot take the
browser's POST, so these tests check the form (its key, type and size policy) and put the
object where S3 would; tests/e2e/test_report_upload.py sends a real one from Chromium."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.services.photos import MAX_BYTES
from tests.web.pages import csrf, html, text
from tests.web.test_report_flow import (
    TOWN,
    _incoming,
    _jpeg,
    _sent,
    places,  # noqa: F401 - the gazetteer fixture
    stored,
)

# Every story files its own report first, at a gazetteer place.
pytestmark = pytest.mark.usefixtures("places")


def ask_form(api: Any, location: str, token: str, cookie: str = "",
             content_type: str = "image/jpeg", *, send_token: bool = True) -> Any:
    """What report.js sends: the page's CSRF token and the sniffed type, urlencoded."""
    fields = {"content_type": content_type, **({"csrf_token": token} if send_token else {})}
    return api.http.post(f"{location}/upload-form", body=urlencode(fields), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        "Cookie": f"t311_csrf={token}" + (f"; {cookie}" if cookie else "")})


def answer(response: Any) -> dict[str, Any]:
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return json.loads(response.body)


def connect_sources(page: Any) -> list[str]:
    policy = page.headers["Content-Security-Policy"]
    return re.search(r"connect-src ([^;]*)", policy).group(1).split()


def test_the_submitters_page_lets_its_script_post_straight_to_the_bucket(
        api, deployment) -> None:
    location, _, page = _sent(api, None)
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    assert connect_sources(page) == ["'self'", f"https://{bucket}.s3.amazonaws.com"]
    assert f'data-upload-form-url="{location}/upload-form"' in html(page)
    assert f'data-sent-url="{location}?added=1"' in html(page)
    stranger = api.http.get(location)
    assert connect_sources(stranger) == ["'self'"]
    assert "data-upload-form-url" not in html(stranger)


def test_the_submitter_gets_a_form_for_one_photo_the_photo_worker_then_adds(
        api, deployment) -> None:
    from chalicelib.services import photos

    location, cookie, page = _sent(api, None)
    request = stored(deployment, location.rsplit("/", 1)[1])
    given = ask_form(api, location, csrf(page), cookie)
    assert given.status_code == 200
    form = answer(given)
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    assert form["url"] == f"https://{bucket}.s3.amazonaws.com/"
    assert form["max_bytes"] == MAX_BYTES
    key = form["fields"]["key"]
    assert key == f"incoming/{TOWN}/{request.request_id}/{form['photo_id']}"
    assert form["fields"]["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, MAX_BYTES] in policy["conditions"]
    submitters_token = cookie.partition(".")[2]
    assert submitters_token not in json.dumps(form)  # it stays in its HttpOnly cookie
    assert _incoming(deployment) == []  # a form stores nothing
    # What S3 does with the browser's POST, then what the bucket's event does with it.
    deployment.client("s3").put_object(Bucket=bucket, Key=key, Body=_jpeg(),
                                       ContentType="image/jpeg")
    assert photos.process_upload(key, deployment.container.photo_ports) == "published"
    again = api.http.get(f"{location}?added=1", headers={"Cookie": cookie})
    assert "Photo received" in text(again) and "You can add 4 more photos" in text(again)
    assert [p.photo_id for p in stored(deployment, request.tracking_number).photos] == [
        form["photo_id"]]


def test_no_form_without_the_submitters_cookie_or_for_another_number(
        api, deployment) -> None:
    location, cookie, page = _sent(api, None)
    other, other_cookie, _ = _sent(api, None)
    stranger = ask_form(api, location, csrf(page))
    assert stranger.status_code == 404 and answer(stranger)["error"]["code"] == "not_found"
    foreign = ask_form(api, other, csrf(page), cookie)  # this browser's cookie is for location
    assert foreign.status_code == 404
    forged = ask_form(api, location, csrf(page),
                      f"t311_report={location.rsplit('/', 1)[1]}.not-the-token")
    assert forged.status_code == 404
    assert ask_form(api, other, csrf(page), other_cookie).status_code == 200
    unknown = ask_form(api, location.rsplit("/", 1)[0] + "/ABCD-2345", csrf(page), cookie)
    assert unknown.status_code == 404 and "url" not in answer(unknown)


def test_a_form_asked_without_the_pages_csrf_token_is_refused(api, deployment) -> None:
    location, cookie, page = _sent(api, None)
    refused = ask_form(api, location, csrf(page), cookie, send_token=False)
    assert refused.status_code == 403 and answer(refused)["error"]["code"] == "forbidden"
    crossed = api.http.post(f"{location}/upload-form", body=urlencode({
        "csrf_token": csrf(page), "content_type": "image/jpeg"}), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site",
        "Cookie": f"t311_csrf={csrf(page)}; {cookie}"})
    assert crossed.status_code == 403 and "url" not in answer(crossed)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/svg+xml", ""])
def test_a_type_that_is_not_a_photo_gets_no_form(api, deployment,
                                                 content_type: str) -> None:
    location, cookie, page = _sent(api, None)
    refused = ask_form(api, location, csrf(page), cookie, content_type)
    assert refused.status_code == 400
    assert [p["field"] for p in answer(refused)["error"]["problems"]] == ["content_type"]


def test_a_report_with_all_its_photos_gets_no_more_forms(api, deployment) -> None:
    from chalicelib.services import photos

    location, cookie, page = _sent(api, None)
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    limit = deployment.container.towns.get_town(TOWN).photo_limit
    for _ in range(limit):
        key = answer(ask_form(api, location, csrf(page), cookie))["fields"]["key"]
        deployment.client("s3").put_object(Bucket=bucket, Key=key, Body=_jpeg())
        assert photos.process_upload(key, deployment.container.photo_ports) == "published"
    full = ask_form(api, location, csrf(page), cookie)
    assert full.status_code == 409 and answer(full)["error"]["code"] == "conflict"
    page = api.http.get(location, headers={"Cookie": cookie})
    assert "Add a photo" not in text(page) and connect_sources(page) == ["'self'"]


def test_one_report_cannot_ask_for_forms_without_end(api, deployment,
                                                     monkeypatch) -> None:
    from chalicelib.services import web_reports

    monkeypatch.setattr(web_reports, "PHOTO_FORMS_PER_HOUR", 2)
    location, cookie, page = _sent(api, None)
    other, other_cookie, _ = _sent(api, None)
    for _ in range(2):
        assert ask_form(api, location, csrf(page), cookie).status_code == 200
    throttled = ask_form(api, location, csrf(page), cookie)
    assert throttled.status_code == 429 and answer(throttled)["error"]["code"] == "throttled"
    assert int(throttled.headers["Retry-After"]) > 0
    # Strangers' refused asks do not count against a report; other reports have their own.
    assert ask_form(api, other, csrf(page), other_cookie).status_code == 200


def test_strangers_cannot_use_up_the_submitters_forms(api, deployment,
                                                      monkeypatch) -> None:
    from chalicelib.services import web_reports

    monkeypatch.setattr(web_reports, "PHOTO_FORMS_PER_HOUR", 1)
    location, cookie, page = _sent(api, None)
    for _ in range(3):
        assert ask_form(api, location, csrf(page)).status_code == 404
    assert ask_form(api, location, csrf(page), cookie).status_code == 200


def test_an_unknown_town_is_a_json_404(api, deployment) -> None:
    token = "t" * 43
    missing = ask_form(api, "/towns/nowhere.example/report/sent/ABCD-2345", token)
    assert missing.status_code == 404 and answer(missing)["error"]["code"] == "not_found"


def test_the_photo_bucket_takes_browsers_posts_and_nothing_else(deployment) -> None:
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    (rule,) = deployment.client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedMethods"] == ["POST"] and rule["AllowedOrigins"] == ["*"]


def test_the_page_says_in_spanish_why_a_big_photo_cannot_go_through_it(
        api, deployment) -> None:
    location, cookie, _ = _sent(api, None)
    page = api.http.get(f"{location}?lang=es", headers={"Cookie": cookie})
    assert ("enviada por esta página debe tener 4 MB o menos" in html(page)
            and "La foto es demasiado grande: debe tener 12 MB o menos" in html(page))
