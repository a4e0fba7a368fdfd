"""The town's gazetteer: the addresses, intersections and landmarks a resident can type
instead of pointing at a map, and the nearest of them to where a phone says it is.

Three things live here, all plain Python:

- ``GazetteerEntry``: one place as the town names it (``label``), with its point;
- ``normalise``: what typed text means for matching (case, accents, punctuation,
  "St"/"Street", "3rd"/"Third", "&"/"and"/"at" between two streets), used the same way
  on the town's labels and on what a resident types, so the two meet;
- ``GazetteerIndex``: the town's entries held in memory for ``suggest`` (words matched by
  prefix through a sorted vocabulary, so a query touches only the entries of its most
  selective word) and ``nearest`` (entries bucketed by geohash-7 cell, chalicelib.domain.geo);
- ``parse_upload``: a town admin's CSV, row by row, into entries kept and rows refused
  with their line numbers and reasons.

Accepted CSV headers (case and spaces ignored; a UTF-8 byte order mark is fine):

- the gazetteer's own layout: ``kind,label,lat,long``, where kind is ``address``,
  ``intersection`` or ``landmark``, with optional ``street``, ``number`` and ``zone``;
- a county's address points: ``number,street,lat,long`` (optional ``unit``,
  ``street_type`` appended to the street, and ``zone``), each row an address labelled
  "<number> <street>" (an all-capitals street is written in title case);
- ``lat`` may be headed ``latitude`` or ``y``; ``long`` ``lon``, ``lng``, ``longitude`` or
  ``x``; ``number`` ``house_number``, ``addr_num``, ``add_number``, ``address_number`` or
  ``st_num``; ``street`` ``street_name``, ``st_name``, ``full_street`` or ``fullname``.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.geo import distance_m

ADDRESS, INTERSECTION, LANDMARK = "address", "intersection", "landmark"
KINDS = (ADDRESS, INTERSECTION, LANDMARK)

# Beyond this, "use my location" answers "no address near here" rather than a place a
# resident would not recognise as where they stand.
NEAREST_MAX_M = 250.0
MAX_LABEL = 120
MAX_FIELD = 80
# What one upload may hold: a town of 20,000 addresses with room to spare. The bytes bound
# the parse before a row is read (Lambda's request limit is 6 MB).
MAX_ROWS = 25_000
MAX_UPLOAD_BYTES = 5_000_000
# A report listing 25,000 refused rows helps nobody: the first ones, and the count.
MAX_REFUSALS_LISTED = 100
# Rows further than this from the town's area are refused: swapped lat/long, a (0, 0)
# from a failed county geocode, a neighbouring county's file.
AREA_MARGIN_M = 2_000.0
# With no zones drawn yet, the area is a circle this wide around the upload's middle
# (the median point, which a few bad rows cannot move).
UNZONED_RADIUS_M = 25_000.0


@dataclass(frozen=True)
class GazetteerEntry:
    """One place a resident may pick: ``label`` is exactly what they are shown."""

    kind: str  # ADDRESS, INTERSECTION or LANDMARK
    label: str
    lat: float
    long: float
    street: str | None = None
    number: str | None = None
    zone: str | None = None


@dataclass(frozen=True)
class GazetteerSummary:
    """One uploaded version of a town's gazetteer: when, by whom, how many of each kind."""

    version: str
    uploaded_at: datetime
    counts: dict[str, int]
    uploaded_by: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- what typed text means ------------------------------------------------------------------

# Street words as residents and county files abbreviate them (USPS Publication 28's common
# suffixes and directions); both sides of a match are written out in full.
ABBREVIATIONS = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "rd": "road",
    "dr": "drive", "ln": "lane", "blvd": "boulevard", "ct": "court", "pl": "place",
    "pkwy": "parkway", "hwy": "highway", "cir": "circle", "ter": "terrace", "trl": "trail",
    "sq": "square", "cres": "crescent", "hts": "heights", "mt": "mount", "ft": "fort",
    "n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast",
    "nw": "northwest", "se": "southeast", "sw": "southwest", "elem": "elementary",
    "sch": "school", "hs": "high",
}
ORDINALS = {
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
    "eleventh": "11th", "twelfth": "12th",
}
# Between two street names these say "the corner of": "Oak & 3rd", "oak and 3rd",
# "Oak at 3rd", "Oak @ 3rd", "Oak / 3rd".
CONNECTORS = frozenset({"&", "and", "at"})
STOP_WORDS = frozenset({"the", "of"})
_CONNECTOR_MARKS = re.compile(r"[&@/+]")
_APOSTROPHES = re.compile("['\u2019\u02bc`]")
_NOT_WORD = re.compile(r"[^0-9a-z&]+")
_NUMBER = re.compile(r"[0-9]+[a-z]?")


@dataclass(frozen=True)
class Words:
    """Text as matching sees it: its words, and whether it joined two streets."""

    tokens: tuple[str, ...]
    joins_streets: bool


def _plain(text: str) -> str:
    """Lower case without accents: "Peñasco" and "penasco" are one word to a matcher."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalise(text: str) -> Words:
    """The words of ``text`` as matching sees them (the same on labels and queries)."""
    plain = _APOSTROPHES.sub("", _plain(text))  # "Mary's" is "marys"
    plain = _CONNECTOR_MARKS.sub(" & ", plain)
    tokens: list[str] = []
    joins = False
    for word in _NOT_WORD.sub(" ", plain).split():
        if word in CONNECTORS:
            joins = True
            continue
        if word in STOP_WORDS:
            continue
        tokens.append(ORDINALS.get(word) or ABBREVIATIONS.get(word) or word)
    return Words(tuple(tokens), joins)


def _house_number(entry: GazetteerEntry, tokens: Sequence[str]) -> str | None:
    if entry.number:
        return _plain(entry.number).replace(" ", "")
    if entry.kind == ADDRESS and tokens and _NUMBER.fullmatch(tokens[0]):
        return tokens[0]
    return None


# --- the town's entries in memory ----------------------------------------------------------


@dataclass
class Tally:
    """What a search cost: entries looked at (tests count work, never time)."""

    examined: int = 0


@dataclass(frozen=True)
class Nearest:
    entry: GazetteerEntry
    distance_m: float


class GazetteerIndex:
    """A town's entries, searchable by typed words and by a point.

    Built once per container and cache period (chalicelib.services.gazetteer). Words: a
    sorted vocabulary of every label word with, for each, the entries using it, and the
    running total of those lists, so how many entries a prefix reaches is two bisections
    and a subtraction. A query walks the entries of its most selective word only and checks
    its other words on each. Points: entries by geohash-7 cell (about 150 m), and
    ``cells_around`` names the cells a 250 m circle can reach.
    """

    def __init__(self, entries: Iterable[GazetteerEntry]) -> None:
        from chalicelib.domain.geo import cell_of

        self.entries: tuple[GazetteerEntry, ...] = tuple(entries)
        self._words: list[Words] = [normalise(e.label) for e in self.entries]
        self._numbers = [_house_number(e, w.tokens) for e, w in zip(self.entries, self._words,
                                                                       strict=True)]
        postings: dict[str, list[int]] = {}
        for n, words in enumerate(self._words):
            for token in dict.fromkeys(words.tokens):
                postings.setdefault(token, []).append(n)
        self._vocabulary = sorted(postings)
        self._postings = [postings[t] for t in self._vocabulary]
        self._running = [0]
        for ids in self._postings:
            self._running.append(self._running[-1] + len(ids))
        self._cells: dict[str, list[int]] = {}
        for n, e in enumerate(self.entries):
            self._cells.setdefault(cell_of(e.lat, e.long), []).append(n)

    def __len__(self) -> int:
        return len(self.entries)

    def _span(self, prefix: str) -> tuple[int, int]:
        """The vocabulary positions of the words that start with ``prefix``."""
        lo = bisect.bisect_left(self._vocabulary, prefix)
        hi = bisect.bisect_left(self._vocabulary, prefix + "\U0010ffff", lo)
        return lo, hi

    def _reach(self, prefixes: Sequence[str]) -> int:
        total = 0
        for prefix in prefixes:
            lo, hi = self._span(prefix)
            total += self._running[hi] - self._running[lo]
        return total

    def suggest(self, text: str, limit: int = 8, tally: Tally | None = None
                ) -> list[GazetteerEntry]:
        """The entries ``text`` may mean, best first: every typed word starts a word of
        the label (the last one may still be half typed, so "st" is tried as typed too,
        not only as "street"); then whole words before prefixes, the typed house number
        before others, an intersection first when the text joined two streets, fewer
        words the resident did not type, and the shorter label."""
        query = normalise(text)
        if not query.tokens or limit < 1:
            return []
        raw_last = _NOT_WORD.sub("", _APOSTROPHES.sub("", _plain(text.split()[-1]))) \
            if text.split() else ""
        choices: list[tuple[str, ...]] = [(t,) for t in query.tokens]
        if raw_last and raw_last != query.tokens[-1] and raw_last not in CONNECTORS:
            choices[-1] = (query.tokens[-1], raw_last)
        # Walk the entries of the word that reaches the fewest.
        driver = min(range(len(choices)), key=lambda k: self._reach(choices[k]))
        seen: set[int] = set()
        ranked: list[tuple[tuple[int, int, int, int, int, str], int]] = []
        numbers = [t for t in query.tokens if t.isdigit()]
        for prefix in choices[driver]:
            lo, hi = self._span(prefix)
            for ids in self._postings[lo:hi]:
                for n in ids:
                    if n in seen:
                        continue
                    seen.add(n)
                    if tally is not None:
                        tally.examined += 1
                    score = self._score(n, choices, numbers, query.joins_streets)
                    if score is not None:
                        ranked.append((score, n))
        return [self.entries[n] for _, n in heapq.nsmallest(limit, ranked)]

    def _score(self, n: int, choices: Sequence[tuple[str, ...]], numbers: Sequence[str],
               joins_streets: bool) -> tuple[int, int, int, int, int, str] | None:
        tokens = self._words[n].tokens
        exact = 0
        used: set[int] = set()
        for alternatives in choices:
            found = None
            for k, token in enumerate(tokens):
                if k in used:
                    continue
                if token in alternatives:
                    found, exact = k, exact + 1
                    break
                if found is None and token.startswith(alternatives):
                    found = k
            if found is None:
                return None
            used.add(found)
        entry = self.entries[n]
        number = self._numbers[n]
        number_missed = 1 if numbers and number not in numbers else 0
        kind_missed = 0 if not joins_streets or entry.kind == INTERSECTION else 1
        extra = len(tokens) - len(used)
        return (-exact, number_missed, kind_missed, extra, len(entry.label), entry.label)

    def nearest(self, lat: float, long: float, max_m: float = NEAREST_MAX_M,
                tally: Tally | None = None) -> Nearest | None:
        """The entry closest to the point within ``max_m``, or None: there is no address
        near here (a field, or a point outside the town)."""
        from chalicelib.domain.geo import cells_around

        best: Nearest | None = None
        for cell in cells_around(lat, long, max_m):
            for n in self._cells.get(cell, ()):
                if tally is not None:
                    tally.examined += 1
                e = self.entries[n]
                d = distance_m(lat, long, e.lat, e.long)
                if d <= max_m and (best is None or d < best.distance_m
                                   or (d == best.distance_m and e.label < best.entry.label)):
                    best = Nearest(e, d)
        return best

    @staticmethod
    def counts_of(entries: Iterable[GazetteerEntry]) -> dict[str, int]:
        """Entries by kind (every kind named, zero or not)."""
        counts = dict.fromkeys(KINDS, 0)
        for e in entries:
            counts[e.kind] += 1
        return counts


# --- the town's area ------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """Where the town's places may be: a box of latitudes and longitudes."""

    min_lat: float
    min_long: float
    max_lat: float
    max_long: float

    def holds(self, lat: float, long: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_long <= long <= self.max_long

    @classmethod
    def around(cls, lat: float, long: float, radius_m: float) -> Area:
        dlat = math.degrees(radius_m / 6_371_008.8)
        dlong = dlat / max(0.01, math.cos(math.radians(lat)))
        return cls(lat - dlat, long - dlong, lat + dlat, long + dlong)

    def widened(self, margin_m: float) -> Area:
        dlat = math.degrees(margin_m / 6_371_008.8)
        middle = (self.min_lat + self.max_lat) / 2
        dlong = dlat / max(0.01, math.cos(math.radians(middle)))
        return Area(self.min_lat - dlat, self.min_long - dlong, self.max_lat + dlat,
                    self.max_long + dlong)


def area_of_zones(boxes: Sequence[tuple[float, float, float, float]]) -> Area | None:
    """The box around the town's zones (their ``bbox``: min_long, min_lat, max_long,
    max_lat), widened by ``AREA_MARGIN_M``; None when the town has drawn none."""
    if not boxes:
        return None
    return Area(min(b[1] for b in boxes), min(b[0] for b in boxes),
                max(b[3] for b in boxes), max(b[2] for b in boxes)).widened(AREA_MARGIN_M)


def _median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


# --- a town admin's CSV ---------------------------------------------------------------------

_HEADERS = {
    "kind": "kind", "type": "kind", "label": "label", "name": "label",
    "lat": "lat", "latitude": "lat", "y": "lat",
    "long": "long", "lon": "long", "lng": "long", "longitude": "long", "x": "long",
    "number": "number", "house_number": "number", "housenumber": "number",
    "addr_num": "number", "add_number": "number", "address_number": "number",
    "addressnumber": "number", "st_num": "number",
    "street": "street", "street_name": "street", "streetname": "street", "st_name": "street",
    "full_street": "street", "fullname": "street", "full_street_name": "street",
    "street_type": "street_type", "st_type": "street_type", "suffix": "street_type",
    "unit": "unit", "zone": "zone", "ward": "zone",
}
ACCEPTED_LAYOUTS = ("kind,label,lat,long (optional street, number, zone)",
                    "number,street,lat,long (optional street_type, unit, zone)")


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str


@dataclass
class Upload:
    """What a CSV gave: the entries to keep, and each refused row's line and reason."""

    kept: list[GazetteerEntry] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    layout: str = ""


class UploadRefused(ValueError):
    """The file as a whole cannot be read as a gazetteer; the message says why."""


def _columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        key = re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").casefold())
        canonical = _HEADERS.get(key)
        if canonical is not None and canonical not in columns:
            columns[canonical] = position
    return columns


def _layout(columns: dict[str, int]) -> str:
    if {"lat", "long"} - columns.keys():
        raise UploadRefused("the first line must name the columns, with lat and long; "
                            "accepted: " + "; ".join(ACCEPTED_LAYOUTS))
    if {"kind", "label"} <= columns.keys():
        return "gazetteer"
    if {"number", "street"} <= columns.keys():
        return "address points"
    raise UploadRefused("the columns must be one of: " + "; ".join(ACCEPTED_LAYOUTS))


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row; csv.Error names the line it stopped at."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise UploadRefused(f"line {reader.line_num}: not readable as CSV ({e})") from None
        yield reader.line_num, cells


def _text(value: str, what: str, limit: int) -> str:
    from chalicelib.domain.text import TextRefused, clean

    try:
        cleaned = clean(value, limit)
    except TextRefused as e:
        raise ValueError(f"{what} {e}") from None
    return cleaned


def _coordinate(value: str, what: str, bound: float) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"{what} is not a number") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise ValueError(f"{what} must be between -{bound:g} and {bound:g}")
    return round(number, 6)  # about 10 cm: all a resident's pick needs


def _street_words(street: str) -> str:
    """County files often shout (OAK ST): residents are shown Oak St."""
    return street.title() if street.isupper() else street


def _entry(layout: str, columns: dict[str, int], cells: list[str]) -> GazetteerEntry:
    def cell(name: str) -> str:
        position = columns.get(name)
        return cells[position].strip() if position is not None and position < len(cells) \
            else ""

    lat = _coordinate(cell("lat"), "lat", 90)
    long = _coordinate(cell("long"), "long", 180)
    if lat == 0 and long == 0:
        raise ValueError("lat and long are 0, 0: a place that was never located")
    zone = _text(cell("zone"), "zone", MAX_FIELD) or None
    if layout == "gazetteer":
        kind = cell("kind").casefold()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        label = _text(cell("label"), "label", MAX_LABEL)
        street = _text(cell("street"), "street", MAX_FIELD) or None
        number = _text(cell("number"), "number", 20) or None
    else:
        kind = ADDRESS
        number = _text(cell("number"), "number", 20)
        street = _street_words(" ".join(
            p for p in (_text(cell("street"), "street", MAX_FIELD),
                        _text(cell("street_type"), "street_type", 20)) if p))
        if not number or not street:
            raise ValueError("an address needs a number and a street")
        unit = _text(cell("unit"), "unit", 20)
        label = f"{number} {street}" + (f" #{unit}" if unit else "")
        if len(label) > MAX_LABEL:
            raise ValueError(f"the address is longer than {MAX_LABEL} characters")
    if not label:
        raise ValueError("label is empty")
    if not normalise(label).tokens:
        raise ValueError("label has no letters or digits to search by")
    return GazetteerEntry(kind, label, lat, long, street=street, number=number, zone=zone)


def parse_upload(data: bytes, zone_boxes: Sequence[tuple[float, float, float, float]] = ()
                 ) -> Upload:
    """A town admin's CSV (``data``, UTF-8) as entries kept and rows refused.

    The file as a whole is refused (``UploadRefused``) when it is too big, is not UTF-8
    text, has no header naming an accepted layout, or is not CSV. Each row on its own is
    refused, with its line number, when a value is missing or unusable, the point lies
    outside the town's area (its zones' box widened by 2 km; with no zones, 25 km around the
    middle of the upload), or it repeats an earlier row's place."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB")
    if b"\x00" in data:
        raise UploadRefused("the file is not text (it holds NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UploadRefused(f"the file is not UTF-8 text (byte {e.start})") from None
    rows = _rows(text)
    header = next(rows, None)
    if header is None:
        raise UploadRefused("the file is empty")
    columns = _columns(header[1])
    upload = Upload(layout=_layout(columns))
    located: list[tuple[int, GazetteerEntry]] = []
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    count = 0
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
        count += 1
        if count > MAX_ROWS:
            raise UploadRefused(f"the file has more than {MAX_ROWS:,} rows")
        try:
            entry = _entry(upload.layout, columns, cells)
        except ValueError as e:
            upload.refused.append(Refusal(line, str(e)))
            continue
        place = (entry.kind, normalise(entry.label).tokens)
        if place in seen:
            upload.refused.append(Refusal(line, f"repeats line {seen[place]}"))
            continue
        seen[place] = line
        located.append((line, entry))
    area = area_of_zones(zone_boxes)
    if area is None and located:
        area = Area.around(_median([e.lat for _, e in located]),
                           _median([e.long for _, e in located]), UNZONED_RADIUS_M)
    for line, entry in located:
        if area is not None and not area.holds(entry.lat, entry.long):
            upload.refused.append(Refusal(line, "the point is outside the town's area "
                                                "(a minus sign lost, or lat and long swapped?)"))
        else:
            upload.kept.append(entry)
    upload.refused.sort(key=lambda r: r.line)
    return upload


# --- the stored form ------------------------------------------------------------------------

_KIND_CODES = {ADDRESS: "a", INTERSECTION: "i", LANDMARK: "l"}
_CODE_KINDS = {v: k for k, v in _KIND_CODES.items()}


def packed(entries: Iterable[GazetteerEntry]) -> list[list[object]]:
    """Entries as compact JSON-able rows (the stored form: about 40 bytes an address)."""
    return [[_KIND_CODES[e.kind], e.label, e.lat, e.long, e.street or "", e.number or "",
             e.zone or ""] for e in entries]


def unpacked(rows: Iterable[Sequence[object]]) -> list[GazetteerEntry]:
    return [GazetteerEntry(_CODE_KINDS[str(r[0])], str(r[1]), float(r[2]),  # type: ignore[arg-type]
                           float(r[3]), street=str(r[4]) or None,  # type: ignore[arg-type]
                           number=str(r[5]) or None, zone=str(r[6]) or None)
            for r in rows]
