"""Open data over HTTP: a town's requests as CSV or GeoJSON, page by page by updated time
(public), the year's whole file written in the background (public), and the town admin's
whole-town export as a background job.

Public answers may be kept by browsers and caches for a minute (the feed moves slowly and
every page costs DynamoDB reads); API Gateway's throttling and the web ACL's per-address
limit (infra/template.yaml) bound what one client can ask; a page is at most 500 requests.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import caller, json_view, query_as, respond

if TYPE_CHECKING:
    from chalicelib.domain.exports import ExportJob
    from chalicelib.services.open_data import FeedPage

blueprint = Blueprint(__name__)
BASE = "/towns/{town}/open-data"
FEED_CACHE = "public, max-age=60"
RETRY_SECONDS = "5"


def _next_link(town: str, suffix: str, page: FeedPage, page_size: int) -> str | None:
    if page.next_cursor is None:
        return None
    return f"/towns/{town}/open-data/requests.{suffix}?cursor={page.next_cursor}" \
           f"&page_size={page_size}"


def _feed(town: str) -> tuple[FeedPage, int]:
    from chalicelib.schemas.open_data import FeedQuery
    from chalicelib.services.open_data import feed_page

    query = query_as(blueprint, FeedQuery)
    page = feed_page(bootstrap.container().open_data_ports, town, query.updated_after,
                     query.position, query.page_size)
    return page, query.page_size


def _headers(content_type: str, link: str | None) -> dict[str, str | list[str]]:
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type, "Cache-Control": FEED_CACHE,
               "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
    if link:
        headers["Link"] = f'<{link}>; rel="next"'
    return headers


@blueprint.route(BASE + "/requests.csv", methods=["GET"])
@json_view
def requests_csv(town: str) -> Response:
    """The town's requests as CSV (header row first), oldest update first; the next page's
    address is in the Link header (rel="next") and X-Next-Cursor."""
    from chalicelib.domain.open_data import csv_rows

    page, size = _feed(town)
    headers = _headers("text/csv; charset=utf-8", _next_link(town, "csv", page, size))
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    return Response(body=csv_rows(page.records, header=True), status_code=200,
                    headers=headers)


@blueprint.route(BASE + "/requests.geojson", methods=["GET"])
@json_view
def requests_geojson(town: str) -> Response:
    """The town's requests as a GeoJSON FeatureCollection (RFC 7946), with the next page's
    cursor in ``next_cursor`` (null: nothing more yet)."""
    from chalicelib.domain.open_data import geojson_feature

    page, size = _feed(town)
    link = _next_link(town, "geojson", page, size)
    body = {"type": "FeatureCollection",
            "features": [geojson_feature(r) for r in page.records],
            "next_cursor": page.next_cursor, "next": link}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=200,
                    headers=_headers("application/geo+json; charset=utf-8", link))


def _job_response(job: ExportJob, link: str | None, location: str) -> Response:
    from chalicelib.schemas.open_data import job_document

    response = respond(job_document(job, link, location), 200 if job.done else 202)
    if not job.done:
        response.headers["Location"] = location
        response.headers["Retry-After"] = RETRY_SECONDS
    return response


@blueprint.route(BASE + "/years/{year}", methods=["GET"])
@json_view
def year_file(town: str, year: str) -> Response:
    """A year's open data as one CSV file: 202 with the job while it is written (ask
    again at Location), then 200 with a download link that works for five minutes."""
    from chalicelib.domain.errors import InvalidInput, Problem
    from chalicelib.services import open_data

    if not (year.isdigit() and len(year) == 4):
        raise InvalidInput.of([Problem("year", "must be a year such as 2026")])
    job, link = open_data.year_file(bootstrap.container().open_data_ports, town, int(year))
    return _job_response(job, link, f"/towns/{job.town_id}/open-data/years/{year}")


@blueprint.route("/admin/exports", methods=["POST"])
@json_view
def start_town_export() -> Response:
    """The caller's whole town (every stored item, JSON lines) as a background job: 202
    and the job's Location. (GET /admin/export still answers the file at once, for API
    clients of a small town.)"""
    from chalicelib.services import open_data

    job = open_data.request_town_export(bootstrap.container().open_data_ports,
                                        caller(blueprint))
    return _job_response(job, None, f"/admin/exports/{job.job_id}")


@blueprint.route("/admin/exports/{job}", methods=["GET"])
@json_view
def town_export(job: str) -> Response:
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.exports import WHOLE_TOWN
    from chalicelib.services import open_data

    who = caller(blueprint)
    if who.town_id is None:
        raise NotFound("no such export")
    found, link = open_data.job_with_link(bootstrap.container().open_data_ports, who.town_id,
                                          job, WHOLE_TOWN, who)
    return _job_response(found, link, f"/admin/exports/{found.job_id}")
