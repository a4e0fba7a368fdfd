"""The map and list of a town's requests: open and recently closed, filtered by service
and status with a plain GET form, page by page. The list is the page; the map (Leaflet,
``static/map.js``) is drawn over the same points when JavaScript runs, from a JSON data
block the page carries (data, not script: the Content-Security-Policy allows no inline
script)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import PageRequest, find_town, page_view, render, translations

if TYPE_CHECKING:
    from datetime import datetime
    from datetime import tzinfo as TimeZone

    from chalicelib.services.resident_site import MapItem

blueprint = Blueprint(__name__)
page = page_view(blueprint)


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 4 else 1


def local_day(at: datetime, zone: TimeZone, language: str) -> str:
    """A date as the resident reads it, in the town's time zone (shared by the alert
    pages; a helper of this area's, not of ``pages``)."""
    from babel.dates import format_date

    return format_date(at.astimezone(zone).date(), format="medium", locale=language)


def map_points(items: list[MapItem], status_words: dict[str, str],
               catalogue: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """The markers: only requests with a location, each with what its popup shows (the
    service's name through ``catalogue``, the page language's). The page writes this as
    inert JSON (Jinja's ``tojson`` escapes < > & and quotes)."""
    return [{"lat": i.lat, "long": i.long, "service": catalogue(i.service_name),
             "status": i.status, "status_text": status_words.get(i.status, i.status),
             "address": i.address or "", "number": i.tracking_number or ""}
            for i in items if i.lat is not None and i.long is not None]


@blueprint.route("/towns/{town}/requests", methods=["GET"])
@page
def requests_map(req: PageRequest, town: str) -> Response:
    from chalicelib.services import resident_site

    place = find_town(req, town)
    c = bootstrap.container()
    shown = resident_site.requests_map(
        c.towns, c.requests, place, c.now(), service=req.query.get("service") or None,
        status=req.query.get("status") or None,
        page=_page_number(req.query.get("page", "1")))
    status_words = {"open": req.gettext("open"), "closed": req.gettext("closed")}
    return render(req, "requests_map/list.html", shown=shown,
                  points=map_points(shown.items, status_words,
                                    translations(req.language).gettext),
                  day=lambda at: local_day(at, place.zone, req.language),
                  days=resident_site.MAP_DAYS)
