"""The town's answers on the resident pages: the "What's the problem?" searches list the
answers that fit (question, short answer, who answers, a link), in Spanish on Spanish
pages; a search that finds no service offers the answers and the town's phone; an answer's
page and its "Yes" (CSRF, counted once a day per browser as an information request)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

from tests.web.pages import TOWN_PAGE, cookies, csrf, html, post_form, text

TOWN = "maplefalls.example"
ANSWERS = f"{TOWN_PAGE}/answers"


def answer_links(page) -> list[str]:
    part = html(page).split('id="answers"')
    return re.findall(r"/answers/([a-z0-9-]+)", part[1].split("</section>")[0]) \
        if len(part) > 1 else []


def information(deployment, dimension: str, value: str) -> int:
    days = deployment.container.figures.days(TOWN, dimension, date(2026, 1, 1))
    return sum(d.figures.information for d in days if d.value == value)


def test_the_home_search_offers_the_leaf_pickup_answer_above_the_services(api):
    page = api.http.get(f"{TOWN_PAGE}?q=when+is+leaf+pickup%3F")
    assert page.status_code == 200
    assert answer_links(page)[0] == "leaf-pickup"
    body = html(page)
    assert body.index('id="answers"') < body.index('id="matches"')
    shown = text(page)
    assert "When is leaf pickup?" in shown and "Answered by Sanitation" in shown
    assert "Loose leaves are picked up" in shown


def test_the_report_search_offers_answers_too(api):
    page = api.http.get(f"{TOWN_PAGE}/report?q=leaf+collection+dates")
    assert answer_links(page) == ["leaf-pickup"]


def test_a_spanish_page_shows_the_spanish_answer(api):
    page = api.http.get(f"{TOWN_PAGE}?lang=es&q=cu%C3%A1ndo+recogen+las+hojas")
    assert answer_links(page)[0] == "leaf-pickup-es"
    assert "¿Cuándo recogen las hojas?" in text(page)
    assert "Respuestas que pueden servirle" in text(page)


def test_a_pothole_report_shows_no_answer(api):
    page = api.http.get(f"{TOWN_PAGE}?q=pothole+on+Oak+St")
    assert answer_links(page) == []
    assert 'id="answers"' not in html(page)


def test_no_matching_service_offers_the_answers_and_the_towns_phone(api, deployment):
    towns = deployment.container.town_store
    town = towns.get_town(TOWN)
    towns.save_town(dataclasses.replace(town, contact_phone="+1 555 010 0311"))
    deployment.container.town_changed(TOWN)
    page = api.http.get(f"{TOWN_PAGE}/report?q=dog+license")
    assert answer_links(page) == ["dog-license"]
    shown = text(page)
    assert "No service matches those words" in shown
    assert "Answered by Town Clerk" in shown
    assert "You can also call us at +1 555 010 0311." in shown


def test_the_answer_page_and_the_index(api):
    page = api.http.get(f"{ANSWERS}/leaf-pickup")
    assert page.status_code == 200
    shown = text(page)
    assert "When is leaf pickup?" in shown and "Who answers this Sanitation" in shown
    assert "Did this answer your question?" in shown
    assert "t311_browser" in cookies(page)
    index = api.http.get(ANSWERS)
    assert index.status_code == 200
    assert 'href="/towns/maplefalls.example/answers/property-tax"' in html(index)
    assert "/answers/leaf-pickup-es" not in html(index)  # one version a topic


def test_spanish_pages_show_the_spanish_version_and_fall_back_to_english(api, deployment):
    es = api.http.get(f"{ANSWERS}/leaf-pickup?lang=es")
    assert "¿Cuándo recogen las hojas?" in text(es)
    assert "¿Respondió esto a su pregunta?" in text(es)
    store = deployment.container.article_store
    store.delete(TOWN, "dog-license-es")
    deployment.container.articles.delete(TOWN, "nothing")  # drops this container's copy
    fallback = api.http.get(f"{ANSWERS}/dog-license?lang=es")
    assert "How do I license my dog?" in text(fallback)
    assert "/answers/dog-license\"" in html(api.http.get(f"{ANSWERS}?lang=es"))


def test_yes_counts_one_information_request_a_day_per_browser(api, deployment):
    page = api.http.get(f"{ANSWERS}/leaf-pickup")
    token, browser = csrf(page), cookies(page)["t311_browser"]
    path = f"{ANSWERS}/leaf-pickup"
    for _ in range(2):
        r = api.http.post(path, body=f"csrf_token={token}", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"t311_csrf={token}; t311_browser={browser}"})
        assert r.status_code == 303
        assert r.headers["Location"].endswith("/answers/leaf-pickup?helped=1")
    assert information(deployment, "town", "all") == 1
    assert information(deployment, "channel", "web") == 1
    thanks = api.http.get(f"{path}?helped=1")
    assert "Thank you. We are glad it helped." in text(thanks)


def test_yes_without_the_csrf_token_is_refused_and_counts_nothing(api, deployment):
    r = api.http.post(f"{ANSWERS}/leaf-pickup", body="csrf_token=",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403
    token = csrf(api.http.get(ANSWERS + "/leaf-pickup"))
    r = post_form(api, f"{ANSWERS}/leaf-pickup", {}, token, cookie_token="x" * 40)
    assert r.status_code == 403
    assert information(deployment, "town", "all") == 0


def test_unknown_answers_and_towns_are_404_pages(api, deployment):
    for path in (f"{ANSWERS}/no-such-answer", f"{ANSWERS}/%3Cscript%3E",
                 "/towns/nowhere.example/answers", "/towns/nowhere.example/answers/x"):
        r = api.http.get(path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"].startswith("text/html")
    token = csrf(api.http.get(f"{ANSWERS}/leaf-pickup"))
    r = post_form(api, f"{ANSWERS}/no-such-answer", {}, token)
    assert r.status_code == 404
    assert information(deployment, "town", "all") == 0


def test_text_an_admin_typed_is_shown_as_text(api, deployment):
    from chalicelib.domain.knowledge import Article, Owner

    deployment.container.articles.save(Article(
        TOWN, "script-test", "Leaf <script>alert(1)</script> pickup?", "<b>bold</b> leaves",
        "en", Owner("<i>County</i>"), ("leaf",)))
    page = api.http.get(f"{ANSWERS}/script-test")
    assert "<script>alert(1)</script>" not in html(page)
    assert "Leaf <script>alert(1)</script> pickup?" in text(page)
    assert "<b>bold</b>" not in html(page) and "<i>County</i>" not in html(page)
