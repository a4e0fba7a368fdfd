"""Texts to Maple Falls' number, as SNS delivers them to ``receive_sms`` (moto): a whole
conversation files a located, categorised request with channel sms; STATUS, HELP, a
redelivered text, a flood, the monthly cap, an unknown number, a foreign phone, a
1,600-character text and emoji. Replies are read from the outbox the app texts through."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from itertools import count

import pytest

from chalicelib.services.towns import DEMO_SMS_NUMBER

TOWN_ID = "maplefalls.example"
ANA = "+13125550147"
BASE = "https://311.example.org"
_ids = count(1)


@pytest.fixture
def lambdas(deployment):
    from chalice.test import Client

    from app import app
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    c = deployment.container
    seed_demo_gazetteer(c.gazetteer_store, TOWN_ID, deployment.clock[0])
    c.settings = dataclasses.replace(c.settings, public_base_url=BASE)
    with Client(app) as client:
        yield client


def text(lambdas, body: str, sender: str = ANA, to: str = DEMO_SMS_NUMBER,
         message_id: str | None = None) -> str | None:
    message = {"originationNumber": sender, "destinationNumber": to, "messageBody": body,
               "inboundMessageId": message_id or f"in-{next(_ids)}"}
    event = lambdas.events.generate_sns_event(message=json.dumps(message))
    return lambdas.lambda_.invoke("receive_sms", event).payload["outcome"]


def replies(deployment, since: int = 0, to: str = ANA) -> list[str]:
    return [m["text"] for m in deployment.container.outbox.sent[since:] if m["phone"] == to]


def converse(lambdas, deployment, *texts: str) -> list[str]:
    """Each text and the one reply it got."""
    said = []
    for body in texts:
        before = len(deployment.container.outbox.sent)
        text(lambdas, body)
        (reply,) = replies(deployment, before)
        said.append(reply)
    return said


def test_a_conversation_files_a_located_categorised_request_by_text(lambdas, deployment, api,
                                                                    staff):
    said = converse(lambdas, deployment, "pothole outside 112 Oak St", "YES", "3")
    assert said[0] == "Pothole at 112 Oak St? Reply YES, or send the right address."
    assert said[1] == ("About how big is it? Reply 1 Smaller than a dinner plate, 2 Up to a "
                       "car tire, 3 Larger than a car tire.")
    number = re.search(r"Report (\w{4}-\w{4}) \(Pothole\) is filed\. Expected by ", said[2])[1]
    store = deployment.container.requests
    request = store.get(TOWN_ID, store.request_id_for_tracking(TOWN_ID, number.replace(
        "-", "")), with_timeline=True)
    assert (request.channel, request.service_code, request.answers) == (
        "sms", "pothole", {"size": "large"})
    assert request.place.address == "112 Oak St" and request.place.has_point
    assert request.description == "pothole outside 112 Oak St"
    assert request.reporter.phone == ANA
    (follower,) = store.followers_of(TOWN_ID, request.request_id)
    assert follower.phone == ANA and follower.is_confirmed("sms")
    # Staff find it by its channel.
    found = json.loads(api.http.get("/staff/requests?channel=sms",
                                    headers=staff.headers("agent")).body)
    assert [r["service_request_id"] for r in found["requests"]] == [request.request_id]
    # The receipt's photo link opens the report's photo page, once, by its button: the
    # page itself (what a phone's link preview fetches) uses nothing up.
    from tests.web.pages import csrf, post_form

    link = re.search(re.escape(BASE) + r"(/towns/\S+/p/\S+)", said[2])[1]
    landing = api.http.get(link, headers={"Accept": "text/html"})
    assert landing.status_code == 200 and b"Open my report" in landing.body
    assert api.http.get(link, headers={"Accept": "text/html"}).status_code == 200
    opened = post_form(api, link, {}, csrf(landing))
    assert opened.status_code in (302, 303)
    assert opened.headers["Location"].endswith(f"/towns/{TOWN_ID}/report/sent/{number}")
    cookies = opened.headers["Set-Cookie"]
    (held,) = [c.split(";")[0] for c in (cookies if isinstance(cookies, list) else [cookies])
               if c.startswith(f"t311_report={number}.")]
    page = api.http.get(f"/towns/{TOWN_ID}/report/sent/{number}",
                        headers={"Accept": "text/html", "Cookie": held})
    assert page.status_code == 200 and b'type="file"' in page.body
    assert b'type="file"' not in api.http.get(f"/towns/{TOWN_ID}/report/sent/{number}",
                                              headers={"Accept": "text/html"}).body
    assert post_form(api, link, {}, csrf(landing)).status_code == 404
    # Without this site's form token the button does nothing.
    assert post_form(api, link, {}, "forged", cookie_token="other").status_code == 403
    # STATUS answers it, to anyone who has the number.
    (status,) = converse(lambdas, deployment, f"STATUS {number.lower()}")
    assert status.startswith(f"{number} Pothole: open. Expected by ")
    assert "Latest: Pothole reported (sms)" in status


def test_spanish_in_spanish_out(lambdas, deployment):
    """The town's pack services, their questions and list values in Spanish, as the
    resident pages show them; the guess reads the Spanish text; the request is filed in
    the catalogue's terms."""
    said = converse(lambdas, deployment, "hay un bache enfrente de 112 Oak St", "si",
                    "grande")
    assert said[0] == "¿Bache en 112 Oak St? Responda SI, o envíe la dirección correcta."
    assert said[1] == ("¿Qué tan grande es, más o menos? Responda 1 Más pequeño que un "
                       "plato, 2 Hasta el tamaño de una llanta, 3 Más grande que una llanta.")
    # "grande" is none of the values' names: asked again, whole (with the apology it
    # would not fit in two segments and lose its last choice).
    assert said[2] == said[1]
    before = len(deployment.container.outbox.sent)
    text(lambdas, "3")
    # Spanish goes as UCS-2 (134 characters in two segments): the photo link, which would
    # be cut off, comes in a text of its own.
    receipt, photo = replies(deployment, before)
    number = re.search(r"^¡Gracias! El reporte (\w{4}-\w{4}) \(Bache\) está registrado\. "
                       r"Fecha prevista: .+\. Escriba ESTADO \1 para novedades\.$", receipt)[1]
    assert re.fullmatch(rf"Agregue una foto al reporte {number}: {re.escape(BASE)}"
                        rf"/towns/{re.escape(TOWN_ID)}/p/\S+", photo)
    assert not receipt.endswith("…") and not photo.endswith("…")
    store = deployment.container.requests
    request = store.get(TOWN_ID, store.request_id_for_tracking(TOWN_ID, number.replace(
        "-", "")), with_timeline=False)
    assert (request.service_code, request.service_name, request.answers) == (
        "pothole", "Pothole", {"size": "large"})
    assert request.reporter.language == "es"
    (status,) = converse(lambdas, deployment, f"ESTADO {number}")
    assert status.startswith(f"{number} Bache: abierto. Fecha prevista: ")


def test_a_spanish_texter_picks_among_the_services_by_their_spanish_names(lambdas,
                                                                         deployment):
    (choose,) = converse(lambdas, deployment, "la luz de la esquina no funciona")
    assert choose == ("¿Cuál es el problema? Responda 1 Farola apagada, 2 Problema con un "
                      "semáforo.")
    (asked,) = converse(lambdas, deployment, "problema con un semáforo")
    assert asked.startswith("Problema con un semáforo: ¿dónde está?")


def test_help_status_of_an_unknown_number_and_yes_without_a_report(lambdas, deployment):
    said = converse(lambdas, deployment, "HELP", "STATUS ZZZZ-ZZZZ", "STATUS nope", "YES")
    assert said[0].startswith("Maple Falls 311 by text:")
    assert said[1] == "No report ZZZZ-ZZZZ in Maple Falls. Check the number and try again."
    assert said[2] == "Text STATUS and the report number, e.g. STATUS K7QD-3M2P."
    assert said[3] == ("No report in progress. Text what's wrong and where, e.g. 'pothole "
                       "outside 12 Oak St'.")


def test_a_redelivered_text_does_not_move_the_conversation_twice(lambdas, deployment):
    assert text(lambdas, "pothole outside 112 Oak St", message_id="m-1") == "confirm_place"
    assert text(lambdas, "YES", message_id="m-2") == "question"
    assert text(lambdas, "YES", message_id="m-2") == "duplicate"
    assert text(lambdas, "3", message_id="m-3") == "filed"
    assert text(lambdas, "3", message_id="m-3") == "duplicate"
    assert len(replies(deployment)) == 3
    assert len([r for r in replies(deployment) if "is filed" in r]) == 1


def test_silence_ends_a_conversation(lambdas, deployment):
    text(lambdas, "pothole outside 112 Oak St")
    deployment.clock[0] += timedelta(minutes=31)
    (reply,) = converse(lambdas, deployment, "YES")
    assert reply.startswith("No report in progress.")


def test_a_flood_from_one_phone_gets_one_warning_then_silence(lambdas, deployment, staff, api):
    outcomes = [text(lambdas, "HELP") for _ in range(23)]
    assert outcomes[:20] == ["answered"] * 20
    assert outcomes[20:] == ["refused:flood"] * 3
    sent = replies(deployment)
    assert len(sent) == 21 and sent[-1].startswith("Too many messages from this phone.")
    # Another phone is not held back; the next hour the phone is heard again.
    assert text(lambdas, "HELP", sender="+13125550148") == "answered"
    deployment.clock[0] += timedelta(hours=1)
    assert text(lambdas, "HELP") == "answered"
    figures = json.loads(api.http.get("/admin/messaging",
                                      headers=staff.headers("town_admin")).body)
    assert sum(v for day in figures["refused"].values()
               for k, v in day.items() if k == "sms_in/flood") == 3


def test_replies_count_toward_the_monthly_cap_and_stop_at_it(lambdas, deployment, api, staff):
    from chalicelib.domain.alerts import SMS_SEGMENT_USD

    admin = staff.headers("town_admin")
    r = api.http.patch("/admin/town", headers=admin, body=json.dumps(
        {"sms_monthly_cap_usd": round(2.5 * SMS_SEGMENT_USD, 4)}).encode())
    assert r.status_code == 200
    deployment.container.towns.forget()
    assert [text(lambdas, "YES") for _ in range(3)] == ["answered"] * 3
    assert len(replies(deployment)) == 2  # one segment each: the third is over the cap
    figures = json.loads(api.http.get("/admin/messaging", headers=admin).body)
    assert (figures["sms_segments_sent"], figures["sms_segments_cap"]) == (2, 2)
    assert any(k == "sms_in/cap" for day in figures["refused"].values() for k in day)


def test_an_unknown_number_is_refused_but_stop_still_works(lambdas, deployment):
    assert text(lambdas, "pothole outside 112 Oak St", to="+18005550999") == \
        "refused:unknown_number"
    assert text(lambdas, "HELP", to="not a number") == "refused:unknown_number"
    assert replies(deployment) == []
    assert text(lambdas, "STOP", to="+18005550999") == "stopped"
    # Stopped: the town's number does not answer the phone until START.
    assert text(lambdas, "HELP") == "refused:stopped"
    assert text(lambdas, "START", to="+18005550999") == "restarted"
    assert text(lambdas, "HELP") == "answered"


def test_stop_ends_the_conversation(lambdas, deployment):
    text(lambdas, "pothole outside 112 Oak St")
    assert text(lambdas, "STOP") == "stopped"
    text(lambdas, "START")
    (reply,) = converse(lambdas, deployment, "YES")
    assert reply.startswith("No report in progress.")


def test_a_phone_of_a_country_the_town_does_not_text_is_refused(lambdas, deployment):
    assert text(lambdas, "pothole outside 112 Oak St", sender="+447911123456") == \
        "refused:country"
    assert deployment.container.outbox.sent == []


def test_a_1600_character_text_and_emoji_are_read_not_crashed_on(lambdas, deployment):
    long = ("pothole outside 112 Oak St " + "deep and getting deeper every day " * 50)[:1600]
    (reply,) = converse(lambdas, deployment, long)
    assert reply.startswith("(Long text: we read the first 300 characters.) Pothole at "
                            "112 Oak St?")
    text(lambdas, "CANCELAR")
    (reply,) = converse(lambdas, deployment, "🕳️🚗 pothole 💥 outside 112 Oak St 😡😡")
    assert reply == "Pothole at 112 Oak St? Reply YES, or send the right address."


def test_a_bad_record_is_dropped_never_raised(lambdas, deployment, monkeypatch):
    event = lambdas.events.generate_sns_event(message="not json")
    assert lambdas.lambda_.invoke("receive_sms", event).payload == {"outcome": None}
    huge = lambdas.events.generate_sns_event(message=json.dumps(
        {"originationNumber": ANA, "destinationNumber": DEMO_SMS_NUMBER,
         "messageBody": "x" * 5000, "inboundMessageId": "big"}))
    assert lambdas.lambda_.invoke("receive_sms", huge).payload == {"outcome": None}

    from chalicelib.services import sms_intake

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sms_intake, "receive", broken)
    assert text(lambdas, "HELP") == "error"


def test_stop_from_a_number_phonenumbers_cannot_place_still_stops_it(lambdas, deployment):
    # The gateway's number as it came (today's behaviour): only its digits are hashed.
    assert text(lambdas, "STOP", sender="+15550100200") == "stopped"
    assert text(lambdas, "STOP", sender="abc") == "refused:not_a_phone"
    assert text(lambdas, "HELP", sender="+15550100200") == "refused:not_a_phone"


def test_a_town_admin_sets_the_towns_number_and_texts_follow_it(lambdas, deployment, api,
                                                                 staff):
    admin = staff.headers("town_admin")
    r = api.http.patch("/admin/town", headers=admin,
                       body=json.dumps({"sms_number": "(800) 555-0312"}).encode())
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["sms_number"] == "+18005550312"
    deployment.container.towns.forget()
    assert text(lambdas, "HELP", to="+18005550312") == "answered"
    assert text(lambdas, "HELP", to=DEMO_SMS_NUMBER) == "refused:unknown_number"
    # Another town cannot take it.
    other = staff.headers("town_admin", town="riverton.example")
    taken = api.http.patch("/admin/town", headers=other,
                           body=json.dumps({"sms_number": "+18005550312"}).encode())
    assert taken.status_code == 409
    bad = api.http.patch("/admin/town", headers=admin,
                         body=json.dumps({"sms_number": "12"}).encode())
    assert bad.status_code == 400


def test_status_gives_the_public_words_of_the_latest_step_never_staff_detail(lambdas,
                                                                             deployment):
    from tests.functional.test_tracking_and_notices import route

    said = converse(lambdas, deployment, "pothole outside 112 Oak St", "YES", "1")
    number = re.search(r"Report (\w{4}-\w{4})", said[-1])[1]
    route(deployment)
    (status,) = converse(lambdas, deployment, f"ESTADO {number}")
    # ESTADO answers in Spanish, the pack's service named in Spanish too.
    assert status.startswith(f"{number} Bache: abierto. Fecha prevista: ")
    # The step in Spanish words for its kind: staff's summary is English.
    assert status.endswith("Último: Enviado al departamento")
    assert "own department" not in status
    (status,) = converse(lambdas, deployment, f"STATUS {number}")
    assert status.endswith("Latest: Sent to Public Works — Streets")


def _information(deployment, dimension: str, value: str) -> int:
    from datetime import date

    days = deployment.container.figures.days(TOWN_ID, dimension, date(2026, 1, 1))
    return sum(d.figures.information for d in days if d.value == value)


def test_a_question_is_answered_from_the_towns_answers_and_counted_once(lambdas, deployment,
                                                                       api, staff):
    before = len(deployment.container.outbox.sent)
    text(lambdas, "when is leaf pickup?", message_id="in-leaf")
    (reply,) = replies(deployment, before)
    assert "leaves" in reply.lower() or "leaf" in reply.lower()
    assert "Pothole" not in reply and "Reply YES" not in reply
    assert _information(deployment, "channel", "sms") == 1
    assert _information(deployment, "town", "all") == 1
    # SNS delivering the same text again answers nothing more and counts nothing more.
    text(lambdas, "when is leaf pickup?", message_id="in-leaf")
    assert _information(deployment, "channel", "sms") == 1
    # Nothing was filed: an answer is not a work order.
    found = json.loads(api.http.get("/staff/requests?channel=sms",
                                    headers=staff.headers("agent")).body)
    assert found["requests"] == []


def test_a_question_in_spanish_is_answered_in_spanish(lambdas, deployment):
    before = len(deployment.container.outbox.sent)
    text(lambdas, "¿cuándo recogen las hojas?")
    (reply,) = replies(deployment, before)
    assert "hojas" in reply.lower()
