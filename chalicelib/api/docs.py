"""The API's OpenAPI 3.1 document (every route; ``tests/contract`` holds the app to it),
served as written in ``openapi.json``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from chalice import Blueprint, Response

blueprint = Blueprint(__name__)
DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


@lru_cache(maxsize=1)
def _document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@blueprint.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return Response(body=_document(), status_code=200,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Cache-Control": "public, max-age=300"})
