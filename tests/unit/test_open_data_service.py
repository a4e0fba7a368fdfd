"""The open-data feed and background exports (chalicelib.services.open_data) on fakes:
pages by updated time with a cursor, jobs queued once, files written in parts with the
job's progress, redelivery and failure."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import (
    AccessDenied,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    UnknownJurisdiction,
)
from chalicelib.domain.exports import DONE, FAILED, OPEN_DATA_YEAR, QUEUED, WHOLE_TOWN
from chalicelib.domain.open_data import COLUMNS, Position
from chalicelib.domain.requests import Place, ServiceRequest
from chalicelib.domain.towns import Town
from chalicelib.services import open_data
from tests.fakes import (
    FakeAuditLog,
    FakeExportFiles,
    FakeExportJobs,
    FakeExportQueue,
    FakeOpenDataSource,
    FakeRequestStore,
    FakeTownDirectory,
    counter_ids,
)

TOWN = "maplefalls.example"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


class World:
    def __init__(self, requests: int = 0) -> None:
        self.towns = FakeTownDirectory()
        self.towns.towns[TOWN] = Town(TOWN, "Maple Falls", "America/Chicago", "c1",
                                      sensitive_services=("needles",), open_data_grid_m=500)
        self.store = FakeRequestStore()
        self.source = FakeOpenDataSource(self.store)
        self.jobs, self.files = FakeExportJobs(), FakeExportFiles()
        self.queue, self.audit = FakeExportQueue(), FakeAuditLog()
        self.now = NOW
        self.ports = open_data.OpenDataPorts(
            towns=self.towns, source=self.source, jobs=self.jobs, files=self.files,
            queue=self.queue, audit=self.audit, new_id=counter_ids("JOB"),
            now=lambda: self.now)
        for n in range(requests):
            self.add(n)

    def add(self, n: int, *, updated: datetime | None = None, code: str = "pothole",
            town: str = TOWN) -> ServiceRequest:
        at = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(hours=n)
        request = ServiceRequest(
            town_id=town, request_id=f"R{n:05d}", service_code=code,
            service_name=code.title(), requested_at=at, updated_at=updated or at,
            place=Place(lat=43.07 + n / 1e4, long=-89.40, address=f"{n} Elm Street"),
            description=f"Report number {n} " + "x" * 200)
        self.store.requests[(town, request.request_id)] = request
        return request


ADMIN = Principal("admin-1", TOWN, frozenset({Role.TOWN_ADMIN}))


def test_the_feed_pages_through_every_request_once_in_updated_order() -> None:
    world = World(requests=23)
    world.add(99, town="riverton.example")  # another town's request never shows
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = open_data.feed_page(world.ports, TOWN, None, after, 10)
        seen += [r["service_request_id"] for r in page.records]
        if page.next_cursor is None:
            break
        from chalicelib.domain.open_data import decode_cursor

        after = decode_cursor(page.next_cursor)
    assert seen == [f"R{n:05d}" for n in range(23)]
    assert world.source.calls == 3


def test_updated_after_starts_the_feed_there_and_a_request_updated_later_comes_again() -> None:
    world = World(requests=5)
    since = datetime(2026, 1, 1, 14, 30, tzinfo=UTC)
    page = open_data.feed_page(world.ports, TOWN, since, None, 100)
    assert [r["service_request_id"] for r in page.records] == ["R00003", "R00004"]
    assert page.next_cursor is None and page.last_position is not None
    world.add(0, updated=datetime(2026, 6, 1, tzinfo=UTC))
    later = open_data.feed_page(world.ports, TOWN, None, page.last_position, 100)
    assert [r["service_request_id"] for r in later.records] == ["R00000"]


def test_the_feed_blurs_the_towns_sensitive_services() -> None:
    world = World()
    world.add(1, code="needles")
    record = open_data.feed_page(world.ports, TOWN, None, None, 10).records[0]
    assert record["location_blurred"] is True and record["address"] is None
    assert record["lat"] != 43.0701


def test_bad_feed_input_is_refused() -> None:
    world = World()
    with pytest.raises(InvalidInput):
        open_data.feed_page(world.ports, TOWN, None, None, 501)
    with pytest.raises(UnknownJurisdiction):
        open_data.feed_page(world.ports, "nowhere.example", None, None, 10)


def test_a_years_file_is_one_job_a_day_whoever_asks() -> None:
    world = World()
    first = open_data.request_year_file(world.ports, TOWN, 2026)
    again = open_data.request_year_file(world.ports, TOWN, 2026)
    assert first.job_id == again.job_id == "open-2026-20261120" and first.status == QUEUED
    assert world.queue.sent == [(TOWN, first.job_id)]
    world.now += timedelta(days=1)
    assert open_data.request_year_file(world.ports, TOWN, 2026).job_id == "open-2026-20261121"
    with pytest.raises(InvalidInput):
        open_data.request_year_file(world.ports, TOWN, 2027)
    with pytest.raises(InvalidInput):
        open_data.request_year_file(world.ports, TOWN, 1999)


def test_the_worker_writes_the_year_in_parts_and_saves_progress() -> None:
    world = World(requests=1200)
    world.add(5000, code="needles")  # 2026-07-28: in the year, blurred
    world.store.requests[(TOWN, "OLD")] = dataclasses.replace(
        world.store.requests[(TOWN, "R00000")], request_id="OLD",
        requested_at=datetime(2025, 6, 1, tzinfo=UTC))  # another year: not in the file
    job = open_data.request_year_file(world.ports, TOWN, 2026)
    done = open_data.run_export(world.ports, TOWN, job.job_id, part_bytes=64 * 1024)
    assert done.status == DONE and done.rows == 1200 + 1  # a row per request
    assert done.parts == 7  # 6 full parts of 64 kB, and the rest
    running = [(j.rows, j.parts) for j in world.jobs.history if j.status == "running"]
    assert running[0] == (0, 0) and len(running) == 7  # started, then after each full part
    assert [parts for _, parts in running] == list(range(7))
    assert all(a[0] < b[0] for a, b in zip(running, running[1:], strict=False))
    content = world.files.files[done.file_key].decode()
    assert len(content.encode()) == done.bytes_written
    rows = list(csv.DictReader(io.StringIO(content)))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 1201
    assert [r["service_request_id"] for r in rows[:3]] == ["R00000", "R00001", "R00002"]
    assert rows[-1]["location_blurred"] == "true" and rows[-1]["address"] == ""
    assert world.files.types[done.file_key].startswith("text/csv")
    _, link = open_data.job_with_link(world.ports, TOWN, job.job_id, OPEN_DATA_YEAR)
    assert link is not None and "expires=300" in link


def test_a_redelivered_message_does_not_write_the_file_again() -> None:
    world = World(requests=3)
    job = open_data.request_year_file(world.ports, TOWN, 2026)
    open_data.run_export(world.ports, TOWN, job.job_id)
    saves = world.jobs.saves
    assert open_data.run_export(world.ports, TOWN, job.job_id).status == DONE
    assert world.jobs.saves == saves and len(world.files.files) == 1


def test_a_failed_part_marks_the_job_failed_drops_the_parts_and_a_retry_starts_over() -> None:
    world = World(requests=800)
    job = open_data.request_year_file(world.ports, TOWN, 2026)
    world.files.fail_on_part = 2
    with pytest.raises(StorageUnavailable):
        open_data.run_export(world.ports, TOWN, job.job_id, part_bytes=64 * 1024)
    failed = world.jobs.get(TOWN, job.job_id)
    assert failed is not None and failed.status == FAILED and world.files.abandoned
    assert open_data.job_with_link(world.ports, TOWN, job.job_id, OPEN_DATA_YEAR)[1] is None
    world.files.fail_on_part = None
    done = open_data.run_export(world.ports, TOWN, job.job_id, part_bytes=64 * 1024)
    assert done.status == DONE and done.rows == 800


def test_a_town_export_is_a_job_for_admins_of_that_town_only() -> None:
    world = World()
    job = open_data.request_town_export(world.ports, ADMIN)
    assert job.kind == WHOLE_TOWN and world.queue.sent == [(TOWN, job.job_id)]
    assert [e.action for e in world.audit.entries] == ["town.exported"]
    done = open_data.run_export(world.ports, TOWN, job.job_id)
    assert world.files.files[done.file_key] == b'{"town": "maplefalls.example"}\n'
    _, link = open_data.job_with_link(world.ports, TOWN, job.job_id, WHOLE_TOWN, ADMIN)
    assert link is not None
    agent = Principal("agent-1", TOWN, frozenset({Role.AGENT}))
    with pytest.raises(AccessDenied):
        open_data.request_town_export(world.ports, agent)
    with pytest.raises(AccessDenied):
        open_data.job_with_link(world.ports, TOWN, job.job_id, WHOLE_TOWN, agent)
    # Not public, and not readable as a public year file.
    with pytest.raises(NotFound):
        open_data.job_with_link(world.ports, TOWN, job.job_id, WHOLE_TOWN, None)
    with pytest.raises(NotFound):
        open_data.job_with_link(world.ports, TOWN, job.job_id, OPEN_DATA_YEAR)


class _DownQueue:
    def __init__(self) -> None:
        self.down = True
        self.sent: list[tuple[str, str]] = []

    def export_requested(self, town_id: str, job_id: str) -> None:
        if self.down:
            raise StorageUnavailable("the export queue is unavailable")
        self.sent.append((town_id, job_id))


def test_a_job_the_queue_refused_is_failed_not_left_waiting_and_queued_when_asked_again(
        ) -> None:
    world = World()
    queue = _DownQueue()
    ports = dataclasses.replace(world.ports, queue=queue)
    with pytest.raises(StorageUnavailable):
        open_data.request_year_file(ports, TOWN, 2026)
    (job,) = world.jobs.jobs.values()
    assert job.status == FAILED
    with pytest.raises(StorageUnavailable):
        open_data.request_town_export(ports, ADMIN)
    assert sorted(j.status for j in world.jobs.jobs.values()) == [FAILED, FAILED]
    queue.down = False
    again = open_data.request_year_file(ports, TOWN, 2026)
    assert again.status == QUEUED and queue.sent == [(TOWN, again.job_id)]
