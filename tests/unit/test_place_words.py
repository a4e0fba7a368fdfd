"""The place a resident's words name (chalicelib.domain.place_words), the one reading that
text messages and e-mails share, against a gazetteer of plain data; each lookup counted
(never timed)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from chalicelib.domain.gazetteer import GazetteerEntry, GazetteerIndex
from chalicelib.domain.place_words import (
    MAX_LOOKUPS,
    PlaceWords,
    find_place,
    looked_like_place,
)

MAPLE_FALLS = GazetteerIndex([
    GazetteerEntry("address", "12 Oak St", 44.98, -93.26, "Oak St", "12"),
    GazetteerEntry("address", "14 Oak St", 44.98, -93.26, "Oak St", "14"),
    GazetteerEntry("address", "101 Oak St", 44.98, -93.26, "Oak St", "101"),
    GazetteerEntry("address", "112 Oak St", 44.98, -93.26, "Oak St", "112"),
    GazetteerEntry("address", "204 Elm St", 44.97, -93.26, "Elm St", "204"),
    GazetteerEntry("intersection", "Oak St & 3rd Ave", 44.981, -93.265),
    GazetteerEntry("intersection", "Elm St & 3rd Ave", 44.979, -93.265),
    GazetteerEntry("landmark", "Maple Falls Public Library", 44.977, -93.266),
    GazetteerEntry("landmark", "Maple Falls Elementary School", 44.976, -93.262),
    GazetteerEntry("landmark", "Maple Falls High School", 44.975, -93.268),
    GazetteerEntry("landmark", "Water Tower", 44.983, -93.261),
    GazetteerEntry("landmark", "Fire Station No. 1", 44.982, -93.263),
])


class Gazetteer:
    """``Lookup`` over an index, counting what it was asked."""

    def __init__(self, index: GazetteerIndex = MAPLE_FALLS) -> None:
        self.index = index
        self.asked: list[str] = []

    def __call__(self, text: str, limit: int) -> Sequence[GazetteerEntry]:
        self.asked.append(text)
        return self.index.suggest(text, limit)


def label(text: str, gazetteer: Gazetteer | None = None) -> str | None:
    found = find_place(text, gazetteer or Gazetteer())
    return found.entry.label if found.entry else None


# --- what both channels found before ----------------------------------------------------------


@pytest.mark.parametrize(("text", "place"), [
    ("pothole outside 12 Oak St", "12 Oak St"),  # a text message
    ("There is a big pothole outside 12 Oak St, please fix", "12 Oak St"),  # an e-mail
    ("hole outside 12 oak street", "12 Oak St"),
    ("no, 14 Oak St", "14 Oak St"),
    ("oak st and 3rd ave", "Oak St & 3rd Ave"),
    ("pothole at the corner of Oak and 3rd", "Oak St & 3rd Ave"),
    ("Hole on Oak St & 3rd Ave near the school", "Oak St & 3rd Ave"),
    ("Oak/3rd", "Oak St & 3rd Ave"),
    ("Elm St at 3rd Ave", "Elm St & 3rd Ave"),
    ("big hole by the library", "Maple Falls Public Library"),
    ("Hay un bache enorme en la calle, en 204 Elm St.", "204 Elm St"),
    ("Pothole on Oak Street\nThere is a deep pothole outside 112 Oak St, by the curb.",
     "112 Oak St"),
])
def test_addresses_corners_and_landmarks_are_found(text: str, place: str) -> None:
    assert label(text) == place


@pytest.mark.parametrize("text", [
    "pothole outside 13 Oak St",  # a house the map lacks is not its neighbour
    "pothole on Oak St",  # a street names none of its houses nor corners
    "hole outside 2 Oak St",  # nor does a number that only starts another's
    "99 Nowhere Rd",
    "the old mill",
    "The streetlight is out, it is very dark.",
    "Oak 3rd",  # two streets not joined are not a corner
])
def test_no_place_is_guessed(text: str) -> None:
    assert find_place(text, Gazetteer()).entry is None


def test_the_words_read_as_the_place_are_kept_with_the_entry() -> None:
    found = find_place("pothole at the corner of Oak and 3rd", Gazetteer())
    assert found == PlaceWords("Oak and 3rd", found.entry)
    assert (found.entry.lat, found.entry.long) == (44.981, -93.265)


@pytest.mark.parametrize(("text", "words"), [
    ("There is a big pothole outside 13 Oak St, please fix", "13 Oak St"),
    ("hole outside 99 nowhere road", "99 nowhere road"),
    ("pothole at the corner of Main and 9th", "Main and 9th"),
    ("Hole on Main St & 9th Ave near the school", "Main St & 9th Ave"),
    ("the streetlight on Maple Street is out", "Maple Street"),
    ("bache en calle", None),  # "calle" before its name, and no name follows
    ("it is broken and it is bad", None),
])
def test_words_that_looked_like_a_place_are_kept_without_an_entry(text, words) -> None:
    assert find_place(text, Gazetteer()) == PlaceWords(words, None)
    assert looked_like_place(text) == words


# --- what one channel handled and the other did not --------------------------------------------


def test_an_email_finds_a_landmark_as_a_text_did() -> None:
    # The e-mail's phrases looked only for streets; a text found landmarks by their words.
    assert label("The water at the Water Tower is leaking") == "Water Tower"
    assert label("Graffiti on the wall of the library, facing the car park.") == \
        "Maple Falls Public Library"


def test_a_house_number_without_the_street_type_names_the_house() -> None:
    # A text found "12 Oak"; the e-mail's phrases needed a street type after the name.
    assert label("pothole at 12 Oak, near the drain") == "12 Oak St"
    assert label("pothole at 12 Elm") is None  # 12 Elm St is not on the map


def test_spanish_corners_and_addresses_are_found() -> None:
    # "y" and "calle" were in the e-mail's phrases but the gazetteer never matched them;
    # a text never read them.
    assert label("hay un bache en la calle Oak y la 3rd") == "Oak St & 3rd Ave"
    assert label("esquina de Oak y avenida 3rd") == "Oak St & 3rd Ave"
    assert label("bache frente a calle Oak 12") == "12 Oak St"
    assert label("bache en 12 calle Oak") == "12 Oak St"
    assert label("bache en calle Oak 13") is None


def test_a_number_finds_its_ordinal_street_but_never_another_house() -> None:
    assert label("Oak and 3") == "Oak St & 3rd Ave"
    assert label("3 Oak St") is None


def test_words_that_fit_two_places_name_neither() -> None:
    # A text took the gazetteer's first suggestion; now neither of two is guessed.
    assert label("the school fence is broken") is None  # two schools
    twins = Gazetteer(GazetteerIndex([
        GazetteerEntry("address", "12 Oak St", 44.98, -93.26, "Oak St", "12"),
        GazetteerEntry("address", "12 Oak Ave", 44.99, -93.27, "Oak Ave", "12"),
    ]))
    assert label("pothole at 12 Oak", twins) is None
    assert label("pothole at 12 Oak Ave", twins) == "12 Oak Ave"


def test_a_direction_left_out_is_read_only_when_no_other_place_fits() -> None:
    north_only = Gazetteer(GazetteerIndex([
        GazetteerEntry("address", "12 N Main St", 44.98, -93.26, "N Main St", "12"),
        GazetteerEntry("intersection", "N Main St & 3rd Ave", 44.98, -93.26),
    ]))
    assert label("pothole outside 12 Main St", north_only) == "12 N Main St"
    assert label("Main and 3rd", north_only) == "N Main St & 3rd Ave"
    both = Gazetteer(GazetteerIndex([
        GazetteerEntry("address", "12 N Main St", 44.98, -93.26, "N Main St", "12"),
        GazetteerEntry("address", "12 S Main St", 44.97, -93.26, "S Main St", "12"),
    ]))
    assert label("pothole outside 12 Main St", both) is None
    assert label("pothole outside 12 S Main St", both) == "12 S Main St"


def test_a_streets_name_is_not_a_landmark_that_shares_it() -> None:
    # "Maple" of "Maple Street" once named the only landmark with the word.
    library_only = Gazetteer(GazetteerIndex([
        GazetteerEntry("landmark", "Maple Falls Public Library", 44.977, -93.266),
        GazetteerEntry("address", "12 Oak St", 44.98, -93.26, "Oak St", "12"),
    ]))
    assert label("the streetlight on Maple Street is out", library_only) is None
    assert label("pothole at 12 Maple", library_only) is None
    assert label("the streetlight by the Maple Falls library is out", library_only) == \
        "Maple Falls Public Library"


def test_a_landmark_is_named_by_what_it_is_not_by_any_of_its_words() -> None:
    assert label("there is no light here") is None  # "no" of Fire Station No. 1
    assert label("near Fire Station No. 1") == "Fire Station No. 1"
    assert label("a dead deer outside the fire station") == "Fire Station No. 1"
    # A text once took any landmark's word: "water" was the Water Tower.
    assert label("water is pouring out of a hydrant") is None
    assert label("the tower light is out") == "Water Tower"


def test_a_spanish_gazetteer_is_read_in_its_own_words() -> None:
    ciudad = Gazetteer(GazetteerIndex([
        GazetteerEntry("address", "12 Calle de la Paz", 19.43, -99.13, "Calle de la Paz",
                       "12"),
        GazetteerEntry("intersection", "Avenida Central & Calle 5", 19.44, -99.14),
    ]))
    assert label("hay un bache en la calle de la Paz 12", ciudad) == "12 Calle de la Paz"
    assert label("en la esquina de avenida Central y calle 5", ciudad) == \
        "Avenida Central & Calle 5"
    assert label("bache en la Paz", ciudad) is None


# --- what it costs ------------------------------------------------------------------------------


def test_a_long_text_costs_about_a_lookup_a_distinct_word() -> None:
    gazetteer = Gazetteer()
    mail = "It is very deep and dangerous and getting worse every day. " * 52 + \
        "It is outside 112 Oak St."
    assert len(mail) > 3000
    assert label(mail, gazetteer) == "112 Oak St"
    assert len(gazetteer.asked) <= 20
    assert len(set(gazetteer.asked)) == len(gazetteer.asked)  # each asked once


@pytest.mark.parametrize("text", [
    # Every word known to the gazetteer, in runs that name nothing: the worst case.
    ("Oak Elm Maple Falls Water Fire Tower Station High Public and 3rd " * 40)[:1600],
    " ".join(f"{n} Oak 3rd Elm & Maple" for n in range(300, 900))[:3000],
])
def test_no_text_makes_more_than_the_bounded_number_of_lookups(text: str) -> None:
    gazetteer = Gazetteer()
    find_place(text, gazetteer)
    assert 0 < len(gazetteer.asked) <= MAX_LOOKUPS
    fewer = Gazetteer()
    find_place(text, fewer, max_lookups=10)
    assert len(fewer.asked) == 10
