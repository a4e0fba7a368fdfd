"""Finding requests: one by id or token, or a town's list with Open311's filters."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.errors import InvalidInput, Problem, RequestNotFound
from chalicelib.domain.requests import ServiceRequest, hash_token
from chalicelib.domain.towns import Town
from chalicelib.schemas.open311_documents import as_town_time

if TYPE_CHECKING:
    from chalicelib.domain.queries import RequestQuery
    from chalicelib.schemas.open311 import RequestSearch
    from chalicelib.services.ports import RequestStore

WINDOW = timedelta(days=90)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 50, 500, 1000
_REQUEST_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{16,128}")  # new_token() makes 32 of these


def get_request(store: RequestStore, town: Town, request_id: str) -> ServiceRequest:
    """One request of this town; another town's id is simply not found."""
    found = None
    if _REQUEST_ID.fullmatch(request_id):
        found = store.get(town.town_id, request_id, with_timeline=False)
    if found is None:
        raise RequestNotFound(f"no service request {request_id[:64]!r} in {town.name}")
    return found


def resolve_token(store: RequestStore, town: Town, token: str) -> str:
    """The service_request_id a POST's token became. Only the token's hash is stored, so
    the lookup is by hash; tokens of requests stored before tokens were random (and
    derivable from the id) were never hashed and so are not found."""
    request_id = store.request_id_for_token_hash(town.town_id, hash_token(token)) \
        if _TOKEN.fullmatch(token) else None
    if request_id is None:
        raise RequestNotFound(f"no such token in {town.name}")
    return request_id


def search_requests(store: RequestStore, town: Town, search: RequestSearch,
                    now: datetime) -> list[ServiceRequest]:
    """Open311 ``GET requests``: an id list overrides everything else; otherwise a window
    of at most 90 days (a wider one is clamped, not refused), newest first, one page."""
    if search.service_request_id:
        return store.get_many(town.town_id, search.service_request_id)
    return store.find(town.town_id, request_query(search, town, now)).items


def request_query(search: RequestSearch, town: Town, now: datetime) -> RequestQuery:
    zone = town.zone

    def utc(value: datetime | None) -> datetime | None:
        return None if value is None else as_town_time(value, zone)

    requested_start, requested_end = utc(search.start_date), utc(search.end_date)
    updated_start, updated_end = utc(search.updated_after), utc(search.updated_before)
    for name, lo, hi in (("start_date", requested_start, requested_end),
                         ("updated_after", updated_start, updated_end)):
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput.of([Problem(name, "must not be after the end of the window")])
    # With only updated_* bounds the window is on updated time (a client syncing changes);
    # otherwise it is on requested time, and updated bounds filter it.
    by_updated = (updated_start or updated_end) is not None and \
        (requested_start or requested_end) is None
    lo, hi = (updated_start, updated_end) if by_updated else (requested_start, requested_end)
    end = hi or (min(lo + WINDOW, now) if lo is not None else now)
    if lo is not None and end < lo:
        end = lo
    start = max(lo or end - WINDOW, end - WINDOW)
    page = min(max(1 if search.page is None else search.page, 1), MAX_PAGE)
    size = DEFAULT_PAGE_SIZE if search.page_size is None else search.page_size
    page_size = min(max(size, 1), MAX_PAGE_SIZE)
    from chalicelib.domain.queries import RequestQuery  # searches only, not a GET of one

    return RequestQuery(
        start=start, end=end, by_updated=by_updated,
        statuses=tuple(dict.fromkeys(search.status or ())),
        service_codes=tuple(dict.fromkeys(search.service_code or ())),
        updated_start=None if by_updated else updated_start,
        updated_end=None if by_updated else updated_end,
        page=page, page_size=page_size,
    )
