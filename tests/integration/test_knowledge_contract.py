"""``ArticleStore`` and ``FigureStore.count_answered``: the in-memory fakes and the DynamoDB
adapters on moto answer the same (a town's articles read together and kept apart from
another town's; a pack's articles added only where the id is free; an answered question
counted once per mark on the town's and the channel's day)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.knowledge import Article, Owner
from tests.fakes import FakeArticleStore, FakeFigureStore

TOWN, OTHER = "maplefalls.example", "riverton.example"
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)


def article(article_id: str, town: str = TOWN, **changes) -> Article:
    made = Article(town, article_id, "When is leaf pickup?", "In the fall.\nRake to the curb.",
                   "en", Owner("Hennepin County", "+1 612 348 3011", "https://example.org/tax"),
                   ("leaf", "leaves"), "leaf", T0)
    return dataclasses.replace(made, **changes)


class ArticleStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_articles_are_saved_and_read_back_whole_per_town(self, store):
        store.save(article("leaf-pickup"))
        store.save(article("leaf-pickup-es", language="es", question="¿Cuándo?", topic="leaf"))
        store.save(article("leaf-pickup", town=OTHER, answer="Elsewhere."))
        mine = store.articles(TOWN)
        assert [a.article_id for a in mine] == ["leaf-pickup", "leaf-pickup-es"]
        assert mine[0] == article("leaf-pickup")
        assert store.get(OTHER, "leaf-pickup").answer == "Elsewhere."
        assert store.get(TOWN, "nothing") is None

    def test_an_article_without_optional_fields_reads_back_the_same(self, store):
        bare = article("bare", owner=Owner("Sanitation"), keywords=(), topic="",
                       updated_at=None)
        store.save(bare)
        assert store.get(TOWN, "bare") == bare

    def test_add_new_keeps_what_the_town_has(self, store):
        store.save(article("leaf-pickup", answer="Our words."))
        added = store.add_new([article("leaf-pickup"), article("trash-day")])
        assert added == ["trash-day"]
        assert store.get(TOWN, "leaf-pickup").answer == "Our words."

    def test_delete_says_whether_there_was_one(self, store):
        store.save(article("leaf-pickup"))
        assert store.delete(TOWN, "leaf-pickup") is True
        assert store.delete(TOWN, "leaf-pickup") is False
        assert store.articles(TOWN) == []


class TestFakeArticleStore(ArticleStoreContract):
    @pytest.fixture
    def store(self):
        return FakeArticleStore()


class TestDynamoArticleStore(ArticleStoreContract):
    @pytest.fixture
    def store(self, deployment):
        store = deployment.container.article_store
        for town in (TOWN, OTHER):  # the seeded demo answers aside
            for found in store.articles(town):
                store.delete(town, found.article_id)
        return store


class AnsweredContract:
    @pytest.fixture
    def figures(self):
        raise NotImplementedError

    def _information(self, figures, dimension: str, value: str) -> int:
        return sum(d.figures.information for d in figures.days(TOWN, dimension, DAY, DAY)
                   if d.value == value)

    def test_an_answer_counts_once_per_mark_for_the_town_and_its_channel(self, figures):
        keep = T0 + timedelta(days=2)
        assert figures.count_answered(TOWN, DAY, "sms", "msg-1", keep) is True
        assert figures.count_answered(TOWN, DAY, "sms", "msg-1", keep) is False
        assert figures.count_answered(TOWN, DAY, "web", "browser-1", keep) is True
        assert figures.count_answered(OTHER, DAY, "web", "browser-1", keep) is True
        assert self._information(figures, "town", "all") == 2
        assert self._information(figures, "channel", "sms") == 1
        assert self._information(figures, "channel", "web") == 1
        assert figures.open_now(TOWN) in (None, {})  # nothing opened


class TestFakeAnswered(AnsweredContract):
    @pytest.fixture
    def figures(self):
        return FakeFigureStore()


class TestDynamoAnswered(AnsweredContract):
    @pytest.fixture
    def figures(self, deployment):
        return deployment.container.figures
