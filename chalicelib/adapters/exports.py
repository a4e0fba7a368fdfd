"""Export files on S3 (multipart uploads, presigned GETs) and the export worker's queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import _LazyClient
from chalicelib.domain.errors import StorageUnavailable


class S3ExportFiles(_LazyClient):
    """Export files under ``exports/`` of the deployment's private bucket (which expires
    them and aborts forgotten uploads): written part by part, so a worker holds one part
    (5 MB) in memory, never the town; read only through presigned links."""

    def __init__(self, make_client: Callable[[], Any], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    def _call(self, what: str, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._client, operation)(Bucket=self._bucket, **params)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable(f"the export file could not be {what}") from e

    def start(self, key: str, content_type: str) -> str:
        made = self._call("started", "create_multipart_upload", Key=key,
                          ContentType=content_type)
        return str(made["UploadId"])

    def write_part(self, key: str, upload: str, number: int, data: bytes) -> str:
        written = self._call("written", "upload_part", Key=key, UploadId=upload,
                             PartNumber=number, Body=data)
        return str(written["ETag"])

    def finish(self, key: str, upload: str, tags: list[str]) -> None:
        self._call("finished", "complete_multipart_upload", Key=key, UploadId=upload,
                   MultipartUpload={"Parts": [{"PartNumber": n, "ETag": tag}
                                              for n, tag in enumerate(tags, start=1)]})

    def abandon(self, key: str, upload: str) -> None:
        self._call("dropped", "abort_multipart_upload", Key=key, UploadId=upload)

    def link(self, key: str, file_name: str, seconds: int) -> str:
        try:
            return str(self._client.generate_presigned_url(
                "get_object", ExpiresIn=seconds, Params={
                    "Bucket": self._bucket, "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{file_name}"'}))
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("no link to the export file") from e


class SqsExportQueue(_LazyClient):
    """Export jobs for the worker (``chalicelib.schemas.queues.ExportMessage``)."""

    def __init__(self, make_client: Callable[[], Any], queue_url: str | None) -> None:
        super().__init__(make_client)
        self._queue_url = queue_url

    def export_requested(self, town_id: str, job_id: str) -> None:
        from chalicelib.schemas.queues import ExportMessage

        if not self._queue_url:
            raise StorageUnavailable("exports are not set up here (TOWN311_EXPORT_QUEUE_URL)")

        body = ExportMessage(town_id=town_id, job_id=job_id)
        try:
            self._client.send_message(QueueUrl=self._queue_url,
                                      MessageBody=body.model_dump_json())
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the export queue is unavailable") from e
