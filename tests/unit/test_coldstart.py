"""Start-up of each function: the collector is off while it starts and back on, with
start-up's objects frozen, once its first event is answered; the S3 keys of a photo
notification are read without powertools' data classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chalicelib.events.pipeline import uploaded_keys

ROOT = Path(__file__).resolve().parents[2]

_API = """
import gc, json
import app
during = gc.isenabled()
resource = "/towns/{town}/open311/v2/{resource}"
app.app({"resource": resource, "path": "/towns/nowhere.example/open311/v2/services.json",
         "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
         "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": {"town": "nowhere.example", "resource": "services.json"},
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": resource, "httpMethod": "GET", "stage": "api",
                            "requestId": "r", "identity": {"sourceIp": "203.0.113.9"}}},
        None)
print(json.dumps([during, gc.isenabled(), gc.get_freeze_count() > 10_000]))
"""

_SCHEDULE = """
import gc, json
from chalicelib.events import pipeline
during = gc.isenabled()
try:
    pipeline.resend_unrouted_requests({
        "version": "0", "id": "e", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}}, None)
except Exception:
    pass  # no deployment here: the call fails, and start-up is over all the same
print(json.dumps([during, gc.isenabled(), gc.get_freeze_count() > 10_000]))
"""


def _run(code: str) -> list[bool]:
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_api_collects_no_garbage_until_its_first_call_is_answered() -> None:
    assert _run(_API) == [False, True, True]


def test_an_event_function_collects_no_garbage_until_its_first_event_is_handled() -> None:
    assert _run(_SCHEDULE) == [False, True, True]


def test_photo_keys_are_decoded_as_s3_encodes_them() -> None:
    event = {"Records": [
        {"eventName": "ObjectCreated:Post", "s3": {"object": {
            "key": "incoming/maple.example/01J/a+photo%2B1.jpg", "size": 10}}},
        {"s3": {"object": {"key": "incoming/t/r/%E2%9C%93.heic"}}}]}
    assert uploaded_keys(event) == ["incoming/maple.example/01J/a photo+1.jpg",
                                    "incoming/t/r/\u2713.heic"]


_GET_PATH = """
import json, sys
import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamodb import DynamoRequestStore, DynamoTownDirectory
from chalicelib.api import open311
from chalicelib.schemas import open311_documents
from chalicelib.services import directory, lookup
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
                        ("pydantic", "pydantic_core", "boto3", "shapely", "numpy", "jwt",
                         "cryptography", "babel", "PIL"))))
"""


def test_what_an_open311_get_loads_leaves_out_pydantic_and_the_heavy_libraries() -> None:
    # A GET of the services or of one request validates nothing but its path: pydantic
    # (about 100 ms of a cold start) is loaded by the first call that parses a body.
    assert _run_json(_GET_PATH) == []


_SHARED_PATHS = """
import json, sys
import app
from chalicelib.web import alerts_pages, track
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
                        ("pydantic", "pydantic_core", "jinja2", "babel", "boto3"))))
"""


def test_paths_that_answer_json_and_pages_load_no_page_machinery_at_import() -> None:
    # The track page and the alerts in force answer API clients' JSON on the same path as
    # the browser's page: templates, catalogues and the page forms load with a page only.
    assert _run_json(_SHARED_PATHS) == []


_QUEUE = """
import json, sys
from chalicelib.events import pipeline
from tests.lambda_events import sqs_event, sqs_record
pipeline.route_new_requests(sqs_event(sqs_record("{not json", message_id="p")), None)
print(json.dumps(sorted(m for m in sys.modules
                        if m.startswith("aws_lambda_powertools.utilities.parser"))))
"""


def test_a_queue_function_never_builds_powertools_parser_models() -> None:
    # Its batch module imports all ~100 of them when pydantic is loaded first (for type
    # hints); the records are our own models, and the batch module is imported before.
    assert _run_json(_QUEUE) == []


def _run_json(code: str) -> object:
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
