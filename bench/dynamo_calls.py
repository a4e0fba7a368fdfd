"""Watching the app's own DynamoDB client call by call, for the benches that count reads.

botocore hands the request parameters and the parsed answer to different hooks; this keeps
the parameters in the call's context so one ``seen(call, params, parsed)`` gets both. The
bench that subclasses it decides what to count (items read, partitions, transactions).
"""

from __future__ import annotations

from typing import Any

_PARAMS = "town311_bench_params"


class DynamoCalls:
    """A context manager over a boto3/botocore DynamoDB client: ``seen`` runs after each
    call while it is open."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events

    def __enter__(self) -> Any:
        self._events.register("provide-client-params.dynamodb", self._params)
        self._events.register("after-call.dynamodb", self._after)
        return self

    def __exit__(self, *_: Any) -> None:
        self._events.unregister("provide-client-params.dynamodb", self._params)
        self._events.unregister("after-call.dynamodb", self._after)

    @staticmethod
    def _params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any],
               **_: Any) -> None:
        self.seen(model.name, context.get(_PARAMS) or {}, parsed)

    def seen(self, call: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        """One call (``Query``, ``GetItem``...): what was asked and what came back."""
        raise NotImplementedError
