"""The admin's knowledge base API through the app (``/admin/articles``): the demo town's
pack answers are there, an admin adds, reads, changes and removes answers, bad input is a
clear 4xx that stores nothing, another town's article is not found, and adding a pack
(or creating a town from one) brings its answers once."""

from __future__ import annotations

import json

import pytest

ADMIN_ROUTES = "/admin/articles"
LEAF = {"question": "When is leaf pickup?", "answer": "Mid-October to the end of November.",
        "language": "en", "keywords": ["leaf", "leaves"],
        "owner": {"name": "Sanitation", "phone": "+1 555 010 0311",
                  "url": "https://maplefalls.example/leaves"}}


def _json(response):
    return json.loads(response.body)


def _articles(api, headers) -> list[dict]:
    r = api.http.get(ADMIN_ROUTES, headers=headers)
    assert r.status_code == 200, r.body
    return _json(r)["articles"]


def test_the_demo_town_has_its_packs_answers_in_english_and_spanish(api, staff):
    found = {a["article_id"]: a for a in _articles(api, staff.headers("town_admin"))}
    assert found["leaf-pickup"]["language"] == "en"
    assert found["leaf-pickup-es"]["language"] == "es"
    assert found["leaf-pickup-es"]["topic"] == "leaf-pickup"
    assert found["property-tax"]["owner"]["name"] == "County Treasurer"


def test_an_admin_adds_reads_changes_and_removes_an_answer(api, staff):
    admin = staff.headers("town_admin")
    r = api.http.post(ADMIN_ROUTES, headers=admin, body=json.dumps(
        LEAF | {"question": "Where is the compost site?", "keywords": ["compost"]}))
    assert r.status_code == 201, r.body
    made = _json(r)
    path = f"{ADMIN_ROUTES}/{made['article_id']}"
    assert _json(api.http.get(path, headers=admin)) == made
    assert made["owner"] == LEAF["owner"] and made["topic"] == made["article_id"]
    r = api.http.put(path, headers=admin, body=json.dumps(
        LEAF | {"question": "¿Dónde está la composta?", "language": "es",
                "topic": "leaf-pickup"}))
    assert r.status_code == 200, r.body
    assert _json(r)["language"] == "es" and _json(r)["topic"] == "leaf-pickup"
    r = api.http.delete(path, headers=admin)
    assert _json(r) == {"deleted": made["article_id"]}
    assert api.http.get(path, headers=admin).status_code == 404
    audit = _json(api.http.get("/admin/audit", headers=admin))
    actions = [e["action"] for e in audit["entries"]]
    assert {"article.created", "article.changed", "article.deleted"} <= set(actions)


@pytest.mark.parametrize(("change", "field"), [
    ({"question": ""}, "question"),
    ({"question": "   "}, "question"),
    ({"answer": "x" * 50_000}, "answer"),
    ({"answer": "a" * 641}, "answer"),
    ({"language": "fr"}, "language"),
    ({"language": "klingon"}, "language"),
    ({"owner": {"name": ""}}, "owner"),
    ({"owner": {"name": "County", "url": "javascript:alert(1)"}}, "owner"),
    ({"keywords": ["k"] * 21}, "keywords"),
    ({"topic": "../etc"}, "topic"),
    ({"surprise": 1}, "surprise"),
    ({"question": "bell\x07"}, "question"),
])
def test_bad_input_is_a_clear_400_and_stores_nothing(api, staff, change, field):
    admin = staff.headers("town_admin")
    before = _articles(api, admin)
    r = api.http.post(ADMIN_ROUTES, headers=admin, body=json.dumps(LEAF | change))
    assert r.status_code in (400, 413), r.body
    error = _json(r)["error"]
    assert error["code"] in ("invalid_input", "too_large")
    assert any(p["field"].startswith(field) for p in error["problems"]) or field in \
        error["message"]
    r = api.http.put(f"{ADMIN_ROUTES}/leaf-pickup", headers=admin,
                     body=json.dumps(LEAF | change))
    assert r.status_code in (400, 413), r.body
    assert _articles(api, admin) == before


def test_a_body_that_is_not_an_object_or_not_json_is_refused(api, staff):
    admin = staff.headers("town_admin")
    for raw in ("[1, 2]", "{not json", "\"text\""):
        r = api.http.post(ADMIN_ROUTES, headers=admin, body=raw)
        assert r.status_code == 400, (raw, r.body)
        assert _json(r)["error"]["code"] == "invalid_input"


def test_unknown_or_malformed_ids_are_404(api, staff):
    admin = staff.headers("town_admin")
    for article_id in ("no-such-answer", "UPPER", "x" * 200, "%2e%2e"):
        for method in ("GET", "DELETE"):
            r = api.http.request(method, f"{ADMIN_ROUTES}/{article_id}", headers=admin,
                                 body=b"")
            assert r.status_code == 404, (method, article_id, r.body)
            assert _json(r)["error"]["code"] == "not_found"
        r = api.http.put(f"{ADMIN_ROUTES}/{article_id}", headers=admin, body=json.dumps(LEAF))
        assert r.status_code == 404, r.body


def test_another_towns_admin_cannot_read_or_change_maple_falls_answers(api, staff):
    riverton = staff.headers("town_admin", town="riverton.example")
    assert api.http.get(f"{ADMIN_ROUTES}/leaf-pickup", headers=riverton).status_code == 404
    r = api.http.put(f"{ADMIN_ROUTES}/leaf-pickup", headers=riverton, body=json.dumps(LEAF))
    assert r.status_code == 404
    assert api.http.delete(f"{ADMIN_ROUTES}/leaf-pickup", headers=riverton).status_code == 404
    maple = {a["article_id"]: a for a in _articles(api, staff.headers("town_admin"))}
    assert maple["leaf-pickup"]["answer"] != LEAF["answer"]


def test_adding_a_pack_adds_its_answers_once(api, staff):
    riverton = staff.headers("town_admin", town="riverton.example")
    assert _articles(api, riverton) == []  # made without an article store
    for _ in range(2):
        r = api.http.post("/admin/catalogue/packs", headers=riverton,
                          body=json.dumps({"pack": "rural_township"}))
        assert r.status_code == 200, r.body
    ids = [a["article_id"] for a in _articles(api, riverton)]
    assert "burn-permit" in ids and "burn-permit-es" in ids
    assert len(ids) == len(set(ids)) == 12


def test_a_town_made_from_a_pack_starts_with_its_answers(api, staff):
    operator = staff.headers("operator", town=None)
    r = api.http.post("/platform/towns", headers=operator, body=json.dumps({
        "jurisdiction_id": "newtown.example", "name": "Newtown", "timezone": "America/Chicago",
        "pack": "small_town", "admin_email": "admin@newtown.example", "admin_name": "Ada"}))
    assert r.status_code in (200, 201), r.body
    newtown = staff.headers("town_admin", town="newtown.example")
    ids = {a["article_id"] for a in _articles(api, newtown)}
    assert {"leaf-pickup", "leaf-pickup-es", "property-tax"} <= ids
