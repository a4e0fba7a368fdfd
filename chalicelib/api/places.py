"""The town's gazetteer over HTTP: suggestions as a resident types an address, the nearest
place to their phone's location (both public), and the town admin's CSV upload.

The web pages' address box and "use my location" call the two public routes from the
browser; without JavaScript the report page asks the same service itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import caller, json_view, query_as

if TYPE_CHECKING:
    from chalicelib.services.gazetteer import UploadReport

blueprint = Blueprint(__name__)
BASE = "/towns/{town}/places"
# Suggestions change only when the town uploads: a browser may keep them a minute, as
# long as a container keeps its copy.
SUGGESTION_CACHE = "public, max-age=60"


# Labels are the town's text, which may hold anything: in these answers "<", ">" and "&"
# are written as JSON escapes too, so the JSON stays inert wherever a page puts it (even
# inside a <script> element), and no browser sniffs it as HTML.
_INERT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _places_response(document: object, cache: str = "no-store") -> Response:
    body = json.dumps(document, ensure_ascii=False).translate(_INERT)
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


@blueprint.route(BASE, methods=["GET"])
@json_view
def suggest_places(town: str) -> Response:
    from chalicelib.schemas.places import PlacesQuery, place_document
    from chalicelib.services import gazetteer

    query = query_as(blueprint, PlacesQuery)
    c = bootstrap.container()
    found = gazetteer.suggest(c.geocoder, c.towns, town, query.q, query.limit)
    return _places_response({"places": [place_document(e) for e in found]}, SUGGESTION_CACHE)


@blueprint.route(BASE + "/nearest", methods=["GET"])
@json_view
def nearest_place(town: str) -> Response:
    from chalicelib.schemas.places import NearestQuery, nearest_document
    from chalicelib.services import gazetteer

    point = query_as(blueprint, NearestQuery)
    c = bootstrap.container()
    found = gazetteer.nearest(c.geocoder, c.towns, town, point.lat, point.long)
    return _places_response(nearest_document(found))


def _report_document(report: UploadReport) -> dict[str, Any]:
    from chalicelib.schemas.places import summary_document

    return {"kept": report.kept, "layout": report.layout,
            "refused": [{"line": line, "reason": reason} for line, reason in report.refused],
            "refused_count": report.refused_count,
            "refused_listed": len(report.refused),
            "gazetteer": summary_document(report.summary)}


@blueprint.route("/admin/gazetteer", methods=["PUT"], content_types=["text/csv", "text/plain"])
@json_view
def replace_gazetteer() -> Response:
    """The town's gazetteer becomes the CSV sent (see chalicelib.domain.gazetteer for the
    accepted columns); the answer lists the rows refused and why."""
    from chalicelib.services import gazetteer

    who = caller(blueprint)
    raw = blueprint.current_request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    report = gazetteer.upload(bootstrap.container().gazetteer_ports, who, data)
    return _places_response(_report_document(report))


@blueprint.route("/admin/gazetteer", methods=["GET"])
@json_view
def read_gazetteer() -> Response:
    from chalicelib.schemas.places import summary_document
    from chalicelib.services import gazetteer

    summary = gazetteer.read_summary(bootstrap.container().gazetteer_ports, caller(blueprint))
    return _places_response(summary_document(summary))
