"""E-mail intake's raw messages: the objects SES receiving writes under ``inbound-mail/``
of the deployment's private bucket (infra/template.yaml: its receipt rule's S3 action)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import _LazyClient
from chalicelib.domain.errors import StorageUnavailable
from chalicelib.domain.mail import MailTooLarge

INBOUND_PREFIX = "inbound-mail/"


class S3InboundMailbox(_LazyClient):
    def __init__(self, make_client: Callable[[], Any], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket

    def read(self, key: str, max_bytes: int) -> bytes | None:
        if not key.startswith(INBOUND_PREFIX):
            raise ValueError(f"{key!r} is not under {INBOUND_PREFIX}")
        try:
            found = self._client.get_object(Bucket=self._bucket, Key=key)
            if int(found.get("ContentLength") or 0) > max_bytes:
                found["Body"].close()
                raise MailTooLarge(f"the message is over {max_bytes} bytes")
            content: bytes = found["Body"].read(max_bytes + 1)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageUnavailable("the mail bucket is unavailable") from e
        except BotoCoreError as e:
            raise StorageUnavailable("the mail bucket is unavailable") from e
        if len(content) > max_bytes:
            raise MailTooLarge(f"the message is over {max_bytes} bytes")
        return content

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the mail bucket is unavailable") from e
