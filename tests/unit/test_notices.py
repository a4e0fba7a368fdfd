"""The words and the timing of residents' messages, and the tracking number, in pure
Python."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.followers import ALPHABET, new_tracking_number, tracking_key
from chalicelib.domain.notices import (
    NoticeSettings,
    Wording,
    check_templates,
    fill,
    language_for,
    quiet_until,
    wording,
)
from chalicelib.domain.phones import e164, e164_or_none

CHICAGO = "America/Chicago"


def test_quiet_hours_wrap_midnight_and_end_at_local_time():
    quiet = ("21:00", "08:00")
    # 22:30 local on 20 Nov → 08:00 local on 21 Nov (14:00 UTC)
    assert quiet_until(datetime(2026, 11, 21, 4, 30, tzinfo=UTC), CHICAGO, quiet) == \
        datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    # 02:30 local → 08:00 the same day
    assert quiet_until(datetime(2026, 11, 21, 8, 30, tzinfo=UTC), CHICAGO, quiet) == \
        datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    # 12:00 local: not quiet
    assert quiet_until(datetime(2026, 11, 21, 18, 0, tzinfo=UTC), CHICAGO, quiet) is None
    assert quiet_until(datetime(2026, 11, 21, 8, 30, tzinfo=UTC), CHICAGO, None) is None


def test_quiet_hours_across_the_daylight_saving_change():
    # The night clocks go back (1 Nov 2026): 23:00 CDT → 08:00 CST is ten hours later.
    until = quiet_until(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), CHICAGO, ("21:00", "08:00"))
    assert until == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                    timezones=st.just(UTC)))
def test_a_text_held_back_is_released_after_now_and_outside_quiet_hours(now):
    until = quiet_until(now, CHICAGO, ("21:00", "08:00"))
    if until is not None:
        assert until > now
        assert quiet_until(until, CHICAGO, ("21:00", "08:00")) is None


def test_language_is_the_persons_if_known_else_the_towns():
    assert language_for("es-MX", ("en",)) == "es"
    assert language_for("fr", ("en", "es")) == "en"
    assert language_for(None, ("es", "en")) == "es"
    assert language_for(None, ()) == "en"


def test_a_language_messages_cannot_be_written_in_is_never_chosen():
    # Babel's data ships for LANGUAGES only: a town offering Japanese writes in English.
    assert language_for("ja", ("ja", "es")) == "es"
    assert language_for(None, ("ja",)) == "en"
    assert language_for("fr", ("fr",)) == "fr"
    with pytest.raises(InvalidInput):
        check_templates({"ja": {"closed": {"subject": "s", "text": "t"}}})


def test_a_towns_own_words_replace_the_default_for_that_message_only():
    mine = NoticeSettings(templates={"es": {"closed": Wording("Cerrado", "Listo $note")}})
    assert wording(mine, "es", "closed").subject == "Cerrado"
    assert wording(mine, "es", "submitted").subject.startswith("$town")
    assert fill("Hola $town, $unknown", {"town": "Maple Falls"}) == "Hola Maple Falls, $unknown"


def test_templates_with_unknown_placeholders_or_messages_are_refused():
    with pytest.raises(InvalidInput) as refused:
        check_templates({"en": {"closed": {"subject": "$who", "text": "x"},
                                "party": {"subject": "x", "text": "y"}},
                         "english": {}})
    fields = {p.field for p in refused.value.problems}
    assert fields == {"templates.en.closed.subject", "templates.en.party", "templates.english"}


@given(st.integers(min_value=0, max_value=1000))
def test_tracking_numbers_read_back_however_they_are_typed(_):
    number = new_tracking_number()
    assert len(number) == 9 and number[4] == "-"
    assert all(ch in ALPHABET for ch in number.replace("-", ""))
    assert tracking_key(number.lower().replace("-", " ")) == number.replace("-", "")


def test_tracking_numbers_forgive_look_alike_letters():
    assert tracking_key("k7qd-3m2o") == "K7QD3M20"
    assert tracking_key("IL00-0000") == "11000000"
    assert tracking_key("K7QD-3M2U") is None  # U is never in a number
    assert tracking_key("short") is None


def test_every_way_of_writing_a_phone_is_one_e164_number():
    for typed in ("(415) 555-0123", "415.555.0123", "1 415 555 0123", "+1 (415) 555-0123",
                  "001 415 555 0123", "4155550123"):
        assert e164(typed, "US") == "+14155550123", typed
    assert e164("+44 20 7946 0958", "US") == "+442079460958"
    assert e164("020 7946 0958", "GB") == "+442079460958"
    assert e164_or_none("12") is None
    with pytest.raises(InvalidInput):
        e164("call me", "US")


def test_every_built_in_message_fills_every_placeholder():
    from chalicelib.domain.notices import DEFAULT_TEMPLATES, KINDS, PLACEHOLDERS

    values = {name: "X" for name in PLACEHOLDERS}
    for language, messages in DEFAULT_TEMPLATES.items():
        assert set(messages) == set(KINDS), language
        check_templates({language: {kind: {"subject": w.subject, "text": w.text}
                                    for kind, w in messages.items()}})
        for kind, w in messages.items():
            for part in (w.subject, w.text):
                assert "$" not in fill(part, values), (language, kind, part)
