"""The GET requests window: 90 days at most, clamped; paging clamped; empty = absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.towns import Town
from chalicelib.schemas.open311 import RequestSearch
from chalicelib.services.lookup import request_query

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
TOWN = Town("t.example", "T", "America/Chicago", "2026-01-01T00:00:00Z")


def _query(**params):
    return request_query(RequestSearch.model_validate(params), TOWN, NOW)


def test_default_window_is_the_last_90_days():
    q = _query()
    assert (q.start, q.end, q.by_updated) == (NOW - timedelta(days=90), NOW, False)
    assert (q.page, q.page_size) == (1, 50)


def test_empty_parameters_mean_absent():
    assert _query(start_date="", end_date="", status="", page="", page_size="") == _query()


def test_a_wide_window_keeps_its_end_and_is_clamped():
    q = _query(start_date="2020-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")
    assert q.end == datetime(2026, 6, 1, tzinfo=UTC)
    assert q.start == q.end - timedelta(days=90)


def test_only_updated_bounds_put_the_window_on_updated_time():
    q = _query(updated_after="2026-11-01T00:00:00Z")
    assert q.by_updated and q.start == datetime(2026, 11, 1, tzinfo=UTC) and q.end == NOW


def test_local_times_are_read_in_the_towns_zone():
    q = _query(start_date="2026-11-19T08:00:00", end_date="2026-11-19T09:00:00")
    assert q.start == datetime(2026, 11, 19, 14, tzinfo=UTC)


@pytest.mark.parametrize(("size", "expected"), [("0", 1), ("-5", 1), ("501", 500), ("7", 7)])
def test_page_size_is_clamped(size, expected):
    assert _query(page_size=size).page_size == expected


def test_an_inverted_window_is_refused():
    with pytest.raises(InvalidInput):
        _query(start_date="2026-11-10T00:00:00Z", end_date="2026-11-01T00:00:00Z")
