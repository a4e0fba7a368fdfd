"""Every AWS API call the process makes, seen through botocore's event hooks.

The app reaches AWS through three doors: its own boto3 clients (SQS, S3), pynamodb (which
builds its own botocore session) and powertools' idempotency layer (its own boto3 client).
Patching ``botocore.session.Session.create_client`` catches all three: each new client gets
handlers on its ``meta.events``. Per API call (not per HTTP attempt, so retries do not
inflate counts) botocore emits ``provide-client-params`` with the caller's parameters,
then ``before-call`` just before sending, then ``after-call`` (or ``after-call-error``);
all three share the call's context dict, which carries our bookkeeping from one to the next.

While a ``recording()`` is open, each call is kept with its operation, the tables it
touches and the project frames that led to it (so an unexpected call can be traced to the
line that made it), and so is each client created, with the time its creation took (a
client costs a cold start tens of milliseconds even if it never makes a call). While a
``timing()`` is open, only the count and the time spent inside calls (parameter
validation, serialisation, the emulator, parsing) are kept. Outside both, the handlers
return at once.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.environment import ROOT

_BENCH = ROOT / "bench"
_KEY = "town311_bench"


@dataclass(frozen=True)
class AwsCall:
    """One API call: ``dynamodb.GetItem`` on some tables, and who made it."""

    service: str
    operation: str
    tables: tuple[str, ...] = ()
    index: str | None = None
    items: int = 0  # items written by a TransactWriteItems / BatchWriteItem
    via: str = "boto3"  # the library that called botocore: pynamodb, aws_lambda_powertools...
    stack: tuple[str, ...] = ()  # project frames, innermost first
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass(frozen=True)
class ClientMade:
    """One botocore client created: for which service, by whom, in how long."""

    service: str
    via: str
    stack: tuple[str, ...]
    seconds: float

    @property
    def label(self) -> str:
        """Who made it, briefly: ``pynamodb``, ``powertools`` or ``boto3`` (the app's own)."""
        return self.via.removeprefix("aws_lambda_")


@dataclass
class Recording:
    """What a ``recording()`` block saw: its API calls and the clients it created."""

    calls: list[AwsCall] = field(default_factory=list)
    clients: list[ClientMade] = field(default_factory=list)


@dataclass
class CallClock:
    """How many AWS calls ran, and for how long in total, while a ``timing()`` was open."""

    calls: int = 0
    seconds: float = 0.0


def _tables(params: dict[str, Any]) -> tuple[tuple[str, ...], int]:
    if "TableName" in params:
        return (params["TableName"],), 0
    if "TransactItems" in params:
        names = [next(iter(action.values()))["TableName"] for action in params["TransactItems"]]
        return tuple(dict.fromkeys(names)), len(names)
    if "RequestItems" in params:
        requests = params["RequestItems"]
        return tuple(requests), sum(len(v) if isinstance(v, list) else 1
                                    for v in requests.values())
    return (), 0


def _origin(frames: list[traceback.FrameSummary]) -> tuple[str, tuple[str, ...]]:
    """The library that called botocore, and the project frames above it (innermost first)."""
    via = "boto3"
    found_via = False
    stack: list[str] = []
    for frame in reversed(frames):
        path = Path(frame.filename)
        if path.is_relative_to(_BENCH):
            continue
        if path.is_relative_to(ROOT) and "site-packages" not in path.parts:
            stack.append(f"{path.relative_to(ROOT)}:{frame.lineno} {frame.name}")
            found_via = True
            continue
        if found_via or "site-packages" not in path.parts:
            continue
        package = path.parts[path.parts.index("site-packages") + 1]
        if package not in ("botocore", "boto3"):
            via, found_via = package, True
    return via, tuple(stack)


class AwsCallRecorder:
    """Installs the hooks once per process; opens recording or timing windows."""

    def __init__(self) -> None:
        self._recording: Recording | None = None
        self._clock: CallClock | None = None
        self._installed = False

    def install(self) -> None:
        """Hook every botocore client created from now on (install before any exists)."""
        if self._installed:
            return
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            client = original(session, *args, **kwargs)
            if recorder._recording is not None:
                via, stack = _origin(traceback.extract_stack())
                recorder._recording.clients.append(ClientMade(
                    client.meta.service_model.service_name, via, stack,
                    time.perf_counter() - started))
            client.meta.events.register("provide-client-params", recorder._on_params)
            client.meta.events.register("before-call", recorder._on_before_call)
            client.meta.events.register("after-call", recorder._on_after_call)
            client.meta.events.register("after-call-error", recorder._on_after_call)
            return client

        botocore.session.Session.create_client = create_client
        self._installed = True

    @contextmanager
    def recording(self) -> Iterator[Recording]:
        """Keep every call made and every client created inside the block, in order."""
        recording = Recording()
        self._recording = recording
        try:
            yield recording
        finally:
            self._recording = None

    @contextmanager
    def timing(self, clock: CallClock | None = None) -> Iterator[CallClock]:
        """Count the calls made inside the block and add up the time spent in them (into
        ``clock``, if given, so that many blocks can add up into one)."""
        clock = CallClock() if clock is None else clock
        self._clock = clock
        try:
            yield clock
        finally:
            self._clock = None

    # --- botocore event handlers --------------------------------------------------------

    def _on_params(self, params: dict[str, Any], model: Any, context: dict[str, Any],
                   **_: Any) -> None:
        if self._clock is not None:
            context[_KEY] = time.perf_counter()
        elif self._recording is not None:
            context[_KEY] = (model, dict(params), traceback.extract_stack())

    def _on_before_call(self, context: dict[str, Any], **_: Any) -> None:
        pending = context.get(_KEY)
        if self._recording is None or not isinstance(pending, tuple):
            return
        model, params, frames = pending
        tables, items = _tables(params)
        via, stack = _origin(frames)
        self._recording.calls.append(AwsCall(
            service=model.service_model.service_name, operation=model.name, tables=tables,
            index=params.get("IndexName"), items=items, via=via, stack=stack, params=params))

    def _on_after_call(self, context: dict[str, Any], **_: Any) -> None:
        started = context.pop(_KEY, None)
        if self._clock is not None and isinstance(started, float):
            self._clock.calls += 1
            self._clock.seconds += time.perf_counter() - started


RECORDER = AwsCallRecorder()
