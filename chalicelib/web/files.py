"""Static files under fingerprinted names, cached for a year (``web.assets``). Kept apart
from the pages so that a browser fetching a stylesheet loads no templates."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.domain.errors import NotFound

blueprint = Blueprint(__name__)


@blueprint.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    from chalicelib.web import assets

    try:
        found = assets.served(name)
    except NotFound:
        return Response(body="not found\n", status_code=404, headers={
            "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
    return Response(body=found.body.decode("utf-8"), status_code=200, headers={
        "Content-Type": found.content_type,
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff"})
