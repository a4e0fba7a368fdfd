"""The town's front page: what's the problem, track a request, alerts in force, recent
reports; and the track-by-number form's landing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import (
    PageRequest,
    find_town,
    page_view,
    redirect,
    render,
    translations,
)

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town

blueprint = Blueprint(__name__)
page = page_view(blueprint)


@blueprint.route("/", methods=["GET"])
@page
def front_door(req: PageRequest) -> Response:
    """The town's own address (``311.maplefalls.gov``, mapped by the platform operator):
    its home page. Any other host has no town at ``/``: a plain 404 page."""
    from chalicelib.services import directory

    c = bootstrap.container()
    place = req.for_town(directory.town_at_address(c.towns, req.headers.get("host", "")))
    return _home(req, place)


@blueprint.route("/towns/{town}", methods=["GET"])
@page
def home(req: PageRequest, town: str) -> Response:
    return _home(req, find_town(req, town))


def _home(req: PageRequest, place: Town) -> Response:
    from chalicelib.services import resident_site

    c = bootstrap.container()
    search = req.query.get("q", "")[:200]
    translate = translations(req.language).gettext
    shown = resident_site.home_page(c.towns, c.requests, c.alert_store, place, c.now(),
                                    search, translate, _point(req.query),
                                    c.knowledge_ports, req.language)
    return render(req, "home.html", home=shown, search=search)


def _point(query: dict[str, str]) -> tuple[float, float] | None:
    """``?lat=&long=`` (the "near me" button, or a link), when it is a place on Earth."""
    try:
        lat, long = float(query.get("lat", "")), float(query.get("long", ""))
    except ValueError:
        return None
    return (lat, long) if -90 <= lat <= 90 and -180 <= long <= 180 else None


@blueprint.route("/towns/{town}/track", methods=["GET"])
@page
def track_form(req: PageRequest, town: str) -> Response:
    """The home page's "track a request" form: on to the request's own page. Numbers are
    typed forgivingly (spaces, lower case); the track page finds or says it cannot."""
    place = find_town(req, town)
    number = "".join(ch for ch in req.query.get("number", "") if ch.isalnum() or ch == "-")
    if not number:
        return redirect(req, f"/towns/{place.town_id}", missing_number=1)
    return redirect(req, f"/towns/{place.town_id}/track/{number.upper()[:40]}")
