"""Open data's source, export jobs, files and queue in memory."""

from __future__ import annotations

import copy

from chalicelib.domain.exports import ExportJob
from chalicelib.domain.open_data import Window
from chalicelib.domain.requests import ServiceRequest
from tests.fakes.requests import FakeRequestStore


class FakeOpenDataSource:
    """The requests of a ``FakeRequestStore``, in the index's order (time, then id)."""

    def __init__(self, store: FakeRequestStore) -> None:
        self.store = store
        self.calls = 0

    def in_order(self, town_id: str, window: Window, limit: int) -> list[ServiceRequest]:
        self.calls += 1

        def when(r: ServiceRequest):  # noqa: ANN202
            return r.updated_at if window.by_updated else r.requested_at

        after = (window.after.at, window.after.request_id) if window.after else None
        found = sorted(
            (r for (t, _), r in self.store.requests.items()
             if t == town_id and window.start <= when(r) <= window.end
             and (after is None or (when(r), r.request_id) > after)),
            key=lambda r: (when(r), r.request_id))
        return [copy.deepcopy(r) for r in found[:limit]]


class FakeExportJobs:
    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], ExportJob] = {}
        self.saves = 0
        self.history: list[ExportJob] = []  # every save, in order (progress as shown)

    def create(self, job: ExportJob) -> bool:
        if (job.town_id, job.job_id) in self.jobs:
            return False
        self.jobs[(job.town_id, job.job_id)] = job
        return True

    def get(self, town_id: str, job_id: str) -> ExportJob | None:
        return self.jobs.get((town_id, job_id))

    def save(self, job: ExportJob) -> None:
        self.saves += 1
        self.history.append(job)
        self.jobs[(job.town_id, job.job_id)] = job


class FakeExportFiles:
    """Files being written (parts by upload) and finished files; ``fail_on_part`` makes
    that part's write raise, as an S3 outage would."""

    def __init__(self) -> None:
        self.uploads: dict[str, dict[int, bytes]] = {}
        self.files: dict[str, bytes] = {}
        self.types: dict[str, str] = {}
        self.abandoned: list[str] = []
        self.fail_on_part: int | None = None
        self._next = 0

    def start(self, key: str, content_type: str) -> str:
        self._next += 1
        upload = f"upload-{self._next}"
        self.uploads[upload] = {}
        self.types[key] = content_type
        return upload

    def write_part(self, key: str, upload: str, number: int, data: bytes) -> str:
        if number == self.fail_on_part:
            from chalicelib.domain.errors import StorageUnavailable

            raise StorageUnavailable("the export file could not be written")
        self.uploads[upload][number] = data
        return f"tag-{upload}-{number}"

    def finish(self, key: str, upload: str, tags: list[str]) -> None:
        parts = self.uploads.pop(upload)
        self.files[key] = b"".join(parts[n] for n in range(1, len(tags) + 1))

    def abandon(self, key: str, upload: str) -> None:
        self.uploads.pop(upload, None)
        self.abandoned.append(key)

    def link(self, key: str, file_name: str, seconds: int) -> str:
        return f"https://files.example/{key}?name={file_name}&expires={seconds}"


class FakeExportQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def export_requested(self, town_id: str, job_id: str) -> None:
        self.sent.append((town_id, job_id))
