"""A town's knowledge base: ``PK=TOWN#<town>, SK=ART#<article id>``, one item per article.

A town has tens to a few hundred articles, each under a kilobyte, so every search reads
them all with one Query of the town's partition (``SK begins_with ART#``; a few pages at
most) and ranks them in memory (chalicelib.domain.knowledge.rank); the service keeps them
for a while per warm container. No index: nothing looks an article up by anything else.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors, written_if
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.knowledge import Article, Owner


class ArticleItem(TableItem):
    """One answer of a town's knowledge base in one language (``Article``)."""

    article_id = UnicodeAttribute()
    question = UnicodeAttribute()
    answer = UnicodeAttribute()
    language = UnicodeAttribute()
    keywords = JSONAttribute(null=True)  # a list, in the admin's order
    topic = UnicodeAttribute(null=True)
    owner_name = UnicodeAttribute()
    owner_phone = UnicodeAttribute(null=True)
    owner_url = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


def article_item(article: Article) -> ArticleItem:
    return ArticleItem(
        keys.town_pk(article.town_id), keys.article_sk(article.article_id),
        article_id=article.article_id, question=article.question, answer=article.answer,
        language=article.language, keywords=list(article.keywords) or None,
        topic=article.topic or None, owner_name=article.owner.name,
        owner_phone=article.owner.phone, owner_url=article.owner.url,
        updated_at=keys.sort_time(article.updated_at) if article.updated_at else None)


def article(item: ArticleItem) -> Article:
    return Article(
        town_id=keys.town_of(item.PK), article_id=item.article_id, question=item.question,
        answer=item.answer, language=item.language,
        owner=Owner(item.owner_name, item.owner_phone, item.owner_url),
        keywords=tuple(str(k) for k in item.keywords or ()), topic=item.topic or "",
        updated_at=keys.parse_sort_time(item.updated_at) if item.updated_at else None)


class DynamoArticleStore:
    """A town's articles in its own partition."""

    def articles(self, town_id: str) -> list[Article]:
        with storage_errors():
            return [article(i) for i in ArticleItem.query(
                keys.town_pk(town_id), ArticleItem.SK.startswith(keys.ARTICLE_PREFIX))]

    def get(self, town_id: str, article_id: str) -> Article | None:
        found = get_or_none(ArticleItem, keys.town_pk(town_id), keys.article_sk(article_id))
        return article(found) if found is not None else None

    def save(self, article: Article) -> None:
        with storage_errors():
            article_item(article).save()

    def add_new(self, articles: list[Article]) -> list[str]:
        """Each article put only if its key is free (a conditional put each: a pack has a
        dozen), so what a town edited is never overwritten by a pack added again."""
        added = []
        for a in articles:
            if written_if(lambda a=a: article_item(a).save(  # type: ignore[misc]
                    condition=ArticleItem.PK.does_not_exist())):
                added.append(a.article_id)
        return added

    def delete(self, town_id: str, article_id: str) -> bool:
        return written_if(lambda: ArticleItem(keys.town_pk(town_id),
                                              keys.article_sk(article_id)).delete(
            condition=ArticleItem.PK.exists()))
