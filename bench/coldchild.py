"""One cold start, timed inside a fresh interpreter (run by ``bench.coldstart``).

A Lambda cold start pays for importing the handler module and then for everything its
first call creates: settings, pynamodb's connection, botocore clients and their service
models. This process provisions moto and loads the seeded table with plain boto3 first
(untimed), then times exactly one of:

- ``app-get``: ``import app`` + the first ``GET services.json`` of the demo town;
- ``app-post``: ``import app`` + the first ``POST requests.json`` (no Idempotency-Key);
- ``boto3``: ``import boto3`` + a client + one ``GetItem`` (the least any handler that
  reads DynamoDB can do: the baseline of the ratio).

The test harness (``chalice.test.Client`` and its local gateway) is imported and built
between the two timed parts, so it is not counted. moto itself imports boto3 and botocore,
so in every scenario they are already in memory when the timer starts: the parent measures
their import cost separately and reports it. The result is one line on stdout, ``RESULT``
followed by JSON (the app's own log lines go to stdout too).

Usage: ``python -m bench.coldchild SCENARIO KEY < seed.json`` (the seed is the JSON list of
items that ``bench.deployment.seed_items`` dumped; KEY, the JSON key of the item the
baseline reads, is built by the parent: importing the app's key module here would load
pynamodb before the timer and count it as preloaded).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any
from urllib.parse import urlencode

from bench.environment import API_KEY, FORM, POTHOLE, REGION, TOWN_BASE

MARKER = "RESULT"
# The packages worth naming when they appear in a cold start.
HEAVY = ("boto3", "botocore", "pynamodb", "pydantic", "pydantic_core",
         "aws_lambda_powertools", "chalice", "ulid", "jmespath", "urllib3", "yaml",
         "aws_xray_sdk", "dateutil")


def _loaded(packages: tuple[str, ...] = HEAVY) -> set[str]:
    return {name for name in packages if name in sys.modules}


def _load_seed(session: Any, table: str, items: list[dict[str, Any]]) -> None:
    dynamodb = session.client("dynamodb", region_name=REGION)
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})


def _time_app(scenario: str) -> dict[str, Any]:
    before = _loaded()
    t0 = time.perf_counter()
    app_module = importlib.import_module("app")
    t1 = time.perf_counter()
    after_import = _loaded()

    from chalice.test import Client  # the harness: not part of a Lambda cold start

    http = Client(app_module.app).http
    harness = _loaded()
    t2 = time.perf_counter()
    if scenario == "app-get":
        response = http.get(f"{TOWN_BASE}/services.json")
        expected = 200
    else:
        form = urlencode([*POTHOLE.items(), ("api_key", API_KEY)])
        response = http.post(f"{TOWN_BASE}/requests.json", body=form, headers=FORM)
        expected = 201
    t3 = time.perf_counter()
    if response.status_code != expected:
        raise SystemExit(f"{scenario}: HTTP {response.status_code}: {response.body[:300]!r}")
    return {
        "import_ms": (t1 - t0) * 1000, "first_call_ms": (t3 - t2) * 1000,
        "total_ms": (t1 - t0 + t3 - t2) * 1000,
        "preloaded": sorted(before),
        "imported_by_import": sorted(after_import - before),
        "imported_by_first_call": sorted(_loaded() - harness),
    }


def _time_boto3(table: str, key: dict[str, Any]) -> dict[str, Any]:
    before = _loaded()
    t0 = time.perf_counter()
    import boto3

    client = boto3.client("dynamodb", region_name=REGION)
    item = client.get_item(TableName=table, Key=key)
    t1 = time.perf_counter()
    if "Item" not in item:
        raise SystemExit("boto3: the seeded town is missing")
    return {"import_ms": 0.0, "first_call_ms": (t1 - t0) * 1000, "total_ms": (t1 - t0) * 1000,
            "preloaded": sorted(before), "imported_by_import": [],
            "imported_by_first_call": sorted(_loaded() - before)}


def main(scenario: str, key: dict[str, Any]) -> None:
    items = json.load(sys.stdin)
    import boto3
    from moto import mock_aws

    from local.provision import provision

    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        environment = provision(session)
        os.environ.update(environment)
        _load_seed(session, environment["TOWN311_TABLE"], items)
        if scenario == "boto3":
            result = _time_boto3(environment["TOWN311_TABLE"], key)
        elif scenario in ("app-get", "app-post"):
            result = _time_app(scenario)
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    print(MARKER, json.dumps({"scenario": scenario, **result}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
