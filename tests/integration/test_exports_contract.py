"""Open data's source and export jobs: the fakes and the DynamoDB adapters on moto answer
the same; the S3 files adapter writes multipart files on moto and hands out a presigned
link that downloads them; the worker writes a whole town there with its progress."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.exports import DONE, PART_BYTES, RUNNING, WHOLE_TOWN, ExportJob
from chalicelib.domain.open_data import Position, Window
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from tests.fakes import FakeExportJobs, FakeOpenDataSource, FakeRequestStore

TOWN, OTHER = "maplefalls.example", "riverton.example"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _request(n: int, town: str = TOWN, updated: datetime | None = None) -> ServiceRequest:
    at = T0 + timedelta(minutes=n)
    return ServiceRequest(town_id=town, request_id=f"R{n:04d}", token_hash=f"T{town}{n}",
                          service_code="pothole", service_name="Pothole", requested_at=at,
                          updated_at=updated or at, place=Place(lat=43.07, long=-89.40))


class OpenDataSourceContract:
    @pytest.fixture
    def stores(self):  # (the request store to fill, the source that reads it)
        raise NotImplementedError

    def _fill(self, store, requests) -> None:  # noqa: ANN001
        for r in requests:
            store.add(r, TimelineEvent(r.requested_at, f"E{r.request_id}", "submitted", "x"))

    def test_requests_come_oldest_first_and_resume_after_a_position(self, stores) -> None:
        store, source = stores
        self._fill(store, [_request(n) for n in (3, 1, 2, 5, 4)] + [_request(9, OTHER)])
        window = Window(T0, T0 + timedelta(days=1))
        first = source.in_order(TOWN, window, 2)
        assert [r.request_id for r in first] == ["R0001", "R0002"]
        after = Position(first[-1].updated_at, first[-1].request_id)
        rest = source.in_order(TOWN, dataclasses.replace(window, after=after), 10)
        assert [r.request_id for r in rest] == ["R0003", "R0004", "R0005"]
        assert rest[0].place.lat == 43.07

    def test_the_window_bounds_and_the_index_chosen(self, stores) -> None:
        store, source = stores
        self._fill(store, [_request(1), _request(2, updated=T0 + timedelta(days=40)),
                           _request(3)])
        by_updated = source.in_order(TOWN, Window(T0 + timedelta(days=30),
                                                  T0 + timedelta(days=50)), 10)
        assert [r.request_id for r in by_updated] == ["R0002"]
        by_requested = source.in_order(
            TOWN, Window(T0, T0 + timedelta(minutes=2), by_updated=False), 10)
        assert [r.request_id for r in by_requested] == ["R0001", "R0002"]
        assert source.in_order(OTHER, Window(T0, T0 + timedelta(days=90)), 10) == []


class TestFakeOpenDataSource(OpenDataSourceContract):
    @pytest.fixture
    def stores(self):
        store = FakeRequestStore()
        return store, FakeOpenDataSource(store)


class TestDynamoOpenDataSource(OpenDataSourceContract):
    @pytest.fixture
    def stores(self, deployment):
        return deployment.container.requests, deployment.container.open_data_source


class ExportJobsContract:
    @pytest.fixture
    def jobs(self):
        raise NotImplementedError

    def test_a_job_is_created_once_and_its_progress_saved(self, jobs) -> None:
        job = ExportJob(TOWN, "J1", WHOLE_TOWN, T0, "admin-1")
        assert jobs.create(job) is True
        assert jobs.create(dataclasses.replace(job, requested_by="someone else")) is False
        assert jobs.get(TOWN, "J1") == job
        assert jobs.get(OTHER, "J1") is None and jobs.get(TOWN, "J2") is None
        moved = dataclasses.replace(job, status=DONE, rows=12, parts=1, bytes_written=345,
                                    file_key="exports/x", finished_at=T0 + timedelta(1))
        jobs.save(moved)
        assert jobs.get(TOWN, "J1") == moved

    def test_a_year_job_keeps_its_year(self, jobs) -> None:
        job = ExportJob(TOWN, "open-2026-20261120", "open_data_year", T0, "public",
                        year=2026, status=RUNNING)
        jobs.create(job)
        assert jobs.get(TOWN, job.job_id) == job


class TestFakeExportJobs(ExportJobsContract):
    @pytest.fixture
    def jobs(self):
        return FakeExportJobs()


class TestDynamoExportJobs(ExportJobsContract):
    @pytest.fixture
    def jobs(self, deployment):
        return deployment.container.export_jobs

    def test_the_job_expires_a_week_after_it_was_made(self, deployment) -> None:
        from chalicelib.adapters.dynamodb.exports import ExportJobItem

        deployment.container.export_jobs.create(ExportJob(TOWN, "J9", WHOLE_TOWN, T0, "a"))
        item = ExportJobItem.get("TOWN#" + TOWN, "EXPORT#J9")
        assert item.expires_at == int((T0 + timedelta(days=7)).timestamp())


def _download(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text[:200]
    return response.content


def test_a_file_is_written_in_parts_and_downloaded_through_its_link(deployment) -> None:
    files = deployment.container.export_files
    key = "exports/maplefalls.example/J1/big.csv"
    upload = files.start(key, "text/csv; charset=utf-8")
    parts = [b"a" * PART_BYTES, b"b" * PART_BYTES, b"tail\n"]
    tags = [files.write_part(key, upload, n, data) for n, data in enumerate(parts, 1)]
    files.finish(key, upload, tags)
    link = files.link(key, "big.csv", 300)
    query = parse_qs(urlsplit(link).query)
    assert query["response-content-disposition"] == ['attachment; filename="big.csv"']
    # Signed to expire in five minutes (S3 on moto does not enforce it: domain code asks).
    expires = int(query.get("X-Amz-Expires", query.get("Expires", ["0"]))[0])
    assert expires == 300 or 0 < expires - time.time() <= 300
    assert _download(link) == b"".join(parts)
    head = deployment.client("s3").head_object(Bucket=deployment.environment[
        "TOWN311_PHOTO_BUCKET"], Key=key)
    assert head["ContentType"].startswith("text/csv")


def test_an_abandoned_file_leaves_no_upload(deployment) -> None:
    files = deployment.container.export_files
    upload = files.start("exports/t/J2/x.csv", "text/csv")
    files.write_part("exports/t/J2/x.csv", upload, 1, b"x")
    files.abandon("exports/t/J2/x.csv", upload)
    s3 = deployment.client("s3")
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="exports/t/J2/")


def test_the_worker_writes_a_whole_town_to_s3_with_its_progress(deployment) -> None:
    from chalicelib.domain.access import Principal, Role
    from chalicelib.services import open_data

    c = deployment.container
    for n in range(30):
        c.requests.add(_request(n), TimelineEvent(T0, f"E{n}", "submitted", "x"))
    ports = c.open_data_ports
    admin = Principal("admin-1", TOWN, frozenset({Role.TOWN_ADMIN}))
    job = open_data.request_town_export(ports, admin)
    queue = deployment.environment["TOWN311_EXPORT_QUEUE_URL"]
    message = deployment.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]
    assert json.loads(message["Body"]) == {"version": 1, "town_id": TOWN,
                                           "job_id": job.job_id}
    done = open_data.run_export(ports, TOWN, job.job_id)
    stored = c.export_jobs.get(TOWN, job.job_id)
    assert stored == done and done.status == DONE and done.parts == 1
    _, link = open_data.job_with_link(ports, TOWN, job.job_id, WHOLE_TOWN, admin)
    lines = _download(link).decode().splitlines()
    assert len(lines) == done.rows and len(lines) > 60  # the town, its catalogue, 30 requests
    items = [json.loads(line) for line in lines]
    assert sum(1 for i in items if i.get("SK") == "META") == 30
    assert all(str(i.get("PK", "")).startswith("TOWN#" + TOWN) for i in items)
