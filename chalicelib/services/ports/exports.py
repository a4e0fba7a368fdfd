"""Open data and background exports: the requests in index order, export jobs, the files
they write and the queue that starts them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.exports import ExportJob
    from chalicelib.domain.open_data import Window
    from chalicelib.domain.requests import ServiceRequest


class OpenDataSource(Protocol):
    """A town's requests in ascending order of updated (or requested) time: one Query of
    the town's index per page, never a Scan."""

    def in_order(self, town_id: str, window: Window, limit: int) -> list[ServiceRequest]:
        """At most ``limit`` requests of ``window``, oldest first, strictly after
        ``window.after`` when it is given (a request updated since moved past it)."""
        ...


class ExportJobs(Protocol):
    """Export jobs of each town, kept ``JOB_DAYS`` (a TTL) and then forgotten."""

    def create(self, job: ExportJob) -> bool:
        """Store a new job; False (and nothing written) if the town has one of that id."""
        ...

    def get(self, town_id: str, job_id: str) -> ExportJob | None: ...

    def save(self, job: ExportJob) -> None:
        """Write the job's progress or outcome over what was stored."""
        ...


class ExportFiles(Protocol):
    """Files written in parts (S3 multipart upload) and read through presigned links."""

    def start(self, key: str, content_type: str) -> str:
        """Begin a file; the answer names the upload for the calls below."""
        ...

    def write_part(self, key: str, upload: str, number: int, data: bytes) -> str:
        """Part ``number`` (1, 2, ...; all but the last at least 5 MB); its tag."""
        ...

    def finish(self, key: str, upload: str, tags: list[str]) -> None:
        """Join the parts (``tags`` in order): the file exists from now on."""
        ...

    def abandon(self, key: str, upload: str) -> None:
        """Drop an unfinished file's parts (they would be stored, and billed, otherwise)."""
        ...

    def link(self, key: str, file_name: str, seconds: int) -> str:
        """A presigned GET of the file, as a download named ``file_name``, for ``seconds``."""
        ...


class ExportQueue(Protocol):
    """The export worker's queue: one message per job."""

    def export_requested(self, town_id: str, job_id: str) -> None: ...
