"""A town's answers (chalicelib.domain.knowledge, chalicelib.services.knowledge) on fakes:
ranking in English and Spanish with the category guess's words, a threshold below which
nothing is answered, language versions, admins' changes (permission, audit, cache), packs
that bring their answers once, and answered questions counted once per mark."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import knowledge as kb
from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, InvalidInput, NotFound
from chalicelib.domain.figures import DayFigures, Figures
from chalicelib.domain.knowledge import Article, Owner, is_confident, pack_articles, rank
from chalicelib.domain.towns import Town
from chalicelib.schemas.knowledge import ArticleIn
from chalicelib.services import knowledge
from chalicelib.services.figures import FigurePorts, backfill
from chalicelib.services.knowledge import CachedArticles, KnowledgePorts
from chalicelib.services.towns import add_pack_articles, pack_document
from tests.fakes import (
    FakeArticleStore,
    FakeAuditLog,
    FakeFigureStore,
    FakeTownDirectory,
    StreamedRequests,
    counter_ids,
)

TOWN, OTHER = "maple", "river"
# 23:30 on 2 November in Chicago is already the 3rd in UTC: the day counted is the 2nd.
T0 = datetime(2026, 11, 3, 5, 30, tzinfo=UTC)


def articles_of(pack: str, town: str = TOWN) -> list[Article]:
    return pack_articles(pack_document(pack)["articles"], town, T0)


SMALL = articles_of("small_town")
RURAL = articles_of("rural_township")


def best(articles: list[Article], text: str, language: str = "en") -> str | None:
    ranked = rank(articles, text, language)
    return ranked[0].article.article_id if ranked else None


# --- ranking --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["when is leaf pickup?", "leaf collection dates",
                                  "Leaf pick-up", "LEAVES collection"])
def test_leaf_questions_find_the_leaf_pickup_article(text):
    assert best(SMALL, text) == "leaf-pickup"
    assert is_confident(rank(SMALL, text), text) or text == "Leaf pick-up"


def test_a_spanish_question_finds_the_spanish_version():
    ranked = rank(SMALL, "cuando recogen las hojas", "es")
    assert ranked[0].article.article_id == "leaf-pickup-es"
    assert ranked[0].article.language == "es"
    assert is_confident(ranked, "cuando recogen las hojas")


def test_accents_and_the_reader_language_choose_the_version():
    # Spanish words on an English page: the English version of the same answer.
    assert best(SMALL, "¿Cuándo recogen las hojas?", "en") == "leaf-pickup"
    assert best(SMALL, "licencia para mi perro", "es") == "dog-license-es"


def test_a_pothole_report_finds_no_article():
    assert rank(SMALL, "pothole on Oak St") == []
    assert rank(RURAL, "pothole on Oak St") == []
    assert rank(SMALL, "streetlight out at Elm and 3rd") == []


def test_a_typo_is_forgiven():
    assert best(SMALL, "leaf colection") == "leaf-pickup"
    assert best(SMALL, "property taxxes") == "property-tax"


def test_a_question_answered_elsewhere_goes_to_the_owner():
    found = rank(SMALL, "who do I ask about my property tax bill")[0].article
    assert found.owner == Owner("County Treasurer")


def test_a_report_of_a_problem_is_never_a_confident_answer():
    text = "my trash was not picked up"
    ranked = rank(SMALL, text)
    assert ranked and ranked[0].article.article_id == "trash-day"  # shown in a list, yes
    assert not is_confident(ranked, text)  # but a text message files a request instead


def test_a_weak_match_is_listed_but_not_answered():
    ranked = rank(SMALL, "parking")
    assert {r.article.topic_id for r in ranked} == {"parking-permit", "snow-emergency"}
    assert not is_confident(ranked, "parking")


def test_only_one_version_of_a_topic_is_listed():
    ranked = rank(SMALL, "leaf hojas pickup recogida", "es", limit=10)
    topics = [r.article.topic_id for r in ranked]
    assert len(topics) == len(set(topics))


def test_english_is_the_fallback_when_the_town_wrote_no_spanish_version():
    english_only = [a for a in SMALL if a.language == "en"]
    assert best(english_only, "cuando recogen las hojas", "es") == "leaf-pickup"
    index = kb.in_language(SMALL + [dataclasses.replace(SMALL[0], article_id="only-en",
                                                        topic="")], "es")
    assert {a.language for a in index if a.article_id != "only-en"} == {"es"}
    assert any(a.article_id == "only-en" for a in index)


def test_every_pack_article_fits_a_text_message_excerpt_and_has_both_languages():
    for articles in (SMALL, RURAL):
        assert 6 <= len({a.topic_id for a in articles}) <= 10
        for topic in {a.topic_id for a in articles}:
            assert {a.language for a in articles if a.topic_id == topic} == {"en", "es"}
        for article in articles:
            assert len(article.answer) <= kb.ANSWER_MAX
            assert len(article.excerpt(160)) <= 160
            assert kb.ARTICLE_ID.fullmatch(article.article_id)
    assert any(a.topic_id == "burn-permit" for a in RURAL)


# --- the service ----------------------------------------------------------------------------


def admin(town: str = TOWN, *roles: Role) -> Principal:
    return Principal(subject="alex", town_id=town,
                     roles=frozenset(roles or {Role.TOWN_ADMIN}))


@pytest.fixture
def ports():
    towns = FakeTownDirectory()
    towns.towns[TOWN] = Town(TOWN, "Maple Falls", "America/Chicago", "c1")
    towns.towns[OTHER] = Town(OTHER, "Riverton", "America/New_York", "c1")
    clock = [T0]
    return KnowledgePorts(towns=towns, articles=CachedArticles(FakeArticleStore(), 60,
                                                               lambda: clock[0].timestamp()),
                          figures=FakeFigureStore(StreamedRequests()), audit=FakeAuditLog(),
                          new_id=counter_ids("ART"), now=lambda: clock[0])


def body(**changes) -> ArticleIn:
    doc = {"question": "When is leaf pickup?", "answer": "Mid-October to November.",
           "keywords": ["leaf", "leaves"], "owner": {"name": "Sanitation"}} | changes
    return ArticleIn.model_validate(doc)


def test_an_admin_adds_changes_and_removes_an_article_and_each_change_is_audited(ports):
    made = knowledge.create_article(ports, admin(), body())
    assert made.article_id == "art000001" and made.town_id == TOWN
    assert knowledge.answer_for_text(ports, TOWN, "when is leaf pickup", "en") == made
    changed = knowledge.update_article(ports, admin(), made.article_id,
                                       body(answer="From 15 October."))
    assert knowledge.get_article(ports, admin(), made.article_id).answer == "From 15 October."
    assert knowledge.search(ports, TOWN, "leaf pickup", "en")[0].article == changed
    knowledge.delete_article(ports, admin(), made.article_id)
    assert knowledge.list_articles(ports, admin()) == []
    assert knowledge.answer_for_text(ports, TOWN, "when is leaf pickup", "en") is None
    actions = [e.action for e in ports.audit.entries]
    assert actions == ["article.created", "article.changed", "article.deleted"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.ANALYST, Role.SUPERVISOR,
                                  Role.DEPARTMENT_WORKER, Role.EMERGENCY_MANAGER])
def test_only_a_town_admin_may_change_articles(ports, role):
    with pytest.raises(AccessDenied):
        knowledge.create_article(ports, admin(TOWN, role), body())
    assert ports.articles.articles(TOWN) == []


def test_another_towns_article_is_not_found(ports):
    made = knowledge.create_article(ports, admin(OTHER), body())
    for call in (lambda: knowledge.get_article(ports, admin(), made.article_id),
                 lambda: knowledge.update_article(ports, admin(), made.article_id, body()),
                 lambda: knowledge.delete_article(ports, admin(), made.article_id),
                 lambda: knowledge.article_page(ports, TOWN, made.article_id, "en")):
        with pytest.raises(NotFound):
            call()
    assert knowledge.get_article(ports, admin(OTHER), made.article_id) == made


def test_searches_read_the_store_once_while_cached(ports):
    store = ports.articles.inner
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    for _ in range(5):
        knowledge.search(ports, TOWN, "leaf pickup", "en")
    assert store.reads == 1
    knowledge.create_article(ports, admin(), body(question="Where is the dump?"))
    assert any(r.article.question == "Where is the dump?"
               for r in knowledge.search(ports, TOWN, "dump", "en"))  # seen at once


def test_a_pack_added_twice_adds_its_articles_once_and_keeps_the_towns_edits(ports):
    first = add_pack_articles(ports.articles, TOWN, "small_town", T0)
    assert "leaf-pickup" in first and "leaf-pickup-es" in first
    knowledge.update_article(ports, admin(), "leaf-pickup", body(answer="Our own words."))
    assert add_pack_articles(ports.articles, TOWN, "small_town", T0) == []
    assert knowledge.get_article(ports, admin(), "leaf-pickup").answer == "Our own words."
    assert len(knowledge.list_articles(ports, admin())) == len(first)


def test_the_article_page_shows_the_readers_language(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    assert knowledge.article_page(ports, TOWN, "leaf-pickup", "es").language == "es"
    assert knowledge.article_page(ports, TOWN, "leaf-pickup-es", "en").language == "en"
    with pytest.raises(NotFound):
        knowledge.article_page(ports, TOWN, "../../etc", "en")


def information(ports, dimension: str, value: str, day: date) -> int:
    return sum(d.figures.information for d in ports.figures.days(TOWN, dimension, day, day)
               if d.value == value)


def test_an_answered_question_counts_once_per_mark_on_the_towns_day(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    day = date(2026, 11, 2)  # Chicago's day
    assert knowledge.record_answered(ports, TOWN, "leaf-pickup", "sms", T0, "msg-1")
    assert not knowledge.record_answered(ports, TOWN, "leaf-pickup", "sms", T0, "msg-1")
    assert knowledge.record_answered(ports, TOWN, "leaf-pickup-es", "web", T0, "browser-1")
    assert information(ports, "town", "all", day) == 2
    assert information(ports, "channel", "sms", day) == 1
    assert information(ports, "channel", "web", day) == 1
    assert information(ports, "service", "pothole", day) == 0


def test_an_answer_is_not_counted_for_an_unknown_article_town_or_channel(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    with pytest.raises(NotFound):
        knowledge.record_answered(ports, TOWN, "no-such-answer", "web", T0, "m")
    with pytest.raises(NotFound):
        knowledge.record_answered(ports, OTHER, "leaf-pickup", "web", T0, "m")
    with pytest.raises(InvalidInput):
        knowledge.record_answered(ports, TOWN, "leaf-pickup", "Web Page!", T0, "m")
    with pytest.raises(InvalidInput):
        knowledge.record_answered(ports, TOWN, "leaf-pickup", "web", T0, "")
    assert ports.figures.items == {}


def test_a_browser_counts_once_a_day_and_an_agent_once_per_form(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    assert knowledge.answered_on_web(ports, TOWN, "leaf-pickup", "b1")
    assert not knowledge.answered_on_web(ports, TOWN, "leaf-pickup", "b1")
    assert knowledge.answered_on_web(ports, TOWN, "leaf-pickup", "b2")
    agent = Principal(subject="avery", town_id=TOWN, roles=frozenset({Role.AGENT}))
    assert knowledge.answered_on_phone(ports, agent, "leaf-pickup", "form-1")
    assert not knowledge.answered_on_phone(ports, agent, "leaf-pickup", "form-1")
    analyst = Principal(subject="ana", town_id=TOWN, roles=frozenset({Role.ANALYST}))
    with pytest.raises(AccessDenied):
        knowledge.answered_on_phone(ports, analyst, "leaf-pickup", "form-2")
    day = date(2026, 11, 2)
    assert information(ports, "channel", "web", day) == 2
    assert information(ports, "channel", "phone", day) == 1


def test_the_figures_backfill_keeps_the_answered_questions(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    knowledge.record_answered(ports, TOWN, "leaf-pickup", "sms", T0, "msg-1")
    ports.figures.put(TOWN, DayFigures(date(2026, 11, 1), "service", "pothole",
                                       Figures(opened=3)))
    backfill(FigurePorts(towns=ports.towns, figures=ports.figures,
                         now=lambda: T0 + timedelta(days=1)), TOWN)
    day = date(2026, 11, 2)
    assert information(ports, "town", "all", day) == 1
    assert information(ports, "channel", "sms", day) == 1
    assert ports.figures.days(TOWN, "service", date(2026, 11, 1)) == []  # rebuilt from events


def test_the_api_takes_exactly_the_languages_articles_are_written_in():
    from typing import get_args

    from chalicelib.schemas.knowledge import Language

    assert set(get_args(Language)) == set(kb.LANGUAGES)


def test_a_regional_language_code_reads_the_languages_articles(ports):
    add_pack_articles(ports.articles, TOWN, "small_town", T0)
    found = knowledge.answer_for_text(ports, TOWN, "cuándo recogen las hojas", "es-MX")
    assert found is not None and found.article_id == "leaf-pickup-es"
