"""A category guess: a resident's free text ranked against the town's services.

Used wherever a request arrives as words rather than a chosen service (a text message, an
e-mail, the resident search when no service name matches, the agent's "Describe the
problem" box). Pure Python and a few dictionaries, so it runs in a Lambda in well under a
millisecond a guess with nothing to download.

Three sources of evidence, added up per service:

- the catalogue: the words of each service's name, keywords, group and description, with
  the same tokenising and weights as the home page search (chalicelib.domain.service_search:
  accents folded, plurals dropped, a word matched whole or by its start);
- ``SYNONYMS``: everyday and Spanish words mapped to the words a catalogue uses ("bache" →
  pothole, "farola" → streetlight, "basura" → trash), so a town that wrote its keywords in
  English still finds a Spanish text, and a resident's "lamp post" finds "streetlight";
- ``LearnedWords``: per town, how often each word appeared in the descriptions of each
  service's past requests (see ``learn``), which catches the town's own vocabulary
  ("leaves" reported as missed trash in a town without a leaf service).

A word that points at many services counts less than one that points at one (divided by
the number of services it matches), so "light" alone splits between streetlights and
traffic signals but "light flickering" does not. A word of 5 letters or more that is not
known at all is tried against the known words one edit away ("pothle", "grafitti").
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.domain.service_search import words as search_words

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue, Service

# Words the home page search keeps but that say nothing about which service is meant.
_STOP_WORDS = """
about after again all also am any as back be been before being but can cannot could day
days did do does done for from get got had has have he her here him his how i if im
into its just last like me more most much near next no not now off one out outside over
please really right she since so some someone still than that their them then they think
thing too up us very was we week weeks were what when where which while who why will with
would yesterday you your
al algo aqui como con cuando desde donde es esta estan este esto hace hay le lo mas me mi
muy no nos para pero por porque que se semana sin su sus tiene todo todos ya
"""
# As the tokeniser leaves them ("was" → "wa", "does" → "doe").
_STOP = frozenset(search_words(_STOP_WORDS)) | frozenset(_STOP_WORDS.split())

# Everyday and Spanish words → the words catalogues use (already stemmed: no plural "s",
# no accents). A word with several targets counts for each.
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    # potholes
    "bache": ("pothole",), "hoyo": ("hole", "pothole"), "hueco": ("hole", "pothole"),
    "agujero": ("hole",), "pozo": ("pothole",), "crater": ("pothole",),
    "calle": ("street",), "carretera": ("road",), "pavimento": ("pavement",),
    "asfalto": ("pavement",),
    # streetlights
    "farola": ("streetlight",), "farol": ("streetlight",), "poste": ("lamp",),
    "lamppost": ("streetlight",), "lamp": ("streetlight",), "luz": ("light",),
    "luce": ("light",), "alumbrado": ("streetlight",), "apagada": ("dark",),
    "apagado": ("dark",), "oscura": ("dark",), "oscuro": ("dark",), "parpadea": ("flickering",),
    "flicker": ("flickering",), "flickers": ("flickering",), "bulb": ("streetlight",),
    "burnt": ("streetlight",), "burned": ("streetlight",),
    # graffiti
    "pintada": ("graffiti",), "grafiti": ("graffiti",), "spray": ("graffiti",),
    "tag": ("tagging",), "tagged": ("tagging",), "vandalized": ("vandalism",),
    "vandalismo": ("vandalism",), "pintura": ("paint",), "sprayed": ("graffiti",),
    "painted": ("paint",),
    # trash
    "basura": ("trash",), "recogida": ("pickup",), "recogieron": ("pickup",),
    "recoger": ("pickup",), "bin": ("trash",), "cart": ("trash",), "can": ("trash",),
    "contenedor": ("trash",), "reciclaje": ("recycling",), "bote": ("trash",),
    "rubbish": ("trash",), "collected": ("collection",), "picked": ("pickup",),
    "skipped": ("missed",), "forgot": ("missed",), "olvidaron": ("missed",),
    "yard": ("trash",), "leaf": ("trash",), "leave": ("trash",), "hoja": ("trash",),
    # trees
    "arbol": ("tree",), "rama": ("branch",), "caido": ("fallen",), "caida": ("fallen",),
    "fell": ("fallen",), "fall": ("fallen",), "down": ("fallen",), "toppled": ("fallen",),
    "tormenta": ("storm",), "wind": ("storm",), "viento": ("storm",), "branche": ("branch",),
    "trunk": ("tree",), "tronco": ("tree",),
    # dumping
    "dumped": ("dumping",), "tirado": ("dumping",), "tiraron": ("dumping",),
    "escombro": ("debris",), "colchon": ("mattress",), "mueble": ("furniture",),
    "llanta": ("tires",), "neumatico": ("tires",), "couch": ("furniture",),
    "sofa": ("furniture",), "junk": ("debris",), "dejaron": ("dumping",),
    # vehicles
    "carro": ("car",), "coche": ("car",), "auto": ("car",), "vehiculo": ("vehicle",),
    "abandonado": ("abandoned",), "estacionado": ("parked",), "placa": ("plates",),
    "truck": ("vehicle",), "van": ("vehicle",), "camioneta": ("vehicle",),
    "plate": ("plates",), "moved": ("parked",),
    # sidewalks
    "acera": ("sidewalk",), "banqueta": ("sidewalk",), "vereda": ("sidewalk",),
    "grieta": ("crack",), "rota": ("crack",), "roto": ("crack",), "tripped": ("trip",),
    "uneven": ("sidewalk",), "bordillo": ("curb",), "rampa": ("ramp",), "slab": ("sidewalk",),
    # water
    "agua": ("water",), "fuga": ("leak",), "leaking": ("leak",), "gotea": ("leak",),
    "inundacion": ("flooding",), "flood": ("flooding",), "flooded": ("flooding",),
    "boca": ("hydrant",), "hidrante": ("hydrant",), "tuberia": ("main",), "pipe": ("main",),
    "burst": ("leak",), "gushing": ("water",),
    # traffic signals
    "semaforo": ("traffic", "signal"), "stoplight": ("traffic",), "red": ("signal",),
    "rojo": ("signal",), "crosswalk": ("signal",), "walk": ("signal",),
    "cruce": ("intersection",), "intermitente": ("signal",), "stuck": ("signal",),
    # snow and ice
    "nieve": ("snow",), "hielo": ("ice",), "icy": ("ice",), "plowed": ("plow",),
    "plough": ("plow",), "quitanieve": ("plow",), "resbaloso": ("slippery",),
    "sal": ("salt",), "unplowed": ("plow",), "frozen": ("ice",), "congelado": ("ice",),
}

# The synonyms' targets as the tokeniser gives them ("tires" → "tire").
_SYNONYMS = {word: tuple(t for target in targets for t in search_words(target))
             for word, targets in SYNONYMS.items()}

# How much a learned word may count against the catalogue's own words: a word seen only
# with one service counts like a keyword once it has been seen often enough.
_LEARNED = 4.0
_BACKING = 0.3  # a learned word that agrees with the catalogue adds a little
_LEARNED_MIN = 2  # a word seen once is noise (a street name, a typo)
_SYNONYM = 0.9  # a synonym counts a little less than the word itself
_TYPO = 0.8
# A guess is "confident" when the best service has at least this score and leads the
# next by this margin; below, the caller should ask rather than assume.
CONFIDENT_SCORE = 3.0
CONFIDENT_MARGIN = 1.2


def tokens(text: str) -> list[str]:
    """The words that may name a service: the home page search's words (lower case, no
    accents, no plural) without the stop words of either language."""
    return [w for w in search_words(text) if w not in _STOP and not w.isdigit()]


@dataclass
class LearnedWords:
    """A town's word → service counts from its past requests' descriptions. Small: a few
    thousand words at most for a town (``prune`` keeps the ``limit`` most used), so it
    can be kept as one item or cached per warm Lambda."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, service_code: str, description: str) -> None:
        for word in set(tokens(description)):
            per = self.counts.setdefault(word, {})
            per[service_code] = per.get(service_code, 0) + 1

    def prune(self, limit: int = 5_000) -> LearnedWords:
        ranked = sorted(self.counts.items(), key=lambda kv: -sum(kv[1].values()))
        return LearnedWords({w: dict(per) for w, per in ranked[:limit]
                             if sum(per.values()) >= _LEARNED_MIN})

    def evidence(self, word: str) -> dict[str, float]:
        """How strongly the word points at each service: how far its share of the word's
        uses is above an even split between the town's services (a street name or "calle"
        used with every service points at none), discounted while the word has been seen
        only a few times."""
        per = self.counts.get(word)
        if not per:
            return {}
        total = sum(per.values())
        if total < _LEARNED_MIN:
            return {}
        even = 1.0 / max(2, self.services)
        sure = 1.0 - 1.0 / math.sqrt(total)
        out = {}
        for code, n in per.items():
            lift = (n / total - even) / (1.0 - even)
            if lift > 0:
                out[code] = _LEARNED * sure * lift
        return out

    @functools.cached_property
    def services(self) -> int:
        """How many services the town's learned words are about (counted once: a table
        is learned, then only read)."""
        return len({code for per in self.counts.values() for code in per})


def learn(pairs: Iterable[tuple[str, str]]) -> LearnedWords:
    """Learned words from (service code, description) pairs: a town's past requests."""
    learned = LearnedWords()
    for code, description in pairs:
        if description:
            learned.add(code, description)
    return learned.prune()


@dataclass(frozen=True)
class Guess:
    service: Service
    score: float


@dataclass(frozen=True)
class _Index:
    """Each service's words by weight, and every word known, for the typo fallback."""

    fields: tuple[tuple[Service, tuple[tuple[float, frozenset[str]], ...]], ...]
    vocabulary: frozenset[str]
    # Remembered per warm Lambda: residents use the same few hundred words.
    matched: dict[str, dict[str, float]] = field(default_factory=dict)
    near: dict[str, list[str]] = field(default_factory=dict)

    def matches(self, term: str) -> dict[str, float]:
        """The services the catalogue word ``term`` fits, by how well."""
        found = self.matched.get(term)
        if found is None:
            found = {}
            for service, by_weight in self.fields:
                score = _catalogue_match(term, by_weight)
                if score:
                    found[service.code] = score
            if len(self.matched) > 20_000:
                self.matched.clear()
            self.matched[term] = found
        return found

    def one_edit_away(self, word: str) -> list[str]:
        found = self.near.get(word)
        if found is None:
            found = [v for v in self.vocabulary if _one_edit(word, v)]
            if len(self.near) > 20_000:
                self.near.clear()
            self.near[word] = found
        return found


_NAME, _KEYWORD, _GROUP, _DESCRIPTION = 6.0, 5.0, 2.0, 1.0
_INDEXES: dict[tuple[int, ...], _Index] = {}


def _index(services: Sequence[Service]) -> _Index:
    key = tuple(id(s) for s in services)
    found = _INDEXES.get(key)
    if found is not None and all(a is b for a, (b, _) in zip(services, found.fields,
                                                                 strict=True)):
        return found
    fields = []
    vocabulary: set[str] = set(SYNONYMS)
    for service in services:
        by_weight = (
            (_NAME, frozenset(search_words(service.name)
                              + search_words(service.code.replace("_", " ")))),
            (_KEYWORD, frozenset(w for k in service.keywords for w in search_words(k))),
            (_GROUP, frozenset(search_words(service.group))),
            (_DESCRIPTION, frozenset(search_words(service.description))),
        )
        fields.append((service, by_weight))
        for _, found_words in by_weight:
            vocabulary |= found_words
    index = _Index(tuple(fields), frozenset(vocabulary))
    if len(_INDEXES) > 64:  # a warm Lambda serves a few towns; keep it bounded
        _INDEXES.clear()
    _INDEXES[key] = index
    return index


def _catalogue_match(word: str, by_weight: tuple[tuple[float, frozenset[str]], ...]) -> float:
    best = 0.0
    for weight, found in by_weight:
        if word in found:
            best = max(best, weight)
        elif len(word) >= 4 and any(c.startswith(word) for c in found):
            best = max(best, weight * 0.7)
    return best


def _one_edit(a: str, b: str) -> bool:
    """True when b is a one letter substitution, insertion, deletion or swap from a."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def _expand(word: str, index: _Index, learned: LearnedWords | None
            ) -> list[tuple[str, float]]:
    """The word and what it stands for, each with how much it counts."""
    known = word in index.vocabulary or (learned is not None and word in learned.counts)
    if not known and len(word) >= 5:
        near = list(index.one_edit_away(word))
        if learned is not None:
            near += [v for v in learned.counts if _one_edit(word, v)]
        if near:
            share = _TYPO / len(near)
            return [(v, share * f) for n in near for v, f in _expand(n, index, learned)]
    out = [(word, 1.0)]
    targets = _SYNONYMS.get(word, ())
    # Each target in full: a service takes its best term, so two targets never add up.
    out += [(t, _SYNONYM) for t in targets]
    return out


def guess_services(catalogue: Catalogue | Sequence[Service], text: str,
                   learned: LearnedWords | None = None, limit: int = 3) -> list[Guess]:
    """The town's active services ranked for ``text``, best first, with their scores
    (ties keep the catalogue's order); nothing when no word points at any service.
    ``is_confident`` says whether the first may be assumed without asking."""
    listed = catalogue if isinstance(catalogue, Sequence) else catalogue.services
    services = tuple(s for s in listed if s.active)
    asked = tokens(text)[:40]
    if not asked or not services:
        return []
    index = _index(services)
    totals: dict[str, float] = defaultdict(float)
    for word in asked:
        per_service: dict[str, float] = defaultdict(float)
        for term, factor in _expand(word, index, learned):
            for code, score in index.matches(term).items():
                per_service[code] = max(per_service[code], score * factor)
            if learned is not None:
                # The town's own usage backs up or stands in for the catalogue's words;
                # it does not outvote them (a word learned from one service's reports
                # must not drown another service whose name it is).
                for code, score in learned.evidence(term).items():
                    had = per_service.get(code, 0.0)
                    per_service[code] = max(had, score * factor) \
                        + _BACKING * min(had, score * factor)
        if per_service:
            # A word that fits many services says less about each (weak fits count less).
            spread = math.sqrt(sum(per_service.values()) / max(per_service.values()))
            for code, score in per_service.items():
                totals[code] += score / spread
    order = {s.code: i for i, s in enumerate(services)}
    by_code = {s.code: s for s in services}
    ranked = sorted((c for c in totals if c in by_code), key=lambda c: (-totals[c], order[c]))
    return [Guess(by_code[c], round(totals[c], 3)) for c in ranked[:limit]]


def is_confident(guesses: Sequence[Guess]) -> bool:
    """Whether the first guess may be taken without asking: strong enough on its own and
    clearly ahead of the second."""
    if not guesses or guesses[0].score < CONFIDENT_SCORE:
        return False
    return len(guesses) == 1 or guesses[0].score >= guesses[1].score * CONFIDENT_MARGIN
