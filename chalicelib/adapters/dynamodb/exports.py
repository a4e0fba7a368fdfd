"""Export jobs: ``PK=TOWN#<town>, SK=EXPORT#<job>``, one item per job, its progress written
over it by the worker, gone a week after it was made (``expires_at``: the table's TTL)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors, written_if
from chalicelib.adapters.dynamodb.keys import parse_sort_time, sort_time
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.exports import ExportJob


class ExportJobItem(TableItem):
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    requested_by = UnicodeAttribute()
    year = NumberAttribute(null=True)
    rows = NumberAttribute(default=0)
    parts = NumberAttribute(default=0)
    bytes_written = NumberAttribute(default=0)
    file_key = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()  # epoch seconds: DynamoDB's TTL removes the item


def _item(job: ExportJob) -> ExportJobItem:
    return ExportJobItem(
        keys.town_pk(job.town_id), keys.export_sk(job.job_id), kind=job.kind,
        status=job.status, created_at=sort_time(job.created_at),
        requested_by=job.requested_by, year=job.year, rows=job.rows, parts=job.parts,
        bytes_written=job.bytes_written, file_key=job.file_key,
        finished_at=sort_time(job.finished_at) if job.finished_at else None,
        error=job.error, expires_at=int(job.expires_at.timestamp()))


def _job(item: ExportJobItem) -> ExportJob:
    return ExportJob(
        town_id=keys.town_of(item.PK), job_id=item.SK.removeprefix(keys.EXPORT_PREFIX),
        kind=item.kind, created_at=parse_sort_time(item.created_at),
        requested_by=item.requested_by, status=item.status,
        year=int(item.year) if item.year is not None else None, rows=int(item.rows),
        parts=int(item.parts), bytes_written=int(item.bytes_written),
        file_key=item.file_key,
        finished_at=parse_sort_time(item.finished_at) if item.finished_at else None,
        error=item.error)


class DynamoExportJobs:
    """Each town's export jobs (``ExportJobs``)."""

    def create(self, job: ExportJob) -> bool:
        item = _item(job)
        return written_if(lambda: item.save(condition=ExportJobItem.PK.does_not_exist()))

    def get(self, town_id: str, job_id: str) -> ExportJob | None:
        # Strongly consistent: the progress page reads what the worker wrote a moment ago.
        item = get_or_none(ExportJobItem, keys.town_pk(town_id), keys.export_sk(job_id),
                           consistent_read=True)
        return _job(item) if item is not None else None

    def save(self, job: ExportJob) -> None:
        with storage_errors():
            _item(job).save()
