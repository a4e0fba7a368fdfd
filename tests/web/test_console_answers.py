"""The console's answers: a town admin lists, adds (with field errors shown), changes and
removes answers; other roles are refused; the agent's "Describe the problem" box shows
the answers that fit with "Answered — no request needed", counted once per form as an
information request on the phone channel; the dashboard shows questions answered."""

from __future__ import annotations

import re
from datetime import date

from tests.web.pages import html, text
from tests.web.test_console_entry import NEW, desk

ANSWERS = "/console/admin/answers"
TOWN = "maplefalls.example"
GOOD = [("question", "Where is the compost site?"),
        ("answer", "Behind the town hall.\nOpen Saturdays."), ("language", "en"),
        ("keywords", "compost, yard waste"), ("owner_name", "Parks & Forestry"),
        ("owner_phone", "(555) 123-4567"), ("owner_url", ""), ("topic", "")]


def information(deployment, dimension: str, value: str) -> int:
    days = deployment.container.figures.days(TOWN, dimension, date(2026, 1, 1))
    return sum(d.figures.information for d in days if d.value == value)


def test_a_town_admin_lists_adds_changes_and_removes_answers(api, staff, deployment):
    admin = desk(api, staff, "town_admin")
    page = admin.get(ANSWERS)
    assert page.status_code == 200
    assert "When is leaf pickup?" in text(page) and "¿Cuándo recogen las hojas?" in text(page)
    assert 'href="/console/admin/answers"' in html(page)  # in the menu
    assert admin.get(f"{ANSWERS}/new").status_code == 200
    r = admin.post(f"{ANSWERS}/new", GOOD)
    assert r.status_code == 303, r.body
    made = next(a for a in deployment.container.article_store.articles(TOWN)
                if a.question == "Where is the compost site?")
    assert made.owner.phone == "(555) 123-4567" and made.keywords == ("compost", "yard waste")
    edit = admin.get(f"{ANSWERS}/edit/{made.article_id}")
    assert 'value="Where is the compost site?"' in html(edit)
    changed = dict(GOOD) | {"language": "es", "topic": "leaf-pickup",
                            "question": "¿Dónde está la composta?"}
    r = admin.post(f"{ANSWERS}/edit/{made.article_id}", list(changed.items()))
    assert r.status_code == 303
    assert deployment.container.article_store.get(TOWN, made.article_id).topic == "leaf-pickup"
    r = admin.post(f"{ANSWERS}/edit/{made.article_id}/delete", [])
    assert r.status_code == 303
    assert deployment.container.article_store.get(TOWN, made.article_id) is None
    assert "The answer was removed." in text(admin.get(r.headers["Location"]))


def test_a_refused_form_shows_each_problem_and_stores_nothing(api, staff, deployment):
    admin = desk(api, staff, "town_admin")
    admin.get(f"{ANSWERS}/new")
    before = deployment.container.article_store.articles(TOWN)
    bad = dict(GOOD) | {"question": "", "answer": "x" * 5000, "language": "fr",
                        "owner_url": "http://not-secure.example", "owner_name": ""}
    page = admin.post(f"{ANSWERS}/new", list(bad.items()))
    assert page.status_code == 400
    shown = text(page)
    assert "There is a problem" in shown
    for message in ("Enter the question, up to 200 characters",
                    "Enter the answer, up to 640 characters",
                    "Choose English or Spanish", "Enter an address starting with https://",
                    "Enter who answers this"):
        assert message in shown
    assert 'href="#question"' in html(page)
    assert deployment.container.article_store.articles(TOWN) == before


def test_the_screens_are_refused_to_other_roles_and_without_csrf(api, staff, deployment):
    for role in ("agent", "analyst", "supervisor"):
        assert desk(api, staff, role).get(ANSWERS).status_code == 403
    admin = desk(api, staff, "town_admin")
    admin.get(ANSWERS)
    assert admin.post(f"{ANSWERS}/new", GOOD, token="forged").status_code == 403
    assert admin.post(f"{ANSWERS}/edit/leaf-pickup/delete", [], token="x").status_code == 403
    assert deployment.container.article_store.get(TOWN, "leaf-pickup") is not None
    assert admin.get(f"{ANSWERS}/edit/no-such-answer").status_code == 404


def test_the_agent_answers_a_caller_and_it_counts_once(api, staff, deployment):
    import json

    def requests_filed() -> int:
        listed = api.http.get("/staff/requests", headers=staff.headers("agent"))
        return len(json.loads(listed.body)["requests"])

    filed = requests_filed()
    agent = desk(api, staff, "agent")
    page = agent.get(f"{NEW}?describe=caller+asks+when+is+leaf+pickup")
    assert page.status_code == 200
    assert "Answers to read to the caller" in text(page)
    assert "Loose leaves are picked up" in text(page)
    key = re.search(r'name="key" value="([^"]+)"', html(page)).group(1)
    pairs = [("article_id", "leaf-pickup"), ("key", key)]
    for _ in range(2):  # a double click
        r = agent.post("/console/requests/answered", pairs)
        assert r.status_code == 303
    assert information(deployment, "channel", "phone") == 1
    assert information(deployment, "town", "all") == 1
    done = agent.get(r.headers["Location"])
    assert "Counted as a question answered: no request was made." in text(done)
    assert requests_filed() == filed  # answered: no request was made
    analyst = desk(api, staff, "analyst")
    analyst.get("/console")
    assert analyst.post("/console/requests/answered", pairs).status_code == 403
    r = agent.post("/console/requests/answered", [("article_id", "nope"), ("key", "k")])
    assert r.status_code == 404


def test_a_pothole_description_offers_no_answer(api, staff):
    page = desk(api, staff, "agent").get(f"{NEW}?describe=pothole+on+Oak+St")
    assert "Answers to read to the caller" not in text(page)


def test_the_dashboard_counts_questions_answered(api, staff, deployment):
    from chalicelib.services import knowledge

    ports = deployment.container.knowledge_ports
    knowledge.record_answered(ports, TOWN, "leaf-pickup", "sms", deployment.clock[0], "m1")
    knowledge.record_answered(ports, TOWN, "leaf-pickup", "web", deployment.clock[0], "m2")
    page = desk(api, staff, "town_admin").get("/console/dashboard")
    assert page.status_code == 200
    shown = text(page)
    assert re.search(r"Questions answered, no request needed 2\b", shown), shown[:2000]
    es = desk(api, staff, "town_admin").get("/console/dashboard?lang=es")
    assert "Preguntas respondidas sin solicitud" in text(es)
