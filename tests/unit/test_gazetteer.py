"""The gazetteer's domain: what typed text means, which places a query suggests and in what
order, the nearest place to a point, and a town admin's CSV read row by row."""

from __future__ import annotations

import math

import pytest

from chalicelib.domain.gazetteer import (
    ADDRESS,
    INTERSECTION,
    LANDMARK,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    NEAREST_MAX_M,
    GazetteerEntry,
    GazetteerIndex,
    Tally,
    UploadRefused,
    normalise,
    packed,
    parse_upload,
    unpacked,
)
from chalicelib.domain.geo import distance_m
from chalicelib.services.demo_gazetteer import DEMO_CENTRE, demo_entries

HERE = (44.9778, -93.2650)
METRE_LAT = 1 / 111_195
METRE_LONG = 1 / (111_195 * math.cos(math.radians(HERE[0])))


def _at(north_m: float, east_m: float) -> tuple[float, float]:
    return HERE[0] + north_m * METRE_LAT, HERE[1] + east_m * METRE_LONG


def _address(label: str, north_m: float = 0, east_m: float = 0) -> GazetteerEntry:
    return GazetteerEntry(ADDRESS, label, *_at(north_m, east_m))


SMALL_TOWN = [
    _address("12 Oak Street", 0, 0),
    _address("120 Oak Street", 0, 100),
    _address("12 Elm Street", 200, 0),
    _address("1200 Oakland Avenue", 400, 0),
    GazetteerEntry(INTERSECTION, "Oak St & 3rd Ave", *_at(0, 300)),
    GazetteerEntry(INTERSECTION, "Oak St & 4th Ave", *_at(0, 450)),
    GazetteerEntry(LANDMARK, "Maple Falls Public Library", *_at(-100, 50)),
    GazetteerEntry(LANDMARK, "St. Mary's Church", *_at(-200, 50)),
    GazetteerEntry(LANDMARK, "Café Peñasco", *_at(-300, 50)),
]


@pytest.fixture(scope="module")
def town() -> GazetteerIndex:
    return GazetteerIndex(SMALL_TOWN)


def _labels(entries: list[GazetteerEntry]) -> list[str]:
    return [e.label for e in entries]


# --- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "words"), [
    ("12 Oak St.", ("12", "oak", "street")),
    ("12  OAK   STREET", ("12", "oak", "street")),
    ("Oakland Ave", ("oakland", "avenue")),
    ("Third Avenue", ("3rd", "avenue")),
    ("St. Mary's", ("street", "marys")),  # the same on labels, so "St Mary" still meets it
    ("Café Peñasco", ("cafe", "penasco")),
    ("N. Main Blvd", ("north", "main", "boulevard")),
    ("the Library of Congress", ("library", "congress")),
])
def test_typed_text_is_normalised_the_same_way_as_labels(typed: str, words: tuple) -> None:
    assert normalise(typed).tokens == words


@pytest.mark.parametrize("typed", ["Oak & 3rd", "oak and 3rd", "Oak at 3rd", "Oak@3rd",
                                   "Oak / 3rd"])
def test_and_at_ampersand_and_slash_join_two_streets(typed: str) -> None:
    words = normalise(typed)
    assert words.tokens == ("oak", "3rd")
    assert words.joins_streets


def test_plain_text_joins_no_streets() -> None:
    assert not normalise("12 Oak Street").joins_streets


# --- suggestions ----------------------------------------------------------------------------


def test_a_house_number_and_a_street_find_that_address_first(town: GazetteerIndex) -> None:
    found = _labels(town.suggest("12 oak", 5))
    assert found[0] == "12 Oak Street"
    # A number that only starts the typed one, and a street that only starts with it, come
    # after the exact ones; an address on another street never comes.
    assert set(found) == {"12 Oak Street", "120 Oak Street", "1200 Oakland Avenue"}
    assert "12 Elm Street" not in found


@pytest.mark.parametrize("typed", ["oak and 3rd", "3rd & Oak", "Oak St at Third Ave",
                                   "oak / 3"])
def test_two_streets_find_their_intersection(town: GazetteerIndex, typed: str) -> None:
    assert _labels(town.suggest(typed, 3))[0] == "Oak St & 3rd Ave"


def test_joining_two_streets_puts_intersections_before_addresses(town: GazetteerIndex) -> None:
    found = town.suggest("oak &", 10)
    assert [e.kind for e in found[:2]] == [INTERSECTION, INTERSECTION]


def test_the_start_of_a_word_finds_a_landmark_but_a_typo_need_not(town: GazetteerIndex) -> None:
    assert _labels(town.suggest("lib", 5)) == ["Maple Falls Public Library"]
    assert _labels(town.suggest("public lib", 5)) == ["Maple Falls Public Library"]
    assert town.suggest("libary", 5) == []  # no fuzzy matching: the page says keep typing


def test_st_is_saint_or_street_on_both_sides(town: GazetteerIndex) -> None:
    assert _labels(town.suggest("st mary", 5)) == ["St. Mary's Church"]
    # "st" still being typed may be the start of a word too.
    assert "12 Oak Street" in _labels(town.suggest("oak st", 5))


def test_accents_need_not_be_typed(town: GazetteerIndex) -> None:
    assert _labels(town.suggest("cafe penasco", 5)) == ["Café Peñasco"]


def test_fewer_words_not_typed_come_first(town: GazetteerIndex) -> None:
    found = _labels(town.suggest("oak street", 5))
    assert found[:2] == ["12 Oak Street", "120 Oak Street"]


def test_every_typed_word_must_match(town: GazetteerIndex) -> None:
    assert town.suggest("oak pizza", 5) == []
    assert town.suggest("&&& ...", 5) == []
    assert town.suggest("oak", 0) == []


def test_the_limit_is_kept(town: GazetteerIndex) -> None:
    assert len(town.suggest("oak", 2)) == 2


# --- 20,000 entries: what a keystroke costs --------------------------------------------------

STREET_NAMES = [f"{name} {suffix}" for name in (
    "Oak", "Maple", "Elm", "Pine", "Cedar", "Birch", "Walnut", "Cherry", "Willow", "Spruce",
    "Aspen", "Hickory", "Chestnut", "Poplar", "Sycamore", "Magnolia", "Juniper", "Laurel",
    "Hawthorn", "Linden", "Alder", "Beech", "Cypress", "Dogwood", "Hemlock")
    for suffix in ("Street", "Avenue", "Road", "Lane")]


def big_town(count: int = 20_000) -> list[GazetteerEntry]:
    """``count`` addresses on 100 streets (200 each), plus nothing else."""
    per_street = count // len(STREET_NAMES)
    entries = []
    for s, street in enumerate(STREET_NAMES):
        for k in range(per_street):
            number = str(2 * k + 1 + 100 * (s % 3))
            lat, long = _at(s * 40.0, k * 12.0)
            entries.append(GazetteerEntry(ADDRESS, f"{number} {street}", round(lat, 6),
                                          round(long, 6), street=street, number=number))
    return entries


@pytest.fixture(scope="module")
def big() -> GazetteerIndex:
    return GazetteerIndex(big_town())


def test_a_suggestion_among_20000_looks_at_a_few_hundred_entries(big: GazetteerIndex) -> None:
    assert len(big) == 20_000
    tally = Tally()
    found = big.suggest("121 hickory ave", 5, tally)
    assert _labels(found)[0] == "121 Hickory Avenue"
    # Only the entries of the rarest typed word are looked at (here "121": a handful).
    assert 0 < tally.examined <= 200


def test_a_street_name_alone_looks_at_that_street_only(big: GazetteerIndex) -> None:
    tally = Tally()
    found = big.suggest("magnolia la", 8, tally)
    assert len(found) == 8 and all("Magnolia Lane" in e.label for e in found)
    assert tally.examined <= 4 * 200  # Magnolia's four streets, never all 20,000


def test_a_nearest_lookup_among_20000_looks_at_nearby_cells_only(big: GazetteerIndex) -> None:
    tally = Tally()
    lat, long = _at(40 * 10 + 3, 12 * 50 + 2)
    found = big.nearest(lat, long, tally=tally)
    assert found is not None and found.entry.label == f"{2 * 50 + 1 + 100 * (10 % 3)} " \
                                                      f"{STREET_NAMES[10]}"
    # The cells a 250 m circle reaches (houses here stand 12 m apart, streets 40 m: far
    # denser than a real town), a tenth of the town at most.
    assert tally.examined < len(big) // 10


# --- nearest --------------------------------------------------------------------------------


def test_the_nearest_place_is_the_closest_within_250_m(town: GazetteerIndex) -> None:
    found = town.nearest(*_at(5, 95))
    assert found is not None and found.entry.label == "120 Oak Street"
    assert found.distance_m == pytest.approx(distance_m(*_at(5, 95), *_at(0, 100)))


def test_no_place_near_here_beyond_the_limit(town: GazetteerIndex) -> None:
    assert town.nearest(*_at(-300 - NEAREST_MAX_M - 20, 50)) is None
    assert town.nearest(*_at(-300 - NEAREST_MAX_M + 20, 50)) is not None


def test_an_empty_gazetteer_has_nothing_near_and_suggests_nothing() -> None:
    empty = GazetteerIndex([])
    assert empty.nearest(*HERE) is None
    assert empty.suggest("oak", 5) == []


def test_the_stored_form_reads_back_the_same_entries() -> None:
    entries = [*SMALL_TOWN, GazetteerEntry(ADDRESS, "5 Main St", 1.5, 2.5, street="Main St",
                                           number="5", zone="ward-1")]
    assert unpacked(packed(entries)) == entries


# --- the demo town --------------------------------------------------------------------------


def test_the_demo_town_is_the_same_every_time_and_looks_like_a_town() -> None:
    entries = demo_entries()
    assert entries == demo_entries()
    counts = GazetteerIndex.counts_of(entries)
    assert 300 <= len(entries) <= 2_000
    assert counts[INTERSECTION] >= 30 and 12 <= counts[LANDMARK] <= 20
    assert len({e.label for e in entries}) == len(entries)  # no place twice
    assert all(distance_m(*DEMO_CENTRE, e.lat, e.long) < 2_000 for e in entries)
    index = GazetteerIndex(entries)
    assert _labels(index.suggest("oak and 3rd", 1)) == ["Oak St & 3rd Ave"]
    assert _labels(index.suggest("lib", 1)) == ["Maple Falls Public Library"]
    assert _labels(index.suggest("town hall", 1)) == ["Town Hall"]
    assert _labels(index.suggest("101 maple", 1)) == ["101 Maple St"]
    assert index.nearest(*DEMO_CENTRE) is not None


def test_the_demo_town_survives_its_own_csv_upload() -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "label", "lat", "long", "street", "number"])
    for e in demo_entries():
        writer.writerow([e.kind, e.label, e.lat, e.long, e.street or "", e.number or ""])
    upload = parse_upload(out.getvalue().encode())
    assert upload.refused == []
    assert upload.kept == demo_entries()


# --- a town admin's CSV ---------------------------------------------------------------------


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_the_gazetteer_layout_is_read_with_its_optional_columns() -> None:
    upload = parse_upload(_csv(
        "Kind,Label,Latitude,Longitude,Zone",
        "address,12 Oak Street,44.9778,-93.2650,ward-1",
        "intersection,Oak St & 3rd Ave,44.9779,-93.2640,",
        "LANDMARK,Town Hall,44.9780,-93.2630,ward-2"))
    assert upload.layout == "gazetteer" and upload.refused == []
    assert [(e.kind, e.label, e.zone) for e in upload.kept] == [
        (ADDRESS, "12 Oak Street", "ward-1"), (INTERSECTION, "Oak St & 3rd Ave", None),
        (LANDMARK, "Town Hall", "ward-2")]


def test_a_county_address_layout_is_read_as_addresses() -> None:
    upload = parse_upload(_csv(
        "\ufeffADD_NUMBER,ST_NAME,ST_TYPE,UNIT,Y,X,OBJECTID",
        "12,OAK,ST,,44.9778,-93.2650,1",
        "14,Oak,Street,B,44.9778,-93.2652,2"))
    assert upload.layout == "address points" and upload.refused == []
    assert [(e.label, e.number, e.street) for e in upload.kept] == [
        ("12 Oak St", "12", "Oak St"), ("14 Oak Street #B", "14", "Oak Street")]


def test_bad_rows_are_refused_with_their_line_and_reason() -> None:
    upload = parse_upload(_csv(
        "kind,label,lat,long",
        "address,12 Oak Street,44.9778,-93.2650",
        "shop,Corner Store,44.9778,-93.2650",
        "address,,44.9778,-93.2650",
        "address,14 Oak Street,north,-93.2650",
        "address,16 Oak Street,95,-93.2650",
        "address,18 Oak Street,nan,-93.2650",
        "address,20 Oak Street,0,0",
        "address,12 oak st,44.9778,-93.2650",
        "address,22 Oak Street,44.9778,93.2650",  # the minus sign lost
        "",
        "address,\"24 Oak\x07Street\",44.9778,-93.2650",
        "address,26 Oak Street,44.9779,-93.2651"))
    reasons = {r.line: r.reason for r in upload.refused}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert "kind must be one of" in reasons[3]
    assert "label is empty" in reasons[4]
    assert "lat is not a number" in reasons[5]
    assert "between -90 and 90" in reasons[6] and "between -90 and 90" in reasons[7]
    assert "0, 0" in reasons[8]
    assert reasons[9] == "repeats line 2"
    assert "outside the town's area" in reasons[10]
    assert "control characters" in reasons[12]
    assert _labels(upload.kept) == ["12 Oak Street", "26 Oak Street"]


def test_the_towns_zones_bound_its_area() -> None:
    ward = (-93.27, 44.97, -93.26, 44.98)  # min_long, min_lat, max_long, max_lat
    upload = parse_upload(_csv(
        "kind,label,lat,long",
        "address,1 In Ward,44.975,-93.265",
        "address,2 Just Outside,44.9850,-93.265",  # 560 m north: within the 2 km margin
        "address,3 Far Away,45.10,-93.265"), zone_boxes=[ward])
    assert _labels(upload.kept) == ["1 In Ward", "2 Just Outside"]
    assert [r.line for r in upload.refused] == [4]


@pytest.mark.parametrize(("data", "says"), [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
    (b"kind,label,lat,long\n\xff\xfe garbage", "not UTF-8"),
    (_csv("name,address,city"), "lat and long"),
    (_csv("lat,long,colour"), "one of"),
    (b'kind,label,lat,long\naddress,"unterminated,1,2\n', "not readable as CSV"),
])
def test_a_file_that_is_not_a_gazetteer_is_refused_whole(data: bytes, says: str) -> None:
    with pytest.raises(UploadRefused, match=says):
        parse_upload(data)


def test_too_big_or_too_many_rows_is_refused_before_reading_on() -> None:
    with pytest.raises(UploadRefused, match="larger than"):
        parse_upload(b"kind,label,lat,long\n" + b"x" * MAX_UPLOAD_BYTES)
    rows = "".join(f"address,{n} Oak Street,44.97,-93.26\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(UploadRefused, match="more than 25,000 rows"):
        parse_upload(("kind,label,lat,long\n" + rows).encode())


def test_html_in_a_label_is_kept_as_text() -> None:
    upload = parse_upload(_csv('kind,label,lat,long',
                               'landmark,"<script>alert(1)</script> Park",44.97,-93.26'))
    assert _labels(upload.kept) == ["<script>alert(1)</script> Park"]
