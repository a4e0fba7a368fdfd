"""Photos on a request: stable URLs on our own host that redirect to a short-lived signed
S3 URL, so the bucket stays private and a photo can be withdrawn without a bucket policy."""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib import bootstrap

blueprint = Blueprint(__name__)
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}(-thumb)?\.jpg$")


@blueprint.route("/photos/{town}/{request_id}/{name}", methods=["GET"])
def photo(town: str, request_id: str, name: str) -> Response:
    if not (_PART.match(town) and _PART.match(request_id) and _NAME.match(name)):
        return _not_found()
    c = bootstrap.container()
    # A hidden or deleted photo is not served, though its object may still exist.
    request = c.requests.get(town, request_id, with_timeline=False)
    key = f"photos/{town}/{request_id}/{name}"
    if request is None or not any(key in (p.display_key, p.thumbnail_key)
                                  for p in request.public_photos):
        return _not_found()
    url = c.photos.signed_url(key)
    return Response(body="", status_code=302,
                    headers={"Location": url, "Cache-Control": "private, max-age=300"})


def _not_found() -> Response:
    return Response(body='{"error": "no such photo"}',
                    status_code=404, headers={"Content-Type": "application/json"})
