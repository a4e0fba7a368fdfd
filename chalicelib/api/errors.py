"""The one table from domain errors to HTTP, and Open311's error bodies.

Open311 errors are always an array of ``{code, description}`` (XML: ``<errors>``), one per
problem, so a client can fix everything at once. Nothing here reads message text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.api.formats import render
from chalicelib.domain import errors as domain

log = logging.getLogger(__name__)

# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[domain.Town311Error], int], ...] = (
    (domain.InvalidInput, 400),
    (domain.Unauthenticated, 401),
    (domain.Throttled, 429),
    (domain.NotFound, 404),
    (domain.AccessDenied, 403),
    (domain.TownSuspended, 403),
    (domain.Conflict, 409),
    (domain.RetryLater, 409),
    (domain.StorageUnavailable, 503),
)


def status_of(error: domain.Town311Error) -> int:
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def open311_error_response(error: domain.Town311Error, fmt: str) -> Response:
    status = status_of(error)
    descriptions = [f"{p.field}: {p.message}" for p in error.problems] or [error.message]
    return render([{"code": status, "description": d} for d in descriptions], fmt, "errors",
                  status=status, headers=_headers(error, status))


def _headers(error: domain.Town311Error, status: int) -> dict[str, str]:
    headers = {}
    if isinstance(error, (domain.RetryLater, domain.Throttled)):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif isinstance(error, domain.StorageUnavailable):
        headers["Retry-After"] = "5"
    elif isinstance(error, domain.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="town311"'
    if status >= 500:
        log.error("call failed: %s", error.message, exc_info=error)
    return headers


# Stable, machine-readable names for the plain JSON APIs (staff, admin, platform).
_CODES = {400: "invalid_input", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          409: "conflict", 429: "throttled", 503: "unavailable"}


def json_error_response(error: domain.Town311Error) -> Response:
    """``{"error": {"code", "message", "problems": [{field, message}]}}`` for JSON APIs."""
    status = status_of(error)
    body = {"error": {"code": _CODES.get(status, "error"), "message": error.message,
                      "problems": [{"field": p.field, "message": p.message}
                                   for p in error.problems]}}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             **_headers(error, status)})


def open311_failure(status: int, description: str, fmt: str) -> Response:
    return render([{"code": status, "description": description}], fmt, "errors", status=status)


def is_open311_path(path: str) -> bool:
    return path.startswith("/open311/") or (path.startswith("/towns/") and "/open311/" in path)


def _without_stage(path: str, event: Any) -> str:
    stage = event.context.get("stage")
    prefix = f"/{stage}/"
    return path[len(prefix) - 1:] if stage and path.startswith(prefix) else path


def _format_of(path: str) -> str:
    return "xml" if path.rstrip("/").endswith(".xml") else "json"


def open311_error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers some calls itself (415, 405, an unhandled exception's 500) with its
    own JSON shape; on the Open311 API those become Open311 error arrays too."""
    response = get_response(event)
    # ``event.path`` is the route template (``.../{resource}``); the format suffix is in
    # the path the client actually asked for.
    path = str(event.context.get("path") or getattr(event, "path", "") or "")
    if response.status_code < 400 or not is_open311_path(_without_stage(path, event)):
        return response
    body = response.body
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if not (isinstance(body, dict) and "Code" in body):
        return response
    status = response.status_code
    if status == 415:
        # A POST with a body type we do not read is bad input, not a missing resource.
        return open311_failure(400, "send application/x-www-form-urlencoded or "
                                    "multipart/form-data", _format_of(path))
    if status >= 500:
        return open311_failure(500, "the server failed; please retry", _format_of(path))
    return open311_failure(status, str(body.get("Message", "request refused")),
                           _format_of(path))
