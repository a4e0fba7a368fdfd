"""Export throughput: rows per second the export worker writes, on the emulator.

A town's year of open data and its whole-town export, each written by the export worker
exactly as Lambda runs it (``chalice.test.Client(app).lambda_.invoke("write_exports", ...)``
with the queue's message) into moto's S3 as a multipart upload, reading its requests from
moto's DynamoDB through the by_requested index (open data) or the town's partitions (the
whole town). ``requests`` requests (default 3,000) are stored first, untimed, as the
META items ``requests.add`` writes, with BatchWriteItem.

Per export: rows written, parts, bytes, the DynamoDB items read (Queries' ScannedCount),
the AWS calls by operation, the time in process and rows per second. The times are the
emulator's: moto answers each index Query by looking at every item of the table, so the
figures are a floor for the worker's own work (serialising, the privacy filter, parts),
not a prediction for DynamoDB. Checks: every request is a row; the job is done; reads per
row are what a page of 500 costs (no Scan, no read per request).

Run alone: ``python -m bench.exports [--requests N] [--json]``; ``make bench`` runs it
with 100 requests (``--export-requests``), about 20 s.

One run, 3,000 requests, on the shared 2-core machine (December 2026, another build
running): the year's CSV, 3,000 rows, 0.52 MB, 7 Queries of 500 (12 DynamoDB calls in
all, 3 S3 calls), 100 s = 30 rows/s; the whole town, 3,034 rows, 3.07 MB, 3,005 Queries
(the directory's export reads each request's partition: one Query a request), 670 s = 5
rows/s. Both are moto's time: it answers each index Query by reading the whole table
(about 14 s a Query here), and each partition Query in about 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_REQUESTS = 3000
TOWN = "maplefalls.example"
YEAR = 2026


@dataclass
class ExportRun:
    kind: str
    rows: int
    parts: int
    bytes_written: int
    seconds: float
    calls: dict[str, int] = field(default_factory=dict)
    items_read: int = 0
    status: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "parts": self.parts,
                "bytes": self.bytes_written, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows_per_second, 1), "calls": self.calls,
                "items_read": self.items_read, "status": self.status}


def _store_requests(dep: Any, count: int) -> None:
    """``count`` requests of Maple Falls in ``YEAR``, written 25 a call (untimed)."""
    from chalicelib.adapters.dynamodb import request_item
    from chalicelib.domain.requests import Place, ServiceRequest

    dynamodb = dep.client("dynamodb")
    start = datetime(YEAR, 1, 2, tzinfo=UTC)
    step = timedelta(days=360) / max(count, 1)
    batch: list[dict[str, Any]] = []
    for n in range(count):
        at = start + step * n
        request = ServiceRequest(
            town_id=TOWN, request_id=f"B{n:07d}", service_code="pothole",
            service_name="Pothole", requested_at=at, updated_at=at,
            place=Place(lat=43.07 + (n % 100) / 1e4, long=-89.40 - (n % 77) / 1e4,
                        address=f"{n % 900 + 1} Elm Street"),
            description=f"Report {n}: a hole about a foot across by the kerb",
            token_hash=f"bench{n}")
        batch.append({"PutRequest": {"Item": request_item(request).serialize()}})
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={dep.table: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={dep.table: batch})


def _lambda_event(message: dict[str, Any]) -> dict[str, Any]:
    """The Lambda SQS event of one received message (as local/pump.py makes it)."""
    from local.pump import sqs_record

    return {"Records": [sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:exports",
                                   "us-east-1")]}


def _run_worker(dep: Any, recorder: Any, job_id: str) -> tuple[float, dict[str, int], int]:
    from chalice.test import Client

    from app import app

    sqs = dep.client("sqs")
    url = dep.environment["TOWN311_EXPORT_QUEUE_URL"]
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["job_id"] == job_id
    recorder.reset()
    started = time.perf_counter()
    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("write_exports", _lambda_event(message)).payload
    seconds = time.perf_counter() - started
    assert result == {"batchItemFailures": []}, result
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seconds, dict(recorder.counts()), recorder.items_read()


def measure_exports(dep: Any, recorder: Any, requests: int) -> list[ExportRun]:
    from chalicelib.domain.access import Principal, Role
    from chalicelib.services import open_data

    _store_requests(dep, requests)
    runs = []
    dep.fresh_container()
    ports = dep.container.open_data_ports
    admin = Principal("bench-admin", TOWN, frozenset({Role.TOWN_ADMIN}))
    for kind, job in (
            ("open data, a year (CSV)", open_data.request_year_file(ports, TOWN, YEAR)),
            ("whole town (JSON lines)", open_data.request_town_export(ports, admin))):
        dep.fresh_container()  # a cold worker
        seconds, calls, items = _run_worker(dep, recorder, job.job_id)
        done = dep.container.export_jobs.get(TOWN, job.job_id)
        runs.append(ExportRun(kind, done.rows, done.parts, done.bytes_written, seconds,
                              calls, items, done.status))
    return runs


def checks(runs: list[ExportRun], requests: int) -> dict[str, bool]:
    year, town = runs
    return {
        "the year's file has a row per request": year.rows == requests,
        "both jobs done": all(r.status == "done" for r in runs),
        "the year's reads are pages of 500, not a read per row":
            0 < year.calls.get("DynamoDB.Query", 0) <= requests // 500 + 2,
        "the whole town holds every request": town.rows >= requests,
        "no Scan": all("DynamoDB.Scan" not in r.calls for r in runs),
    }


def markdown_lines(runs: list[ExportRun], requests: int) -> list[str]:
    lines = [f"Export throughput ({requests:,} requests of one town, moto in process):", "",
             "| export | rows | parts | MB | s | rows/s | DynamoDB calls | S3 calls |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        dynamo = sum(n for op, n in r.calls.items() if op.startswith("DynamoDB."))
        s3 = sum(n for op, n in r.calls.items() if op.startswith("S3."))
        lines.append(f"| {r.kind} | {r.rows:,} | {r.parts} | {r.bytes_written / 1e6:.2f} | "
                     f"{r.seconds:.1f} | {r.rows_per_second:,.0f} | {dynamo} | {s3} |")
    lines += ["", *(f"- {'✓' if ok else '✗'} {name}"
                    for name, ok in checks(runs, requests).items())]
    return lines


class ExportCallRecorder:
    """AWS calls by operation (``DynamoDB.Query``) and the items Queries scanned, from
    botocore's events on every client the app makes."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._items = 0

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("after-call", recorder._after_call)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _after_call(self, http_response: Any = None, parsed: Any = None,
                    model: Any = None, **_: Any) -> None:
        name = f"{model.service_model.service_id.replace(' ', '')}.{model.name}"
        self._counts[name] = self._counts.get(name, 0) + 1
        if isinstance(parsed, dict) and "ScannedCount" in parsed:
            self._items += int(parsed["ScannedCount"])

    def reset(self) -> None:
        self._counts, self._items = {}, 0

    def counts(self) -> dict[str, int]:
        return dict(sorted(self._counts.items()))

    def items_read(self) -> int:
        return self._items


def main(argv: list[str] | None = None) -> int:
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.exports",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS,
                        help=f"requests of the town (default {DEFAULT_REQUESTS})")
    parser.add_argument("--json", action="store_true", help="print the JSON figures too")
    args = parser.parse_args(argv)
    recorder = ExportCallRecorder()
    recorder.install()
    with silenced(), deployment() as dep:
        runs = measure_exports(dep, recorder, args.requests)
    print("\n".join(markdown_lines(runs, args.requests)))
    if args.json:
        print(json.dumps([r.to_json() for r in runs], indent=2))
    return 0 if all(checks(runs, args.requests).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
