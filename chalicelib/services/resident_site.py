"""What the town's own 311 page shows a resident, read through the same ports as the JSON
API (the pages never read a store themselves)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.queries import RequestQuery
from chalicelib.domain.service_search import grouped
from chalicelib.services import directory

if TYPE_CHECKING:
    from chalicelib.domain.alerts import Alert
    from chalicelib.domain.catalogue import Service
    from chalicelib.domain.knowledge import Ranked
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.knowledge import KnowledgePorts
    from chalicelib.services.ports.alerts import AlertStore
    from chalicelib.services.ports.requests import RequestStore
    from chalicelib.services.ports.towns import TownDirectory

RECENT_DAYS = 30
RECENT_SHOWN = 5
# "Near me": the month's requests within this distance of the resident's point, looked for
# among the newest NEAR_SCANNED of the month (one Query; a small town's month fits).
NEAR_METRES = 600
NEAR_SCANNED = 200


@dataclass(frozen=True)
class HomePage:
    """The town's front page: its services (grouped, or the matches of a search), its
    emergency alerts in force, and what neighbours reported lately."""

    town: Town
    groups: list[tuple[str, list[Service]]]
    matches: list[Service] | None  # None: nothing was searched
    alerts: list[Alert]
    recent: list[ServiceRequest]
    near: bool = False  # ``recent`` is what was reported near the resident
    # The town's answers that fit the search (chalicelib.services.knowledge), best first.
    answers: tuple[Ranked, ...] = ()


def active_alerts(store: AlertStore, town: Town, now: datetime) -> list[Alert]:
    """Alerts in force now (tests never)."""
    return [a for a in store.list(town.town_id) if a.active(now)]


def recent_requests(store: RequestStore, town: Town, now: datetime,
                    shown: int = RECENT_SHOWN) -> list[ServiceRequest]:
    """The newest requests of the last month (one Query page, newest first)."""
    query = RequestQuery(start=now - timedelta(days=RECENT_DAYS), end=now, page_size=shown)
    return store.find(town.town_id, query).items[:shown]


def recent_near(store: RequestStore, town: Town, now: datetime, lat: float, long: float,
                shown: int = RECENT_SHOWN) -> list[ServiceRequest]:
    """The month's requests reported within NEAR_METRES of a point, nearest first."""
    from chalicelib.domain.geo import distance_m

    query = RequestQuery(start=now - timedelta(days=RECENT_DAYS), end=now,
                         page_size=NEAR_SCANNED)
    placed = [(distance_m(lat, long, r.place.lat, r.place.long), r)
              for r in store.find(town.town_id, query).items
              if r.place.lat is not None and r.place.long is not None]
    return [r for d, r in sorted(placed, key=lambda p: p[0]) if d <= NEAR_METRES][:shown]


def home_page(towns: TownDirectory, requests: RequestStore, alerts: AlertStore, town: Town,
              now: datetime, search: str | None = None,
              translate: Callable[[str], str] | None = None,
              near: tuple[float, float] | None = None,
              knowledge: KnowledgePorts | None = None, language: str = "en") -> HomePage:
    """``translate``: the page language's catalogue text (pack services' names and
    descriptions), so that services are listed and found in the resident's words; with
    ``knowledge``, a search also finds the town's answers (in ``language``)."""
    services = directory.catalogue_of(towns, town).services
    if translate is not None:
        from chalicelib.services.web_reports import in_language

        services = tuple(in_language(s, translate) for s in services)
    matches = None
    answers: tuple[Ranked, ...] = ()
    if search and search.strip():
        from chalicelib.services.web_reports import matching_services

        matches = matching_services(services, search)
        if knowledge is not None:
            from chalicelib.services.knowledge import search as search_answers

            answers = tuple(search_answers(knowledge, town.town_id, search, language, 3))
    recent = recent_near(requests, town, now, *near) if near is not None \
        else recent_requests(requests, town, now)
    return HomePage(town, grouped(services), matches, active_alerts(alerts, town, now),
                    recent, near is not None, answers)


# --- the map and list of requests -----------------------------------------------------------

MAP_DAYS = 30
MAP_PAGE_SIZE = 25
MAP_MAX_PAGE = 40  # 1,000 requests deep: a resident looking further wants a filter instead
MAP_STATUSES = ("open", "closed")


@dataclass(frozen=True)
class MapItem:
    """A request as anyone may see it on the map and list: what, where, whether it is
    done, when, and its tracking number. Never who reported it or how to reach them."""

    service_code: str
    service_name: str
    address: str | None
    lat: float | None
    long: float | None
    status: str
    requested_at: datetime
    updated_at: datetime
    tracking_number: str | None


@dataclass(frozen=True)
class RequestsMap:
    """One page of the town's requests with activity in the last ``MAP_DAYS`` days,
    filtered by service and status; the filters as understood (a value the town does not
    have is dropped, so the form shows "all" again rather than an empty page)."""

    items: list[MapItem]
    services: list[Service]
    service: str | None
    status: str | None
    page: int
    has_more: bool


def public_item(request: ServiceRequest) -> MapItem:
    place = request.place
    return MapItem(service_code=request.service_code, service_name=request.service_name,
                   address=place.address, lat=place.lat, long=place.long,
                   status=request.status, requested_at=request.requested_at,
                   updated_at=request.updated_at, tracking_number=request.tracking_number)


def requests_map(towns: TownDirectory, store: RequestStore, town: Town, now: datetime, *,
                 service: str | None = None, status: str | None = None,
                 page: int = 1) -> RequestsMap:
    """Open and recently closed requests, newest activity first: one Query of the
    town's updated-time index over the last ``MAP_DAYS`` days (a closure updates a
    request, so what closed lately is there; an open request nobody touched for a month
    is not, which keeps the list about what is happening now)."""
    services = [s for s in directory.catalogue_of(towns, town).services if s.active]
    known = {s.code for s in services}
    chosen_service = service if service in known else None
    chosen_status = status if status in MAP_STATUSES else None
    page = min(max(page, 1), MAP_MAX_PAGE)
    query = RequestQuery(start=now - timedelta(days=MAP_DAYS), end=now, by_updated=True,
                         statuses=(chosen_status,) if chosen_status else (),
                         service_codes=(chosen_service,) if chosen_service else (),
                         page=page, page_size=MAP_PAGE_SIZE)
    found = store.find(town.town_id, query)
    return RequestsMap([public_item(r) for r in found.items], services, chosen_service,
                       chosen_status, page, found.has_more and page < MAP_MAX_PAGE)
