"""The resident site's open-data page: what the town publishes of its requests, in plain
words (what is removed, what is blurred), with links to the CSV and GeoJSON feed and to
each year's whole file, which is written in the background (its own page says how far it
has got, then links to it)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import PageRequest, find_town, page_view, render

blueprint = Blueprint(__name__)
page = page_view(blueprint)


@blueprint.route("/towns/{town}/open-data", methods=["GET"])
@page
def open_data_page(req: PageRequest, town: str) -> Response:
    from chalicelib.services import open_data

    find_town(req, town)
    shown = open_data.overview(bootstrap.container().open_data_ports, town)
    return render(req, "open_data/page.html", shown=shown)


@blueprint.route("/towns/{town}/open-data/files/{year}", methods=["GET"])
@page
def year_file_page(req: PageRequest, town: str, year: str) -> Response:
    """A year's file: made if nobody asked for it today, then linked once written."""
    from chalicelib.domain.errors import InvalidInput, Problem
    from chalicelib.services import open_data

    place = find_town(req, town)
    if not (year.isdigit() and len(year) == 4):
        raise InvalidInput.of([Problem("year", "must be a year such as 2026")])
    job, link = open_data.year_file(bootstrap.container().open_data_ports, place.town_id,
                                    int(year))
    return render(req, "open_data/year.html", job=job, link=link, year=int(year),
                  headers={"Cache-Control": "no-store"})
