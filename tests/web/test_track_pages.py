"""The track page: one address for people and API clients, status in plain words, the
public timeline, "me too", disputing a closure and rating it, by the services' rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.functional.helpers import body
from tests.functional.test_tracking_and_notices import confirm_links, route
from tests.web.pages import TOWN_PAGE, cookies, html, text
from tests.web.track_steps import (
    BROWSER,
    browser_token,
    close,
    make_outbox,
    multipart,
    page,
    post,
    report,
    sign_in,
    token_of,
)

ANA = {"email": "ana@example.org"}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def outbox(deployment):  # noqa: ANN001, ANN201 - local.outbox.Outbox
    return make_outbox(deployment)


def _followers(api, number: str) -> int:
    return body(api.http.get(f"{TOWN_PAGE}/track/{number}"))["followers"]


# --- one address, two answers ---------------------------------------------------------------


def test_api_clients_get_the_same_json_as_before_and_browsers_the_page(api) -> None:
    ana = report(api, ANA)
    path = f"{TOWN_PAGE}/track/{ana['number']}"
    plain = api.http.get(path)  # no Accept at all (the functional tests, old clients)
    asked = api.http.get(path, headers={"Accept": "application/json"})
    curl = api.http.get(path, headers={"Accept": "*/*"})
    forced = api.http.get(f"{path}?format=json", headers=BROWSER)
    for answer in (plain, asked, curl, forced):
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert body(answer) == body(plain)
        assert "Accept" in answer.headers["Vary"]
    assert body(plain)["tracking_number"] == ana["number"]
    assert set(body(plain)) >= {"status", "state", "timeline", "photos", "followers"}

    shown = page(api, path)
    assert shown.status_code == 200 and "Accept" in shown.headers["Vary"]
    assert "Pothole" in text(shown) and f"Request {ana['number']}" in text(shown)
    # JSON preferred over HTML by weight is still JSON.
    weighted = api.http.get(path, headers={"Accept": "text/html;q=0.5, application/json"})
    assert weighted.headers["Content-Type"].startswith("application/json")
    # Unknown numbers stay JSON errors for API clients.
    missing = api.http.get(f"{TOWN_PAGE}/track/ZZZZ-ZZZZ")
    assert missing.status_code == 404 and "error" in body(missing)


def test_the_page_says_the_status_in_plain_words_with_the_expected_date(api) -> None:
    ana = report(api, ANA)
    seen = text(page(api, f"{TOWN_PAGE}/track/{ana['number']}"))
    assert "Status: Received" in seen
    assert "We have your report and are sending it to the right department." in seen
    expected = body(api.http.get(f"{TOWN_PAGE}/track/{ana['number']}"))["expected_datetime"]
    assert expected.startswith("2026-11-24")  # babel writes it in words, in Chicago time
    assert "Expected by November 24, 2026" in seen
    assert "Report received" in seen and "by a resident" in seen


def test_numbers_are_typed_forgivingly(api) -> None:
    ana = report(api, ANA)
    typed = ana["number"].lower().replace("-", " ")
    shown = page(api, f"{TOWN_PAGE}/track/{typed}")
    assert shown.status_code == 200 and ana["number"] in text(shown)
    shown = page(api, f"{TOWN_PAGE}/track/{ana['number'].replace('-', '')}")
    assert shown.status_code == 200
    # Its forms post to the request's own number, however it was typed.
    assert f'action="{TOWN_PAGE}/track/{ana["number"]}/follow"' in html(shown)


def test_an_unknown_number_is_a_404_page_in_the_towns_branding(api) -> None:
    for number in ("ZZZZ-ZZZZ", "nope"):
        shown = page(api, f"{TOWN_PAGE}/track/{number}")
        assert shown.status_code == 404
        seen = text(shown)
        assert "No request has that number" in seen
        assert f"Maple Falls has no request with the tracking number “{number}”" in seen
        assert "--town-primary:" in html(shown)  # the town's colours, its header
    spanish = page(api, f"{TOWN_PAGE}/track/ZZZZ-ZZZZ?lang=es")
    assert "Ninguna solicitud tiene ese número" in text(spanish)
    assert page(api, "/towns/atlantis.example/track/ZZZZ-ZZZZ").status_code == 404


def test_the_timeline_names_roles_never_people_or_the_reporter(api, deployment, staff) -> None:
    ana = report(api, {"email": "ana@example.org", "phone": "+1 312 555 0100",
                       "first_name": "Ana", "last_name": "Quintero"})
    route(deployment)
    close(api, staff, ana["id"], note="Filled and rolled")
    shown = page(api, f"{TOWN_PAGE}/track/{ana['number']}")
    seen = text(shown)
    assert "Status: Closed" in seen and "Outcome Fixed" in seen
    assert "Filled and rolled" in seen and "by the department's crew" in seen
    for secret in ("ana@example.org", "0100", "Quintero", "department_worker@"):
        assert secret not in html(shown), secret


def test_public_photos_are_shown_as_the_json_has_them(api, deployment, staff) -> None:
    from tests.functional.test_photos import _jpeg_with_gps, _process, _upload

    ana = report(api, ANA)
    keys = [f"incoming/maplefalls.example/{ana['id']}/{name}" for name in ("shown", "hidden")]
    for key in keys:
        _upload(deployment, key, _jpeg_with_gps())
    _process(deployment, keys)
    r = api.http.post(f"/staff/requests/{ana['id']}/photos/hidden/hide",
                      headers=staff.headers("supervisor"))
    assert r.status_code == 200, r.body
    document = body(api.http.get(f"{TOWN_PAGE}/track/{ana['number']}"))
    assert [p["photo_id"] for p in document["photos"]] == ["shown"]
    shown = html(page(api, f"{TOWN_PAGE}/track/{ana['number']}"))
    assert f'src="{document["photos"][0]["thumbnail_url"]}"' in shown
    assert f'href="{document["photos"][0]["url"]}"' in shown
    assert 'alt="Photo 1 of the problem"' in shown
    assert "/hidden" not in shown


# --- "me too" -------------------------------------------------------------------------------


def test_following_asks_to_confirm_and_sends_nothing_else(api, deployment, outbox) -> None:
    ana = report(api, ANA)
    outbox.new_messages()
    token, jar = browser_token(api)
    done = post(api, f"{TOWN_PAGE}/track/{ana['number']}/follow",
                {"email": "ben@example.org", "phone": "", "language": "es"}, jar, token)
    assert done.status_code == 303
    assert done.headers["Location"] == f"{TOWN_PAGE}/track/{ana['number']}?done=follow"
    back = text(page(api, done.headers["Location"], jar))
    assert "Check your e-mail or phone" in back and "We send nothing else" in back
    sent = outbox.new_messages()
    assert [m["to"] for m in sent] == ["ben@example.org"]  # the confirm link, nothing else
    assert "/confirm/" in sent[0]["text"]
    assert _followers(api, ana["number"]) == 1
    assert confirm_links(api, sent) == 1


def test_follow_problems_are_shown_next_to_the_fields_and_nothing_is_stored(api) -> None:
    ana = report(api, ANA)
    token, jar = browser_token(api)
    path = f"{TOWN_PAGE}/track/{ana['number']}/follow"
    for fields, field in (({"email": "", "phone": ""}, "follow-email"),
                          ({"email": "not-an-email"}, "follow-email"),
                          ({"phone": "call me"}, "follow-phone")):
        shown = post(api, path, fields, jar, token)
        assert shown.status_code == 400, fields
        assert "data-error-summary" in html(shown) and f'href="#{field}"' in html(shown)
        assert f'id="{field}-error"' in html(shown)
    assert _followers(api, ana["number"]) == 0


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(api) -> None:
    ana = report(api, ANA)
    token, jar = browser_token(api)
    path = f"{TOWN_PAGE}/track/{ana['number']}/follow"
    missing = post(api, path, {"email": "ben@example.org"}, jar, None)
    assert missing.status_code == 403 and "That is not allowed" in text(missing)
    forged = post(api, path, {"email": "ben@example.org"}, "t311_csrf=" + "x" * 43, token)
    assert forged.status_code == 403
    assert _followers(api, ana["number"]) == 0


def test_script_typed_into_a_form_is_shown_as_text(api) -> None:
    ana = report(api, ANA)
    token, jar = browser_token(api)
    shown = post(api, f"{TOWN_PAGE}/track/{ana['number']}/follow",
                 {"email": "<script>alert(1)</script>"}, jar, token)
    assert shown.status_code == 400
    assert "<script>alert(1)</script>" not in html(shown)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html(shown)
    nowhere = page(api, f"{TOWN_PAGE}/track/%3Cb%3Ehi%3C%2Fb%3E")
    assert "<b>hi</b>" not in html(nowhere)


def test_too_many_follows_get_a_friendly_page(api) -> None:
    ana = report(api, ANA)
    token, jar = browser_token(api)
    path = f"{TOWN_PAGE}/track/{ana['number']}/follow"
    answers = [post(api, path, {"email": "ben@example.org"}, jar, token) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [303, 303, 303]
    assert answers[3].status_code == 429 and "Retry-After" in answers[3].headers
    assert "Too many messages have been asked for just now" in text(answers[3])


def test_a_closed_request_offers_no_follow_form(api, deployment, staff) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    shown = html(page(api, f"{TOWN_PAGE}/track/{ana['number']}"))
    assert "/follow" not in shown


# --- dispute a closure ------------------------------------------------------------------------


def test_an_open_request_offers_no_dispute_or_rating(api, outbox) -> None:
    ana = report(api, ANA)
    jar = sign_in(api, outbox, "ana@example.org")
    shown = text(page(api, f"{TOWN_PAGE}/track/{ana['number']}", jar))
    assert "Not fixed?" not in shown and "Rate the service" not in shown


def test_the_reporter_signs_in_and_disputes_a_closure_with_a_photo(
        api, deployment, staff, outbox) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    path = f"{TOWN_PAGE}/track/{ana['number']}"
    anonymous = page(api, path)
    assert "Sign in to say it is not fixed" in text(anonymous)
    assert f'href="{TOWN_PAGE}/sign-in?number={ana["number"]}"' in html(anonymous)
    assert 'name="note"' not in html(anonymous)

    jar = sign_in(api, outbox, "ana@example.org", ana["number"])
    signed_in = page(api, path, jar)
    assert 'name="note"' in html(signed_in) and 'enctype="multipart/form-data"' in html(
        signed_in)
    assert "until December 4, 2026" in text(signed_in)  # the town's 14 days
    payload, kind = multipart({"csrf_token": token_of(jar), "note": "Still a <b>hole</b>"},
                              (JPEG, "image/jpeg"))
    done = api.http.post(f"{path}/dispute", body=payload,
                         headers={"Content-Type": kind, "Cookie": jar})
    assert done.status_code == 303, done.body
    assert done.headers["Location"] == f"{path}?done=dispute"
    tracked = body(api.http.get(path))
    assert (tracked["status"], tracked["state"], tracked["disputed"]) == \
        ("open", "reopened", True)
    assert "with a photo" in tracked["timeline"][-1]["summary"]
    after = page(api, done.headers["Location"], jar)
    assert "The request is open again" in text(after)
    assert "Still a <b>hole</b>" in text(after) and "<b>hole</b>" not in html(after)


def test_a_dispute_without_a_photo_or_a_note(api, deployment, staff, outbox) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    jar = sign_in(api, outbox, "ana@example.org")
    path = f"{TOWN_PAGE}/track/{ana['number']}"
    payload, kind = multipart({"csrf_token": token_of(jar), "note": "  "}, None)
    empty = api.http.post(f"{path}/dispute", body=payload,
                          headers={"Content-Type": kind, "Cookie": jar})
    assert empty.status_code == 400 and 'href="#dispute-note"' in html(empty)
    payload, kind = multipart({"csrf_token": token_of(jar), "note": "Still there"},
                              (b"MZ not a picture", "application/x-msdownload"))
    exe = api.http.post(f"{path}/dispute", body=payload,
                        headers={"Content-Type": kind, "Cookie": jar})
    assert exe.status_code == 400 and 'id="dispute-media-error"' in html(exe)
    assert body(api.http.get(path))["status"] == "closed"  # nothing stored
    payload, kind = multipart({"csrf_token": token_of(jar), "note": "Still there"}, None)
    done = api.http.post(f"{path}/dispute", body=payload,
                         headers={"Content-Type": kind, "Cookie": jar})
    assert done.status_code == 303
    assert body(api.http.get(path))["state"] == "reopened"


def test_disputes_are_refused_as_the_service_says_and_the_page_explains(
        api, deployment, staff, outbox) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    path = f"{TOWN_PAGE}/track/{ana['number']}"
    # Not signed in: a dispute post goes to sign in and changes nothing.
    token, jar = browser_token(api)
    payload, kind = multipart({"csrf_token": token, "note": "x"}, None)
    anonymous = api.http.post(f"{path}/dispute", body=payload,
                              headers={"Content-Type": kind, "Cookie": jar})
    assert anonymous.status_code == 303 and "/sign-in?number=" in anonymous.headers["Location"]
    # A stranger is told who may; a forged post is refused by the service.
    eve = sign_in(api, outbox, "eve@example.org")
    seen = text(page(api, path, eve))
    assert "Only the person who reported this problem, or someone who followed it" in seen
    payload, kind = multipart({"csrf_token": token_of(eve), "note": "x"}, None)
    forged = api.http.post(f"{path}/dispute", body=payload,
                           headers={"Content-Type": kind, "Cookie": eve})
    assert forged.status_code == 403
    assert body(api.http.get(path))["status"] == "closed"
    # Past the town's window, the reporter is told to report it again.
    deployment.clock[0] += timedelta(days=15)
    late = sign_in(api, outbox, "ana@example.org")
    seen = text(page(api, path, late))
    assert "A closure can be disputed for 14 days" in seen
    assert 'name="note"' not in html(page(api, path, late))


def test_a_duplicate_closure_points_to_the_request_it_repeats(
        api, deployment, staff, outbox) -> None:
    first = report(api, {"email": "ben@example.org"})
    second = report(api, ANA)
    r = api.http.post(f"/staff/requests/{second['id']}/merge",
                      body=json.dumps({"into": first["id"]}).encode(),
                      headers=staff.headers("agent"))
    assert r.status_code == 200, r.body
    jar = sign_in(api, outbox, "ana@example.org")
    seen = text(page(api, f"{TOWN_PAGE}/track/{second['number']}", jar))
    assert "Closed as a duplicate of another report" in seen
    assert "repeats another one" in seen


# --- rate the service -------------------------------------------------------------------------


def test_the_reporter_rates_once_and_a_follower_may_not(api, deployment, staff,
                                                       outbox) -> None:
    ana = report(api, ANA)
    token, jar = browser_token(api)
    assert post(api, f"{TOWN_PAGE}/track/{ana['number']}/follow",
                {"email": "ben@example.org"}, jar, token).status_code == 303
    confirm_links(api, outbox.new_messages())
    route(deployment)
    close(api, staff, ana["id"])
    path = f"{TOWN_PAGE}/track/{ana['number']}"
    assert "Sign in to rate" in text(page(api, path))

    ben = sign_in(api, outbox, "ben@example.org")
    assert "Only the person who reported this problem can rate it." in text(
        page(api, path, ben))
    refused = post(api, f"{path}/rating", {"score": "5"}, ben, token_of(ben))
    assert refused.status_code == 403
    assert "Only the person who reported this problem can rate it." in text(refused)

    ana_jar = sign_in(api, outbox, "ana@example.org")
    bad = post(api, f"{path}/rating", {"score": "9"}, ana_jar, token_of(ana_jar))
    assert bad.status_code == 400 and 'href="#rating-score"' in html(bad)
    done = post(api, f"{path}/rating", {"score": "4", "comment": "Quick, thanks"}, ana_jar,
                token_of(ana_jar))
    assert done.status_code == 303 and done.headers["Location"] == f"{path}?done=rating"
    after = text(page(api, done.headers["Location"], ana_jar))
    assert "Thank you for rating the service." in after
    assert "You have rated this request. Thank you." in after
    again = post(api, f"{path}/rating", {"score": "1"}, ana_jar, token_of(ana_jar))
    assert again.status_code == 409
    (request,) = [deployment.container.requests.get("maplefalls.example", ana["id"],
                                                    with_timeline=False)]
    assert (request.rating, request.rating_comment) == (4, "Quick, thanks")


def test_a_rating_without_a_session_goes_to_sign_in(api, deployment, staff) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    token, jar = browser_token(api)
    r = post(api, f"{TOWN_PAGE}/track/{ana['number']}/rating", {"score": "5"}, jar, token)
    assert r.status_code == 303
    assert r.headers["Location"] == f"{TOWN_PAGE}/sign-in?number={ana['number']}"
    assert "t311_resident" not in cookies(r)


# --- Spanish ----------------------------------------------------------------------------------


def test_the_whole_page_in_spanish(api, deployment, staff, outbox) -> None:
    ana = report(api, ANA)
    route(deployment)
    close(api, staff, ana["id"])
    jar = sign_in(api, outbox, "ana@example.org")
    shown = page(api, f"{TOWN_PAGE}/track/{ana['number']}?lang=es", jar)
    seen = text(shown)
    assert shown.headers["Content-Language"] == "es"
    assert "Estado: Cerrada" in seen and "Resultado Resuelto" in seen
    assert "20 de noviembre de 2026" in seen and "4 de diciembre de 2026" in seen
    assert "por el equipo del departamento" in seen
    assert "¿No está resuelto?" in seen and "Califique el servicio" in seen
    for english in ("Status:", "What has happened", "Rate the service", "Sign out"):
        assert english not in seen, english
