"""The three readers at the edge (JSON bodies, dates, published text), as properties: no
input makes them raise anything but their own refusal, and good input comes through."""

from __future__ import annotations

import json
import math
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.api.formats import render
from chalicelib.api.json_body import MAX_JSON_DEPTH, nesting_depth, parse_json
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.instants import EARLIEST, LATEST, DateRefused, parse_instant
from chalicelib.domain.text import TextRefused, clean, xml_safe

# --- JSON bodies ------------------------------------------------------------------------

JSON_BITS = st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b":", b",", b"1e999",
                             b"NaN", b"-Infinity", b'"\\ud800"', b'"\\u', b"null", b" ",
                             b"\xff", b"\xed\xa0\x80", b"9" * 50, b'"a"', b"true"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(JSON_BITS, max_size=200).map(b"".join)))
def test_no_byte_string_makes_the_json_reader_raise_anything_but_invalid_input(raw):
    try:
        parse_json(raw)
    except InvalidInput as e:
        assert e.problems and e.problems[0].field == "body"


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30))
SHALLOW = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), SHALLOW, max_size=6))
def test_valid_shallow_objects_come_through_unchanged(document):
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert parse_json(raw) == document
    assert parse_json(json.dumps(document).encode()) == document  # \u escapes too


@pytest.mark.parametrize("raw", [b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 50_000,
                                 b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)])
def test_deep_nesting_is_refused_before_decoding(raw):
    with pytest.raises(InvalidInput, match="deep"):
        parse_json(raw)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[[[[{{{{" * 100, "b": ['\\"[[[', "]]]"]})
    assert nesting_depth(text.encode()) == 2
    assert parse_json(text.encode())["a"].startswith("[[[[")


def test_exactly_the_limit_is_fine():
    raw = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert nesting_depth(raw) == MAX_JSON_DEPTH
    parse_json(raw)


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999}',
                                 b'{"a": "\\udc00"}', b'{"\\ud800": 1}', b"\xef\xbb\xbf{}",
                                 b'{"a": 1' + b"0" * 5000 + b"}", b"x" * (1024 * 1024 + 1)])
def test_what_no_store_or_response_could_carry_is_refused(raw):
    with pytest.raises(InvalidInput):
        parse_json(raw)


def test_paired_surrogate_escapes_are_one_character():
    assert parse_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


# --- dates ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=45),
                 st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(
                     lambda d: d.isoformat()),
                 st.builds(lambda y, rest: f"{y:04d}{rest}", st.integers(0, 9999),
                           st.sampled_from(["-12-31T23:59:59-23:59", "-01-01T00:00:00+23:59",
                                            "-01-01", "-06-15T12:00:00Z", "-02-30T00:00Z"]))),
       st.booleans())
def test_no_text_makes_the_date_reader_raise_anything_but_a_refusal(text, naive_allowed):
    try:
        at = parse_instant(text, naive_allowed=naive_allowed)
    except DateRefused:
        return
    if at.tzinfo is None:
        assert naive_allowed
        assert EARLIEST.replace(tzinfo=None) <= at < LATEST.replace(tzinfo=None)
    else:
        assert at.utcoffset() == timedelta(0) and EARLIEST <= at < LATEST
        # Whatever was accepted is safe for a year of window arithmetic either way.
        assert at + timedelta(days=400) and at - timedelta(days=400)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2098, 12, 31)),
       st.integers(-14 * 60, 14 * 60))
def test_times_in_range_with_an_offset_are_read_exactly(local, minutes):
    zone = timezone(timedelta(minutes=minutes))
    written = local.replace(tzinfo=zone)
    assert parse_instant(written.isoformat()) == written
    assert parse_instant(written.astimezone(UTC).isoformat().replace("+00:00", "Z")) == written


@pytest.mark.parametrize("text", ["2026-11-20T10:00:00", "2026-11-20"])
def test_a_time_without_an_offset_is_refused_unless_the_caller_knows_the_zone(text):
    with pytest.raises(DateRefused, match="offset"):
        parse_instant(text)
    assert parse_instant(text, naive_allowed=True).tzinfo is None


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                                  "2100-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                                  "9999-12-31T23:59:59"])
def test_years_outside_1970_to_2099_are_refused(text):
    with pytest.raises(DateRefused, match="1970 to 2099"):
        parse_instant(text, naive_allowed=True)


# --- published text ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.booleans())
def test_cleaned_text_is_clean_and_xml_can_carry_it(text, multiline):
    try:
        cleaned = clean(text, 100, multiline=multiline)
    except TextRefused:
        return
    assert cleaned == cleaned.strip() and unicodedata.is_normalized("NFC", cleaned)
    assert "\r" not in cleaned and xml_safe(cleaned) == cleaned
    if not multiline:
        assert "\n" not in cleaned and "\t" not in cleaned
    ElementTree.fromstring(render({"description": cleaned}, "xml", "request").body)
    assert clean(cleaned, 100, multiline=multiline) == cleaned  # cleaning twice is once


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x0b", "\x1b", "\x7f", "\x85", "\x9f",
                                 "\ud800", "\udfff", "\ufffe", "\uffff", "\ufdd0",
                                 "\U0001fffe", "\U0010ffff"])
def test_controls_surrogates_and_noncharacters_are_refused(bad):
    with pytest.raises(TextRefused):
        clean(f"a{bad}b", 100, multiline=True)


def test_line_breaks_are_normalised_and_the_text_trimmed_and_composed():
    assert clean("  Cafe\u0301\r\nsecond\rthird\t \n", 100, multiline=True) == \
        "Caf\u00e9\nsecond\nthird"
    with pytest.raises(TextRefused):
        clean("one\ntwo", 100)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_the_xml_writer_drops_what_xml_cannot_carry(text):
    root = ElementTree.fromstring(render({"description": text}, "xml", "request").body)
    kept = root.findtext("description") or ""
    # Only characters were dropped (XML also reads a lone \r as \n): nothing was added.
    assert len(kept) <= len(text)


def test_numbers_are_still_numbers_in_json():
    assert math.isfinite(parse_json(b'{"a": 1.5e300}')["a"])
