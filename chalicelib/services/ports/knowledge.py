"""A town's knowledge base (chalicelib.domain.knowledge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.knowledge import Article


class ArticleStore(Protocol):
    """A town's articles: tens to a few hundred, read all at once."""

    def articles(self, town_id: str) -> list[Article]:
        """Every article of the town (one Query), in article id order."""
        ...

    def get(self, town_id: str, article_id: str) -> Article | None:
        ...

    def save(self, article: Article) -> None:
        """Create or replace the article."""
        ...

    def add_new(self, articles: list[Article]) -> list[str]:
        """Store those of ``articles`` whose id the town does not have yet (a pack added
        again keeps the town's own edits); the ids stored."""
        ...

    def delete(self, town_id: str, article_id: str) -> bool:
        """Remove the article; False if there was none."""
        ...
