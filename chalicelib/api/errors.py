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
    headers = {}
    if isinstance(error, domain.RetryLater):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif isinstance(error, domain.StorageUnavailable):
        headers["Retry-After"] = "5"
    if status >= 500:
        log.error("open311 call failed: %s", error.message, exc_info=error)
    return render([{"code": status, "description": d} for d in descriptions], fmt, "errors",
                  status=status, headers=headers)


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
