"""Logging wired once: a powertools Logger, attached as Chalice middleware, so every log
line of a call carries the town and the API Gateway request id.

The Logger is built on the first call, not at import (a cold start is paid by a resident);
the X-Ray tracer is not loaded at all unless tracing is turned on for the deployment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from chalicelib import coldstart

_CALL_KEYS = ("town", "request_id", "route")


@lru_cache(maxsize=1)
def logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service="town311")


def log_http_call(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """One structured line per HTTP call: route, town, status and time taken."""
    log = logger()
    params = event.uri_params or {}
    query = event.query_params or {}
    log.append_keys(town=params.get("town") or query.get("jurisdiction_id"),
                    request_id=event.context.get("requestId"), route=event.path)
    started = time.perf_counter()
    try:
        response = get_response(event)
        log.info("served", extra={"method": event.method, "status": response.status_code,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)})
        return response
    finally:
        log.remove_keys(list(_CALL_KEYS))


def log_queue_batch(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Queue handlers log with the batch's size, so a poison batch is findable."""
    log = logger()
    records = event.to_dict().get("Records", [])
    log.info("batch received", extra={"records": len(records)})
    return get_response(event)


# What every SQS handler runs through, in order; app.py registers the same tuple. The
# collector comes back on (outermost) once the function's first batch is handled.
QUEUE_MIDDLEWARE: tuple[Callable[[Any, Callable[[Any], Any]], Any], ...] = (
    coldstart.after_first_call, log_queue_batch)


def with_queue_middleware[H](handler: H) -> H:
    """Attach QUEUE_MIDDLEWARE to a blueprint's SQS handler itself.

    A deployed queue function's handler is ``chalicelib.events.<module>.<name>``: Lambda
    imports that module, never app.py, so middleware that app.py registers reaches a
    blueprint's handler only in the test client (aws/chalice#1566). Set on the handler,
    it runs in both; app.py's registration replaces it with the same tuple.
    """
    handler.middleware_handlers = list(QUEUE_MIDDLEWARE)  # type: ignore[attr-defined]
    return handler
