"""The staff search hands the store every filter of GET /staff/requests: overdue judged at
the moment of the search, a department worker held to their own departments; and the
entry form's idempotency key, which says when the form was drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied
from chalicelib.domain.queries import RequestPage, RequestQuery
from chalicelib.domain.towns import Town
from chalicelib.schemas.admin import StaffSearch
from chalicelib.services import staff
from tests.fakes import FakeTownDirectory

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
TOWN = Town("t.example", "T", "America/Chicago", "2026-01-01T00:00:00Z")
SUPERVISOR = Principal("s1", TOWN.town_id, roles=frozenset({Role.SUPERVISOR}))
WORKER = Principal("w1", TOWN.town_id, roles=frozenset({Role.DEPARTMENT_WORKER}),
                   departments=frozenset({"works"}))


class Recorder:
    """A store that keeps the query it was asked (what the service decided)."""

    def __init__(self) -> None:
        self.asked: list[RequestQuery] = []

    def find(self, town_id: str, query: RequestQuery) -> RequestPage:
        assert town_id == TOWN.town_id
        self.asked.append(query)
        return RequestPage()


def _search(who: Principal, **params: str) -> RequestQuery:
    towns = FakeTownDirectory()
    towns.towns[TOWN.town_id] = TOWN
    store = Recorder()
    staff.search(towns, store, who, StaffSearch.model_validate(params), NOW)  # type: ignore[arg-type]
    (query,) = store.asked
    return query


def test_the_new_filters_reach_the_store_with_the_moment_overdue_is_judged_at() -> None:
    q = _search(SUPERVISOR, channel="phone", overdue="true", disputed="false")
    assert (q.channels, q.overdue, q.as_of, q.disputed) == (("phone",), True, NOW, False)


def test_absent_filters_filter_nothing() -> None:
    q = _search(SUPERVISOR, channel="", overdue="", disputed="")
    assert (q.channels, q.overdue, q.disputed) == ((), None, None)
    assert q.end == NOW and q.start == NOW - timedelta(days=366)


def test_a_department_worker_searches_only_their_departments() -> None:
    assert _search(WORKER, disputed="true").departments == ("works",)
    with pytest.raises(AccessDenied):
        _search(WORKER, department="parks", overdue="true")


def test_an_entry_forms_key_says_when_it_was_drawn() -> None:
    from chalicelib.services.staff_entry import drawn_at, new_entry_key

    at = datetime(2026, 11, 20, 15, 30, 5, 900_000, tzinfo=UTC)
    key = new_entry_key(at)
    assert drawn_at(key) == at and key != new_entry_key(at)
    for foreign in ("", "abc", "-x", "12345", "9" * 16 + "-x", "1e9-x"):
        assert drawn_at(foreign) is None, foreign
