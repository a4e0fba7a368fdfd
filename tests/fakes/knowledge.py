"""A town's articles in memory (``ArticleStore``)."""

from __future__ import annotations

from chalicelib.domain.knowledge import Article


class FakeArticleStore:
    """ArticleStore in memory; ``reads`` counts the whole-town reads (the cache's tests)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Article] = {}
        self.reads = 0

    def articles(self, town_id: str) -> list[Article]:
        self.reads += 1
        return [a for (t, _), a in sorted(self.items.items()) if t == town_id]

    def get(self, town_id: str, article_id: str) -> Article | None:
        return self.items.get((town_id, article_id))

    def save(self, article: Article) -> None:
        self.items[(article.town_id, article.article_id)] = article

    def add_new(self, articles: list[Article]) -> list[str]:
        added = []
        for article in articles:
            if (article.town_id, article.article_id) not in self.items:
                self.save(article)
                added.append(article.article_id)
        return added

    def delete(self, town_id: str, article_id: str) -> bool:
        return self.items.pop((town_id, article_id), None) is not None
