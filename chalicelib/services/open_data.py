"""Open data and background exports.

- ``feed_page``: a page of a town's requests as open data (chalicelib.domain.open_data),
  oldest update first, from an ``updated_after`` time or a cursor: one Query of the town's
  by_updated index, at most ``FEED_PAGE_MAX`` requests.
- ``request_year_file`` (public) and ``request_town_export`` (a town admin or operator):
  a job record and one queue message; ``run_export`` (the export worker) writes the file
  in 5 MB parts, saving the job's progress after each; ``job_with_link`` hands the finished
  file out through a presigned link that works for five minutes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem, UnknownJurisdiction
from chalicelib.domain.exports import (
    DONE,
    FAILED,
    LINK_SECONDS,
    OPEN_DATA_YEAR,
    PART_BYTES,
    QUEUED,
    RUNNING,
    WHOLE_TOWN,
    ExportJob,
    file_key,
    year_job_id,
)
from chalicelib.domain.open_data import (
    FEED_PAGE_MAX,
    OpenDataSettings,
    Position,
    Window,
    csv_rows,
    encode_cursor,
    public_record,
)
from chalicelib.domain.towns import AuditEntry, Town
from chalicelib.services.ports import (
    AuditLog,
    ExportFiles,
    ExportJobs,
    ExportQueue,
    OpenDataSource,
    TownDirectory,
)

log = logging.getLogger(__name__)
# The worker saves its progress after each part and at least every this many rows, so the
# progress page moves even while a part fills.
PROGRESS_EVERY_ROWS = 2000
READ_BATCH = 500  # requests per Query while exporting
FIRST_YEAR = 2000


@dataclass(frozen=True)
class OpenDataPorts:
    towns: TownDirectory
    source: OpenDataSource
    jobs: ExportJobs
    files: ExportFiles
    queue: ExportQueue
    audit: AuditLog
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    photo_root: str = ""


@dataclass(frozen=True)
class FeedPage:
    records: list[dict[str, object]]
    next_cursor: str | None  # None: nothing more updated yet (ask again later from here)
    last_position: Position | None


def settings_of(town: Town) -> OpenDataSettings:
    """The town's open-data choices (town settings: grid size, sensitive services)."""
    return OpenDataSettings(town.open_data_grid_m, frozenset(town.sensitive_services))


def _public_town(ports: OpenDataPorts, town_id: str) -> Town:
    town = ports.towns.get_town(town_id)
    if town is None:
        raise UnknownJurisdiction(f"no town {town_id[:60]!r}")
    return town


def feed_page(ports: OpenDataPorts, town_id: str, updated_after: datetime | None,
              after: Position | None, limit: int) -> FeedPage:
    """One page of the town's requests as open data, oldest update first: those updated
    after ``updated_after`` (or all), continued after the cursor's position."""
    if not 1 <= limit <= FEED_PAGE_MAX:
        raise InvalidInput.of([Problem("page_size", f"must be 1 to {FEED_PAGE_MAX}")])
    town = _public_town(ports, town_id)
    start = updated_after or datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    window = Window(start=start, end=ports.now(), by_updated=True, after=after)
    found = ports.source.in_order(town.town_id, window, limit)
    records = [public_record(r, settings_of(town), ports.photo_root) for r in found]
    last = Position(found[-1].updated_at, found[-1].request_id) if found else after
    more = len(found) == limit
    return FeedPage(records, encode_cursor(last) if more and last else None, last)


# --- jobs -----------------------------------------------------------------------------------


def request_year_file(ports: OpenDataPorts, town_id: str, year: int) -> ExportJob:
    """The job writing ``year``'s open data (requests made that year, in the town's time):
    today's, made now if nobody asked today. Public, so a stranger's asking costs at most
    one export per town and year a day."""
    town = _public_town(ports, town_id)
    now = ports.now()
    if not FIRST_YEAR <= year <= now.year:
        raise InvalidInput.of([Problem("year", f"must be {FIRST_YEAR} to {now.year}")])
    job = ExportJob(town_id=town.town_id, job_id=year_job_id(year, now), kind=OPEN_DATA_YEAR,
                    created_at=now, requested_by="public", year=year)
    if ports.jobs.create(job):
        _enqueue(ports, job)
        return job
    existing = ports.jobs.get(town.town_id, job.job_id)
    if existing is not None and existing.status == FAILED and existing.rows == 0 \
            and existing.parts == 0 and existing.error == "StorageUnavailable":
        # Never queued (the queue was down): queue it now rather than fail all day.
        ports.jobs.save(dataclasses.replace(existing, status=QUEUED, error=None))
        _enqueue(ports, existing)
        return dataclasses.replace(existing, status=QUEUED, error=None)
    return existing if existing is not None else job


def request_town_export(ports: OpenDataPorts, who: Principal,
                        town_id: str | None = None) -> ExportJob:
    """A job writing everything stored for the town (JSON lines): a town admin their own
    (``town_id`` None), an operator any town. Recorded in the town's audit log."""
    target = town_id or who.town_id
    require(who, Permission.MANAGE_TOWNS if town_id else Permission.EXPORT_TOWN, target)
    if target is None or ports.towns.get_town(target) is None:
        raise NotFound(f"no town {str(target)[:60]!r}")
    now = ports.now()
    job = ExportJob(town_id=target, job_id=ports.new_id(), kind=WHOLE_TOWN, created_at=now,
                    requested_by=who.actor)
    ports.jobs.create(job)
    ports.audit.record(AuditEntry(
        town_id=target, at=now, entry_id=ports.new_id(), actor=who.actor,
        actor_kind=who.kind, action="town.exported", target=target, source_ip=who.source_ip,
        details={"job": job.job_id}))
    _enqueue(ports, job)
    return job


def _enqueue(ports: OpenDataPorts, job: ExportJob) -> None:
    """Queue the job; if the queue cannot take it, the job is marked failed (a job left
    "queued" would wait for ever, and the year's file would be stuck for the day)."""
    from chalicelib.domain.errors import StorageUnavailable

    try:
        ports.queue.export_requested(job.town_id, job.job_id)
    except StorageUnavailable:
        ports.jobs.save(dataclasses.replace(job, status=FAILED, error="StorageUnavailable"))
        raise


def year_file(ports: OpenDataPorts, town_id: str, year: int
              ) -> tuple[ExportJob, str | None]:
    """The year's file: its job (made if nobody asked today) and, once written, a link."""
    job = request_year_file(ports, town_id, year)
    return job_with_link(ports, job.town_id, job.job_id, OPEN_DATA_YEAR)


@dataclass(frozen=True)
class OpenDataOverview:
    """What the resident site's open-data page says: the years there are files for, and
    which services are published without their place (and the grid they are blurred to)."""

    town: Town
    years: list[int]
    sensitive_names: list[str]
    grid_m: int
    page_max: int = FEED_PAGE_MAX


def overview(ports: OpenDataPorts, town_id: str) -> OpenDataOverview:
    town = _public_town(ports, town_id)
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset)
    sensitive = set(town.sensitive_services)
    names = sorted(s.name for s in catalogue.services if s.code in sensitive)
    this_year = ports.now().astimezone(town.zone).year
    return OpenDataOverview(town, [this_year, this_year - 1], names, town.open_data_grid_m)


def job_with_link(ports: OpenDataPorts, town_id: str, job_id: str, kind: str,
                  who: Principal | None = None) -> tuple[ExportJob, str | None]:
    """The job, and a presigned link to its file once done. A whole-town job is shown only
    to who may export that town; an open-data job to anyone."""
    if kind == WHOLE_TOWN:
        if who is None:
            raise NotFound("no such export")
        require(who, Permission.EXPORT_TOWN if who.town_id == town_id
                else Permission.MANAGE_TOWNS, town_id)
    job = ports.jobs.get(town_id, job_id) if len(job_id) <= 64 else None
    if job is None or job.kind != kind:
        raise NotFound("no such export")
    if job.done and job.file_key:
        return job, ports.files.link(job.file_key, job.file_name, LINK_SECONDS)
    return job, None


# --- the worker -----------------------------------------------------------------------------


def _year_rows(ports: OpenDataPorts, town: Town, year: int) -> Iterator[str]:
    """The year's CSV rows (the header apart): each request made that year in the town's
    time, oldest first, read a batch at a time from the by_requested index."""
    settings = settings_of(town)
    start = datetime(year, 1, 1, tzinfo=town.zone).astimezone(UTC)
    end = datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=town.zone).astimezone(UTC)
    after: Position | None = None
    while True:
        batch = ports.source.in_order(
            town.town_id, Window(start, end, by_updated=False, after=after), READ_BATCH)
        for request in batch:
            yield csv_rows([public_record(request, settings, ports.photo_root)])
        if len(batch) < READ_BATCH:
            return
        after = Position(batch[-1].requested_at, batch[-1].request_id)


def _town_rows(ports: OpenDataPorts, town_id: str) -> Iterator[str]:
    for item in ports.towns.export(town_id):
        yield json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"


def run_export(ports: OpenDataPorts, town_id: str, job_id: str,
               part_bytes: int = PART_BYTES) -> ExportJob:
    """Write the job's file to S3 in parts and mark it done (the export worker).

    A job already done is left alone (a redelivered message); one found running was cut
    off (the function timed out) and starts again from the beginning with a new upload.
    A failure marks the job failed, drops the parts, and is raised for the queue to retry.
    """
    job = ports.jobs.get(town_id, job_id)
    if job is None:
        log.warning("export job gone (expired?)", extra={"town": town_id, "job": job_id})
        raise NotFound(f"no export job {job_id[:64]!r}")
    if job.status == DONE:
        return job
    town = _public_town(ports, town_id)
    key = file_key(job)
    job = dataclasses.replace(job, status=RUNNING, rows=0, parts=0, bytes_written=0,
                              error=None, file_key=None)
    ports.jobs.save(job)
    rows: Iterable[str] = _year_rows(ports, town, job.year or ports.now().year) \
        if job.kind == OPEN_DATA_YEAR else _town_rows(ports, town_id)
    upload = ports.files.start(key, job.content_type)
    tags: list[str] = []
    buffer = bytearray(csv_rows([], header=True).encode() if job.kind == OPEN_DATA_YEAR
                       else b"")
    count = saved_at = 0
    try:
        for text in rows:
            buffer += text.encode("utf-8")
            count += 1
            if len(buffer) >= part_bytes:
                tags.append(ports.files.write_part(key, upload, len(tags) + 1, bytes(buffer)))
                job = dataclasses.replace(job, parts=len(tags),
                                          bytes_written=job.bytes_written + len(buffer),
                                          rows=count)
                buffer.clear()
                ports.jobs.save(job)
                saved_at = count
            elif count - saved_at >= PROGRESS_EVERY_ROWS:
                job = dataclasses.replace(job, rows=count)
                ports.jobs.save(job)
                saved_at = count
        if buffer or not tags:  # the last part may be small (or the only one)
            tags.append(ports.files.write_part(key, upload, len(tags) + 1, bytes(buffer)))
        ports.files.finish(key, upload, tags)
    except Exception as e:
        ports.files.abandon(key, upload)
        ports.jobs.save(dataclasses.replace(job, status=FAILED, error=type(e).__name__))
        raise
    job = dataclasses.replace(job, status=DONE, rows=count, parts=len(tags),
                              bytes_written=job.bytes_written + len(buffer), file_key=key,
                              finished_at=ports.now())
    ports.jobs.save(job)
    return job


__all__ = ["DONE", "FAILED", "QUEUED", "RUNNING", "FeedPage", "OpenDataOverview",
           "OpenDataPorts", "feed_page", "job_with_link", "overview", "request_town_export",
           "request_year_file", "run_export", "year_file"]
