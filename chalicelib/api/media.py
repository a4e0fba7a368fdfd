"""Photos on a request: stable URLs on our own host that redirect to a short-lived signed
S3 URL, so the bucket stays private and a photo can be withdrawn without a bucket policy."""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.services.photos import public_photo_url

blueprint = Blueprint(__name__)
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}(-thumb)?\.jpg$")


@blueprint.route("/photos/{town}/{request_id}/{name}", methods=["GET"])
def photo(town: str, request_id: str, name: str) -> Response:
    if not (_PART.match(town) and _PART.match(request_id) and _NAME.match(name)):
        return _not_found()
    c = bootstrap.container()
    url = public_photo_url(c.requests, c.photos, town, request_id, name)
    if url is None:
        return _not_found()
    return Response(body="", status_code=302,
                    headers={"Location": url, "Cache-Control": "private, max-age=300"})


def _not_found() -> Response:
    return Response(body='{"error": "no such photo"}',
                    status_code=404, headers={"Content-Type": "application/json"})
