"""The garbage collector during a cold start: off while the function starts, then frozen.

Starting a function allocates hundreds of thousands of objects that live as long as the
container (modules, classes, pydantic's validators, botocore's service models), and the
collector would walk them again and again while they are made, for nothing: nothing made
at start-up is garbage. ``starting()`` turns it off at the top of a handler's module;
``started()``, after the first event is answered, moves everything alive into the
permanent generation (``gc.freeze``), so later collections skip it, and turns it back on.
Only the standard library is imported here: it runs before anything else.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any

_state = {"started": False}


def starting() -> None:
    """Call first thing in a handler's module: no collections until ``started()``."""
    # No pydantic plugins are used, and looking for them reads the metadata of every
    # installed distribution on the first model a function builds.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if not _state["started"]:
        gc.disable()


def started() -> None:
    """The first event is answered: freeze what start-up made and collect again."""
    if not _state["started"]:
        _state["started"] = True
        gc.freeze()
        gc.enable()


def with_start_up_middleware[H](handler: H) -> H:
    """Run ``after_first_call`` around a blueprint's schedule or SNS handler itself.

    Lambda imports the handler's own module, never app.py, so middleware app.py registers
    does not reach it there (queue handlers get it with observability's QUEUE_MIDDLEWARE).
    """
    handler.middleware_handlers = [after_first_call]  # type: ignore[attr-defined]
    return handler


def after_first_call(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware (any event type): ``started()`` once the first call is served."""
    try:
        return get_response(event)
    finally:
        started()
