"""Deployed queue functions go through the SQS middleware.

Lambda calls a blueprint's handler by its own module (``chalicelib.events.pipeline.
route_new_requests``), never through app.py; each test runs a fresh interpreter that
imports only that module, as Lambda does, and invokes the handler with a poison record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_INVOKE = """
import importlib, json, sys
from tests.lambda_events import sqs_event, sqs_record

module, name = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module), name)
assert "app" not in sys.modules, "the handler's module must not need app.py"
result = handler(sqs_event(sqs_record("{not json", message_id="poison-1")), None)
print("RESULT " + json.dumps(result))
"""


def _queue_handlers() -> list[str]:
    from app import app

    return [source.handler_string for source in app.event_sources
            if type(source).__name__ == "SQSEventConfig"]


def test_every_queue_function_is_found_by_its_handler_string() -> None:
    assert sorted(h.rsplit(".", 1)[1] for h in _queue_handlers()) == [
        "deliver_webhooks", "route_new_requests", "send_notices", "write_exports"]


@pytest.mark.parametrize("handler_string", _queue_handlers())
def test_a_queue_function_imported_as_lambda_does_logs_its_batch(handler_string: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOWN311_", "AWS_"))}
    done = subprocess.run([sys.executable, "-c", _INVOKE, handler_string], cwd=ROOT,
                          env={**env, "AWS_DEFAULT_REGION": "us-east-1"},
                          capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(entry.get("message") == "batch received" and entry.get("records") == 1
               for entry in logged), done.stdout
    (result,) = [line for line in lines if line.startswith("RESULT ")]
    assert json.loads(result[7:]) == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}
