"""The place a resident's own words name, for every channel that takes free text (a text
message, an e-mail): read the same way wherever the words came from. Pure: the town's
gazetteer is asked through ``Lookup`` (``Geocoder.suggest`` of one town).

"pothole outside 12 Oak St" → 12 Oak St; "the corner of Oak and 3rd" → Oak St & 3rd Ave;
"hay un bache en la calle Oak y la 3rd" → Oak St & 3rd Ave; "big hole by the library" →
Maple Falls Public Library. What is never guessed:

- a house: its number must have been typed ("13 Oak St" is not 12 Oak St, "Oak St" is
  none of its houses);
- a corner: two streets must have been joined ("Oak and 3rd", "Oak & 3rd", "Oak at 3rd",
  "Oak y 3rd"; "Oak St" alone is not one of its corners);
- any place: every word read as the place is a word of its label, and the label adds at
  most street-type words ("12 Oak" → "12 Oak St"), except a landmark, which may be named
  by some of its words when they say what it is ("the library"; "water" is not the Water
  Tower), no other place suggested has them all, and they are not a street's name
  ("Maple" of "Maple Street"); a direction the resident left out ("Main St" for N Main
  St) only when no other place fits;
- when two places fit the words equally, neither is taken.

The gazetteer is asked about runs of words that could be a place: those from a typed
house number, those around a word that joins two streets, then every other run (for
landmarks), longest first. A word the gazetteer does not know at all ("pothole",
"dangerous") ends a run, and an answer is asked once, so a long text costs about one
lookup per distinct word; ``MAX_LOOKUPS`` bounds it whatever the text.

When nothing is found, ``looked_like_place`` keeps the words that looked like a place
("99 Nowhere Rd", "Maple Street"), for a person to locate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from chalicelib.domain.gazetteer import ADDRESS, INTERSECTION, LANDMARK, GazetteerEntry, normalise

# The town's gazetteer: its best entries for some words (at most ``limit``), best first.
Lookup = Callable[[str, int], Sequence[GazetteerEntry]]

MAX_WORDS = 600  # a 3,000-character e-mail has about 500
MAX_SPAN_WORDS = 6  # "Maple Falls Elementary School", "calle Oak y avenida 3rd"
MAX_LOOKUPS = 200
SUGGESTIONS = 3  # entries asked for each run: enough to see that two places fit it

# Whole words a label may have beyond what the resident wrote ("Oak and 3rd" is "Oak St
# & 3rd Ave"); anything else (a house number, a direction) makes it another place.
STREET_WORDS = frozenset({
    "street", "avenue", "road", "drive", "lane", "boulevard", "court", "place", "way",
    "parkway", "highway", "circle", "terrace", "trail", "square", "crescent", "calle",
    "avenida"})
DIRECTIONS = frozenset({"north", "south", "east", "west", "northeast", "northwest",
                        "southeast", "southwest"})
# Spanish street words, written before the name ("calle Oak", "avenida 3rd"), and the
# label words each stands for: a town's gazetteer may be written in English or Spanish.
SPANISH_STREET_WORDS = {
    "calle": STREET_WORDS, "avenida": frozenset({"avenida", "avenue"}),
    "avda": frozenset({"avenida", "avenue"}), "bulevar": frozenset({"bulevar", "boulevard"}),
    "carretera": frozenset({"carretera", "highway", "road"}),
    "camino": frozenset({"camino", "road", "way"}),
}
# Spanish words that, like "the" and "of" (which ``normalise`` drops), say nothing about
# which place: "la calle Oak y la 3rd", "Calle de la Paz".
SPANISH_ARTICLES = frozenset({"el", "la", "los", "las", "de", "del"})
# Words that join two streets into a corner ("Oak & 3rd", "Oak y 3rd"); the gazetteer's
# ``normalise`` reads the English ones the same way.
CONNECTORS = frozenset({"&", "@", "/", "+", "and", "at", "y"})

_CLAUSE_BREAK = re.compile(r"[\n;!?]+")
_JOINING_MARKS = re.compile(r"\s*([&@/+])\s*")
_EDGE_PUNCTUATION = " \t.,:;\"'()[]{}<>«»“”‘’¡¿*_"
_HOUSE_NUMBER = re.compile(r"\d{1,6}[a-z]?", re.I)
_ORDINAL_ENDINGS = ("st", "nd", "rd", "th")

# What a word is to the reader.
_NAME, _CONNECTOR, _BLANK, _SPANISH_STREET = "name", "connector", "blank", "spanish_street"


@dataclass(frozen=True)
class PlaceWords:
    """What a text says about its place: the words read as the place (None: none looked
    like one), and the gazetteer entry they name (None: the town's map does not know it,
    or the words fit no one place)."""

    words: str | None
    entry: GazetteerEntry | None


@dataclass(frozen=True)
class _Word:
    text: str  # as written, without the punctuation around it
    kind: str
    clause: int  # a run of words never crosses a line or a sentence's ! ? ;

    @property
    def query(self) -> str:
        """How the word is put to the gazetteer: a connector as "&", a Spanish street word
        left out (the label may say it in English; ``_names`` checks it)."""
        if self.kind == _CONNECTOR:
            return "&"
        return self.text if self.kind == _NAME else ""


def _kind(text: str) -> str:
    plain = normalise(text).tokens
    lowered = text.casefold()
    if lowered in CONNECTORS:
        return _CONNECTOR
    if not plain or lowered in SPANISH_ARTICLES:
        return _BLANK  # "the", "of", "la", a dash
    if len(plain) == 1 and plain[0] in SPANISH_STREET_WORDS:
        return _SPANISH_STREET
    return _NAME


def _words(text: str) -> list[_Word]:
    words: list[_Word] = []
    for clause, part in enumerate(_CLAUSE_BREAK.split(text or "")):
        for raw in _JOINING_MARKS.sub(r" \1 ", part).split():
            word = raw.strip(_EDGE_PUNCTUATION)
            if word:
                words.append(_Word(word, _kind(word), clause))
            if len(words) >= MAX_WORDS:
                return words
    return words


# --- whether words name an entry -------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    """A run of words as matching sees them."""

    tokens: tuple[str, ...]
    joins_streets: bool


def _matched(token: str, label: Sequence[str], used: set[int]) -> int | None:
    """The label word a written word is, if any: itself, what a Spanish street word stands
    for, or the ordinal of a typed number ("3" for "3rd")."""
    stands_for = SPANISH_STREET_WORDS.get(token, frozenset())
    for k, word in enumerate(label):
        if k in used:
            continue
        if word == token or word in stands_for or (
                token.isdigit() and word.endswith(_ORDINAL_ENDINGS) and word[:-2] == token):
            return k
    return None


def _extra(written: _Written, entry: GazetteerEntry) -> frozenset[str] | None:
    """The label's words the resident did not write, or None when they wrote a word the
    label does not have."""
    label = normalise(entry.label).tokens
    used: set[int] = set()
    for token in written.tokens:
        k = _matched(token, label, used)
        if k is None:
            return None
        used.add(k)
    return frozenset(word for k, word in enumerate(label)
                     if k not in used and word not in SPANISH_ARTICLES)


def _house_number(entry: GazetteerEntry) -> str | None:
    """The entry's house number as matching sees it (a county file may leave the column
    empty: then the label's first word, if it is one)."""
    if entry.number:
        return "".join(normalise(entry.number).tokens) or None
    first = normalise(entry.label).tokens[:1]
    return first[0] if first and _HOUSE_NUMBER.fullmatch(first[0]) else None


def _names(written: _Written, entry: GazetteerEntry, extra: frozenset[str]) -> bool:
    """Whether words that are all in ``entry``'s label (``extra`` the label's others) name
    it by the rules of its kind."""
    if entry.kind == ADDRESS:
        number = _house_number(entry)
        return extra <= STREET_WORDS and number is not None and number in written.tokens
    if entry.kind == INTERSECTION:
        return written.joins_streets and extra <= STREET_WORDS
    return entry.kind == LANDMARK and any(
        t.isalpha() and len(t) >= 4 and t not in STREET_WORDS for t in written.tokens) and (
        extra <= STREET_WORDS or _head(entry) in written.tokens)


def _head(entry: GazetteerEntry) -> str | None:
    """What a landmark is, the last word of its name that says it ("library" of Maple
    Falls Public Library, "station" of Fire Station No. 1): "the library" names it,
    "water" does not name the Water Tower."""
    return next((t for t in reversed(normalise(entry.label).tokens)
                 if t.isalpha() and len(t) >= 3 and t not in STREET_WORDS), None)


def _pick(written: _Written, entries: Sequence[GazetteerEntry], in_a_street: bool
          ) -> GazetteerEntry | None:
    """The one entry the words name: the only one named exactly (the label adds nothing,
    or only street-type words), else a landmark named by some of its words that no other
    suggested place has all of, unless the words around make them a street's name
    (``in_a_street``: "Maple" of "on Maple Street" is not Maple Falls Public Library).
    Two places fitting equally: neither."""
    fits = [(entry, extra) for entry in entries
            if (extra := _extra(written, entry)) is not None]
    named = [(entry, extra) for entry, extra in fits if _names(written, entry, extra)]
    whole = [entry for entry, extra in named if not extra]
    if len(whole) == 1:
        return whole[0]
    close = [entry for entry, extra in named if extra <= STREET_WORDS]
    if len(close) == 1:
        return close[0]
    if not close and len(named) == 1 and len(fits) == 1 and not in_a_street:
        return named[0][0]
    if not named and len(fits) == 1:
        # "12 Main St" when the town has only 12 N Main St: the direction is not a guess
        # between two places (with a 12 S Main St too, it would be, and neither is taken).
        entry, extra = fits[0]
        if entry.kind != LANDMARK and _names(written, entry, extra - DIRECTIONS):
            return entry
    return None


# --- reading a text ---------------------------------------------------------------------------


class _Reader:
    """One text's words and what the gazetteer said about them (each question asked once,
    at most ``max_lookups`` in all)."""

    def __init__(self, text: str, lookup: Lookup, max_lookups: int) -> None:
        self.words = _words(text)
        self._lookup = lookup
        self._left = max_lookups
        self._answers: dict[str, Sequence[GazetteerEntry]] = {}

    def ask(self, query: str) -> Sequence[GazetteerEntry] | None:
        """The gazetteer's entries for ``query``; None when the budget is spent."""
        key = " ".join(query.casefold().split())
        if key in self._answers:
            return self._answers[key]
        if self._left <= 0:
            return None
        self._left -= 1
        answer = self._answers[key] = tuple(self._lookup(query, SUGGESTIONS))
        return answer

    def spans(self) -> Iterator[tuple[int, int]]:
        """Runs of words (start, end) in the order they are tried: from a typed house
        number (and, in Spanish, from a street word to the number after the name: "calle
        Ocho 12"); around a word joining two streets; then every other run. Longest first
        at each place."""
        words = self.words
        n = len(words)

        def clause_of(start: int, end: int) -> bool:
            return 0 <= start < end <= n and words[start].clause == words[end - 1].clause

        for i, word in enumerate(words):
            if word.kind == _NAME and _HOUSE_NUMBER.fullmatch(word.text):
                for end in range(i + MAX_SPAN_WORDS, i + 1, -1):
                    if clause_of(i, end):
                        yield i, end
                for start in range(i - MAX_SPAN_WORDS + 1, i - 1):
                    if clause_of(start, i + 1) and words[start].kind == _SPANISH_STREET:
                        yield start, i + 1
        for j, word in enumerate(words):
            if word.kind == _CONNECTOR:
                for length in range(MAX_SPAN_WORDS, 2, -1):
                    for start in range(j - length + 2, j):
                        if clause_of(start, start + length):
                            yield start, start + length
        for start in range(n):
            for end in range(start + MAX_SPAN_WORDS, start, -1):
                if clause_of(start, end):
                    yield start, end

    def known(self, word: _Word) -> bool | None:
        """Whether some place of the town has a word starting so (None: budget spent)."""
        if word.kind != _NAME:
            return True
        answer = self.ask(word.text)
        return None if answer is None else bool(answer)

    def first_named(self) -> PlaceWords | None:
        tried: set[tuple[int, int]] = set()
        for start, end in self.spans():
            if (start, end) in tried:
                continue
            tried.add((start, end))
            run = self.words[start:end]
            if run[0].kind in (_CONNECTOR, _BLANK) or run[-1].kind in (_CONNECTOR, _BLANK):
                continue  # the same place as the run without them, tried on its own
            if len(run) == 1 and not (len(run[0].text) >= 4 and run[0].text.isalpha()):
                continue  # "no", "12", "Oak": too little to name a place alone
            for word in run:
                known = self.known(word)
                if known is None:
                    return None
                if not known:
                    break
            else:
                found = self._named(start, end)
                if found is not None:
                    return found
        return None

    def _in_a_street(self, start: int, end: int) -> bool:
        """Whether the words before and after the run make it part of a street's name or
        an address: "12 Maple", "Maple Street", "calle Maple"."""
        before = self.words[start - 1] if start > 0 else None
        after = self.words[end] if end < len(self.words) else None
        return bool(
            (before is not None and (before.kind == _SPANISH_STREET
                                     or _HOUSE_NUMBER.fullmatch(before.text)))
            or (after is not None and after.kind == _NAME
                and set(normalise(after.text).tokens) & STREET_WORDS))

    def _named(self, start: int, end: int) -> PlaceWords | None:
        run = self.words[start:end]
        query = " ".join(w.query for w in run if w.query)
        if not normalise(query).tokens:
            return None
        entries = self.ask(query)
        if not entries:
            return None
        written = _Written(
            tuple(t for w in run if w.kind in (_NAME, _SPANISH_STREET)
                  for t in normalise(w.text).tokens),
            any(w.kind == _CONNECTOR for w in run[1:-1]))
        entry = _pick(written, entries, self._in_a_street(start, end))
        return PlaceWords(" ".join(w.text for w in run), entry) if entry else None


def find_place(text: str, lookup: Lookup, max_lookups: int = MAX_LOOKUPS) -> PlaceWords:
    """The place ``text`` names in the town's gazetteer (``lookup``), by the rules above;
    else the words that looked like a place, without an entry (``looked_like_place``)."""
    found = _Reader(text, lookup, max_lookups).first_named()
    return found or PlaceWords(looked_like_place(text), None)


# --- words that look like a place ------------------------------------------------------------

_STREET_TYPES = (r"st|street|ave|avenue|av|rd|road|dr|drive|ln|lane|blvd|boulevard|ct|court|"
                 r"pl|place|way|pkwy|parkway|hwy|highway|cir|circle|ter|terrace|trl|trail|"
                 r"sq|square|calle|avenida")
_NAME_WORD = r"(?:[A-Z0-9][\w'.-]*)"
_STREET = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}?\s+(?:{_STREET_TYPES})\b\.?"
_ADDRESS = re.compile(rf"\b(\d{{1,6}}[A-Za-z]?\s+{_STREET})", re.I)
_CORNER = re.compile(
    rf"\b({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?(?:\s+(?:{_STREET_TYPES})\b\.?)?\s*"
    rf"(?:&|/|@|\band\b|\bat\b|\by\b)\s*{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?"
    rf"(?:\s+(?:{_STREET_TYPES})\b\.?)?)", re.I)
_CORNER_OF = re.compile(r"\b(?:corner\s+of|esquina\s+(?:de\s+)?)([^.,;\n]{3,60})", re.I)
_STREET_WORD = re.compile(rf"\b(?:{_STREET_TYPES})\b\.?", re.I)
_BARE_STREET = re.compile(rf"\b({_STREET})", re.I)


def _tidy(phrase: str) -> str | None:
    phrase = " ".join(phrase.split()).strip(" .,;:")
    return phrase if 3 <= len(phrase) <= 80 else None


def _endings(phrase: str, corner: bool) -> Iterator[str]:
    """A match's shorter endings, shortest first: "the light on Maple Street" may start
    with words that are not the place's."""
    words = phrase.split()
    for n in range(len(words) - 1, -1, -1):
        rest = words[n:]
        if rest[0].casefold().strip(".") in CONNECTORS or _STREET_WORD.fullmatch(rest[0]):
            continue
        if corner and not any(w.casefold() in CONNECTORS for w in rest[1:]):
            continue
        if len(rest) >= 2 and rest[-1].casefold() not in SPANISH_STREET_WORDS:
            yield " ".join(rest)  # "en calle" is not a street: a Spanish name follows


def looked_like_place(text: str) -> str | None:
    """The words of ``text`` that look most like a place, though no gazetteer entry is
    known by them: a house address ("99 Nowhere Rd"), else a corner ("the corner of Oak
    and 3rd", "Oak St & 3rd Ave"), else a street ("on Maple Street"); None when nothing
    looks like one."""
    for match in _ADDRESS.finditer(text):
        if tidy := _tidy(match.group(1)):
            return tidy
    for match in _CORNER_OF.finditer(text):
        if tidy := _tidy(match.group(1)):
            return tidy
    for match in _CORNER.finditer(text):
        phrase = match.group(1)
        if _STREET_WORD.search(phrase) or re.search(r"\d", phrase):
            for ending in _endings(phrase, corner=True):
                if tidy := _tidy(ending):
                    return tidy
    for match in _BARE_STREET.finditer(text):
        for ending in _endings(match.group(1), corner=False):
            if tidy := _tidy(ending):
                return tidy
    return None
