"""Emergency alerts for residents as pages: the alerts in force (JSON unchanged for
clients), signing up with a code, managing and stopping; bad input, throttling, Spanish."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.web.pages import TOWN_PAGE, cookies, csrf, html, post_form, text

ALERTS = f"{TOWN_PAGE}/alerts"
SIGN_UP = f"{ALERTS}/sign-up"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _alert(deployment, alert_id: str = "A1", zones: tuple[str, ...] = ("riverside",),
           title: str = "Boil water order") -> None:
    from chalicelib.domain.alerts import Alert

    now = deployment.clock[0]
    deployment.container.alert_ports.alerts.save(Alert(
        "maplefalls.example", alert_id, {"en": title, "es": "Hierva el agua"},
        {"en": "Boil tap water for one minute.", "es": "Hierva el agua un minuto."}, "en",
        "severe", "water", now + timedelta(days=1), zones, "emery", now, status="sent",
        approved_by="emery", sent_at=now), new=True)


def _code(deployment) -> str:
    return re.search(r"\b(\d{6})\b", deployment.container.outbox.sent[-1]["text"]).group(1)


def _sign_up(api, fields: dict[str, str]):
    form = api.http.get(SIGN_UP)
    return post_form(api, SIGN_UP, fields, csrf(form))


# --- the alerts in force ------------------------------------------------------------------


def test_clients_get_the_json_as_before_and_browsers_the_page(api, deployment) -> None:
    _alert(deployment)
    for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        plain = api.http.get(ALERTS, headers=headers)
        assert plain.headers["Content-Type"].startswith("application/json")
        (listed,) = json.loads(plain.body)["alerts"]
        assert listed["alert_id"] == "A1" and listed["title"]["en"] == "Boil water order"
    asked = api.http.get(f"{ALERTS}?format=json", headers=BROWSER)
    assert json.loads(asked.body)["alerts"][0]["alert_id"] == "A1"
    page = api.http.get(ALERTS, headers=BROWSER)
    seen = text(page)
    assert "Boil water order" in seen and "Boil tap water" in seen
    assert "For: Riverside" in seen and "Severe" in seen
    assert f'href="{ALERTS}/A1/cap.xml"' in html(page)
    assert f'href="{ALERTS}/feed.atom"' in html(page)
    assert f'href="{SIGN_UP}"' in html(page)
    assert api.http.get("/towns/nowhere.example/alerts").status_code == 404  # JSON 404
    missing = api.http.get("/towns/nowhere.example/alerts", headers=BROWSER)
    assert missing.status_code == 404 and "We could not find that" in text(missing)


def test_the_alerts_page_in_spanish_uses_the_alerts_spanish_words(api, deployment) -> None:
    _alert(deployment)
    page = api.http.get(ALERTS, headers={**BROWSER, "Cookie": "t311_lang=es"})
    seen = text(page)
    assert "Hierva el agua" in seen and "Grave" in seen and "Hay 1 alerta vigente." in seen


def test_no_alerts_in_force_says_so(api) -> None:
    assert "There are no emergency alerts in force now." in text(
        api.http.get(ALERTS, headers=BROWSER))


# --- signing up -----------------------------------------------------------------------------


def test_sign_up_by_ticked_zone_then_code_then_confirmed(api, deployment) -> None:
    form = api.http.get(SIGN_UP)
    assert form.status_code == 200
    markup = html(form)
    for zone in ("North End", "Hilltop", "Old Town", "Riverside"):
        assert zone in markup  # the demo town's neighbourhoods
    assert 'id="zones-map-shapes"' in markup and 'type="application/json"' in markup
    r = post_form(api, SIGN_UP, {"phone": "(612) 555-0101", "language": "es",
                                 "zone_riverside": "1"}, csrf(form))
    assert r.status_code == 303
    code_page = r.headers["Location"]
    assert re.fullmatch(rf"{SIGN_UP}/[\w-]+\?by=sms", code_page)
    sent = deployment.container.outbox.sent[-1]
    assert sent["phone"] == "+16125550101" and "código" in sent["text"]
    page = api.http.get(code_page)
    assert "We sent a text message" in text(page)
    wrong = "000000" if _code(deployment) != "000000" else "111111"
    refused = post_form(api, code_page, {"code": wrong}, csrf(page))
    assert refused.status_code == 400
    assert "That code is not right" in text(refused) and "data-error-summary" in html(refused)
    store = deployment.container.subscribers
    assert list(store.audience("maplefalls.example", "riverside")) == []
    done = post_form(api, code_page, {"code": " ".join(_code(deployment))}, csrf(page))
    assert done.status_code == 303 and done.headers["Location"] == f"{ALERTS}/signed-up"
    (member,) = store.audience("maplefalls.example", "riverside")
    assert member["phone"] == "+16125550101" and member["language"] == "es"
    assert "You are signed up" in text(api.http.get(done.headers["Location"]))
    again = post_form(api, code_page, {"code": _code(deployment)}, csrf(page))
    assert again.status_code == 409 and "Sign up again" in text(again)


def test_zones_found_from_an_address_in_the_gazetteer(api, deployment) -> None:
    from chalicelib.domain.zones import zones_containing
    from chalicelib.services.demo_gazetteer import demo_entries, seed_demo_gazetteer
    from chalicelib.services.demo_zones import demo_zones

    seed_demo_gazetteer(deployment.container.gazetteer_store, "maplefalls.example",
                        deployment.clock[0])
    home = next(e for e in demo_entries() if e.kind == "address"
                and [z.code for z in zones_containing(demo_zones(), e.lat, e.long)]
                == ["hilltop"])
    r = _sign_up(api, {"email": "ana@example.org", "address": home.label.lower()})
    assert r.status_code == 303, text(r)
    page = api.http.get(r.headers["Location"])
    assert "We sent an e-mail" in text(page)
    post_form(api, r.headers["Location"], {"code": _code(deployment)}, csrf(page))
    (member,) = deployment.container.subscribers.audience("maplefalls.example", "hilltop")
    assert member["email"] == "ana@example.org"


def test_an_address_that_is_not_found_or_unclear_is_asked_again(api, deployment) -> None:
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, "maplefalls.example",
                        deployment.clock[0])
    before = len(deployment.container.outbox.sent)
    lost = _sign_up(api, {"email": "ana@example.org", "address": "Nowhere Boulevard 999"})
    assert lost.status_code == 400
    assert "We could not find that address" in text(lost)
    vague = _sign_up(api, {"email": "ana@example.org", "address": "Main St"})
    assert vague.status_code == 400 and "Did you mean one of these?" in text(vague)
    assert len(re.findall(r'name="address_choice"', html(vague))) > 1
    assert 'value="ana@example.org"' in html(vague)  # what was typed is kept
    assert len(deployment.container.outbox.sent) == before  # nothing sent


def test_missing_or_bad_contact_is_shown_next_to_the_field(api, deployment) -> None:
    before = len(deployment.container.outbox.sent)
    empty = _sign_up(api, {"zone_riverside": "1"})
    assert empty.status_code == 400
    assert "Enter a mobile phone number or an e-mail address" in text(empty)
    assert 'id="phone-error"' in html(empty) and "data-error-summary" in html(empty)
    assert 'id="zone-riverside" type="checkbox" name="zone_riverside" value="1" checked' \
        in html(empty)
    bad = _sign_up(api, {"phone": "12", "email": "not-an-address"})
    assert bad.status_code == 400
    assert 'id="email-error"' in html(bad)
    abroad = _sign_up(api, {"phone": "+44 20 7946 0958"})
    assert abroad.status_code == 400 and "Enter a mobile phone number, like" in text(abroad)
    assert len(deployment.container.outbox.sent) == before


def test_script_typed_into_the_form_comes_back_as_text(api) -> None:
    page = _sign_up(api, {"address": "<script>alert(1)</script>", "phone": "<b>x</b>"})
    assert "<script>alert(1)</script>" not in html(page) and "<b>x</b>" not in html(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html(page)


def test_a_post_without_its_csrf_token_is_refused_and_nothing_sent(api, deployment) -> None:
    before = len(deployment.container.outbox.sent)
    r = post_form(api, SIGN_UP, {"email": "ana@example.org"}, "", cookie_token="x" * 43)
    assert r.status_code == 403 and "That is not allowed" in text(r)
    forged = post_form(api, SIGN_UP, {"email": "ana@example.org"}, "a" * 43,
                       cookie_token="b" * 43)
    assert forged.status_code == 403
    assert len(deployment.container.outbox.sent) == before


def test_too_many_sign_ups_get_a_friendly_429(api, deployment, monkeypatch) -> None:
    from chalicelib.domain.errors import Throttled
    from chalicelib.services import subscribers

    def refuse(*args, **kwargs):
        raise Throttled("too many anonymous sends from this source")

    monkeypatch.setattr(subscribers, "sign_up", refuse)
    r = _sign_up(api, {"email": "ana@example.org"})
    assert r.status_code == 429
    assert "Please wait an hour and try again." in text(r)
    assert "too many anonymous sends" not in text(r)


def test_the_budgets_hold_on_the_page_as_on_the_api(api, deployment) -> None:
    statuses = [_sign_up(api, {"phone": "(612) 555-0177"}).status_code for _ in range(8)]
    assert statuses[0] == 303 and statuses[-1] == 429


def test_signing_up_in_spanish(api, deployment) -> None:
    form = api.http.get(f"{SIGN_UP}?lang=es")
    assert "Suscribirse a las alertas" in text(form)
    r = post_form(api, SIGN_UP, {}, csrf(form))
    assert "Escriba un número de celular o un correo electrónico" in text(
        api.http.post(SIGN_UP, body=f"csrf_token={csrf(form)}", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"t311_csrf={csrf(form)}; t311_lang=es"}))
    assert r.status_code == 400


# --- managing, and the stop link ------------------------------------------------------------


@pytest.fixture
def subscribed(api, deployment) -> str:
    r = _sign_up(api, {"email": "ana@example.org", "zone_old-town": "1"})
    page = api.http.get(r.headers["Location"])
    post_form(api, r.headers["Location"], {"code": _code(deployment)}, csrf(page))
    return "ana@example.org"


def _signed_in(api, deployment, email: str) -> dict[str, str]:
    """Through the residents' own sign-in pages, which bring the resident back here."""
    manage = api.http.get(f"{ALERTS}/manage")
    assert "sign in with the phone or e-mail" in text(manage)
    sign_in = "/towns/maplefalls.example/sign-in?number=alerts"
    assert f'href="{sign_in}"' in html(manage)
    token = csrf(api.http.get(sign_in))
    sent = post_form(api, "/towns/maplefalls.example/sign-in",
                     {"contact": email, "number": "alerts"}, token)
    assert sent.status_code == 303
    jar = f"t311_csrf={token}; t311_signin={cookies(sent)['t311_signin']}"
    opened = api.http.post("/towns/maplefalls.example/sign-in/code",
                           body=f"csrf_token={token}&number=alerts&code={_code(deployment)}",
                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                    "Cookie": jar})
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"{ALERTS}/manage"
    session = cookies(opened)["t311_resident"]
    assert session and session not in opened.headers["Location"]
    return {"Cookie": f"t311_csrf={token}; t311_resident={session}", "token": token}


def test_only_a_tracking_number_or_the_alert_settings_are_ways_back(api) -> None:
    for elsewhere in ("https://evil.example", "//evil.example", "/admin", "alerts/../x"):
        page = api.http.get(f"/towns/maplefalls.example/sign-in?number={elsewhere}")
        assert elsewhere not in html(page)


def test_manage_after_a_sign_in_code_changes_zones_and_language(api, deployment,
                                                                subscribed) -> None:
    me = _signed_in(api, deployment, subscribed)
    token = me.pop("token")
    page = api.http.get(f"{ALERTS}/manage", headers=me)
    assert "ana@example.org" in text(page)
    assert 'id="zone-old-town" type="checkbox" name="zone_old-town" value="1" checked' \
        in html(page)
    saved = api.http.post(f"{ALERTS}/manage", body=f"csrf_token={token}&language=es&"
                          "zone_riverside=1", headers={
                              **me, "Content-Type": "application/x-www-form-urlencoded"})
    assert saved.status_code == 303
    store = deployment.container.subscribers
    assert list(store.audience("maplefalls.example", "old-town")) == []
    (member,) = store.audience("maplefalls.example", "riverside")
    assert member["language"] == "es"
    stopped = api.http.post(f"{ALERTS}/manage/delete", body=f"csrf_token={token}", headers={
        **me, "Content-Type": "application/x-www-form-urlencoded"})
    assert stopped.status_code == 303
    assert list(store.audience("maplefalls.example", "riverside")) == []
    assert "You have no alert subscription here." in text(
        api.http.get(f"{ALERTS}/manage", headers=me))


def test_manage_refuses_without_a_session_or_csrf(api, deployment, subscribed) -> None:
    token = csrf(api.http.get(f"{ALERTS}/sign-up"))  # a browser's token, but no session
    r = post_form(api, f"{ALERTS}/manage/delete", {}, token)
    assert r.status_code == 401
    me = _signed_in(api, deployment, subscribed)
    me.pop("token")
    r = api.http.post(f"{ALERTS}/manage/delete", body="", headers={
        **me, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403
    assert len(list(deployment.container.subscribers.audience("maplefalls.example",
                                                              "old-town"))) == 1


def test_the_stop_link_page_is_in_the_towns_branding_and_works_as_before(
        api, deployment, subscribed) -> None:
    from chalicelib.services import alerts

    _alert(deployment, zones=("old-town",))
    ports = deployment.container.alert_ports
    alerts.deliver(ports, "maplefalls.example", "A1", list(ports.subscribers.audience(
        "maplefalls.example", "old-town")))
    mail = deployment.container.outbox.sent[-1]["text"]
    link = ALERTS + mail.split(ALERTS, 1)[1].split()[0]
    page = api.http.get(link)
    assert page.status_code == 200 and "Maple Falls" in text(page)
    assert "Stop emergency alerts?" in text(page)
    key = link.split("?key=", 1)[1]
    assert f'action="stop?key={key}"' in html(page)
    bad = api.http.post(link.split("?")[0] + "?key=wrong", body=b"",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 404 and "This link does not work" in text(bad)
    done = api.http.post(link, body=b"",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "no more emergency alerts" in text(done)
    assert list(ports.subscribers.audience("maplefalls.example", "old-town")) == []
    spanish = api.http.get(link, headers={"Cookie": "t311_lang=es"})
    assert "¿Cancelar las alertas de emergencia?" in text(spanish)
