"""The category guess for a town: its catalogue plus the words of its own past requests.

The learned words (chalicelib.domain.category_guess.LearnedWords) are built on demand from
the town's most recent requests through the store's ordinary newest-first window query
(no Scan: at most ``PAGES`` pages of ``PAGE_SIZE``), each service's share capped at
``PER_SERVICE`` so that a pothole spring does not teach only pothole words, and kept per
warm Lambda for ``KEEP`` (new words take that long to count). A town with no history gets
the catalogue and synonyms alone, which the bench measures on their own too.

Not yet done (see docs/category-guess.md): keeping the table as one small item per town,
updated at filing or by the figures' backfill, instead of reading ~1,000 requests on a
cold Lambda's first guess.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.category_guess import Guess, LearnedWords, guess_services, learn
from chalicelib.domain.queries import RequestQuery

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.services.ports.requests import RequestStore

DAYS = 365
PAGE_SIZE = 250
PAGES = 4
PER_SERVICE = 100
KEEP = timedelta(hours=6)

_CACHE: dict[str, tuple[datetime, LearnedWords]] = {}


def learned_words(store: RequestStore, town_id: str, now: datetime) -> LearnedWords:
    """The town's learned words from its latest requests (cached for ``KEEP``)."""
    cached = _CACHE.get(town_id)
    if cached is not None and now - cached[0] < KEEP:
        return cached[1]
    query = RequestQuery(start=now - timedelta(days=DAYS), end=now, page_size=PAGE_SIZE)
    taken: dict[str, int] = {}
    pairs: list[tuple[str, str]] = []
    for page in range(1, PAGES + 1):
        found = store.find(town_id, replace(query, page=page))
        for request in found.items:
            if request.description and taken.get(request.service_code, 0) < PER_SERVICE:
                taken[request.service_code] = taken.get(request.service_code, 0) + 1
                pairs.append((request.service_code, request.description))
        if not found.has_more:
            break
    learned = learn(pairs)
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[town_id] = (now, learned)
    return learned


def guess_for_town(store: RequestStore, town_id: str, catalogue: Catalogue, text: str,
                   now: datetime, limit: int = 3) -> list[Guess]:
    """The town's services ranked for ``text`` by its catalogue and its own history."""
    return guess_services(catalogue, text, learned_words(store, town_id, now), limit)
