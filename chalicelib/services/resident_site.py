"""What the town's own 311 page shows a resident, read through the same ports as the JSON
API (the pages never read a store themselves)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.queries import RequestQuery
from chalicelib.domain.service_search import find_services, grouped
from chalicelib.services import directory

if TYPE_CHECKING:
    from chalicelib.domain.alerts import Alert
    from chalicelib.domain.catalogue import Service
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.ports.alerts import AlertStore
    from chalicelib.services.ports.requests import RequestStore
    from chalicelib.services.ports.towns import TownDirectory

RECENT_DAYS = 30
RECENT_SHOWN = 5


@dataclass(frozen=True)
class HomePage:
    """The town's front page: its services (grouped, or the matches of a search), its
    emergency alerts in force, and what neighbours reported lately."""

    town: Town
    groups: list[tuple[str, list[Service]]]
    matches: list[Service] | None  # None: nothing was searched
    alerts: list[Alert]
    recent: list[ServiceRequest]


def active_alerts(store: AlertStore, town: Town, now: datetime) -> list[Alert]:
    """Alerts in force now (tests never)."""
    return [a for a in store.list(town.town_id) if a.active(now)]


def recent_requests(store: RequestStore, town: Town, now: datetime,
                    shown: int = RECENT_SHOWN) -> list[ServiceRequest]:
    """The newest requests of the last month (one Query page, newest first)."""
    query = RequestQuery(start=now - timedelta(days=RECENT_DAYS), end=now, page_size=shown)
    return store.find(town.town_id, query).items[:shown]


def home_page(towns: TownDirectory, requests: RequestStore, alerts: AlertStore, town: Town,
              now: datetime, search: str | None = None,
              translate: Callable[[str], str] | None = None) -> HomePage:
    """``translate``: the page language's catalogue text (pack services' names and
    descriptions), so that services are listed and found in the resident's words."""
    services = directory.catalogue_of(towns, town).services
    if translate is not None:
        from chalicelib.services.web_reports import in_language

        services = tuple(in_language(s, translate) for s in services)
    matches = find_services(services, search) if search and search.strip() else None
    return HomePage(town, grouped(services), matches, active_alerts(alerts, town, now),
                    recent_requests(requests, town, now))
