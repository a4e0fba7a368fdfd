"""moto's server as `make run` needs it: one DynamoDB call at a time, and transactions
that cost what they touch.

Two things about moto's DynamoDB matter once the demo year (about 20,000 items) is in the
table:

* Its backends are not safe across threads. A TransactWriteItems copies the table to roll
  back from while another thread's write changes it ("dictionary changed size during
  iteration", a 500). The demo year's writer, chalice local and the event pump call it at
  once, so DynamoDB (and its streams) calls take turns here; each is a few milliseconds.
  Other services run side by side as before: an SQS long poll waits a second for
  messages and must not hold everyone else up.
* A TransactWriteItems deep-copies the whole table once per item it names, so that it
  can roll back: with 20,000 items a 5-item transaction took 25 s on this machine (every
  report filed, every figure counted). Here the conditions are checked first, without
  writing; when they all hold (nearly always: the app reads before it writes) the
  transaction runs without the copy; when one fails, moto's own path runs, copy and all,
  and cancels it exactly as before. The one difference: an item moto refuses halfway
  (one too large, say) after its conditions held leaves the items before it written.
  The app's own tests run against moto unchanged (tests/conftest.py's mock_aws); this is
  the local runner's emulator only.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any

HOST = "127.0.0.1"
_OPS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})


def one_call_at_a_time_emulator(port: int, host: str = HOST) -> Any:
    """moto's threaded server on ``host:port`` (start it with ``.start()``), with DynamoDB
    calls taking turns and transactions without the whole-table copy."""
    from moto.server import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        ThreadedMotoServer,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local.turns import TurnLock

    light_transactions()
    turn = TurnLock()

    class OneCallAtATime(ThreadedMotoServer):
        def _server_entry(self) -> None:
            emulator = DomainDispatcherApplication(create_backend_app)

            def app(environ: dict[str, Any], start_response: Any) -> Any:
                if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
                    return emulator(environ, start_response)
                with turn:
                    # moto answers with a finished body: nothing runs after the turn.
                    return list(emulator(environ, start_response))

            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return OneCallAtATime(ip_address=host, port=port, verbose=False)


def light_transactions() -> None:
    """Patch moto's DynamoDB backend (this process only) so that a transaction whose
    conditions all hold skips the whole-table copy. Idempotent."""
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "light", False):
        return
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) <= 100 and conditions_hold(self, transact_items):
            with _no_table_copy(models):
                return original(self, transact_items)
        return original(self, transact_items)

    transact_write_items.light = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items


def conditions_hold(backend: Any, transact_items: list[dict[str, Any]]) -> bool:
    """Whether every item of the transaction is well formed, names its own item once, and
    its condition holds on the table as it is (what moto checks before each write; two
    items may not name one item, so no write of this transaction changes another's
    condition). Anything unusual answers False: moto's own path decides then."""
    from moto.dynamodb.comparisons import get_filter_expression

    seen: set[tuple[str, str]] = set()
    try:
        for entry in transact_items:
            if len(entry) != 1:
                return False
            kind, op = next(iter(entry.items()))
            if kind not in _OPS:
                return False
            table = backend.get_table(op["TableName"])
            if kind == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            named = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if named in seen:
                return False
            seen.add(named)
            condition = op.get("ConditionExpression")
            if condition is None:
                continue
            current = backend.get_item(op["TableName"], key)
            check = get_filter_expression(condition, op.get("ExpressionAttributeNames"),
                                          op.get("ExpressionAttributeValues"))
            if not check.expr(current):
                return False
    except Exception:  # moto's own path gives the right error for whatever this was
        return False
    return True


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto's DynamoDB models while a transaction
    whose conditions hold runs: the table's "backup" is the table itself (never used);
    anything else (an item's old image, for its stream record) is copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@contextmanager
def _no_table_copy(models: Any) -> Any:
    # DynamoDB calls take turns (one_call_at_a_time_emulator), so nothing else runs in
    # these models meanwhile.
    real = models.copy
    models.copy = _NoTableCopy
    try:
        yield
    finally:
        models.copy = real
