"""Exports written in the background: a job record the screens read, and what it writes.

Two kinds: a year of the town's open data (public, CSV), and the admin's whole-town export
(JSON lines, every stored item: private). A job is queued by the request that asks for
it, written to S3 in parts by the export worker (chalicelib.events.exports), and read back
by a short-lived presigned link once done. Jobs expire (``expires_at``, DynamoDB's TTL)
with the files (the bucket's lifecycle rule on ``exports/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
OPEN_DATA_YEAR, WHOLE_TOWN = "open_data_year", "whole_town"
KINDS = (OPEN_DATA_YEAR, WHOLE_TOWN)
# A job and its file are kept a week; a year's public file is made at most once a day
# (its job id names the day), so strangers asking for it cost one export a day.
JOB_DAYS = 7
LINK_SECONDS = 300  # a download link works five minutes: it is asked for when clicked
PART_BYTES = 5 * 1024 * 1024  # S3's smallest multipart part (all but the last)


@dataclass(frozen=True)
class ExportJob:
    """One export: what it is, how far it got, and where its file is once done."""

    town_id: str
    job_id: str
    kind: str
    created_at: datetime
    requested_by: str  # a staff id, or "public" for the open-data year file
    status: str = QUEUED
    year: int | None = None
    rows: int = 0  # written so far
    parts: int = 0
    bytes_written: int = 0
    file_key: str | None = None
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(days=JOB_DAYS)

    @property
    def done(self) -> bool:
        return self.status == DONE

    @property
    def file_name(self) -> str:
        if self.kind == OPEN_DATA_YEAR:
            return f"{self.town_id}-requests-{self.year}.csv"
        return f"{self.town_id}-export.jsonl"

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self.kind == OPEN_DATA_YEAR else \
            "application/x-ndjson; charset=utf-8"


def year_job_id(year: int, on: datetime) -> str:
    """The one public job of a year's file per day (``open-2026-20261201``)."""
    return f"open-{year}-{on.strftime('%Y%m%d')}"


def file_key(job: ExportJob) -> str:
    """Where the job's file is written (under exports/, which the bucket expires)."""
    return f"exports/{job.town_id}/{job.job_id}/{job.file_name}"
