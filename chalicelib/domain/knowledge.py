"""A town's knowledge base: answers to the questions residents ask that are not work orders
("when is leaf pickup?", "who do I call about my property tax?").

An ``Article`` is one answer in one language, owned by the body that decides it (the
town's own department, or another one: the county for property tax). Versions of the
same answer in other languages share a ``topic``; a page or a text shows the version in
the reader's language and falls back to English.

``rank`` scores a town's articles for a resident's free text with the category guess's
words (chalicelib.domain.category_guess: accents folded, plurals dropped, stop words of
both languages left out, synonyms, one typo forgiven), so "leaf collection dates",
"when is leaf pickup?" and "cuándo recogen las hojas" all find the leaf pickup article.
A question that names nothing an article is about ("pothole on Oak St") finds nothing:
every asked word must fit an article's words to count, and ``is_confident`` asks for a
clear score and a lead over the next topic before an answer is given without a person.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.category_guess import _SYNONYMS as _GUESS_SYNONYMS
from chalicelib.domain.category_guess import _one_edit, tokens
from chalicelib.domain.service_search import words as search_words

# The languages articles are written in: those the resident pages are translated into.
LANGUAGES = ("en", "es")
FALLBACK_LANGUAGE = "en"
QUESTION_MAX = 200
# An answer is read on a phone and quoted in a text message: four SMS segments at most.
ANSWER_MAX = 640
KEYWORDS_MAX = 20
KEYWORD_MAX = 40
OWNER_MAX = 100
PHONE_MAX = 30
URL_MAX = 2048
ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

# What a question's words stand for when they are about information rather than a
# problem. They take precedence over the category guess's synonyms, which map "leaf"
# and "hoja" to the trash service (a leaf reported as missed trash): here a leaf is a
# leaf. Targets are words as the tokeniser gives them (no plural "s", no accents).
ANSWER_SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "leaf": (), "leave": ("leaf",), "hoja": ("leaf",),
    "recogen": ("pickup",), "recogida": ("pickup",), "recoger": ("pickup",),
    "recolección": ("pickup",), "recoleccion": ("pickup",), "collection": ("pickup",),
    "collect": ("pickup",), "collected": ("pickup",), "picked": ("pickup",),
    "basura": ("trash", "garbage"), "garbage": ("trash",), "reciclaje": ("recycling",),
    "recycle": ("recycling",), "impuesto": ("tax",), "propiedad": ("property",),
    "predial": ("property", "tax"), "estacionamiento": ("parking",),
    "estacionar": ("parking",), "permiso": ("permit",), "licencia": ("license",),
    "licence": ("license",), "perro": ("dog",), "mascota": ("pet",),
    "nieve": ("snow",), "emergencia": ("emergency",), "quemar": ("burn",),
    "quema": ("burn",), "fogata": ("burn",), "bonfire": ("burn",), "fire": ("burn",),
    "mueble": ("bulk",), "furniture": ("bulk",), "couch": ("bulk",), "sofa": ("bulk",),
    "colchon": ("bulk",), "mattress": ("bulk",), "appliance": ("bulk",),
    "dates": ("date",), "fecha": ("date",), "dia": ("day",), "schedule": ("day",),
    "horario": ("day",), "calendario": ("calendar",),
}

# Words of a report rather than a question (as the tokeniser gives them: "didn't" is
# "didnt" once the apostrophe is dropped).
_PROBLEM_WORDS = frozenset(search_words("""
not no never didnt wasnt isnt havent hasnt dont missed skipped forgot broken broke damaged
nunca olvidaron faltó roto rota dañado
"""))

# How much a match counts, by where the word was found (keywords are chosen to be found).
_KEYWORD, _QUESTION, _ANSWER = 4.0, 3.0, 1.0
_SYNONYM = 0.9
_TYPO = 0.8
# A list of answers shows articles scoring at least this; one is given as *the* answer
# (a text message, no person reading) only above CONFIDENT_SCORE and CONFIDENT_MARGIN
# times the next topic's score.
MIN_SCORE = 2.5
CONFIDENT_SCORE = 4.5
CONFIDENT_MARGIN = 1.3


@dataclass(frozen=True)
class Owner:
    """Who decides the answer and whom to call: the town's department or another body."""

    name: str
    phone: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Article:
    """One answer in one language. ``topic`` ties the language versions of an answer
    together (by default the article's own id)."""

    town_id: str
    article_id: str
    question: str
    answer: str
    language: str
    owner: Owner
    keywords: tuple[str, ...] = ()
    topic: str = ""
    updated_at: datetime | None = None

    @property
    def topic_id(self) -> str:
        return self.topic or self.article_id

    def excerpt(self, limit: int = 300, ellipsis: str = "…") -> str:
        """The answer cut at a word to at most ``limit`` characters (``ellipsis``: "..."
        for a text message, whose alphabet has no "…")."""
        if len(self.answer) <= limit:
            return self.answer
        cut = self.answer[:limit - len(ellipsis)].rsplit(" ", 1)[0].rstrip(",;:.")
        return cut + ellipsis


@dataclass(frozen=True)
class Ranked:
    article: Article
    score: float


@dataclass(frozen=True)
class _Fields:
    by_weight: tuple[tuple[float, frozenset[str]], ...]

    def match(self, term: str) -> float:
        best = 0.0
        for weight, found in self.by_weight:
            if term in found:
                best = max(best, weight)
            elif len(term) >= 4 and any(w.startswith(term) for w in found):
                best = max(best, weight * 0.7)
        return best


def _fields(article: Article) -> _Fields:
    return _Fields((
        (_KEYWORD, frozenset(w for k in article.keywords for w in search_words(k))),
        (_QUESTION, frozenset(tokens(article.question))),
        (_ANSWER, frozenset(tokens(article.answer))),
    ))


def _targets(word: str) -> tuple[str, ...]:
    if word in ANSWER_SYNONYMS:
        return ANSWER_SYNONYMS[word]
    return _GUESS_SYNONYMS.get(word, ())


def _expand(word: str, vocabulary: frozenset[str]) -> list[tuple[str, float]]:
    """The word and what it stands for, each with how much it counts; an unknown word of
    five letters or more stands for the known words one edit away."""
    if word not in vocabulary and word not in ANSWER_SYNONYMS and len(word) >= 5:
        near = sorted(v for v in vocabulary if _one_edit(word, v))
        if near:
            return [(v, _TYPO / len(near)) for v in near]
    return [(word, 1.0)] + [(t, _SYNONYM) for t in _targets(word)]


def rank(articles: Sequence[Article], text: str, language: str = FALLBACK_LANGUAGE,
         limit: int = 5) -> list[Ranked]:
    """The articles that answer ``text``, best first: one per topic (in ``language`` when
    the topic has it, else English, else any), scoring at least ``MIN_SCORE``.

    Each asked word counts its best fit in any article of a topic (keywords, then the
    question, then the answer), divided by how widely it spreads over topics (as the
    category guess does): "pickup" fits leaves, trash and bulk items and says little;
    "leaf" says a lot."""
    asked = tokens(text)[:40]
    if not asked or not articles:
        return []
    indexed = [(a, _fields(a)) for a in articles]
    vocabulary = frozenset(w for _, f in indexed for _, found in f.by_weight for w in found)
    totals: dict[str, float] = defaultdict(float)
    for word in dict.fromkeys(asked):
        per_topic: dict[str, float] = {}
        for term, factor in _expand(word, vocabulary):
            for article, fields in indexed:
                score = fields.match(term) * factor
                if score > per_topic.get(article.topic_id, 0.0):
                    per_topic[article.topic_id] = score
        if per_topic:
            # A word that fits many topics says less about each (weak fits count less).
            spread = math.sqrt(sum(per_topic.values()) / max(per_topic.values()))
            for topic, score in per_topic.items():
                totals[topic] += score / spread
    chosen = _versions(articles, language)
    ranked = sorted((Ranked(chosen[t], round(s, 3)) for t, s in totals.items()
                     if s >= MIN_SCORE and t in chosen),
                    key=lambda r: (-r.score, r.article.question))
    return ranked[:limit]


def _versions(articles: Iterable[Article], language: str) -> dict[str, Article]:
    """Each topic's article in ``language``, else English, else the first there is."""
    chosen: dict[str, Article] = {}
    for article in articles:
        had = chosen.get(article.topic_id)
        if had is None or _preference(article, language) < _preference(had, language):
            chosen[article.topic_id] = article
    return chosen


def _preference(article: Article, language: str) -> int:
    if article.language == language:
        return 0
    return 1 if article.language == FALLBACK_LANGUAGE else 2


def in_language(articles: Iterable[Article], language: str) -> list[Article]:
    """One article per topic, in ``language`` where there is one (else English), in the
    order of their questions: an index of answers."""
    return sorted(_versions(articles, language).values(), key=lambda a: a.question.lower())


def version_of(articles: Iterable[Article], article: Article, language: str) -> Article:
    """The version of ``article``'s topic a reader of ``language`` should see."""
    same = [a for a in articles if a.topic_id == article.topic_id]
    return _versions([article, *same], language)[article.topic_id] if same else article


def reports_a_problem(text: str) -> bool:
    """Whether the text says something is wrong ("my trash was not picked up", "no
    pasaron a recoger"): then it is a request to file, not a question to answer, even
    when its words fit an article."""
    return any(w in _PROBLEM_WORDS for w in search_words(text.replace("'", "").replace("’", "")))


def is_confident(ranked: Sequence[Ranked], text: str = "") -> bool:
    """Whether the first answer may be given without a person choosing it: clearly the
    best, and ``text`` (the words asked) does not report a problem."""
    if not ranked or ranked[0].score < CONFIDENT_SCORE or reports_a_problem(text):
        return False
    return len(ranked) == 1 or ranked[0].score >= ranked[1].score * CONFIDENT_MARGIN


def pack_articles(documents: Iterable[Mapping[str, object]], town_id: str,
                  at: datetime) -> list[Article]:
    """A pack's ``articles`` list (chalicelib/packs/*.json) as the town's articles."""
    found = []
    for doc in documents:
        owner = doc.get("owner")
        owner = owner if isinstance(owner, Mapping) else {}
        keywords = doc.get("keywords")
        keywords = keywords if isinstance(keywords, (list, tuple)) else ()
        found.append(Article(
            town_id=town_id, article_id=str(doc["id"]), question=str(doc["question"]),
            answer=str(doc["answer"]), language=str(doc.get("language", "en")),
            owner=Owner(str(owner.get("name", "")), _optional(owner.get("phone")),
                        _optional(owner.get("url"))),
            keywords=tuple(str(k) for k in keywords), topic=str(doc.get("topic") or ""),
            updated_at=at))
    return found


def _optional(value: object) -> str | None:
    return str(value) if value else None
