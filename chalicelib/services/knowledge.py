"""A town's answers (chalicelib.domain.knowledge): kept by its admins, searched by residents
(the "What's the problem?" search, an article's own page), by texts (the SMS channel calls
``answer_for_text``) and by agents on the phone; each question answered counted in the
town's figures as an information request (``record_answered``).

- Admins (``list_articles``, ``create_article``, ``update_article``, ``delete_article``):
  the EDIT_CATALOGUE permission, decided here; every change in the audit log.
- Residents and texts (``search``, ``answer_for_text``, ``article_page``, ``answers_index``):
  the town's articles read with one Query and kept per warm container for
  ``CachedArticles``' seconds (an admin's change in this container is seen at once).
- Template packs bring their articles (chalicelib.services.towns.add_pack_articles): only
  those the town does not have, so a pack added again never overwrites its own wording.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.knowledge import (
    ARTICLE_ID,
    FALLBACK_LANGUAGE,
    Article,
    Owner,
    Ranked,
    in_language,
    is_confident,
    rank,
    version_of,
)
from chalicelib.domain.towns import AuditEntry

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town
    from chalicelib.schemas.knowledge import ArticleIn
    from chalicelib.services.ports import ArticleStore, AuditLog, FigureStore, TownDirectory

# How long a counted answer's mark is kept (then the table's TTL removes it). Marks are
# unique to what they count (a text message's id; an article, a browser and a day), so
# this only needs to outlast retries and the day a browser's click is counted for.
MARK_DAYS = 2
MARK_MAX = 300
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


class CachedArticles:
    """An ``ArticleStore`` that keeps each town's articles for ``seconds`` (a search reads
    them all; a warm container answers the next searches from memory). Writes pass
    through and drop the town, so an admin sees a change at once in this container and
    residents everywhere within ``seconds``."""

    def __init__(self, inner: ArticleStore, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from chalicelib.services.directory import TTLCache

        self._inner = inner
        self._cache: TTLCache[str, list[Article]] = TTLCache(seconds, clock, max_entries=64)

    @property
    def inner(self) -> ArticleStore:
        """The store itself, uncached (what admins read)."""
        return self._inner

    def articles(self, town_id: str) -> list[Article]:
        return list(self._cache.get_or_load(town_id, lambda: self._inner.articles(town_id)))

    def get(self, town_id: str, article_id: str) -> Article | None:
        return self._inner.get(town_id, article_id)

    def save(self, article: Article) -> None:
        self._inner.save(article)
        self._cache.drop(article.town_id)

    def add_new(self, articles: list[Article]) -> list[str]:
        added = self._inner.add_new(articles)
        for town_id in {a.town_id for a in articles}:
            self._cache.drop(town_id)
        return added

    def delete(self, town_id: str, article_id: str) -> bool:
        deleted = self._inner.delete(town_id, article_id)
        self._cache.drop(town_id)
        return deleted


@dataclass(frozen=True)
class KnowledgePorts:
    towns: TownDirectory
    articles: ArticleStore  # cached for residents' searches (CachedArticles)
    figures: FigureStore
    audit: AuditLog
    new_id: Callable[[], str]
    now: Callable[[], datetime]


# --- admins ---------------------------------------------------------------------------------


def _own_town(ports: KnowledgePorts, who: Principal) -> Town:
    require(who, Permission.EDIT_CATALOGUE, who.town_id)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    return town


def _record(ports: KnowledgePorts, who: Principal, action: str, target: str,
            details: dict[str, object] | None = None) -> None:
    ports.audit.record(AuditEntry(
        town_id=who.town_id or "", at=ports.now(), entry_id=ports.new_id(), actor=who.actor,
        actor_kind=who.kind, action=action, target=target, source_ip=who.source_ip,
        details=details or {}))


def _checked_id(article_id: str) -> str:
    if not ARTICLE_ID.fullmatch(article_id):
        raise NotFound(f"no article {article_id[:64]!r}")
    return article_id


def list_articles(ports: KnowledgePorts, who: Principal) -> list[Article]:
    """Every article of the caller's town (read fresh: an admin's list is never stale)."""
    town = _own_town(ports, who)
    return sorted(_fresh(ports).articles(town.town_id),
                  key=lambda a: (a.topic_id, a.language != FALLBACK_LANGUAGE, a.language))


def _fresh(ports: KnowledgePorts) -> ArticleStore:
    store = ports.articles
    return store.inner if isinstance(store, CachedArticles) else store


def get_article(ports: KnowledgePorts, who: Principal, article_id: str) -> Article:
    town = _own_town(ports, who)
    found = ports.articles.get(town.town_id, _checked_id(article_id))
    if found is None:
        raise NotFound(f"no article {article_id[:64]!r}")
    return found


def _from_wire(town_id: str, article_id: str, body: ArticleIn, at: datetime) -> Article:
    topic = body.topic or ""
    return Article(
        town_id=town_id, article_id=article_id, question=body.question, answer=body.answer,
        language=body.language,
        owner=Owner(body.owner.name, body.owner.phone or None, body.owner.url or None),
        keywords=tuple(dict.fromkeys(k for k in body.keywords if k)),
        topic="" if topic == article_id else topic, updated_at=at)


def create_article(ports: KnowledgePorts, who: Principal, body: ArticleIn) -> Article:
    """A new article with a new id (lower case: ids go in page addresses)."""
    town = _own_town(ports, who)
    article = _from_wire(town.town_id, ports.new_id().lower(), body, ports.now())
    ports.articles.save(article)
    _record(ports, who, "article.created", article.article_id,
            {"question": article.question, "language": article.language})
    return article


def update_article(ports: KnowledgePorts, who: Principal, article_id: str,
                   body: ArticleIn) -> Article:
    """The article replaced by ``body`` (NotFound: there is no such article in the town)."""
    before = get_article(ports, who, article_id)
    article = _from_wire(before.town_id, before.article_id, body, ports.now())
    ports.articles.save(article)
    _record(ports, who, "article.changed", article_id,
            {"question": article.question, "language": article.language})
    return article


def delete_article(ports: KnowledgePorts, who: Principal, article_id: str) -> Article:
    """Remove the article; what it was (NotFound: there was none)."""
    before = get_article(ports, who, article_id)
    if not ports.articles.delete(before.town_id, before.article_id):
        raise NotFound(f"no article {article_id[:64]!r}")
    _record(ports, who, "article.deleted", article_id, {"question": before.question})
    return before


# --- residents, texts and agents ------------------------------------------------------------


def search(ports: KnowledgePorts, town_id: str, text: str, language: str,
           limit: int = 5) -> list[Ranked]:
    """The town's articles that answer ``text``, best first, each in ``language`` where
    the town wrote one (else English); nothing for words no article is about."""
    if not text.strip():
        return []
    # "es-MX", "ES": the language's own code is what articles are written in.
    language = language.split("-")[0].lower()
    return rank(ports.articles.articles(town_id), text[:500], language, limit)


def answer_for_text(ports: KnowledgePorts, town_id: str, text: str,
                    language: str) -> Article | None:
    """The one answer to give for ``text`` without a person (a text message): the best
    article when it is clearly the best and the text does not report a problem ("my trash
    was not picked up" is a request to file); else None."""
    ranked = search(ports, town_id, text, language)
    return ranked[0].article if is_confident(ranked, text) else None


def article_page(ports: KnowledgePorts, town_id: str, article_id: str,
                 language: str) -> Article:
    """The article a resident opened, in their language when the town wrote it in it
    (else the version asked for). NotFound: no such article in the town."""
    articles = ports.articles.articles(town_id)
    found = next((a for a in articles if a.article_id == article_id), None) \
        if ARTICLE_ID.fullmatch(article_id) else None
    if found is None:
        raise NotFound(f"no answer {article_id[:64]!r}")
    return version_of(articles, found, language)


def answers_index(ports: KnowledgePorts, town_id: str, language: str) -> list[Article]:
    """Every answer of the town once, in ``language`` where written (else English)."""
    return in_language(ports.articles.articles(town_id), language)


def record_answered(ports: KnowledgePorts, town_id: str, article_id: str, channel: str,
                    at: datetime, mark: str) -> bool:
    """Count one question answered by ``article_id`` as an information request: +1
    ``information`` on the town's figures of ``at``'s town-time day, for the whole town
    and for ``channel`` (``web``, ``sms``, ``phone``...). Once per ``mark`` (a text's
    message id; an article, a browser and a day): False when it was counted already.
    NotFound: no such town or article; InvalidInput: a channel or mark that cannot be."""
    problems = []
    if not _CHANNEL.fullmatch(channel):
        problems.append(Problem("channel", "use 1-20 lower-case letters, digits or _"))
    if not mark or len(mark) > MARK_MAX:
        problems.append(Problem("mark", f"must be 1-{MARK_MAX} characters"))
    if problems:
        raise InvalidInput.of(problems)
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:64]!r}")
    if not ARTICLE_ID.fullmatch(article_id) or ports.articles.get(town_id, article_id) is None:
        raise NotFound(f"no answer {article_id[:64]!r}")
    day = at.astimezone(town.zone).date()
    return ports.figures.count_answered(town_id, day, channel, mark,
                                        at + timedelta(days=MARK_DAYS))


def answer_text_message(ports: KnowledgePorts, town_id: str, text: str, language: str,
                        mark: str) -> str | None:
    """The reply to a text that asks a question the town has answered ("when is leaf
    pickup?"): the answer, and who to call when the town does not own it, counted as an
    information request (channel ``sms``, once per ``mark``: the text's message id).
    None: no answer is sure enough (the text is then read as a report)."""
    article = answer_for_text(ports, town_id, text, language)
    if article is None:
        return None
    record_answered(ports, town_id, article.article_id, "sms", ports.now(), mark[:MARK_MAX])
    reply = article.excerpt(240, ellipsis="...")
    if article.owner.phone:
        reply = f"{reply} ({article.owner.name}: {article.owner.phone})"
    return reply


def answered_on_phone(ports: KnowledgePorts, who: Principal, article_id: str,
                      mark: str) -> bool:
    """An agent answered a caller with the article (the console's "Answered — no request
    needed"): counted once per ``mark`` (the form's own key), channel ``phone``."""
    require(who, Permission.ENTER_REQUESTS, who.town_id)
    return record_answered(ports, who.town_id or "", article_id, "phone", ports.now(),
                           f"phone#{who.subject}#{mark}")


def answered_on_web(ports: KnowledgePorts, town_id: str, article_id: str,
                    browser: str) -> bool:
    """A resident's "Did this answer your question? Yes": counted once a day for a
    browser (``browser``: its own random id) and an article, channel ``web``."""
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:64]!r}")
    at = ports.now()
    mark = f"web#{article_id[:64]}#{browser[:64]}#{at.astimezone(town.zone).date()}"
    return record_answered(ports, town_id, article_id, "web", at, mark)
