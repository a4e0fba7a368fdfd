""""What's the problem?": a resident's own words matched to the town's services.

Residents do not know a town's service names ("streetlight out"); they type what they see
("lamp post dark", "hole in road", "bache"). A service is found by the words of its name,
its keywords (the pack's synonyms, in any language the town writes them in), its group and
its description, each word matched whole or by its start, accents and plurals forgiven.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Service

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about which service is meant.
_NOISE = frozenset({"a", "an", "and", "are", "at", "by", "de", "del", "el", "en", "for",
                    "in", "is", "it", "la", "las", "los", "my", "of", "on", "or", "our",
                    "the", "there", "this", "to", "un", "una", "y"})
# How much a match counts, by where the word was found.
_NAME, _KEYWORD, _GROUP, _DESCRIPTION = 6.0, 5.0, 2.0, 1.0


def words(text: str) -> list[str]:
    """Lower-case words without accents or plural endings ("Baches" → "bache")."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return [_stem(w) for w in _WORD.findall(plain) if w not in _NOISE]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _score(asked: Sequence[str], fields: Iterable[tuple[float, list[str]]]) -> float:
    total = 0.0
    fields = list(fields)
    for word in asked:
        best = 0.0
        for weight, found in fields:
            for candidate in found:
                if candidate == word:
                    best = max(best, weight)
                elif len(word) >= 3 and candidate.startswith(word):
                    best = max(best, weight * 0.7)
        if best == 0.0:
            continue
        total += best
    return total


def find_services(services: Iterable[Service], text: str, limit: int = 8) -> list[Service]:
    """The active services that match, best first (ties keep the catalogue's order);
    nothing when no word of the text matches any service."""
    asked = words(text)[:12]
    if not asked:
        return []
    ranked: list[tuple[float, int, Service]] = []
    for order, service in enumerate(services):
        if not service.active:
            continue
        score = _score(asked, (
            (_NAME, words(service.name) + words(service.code.replace("_", " "))),
            (_KEYWORD, [w for k in service.keywords for w in words(k)]),
            (_GROUP, words(service.group)),
            (_DESCRIPTION, words(service.description)),
        ))
        if score > 0:
            ranked.append((-score, order, service))
    return [service for _, _, service in sorted(ranked, key=lambda r: (r[0], r[1]))][:limit]


def grouped(services: Iterable[Service]) -> list[tuple[str, list[Service]]]:
    """The active services by group, groups in the catalogue's order."""
    groups: dict[str, list[Service]] = {}
    for service in services:
        if service.active:
            groups.setdefault(service.group or "Other", []).append(service)
    return list(groups.items())
