"""SQS, S3 and powertools idempotency: each AWS dependency behind a small class handed its
client. Clients are made by bootstrap on first use, never at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import Conflict, RetryLater, StorageUnavailable


class _LazyClient:
    """Holds a client factory; the client is made on the first call that needs it."""

    def __init__(self, make_client: Callable[[], Any]) -> None:
        self._make_client = make_client
        self._made: Any = None

    @property
    def _client(self) -> Any:
        if self._made is None:
            self._made = self._make_client()
        return self._made


class SqsRoutingQueue(_LazyClient):
    """Routing messages (``chalicelib.schemas.queues.RoutingMessage``)."""

    def __init__(self, make_client: Callable[[], Any], queue_url: str) -> None:
        super().__init__(make_client)
        self._queue_url = queue_url

    def request_submitted(self, town_id: str, request_id: str) -> None:
        from chalicelib.schemas.queues import RoutingMessage

        body = RoutingMessage(town_id=town_id, service_request_id=request_id)
        try:
            self._client.send_message(QueueUrl=self._queue_url,
                                      MessageBody=body.model_dump_json())
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the routing queue is unavailable") from e


class SqsNoticeQueue(_LazyClient):
    """The notices queue (``chalicelib.schemas.notices``): ten messages per call."""

    def __init__(self, make_client: Callable[[], Any], queue_url: str) -> None:
        super().__init__(make_client)
        self._queue_url = queue_url

    def send(self, bodies: list[str]) -> None:
        try:
            for start in range(0, len(bodies), 10):
                chunk = bodies[start:start + 10]
                if len(chunk) == 1:
                    self._client.send_message(QueueUrl=self._queue_url, MessageBody=chunk[0])
                    continue
                result = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=[
                    {"Id": str(n), "MessageBody": body} for n, body in enumerate(chunk)])
                if result.get("Failed"):
                    raise StorageUnavailable("the notices queue refused some messages")
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the notices queue is unavailable") from e


INCOMING_PREFIX = "incoming/"


class S3PhotoStore(_LazyClient):
    """Photos in one private bucket: uploads under ``incoming/``, processed copies under
    ``photos/``. Residents see photos through short-lived signed URLs handed out by the API,
    so a photo hidden by staff stops being reachable without touching the bucket policy."""

    def __init__(self, make_client: Callable[[], Any], bucket: str) -> None:
        super().__init__(make_client)
        self._bucket = bucket
        self._origin: str | None = None

    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        key = f"{INCOMING_PREFIX}{town_id}/{request_id}/{photo_id}"
        self._put(key, content, content_type)
        return key

    def read(self, key: str) -> bytes | None:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageUnavailable("photo storage is unavailable") from e
        except BotoCoreError as e:
            raise StorageUnavailable("photo storage is unavailable") from e

    def publish(self, key: str, content: bytes, content_type: str) -> None:
        self._put(key, content, content_type)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("photo storage is unavailable") from e

    def upload_form(self, key: str, content_type: str, max_bytes: int,
                    seconds: int) -> dict[str, object]:
        """A presigned POST: S3 itself refuses another key, another type or a bigger file
        (moto does not enforce these; the photo handler checks size and type again)."""
        try:
            post = self._client.generate_presigned_post(
                Bucket=self._bucket, Key=key, Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type},
                            ["content-length-range", 1, max_bytes]],
                ExpiresIn=seconds)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("photo storage is unavailable") from e
        return {"url": post["url"], "fields": post["fields"]}

    def upload_origin(self) -> str:
        """The origin of the URL ``upload_form`` hands out, read from a form the client
        signs (no call to S3): whatever the region, addressing style or endpoint
        (``AWS_ENDPOINT_URL``: moto's server locally), it is the one browsers post to."""
        if self._origin is None:
            from urllib.parse import urlsplit

            try:
                url = self._client.generate_presigned_post(
                    Bucket=self._bucket, Key=INCOMING_PREFIX, ExpiresIn=60)["url"]
            except (ClientError, BotoCoreError) as e:
                raise StorageUnavailable("photo storage is unavailable") from e
            parts = urlsplit(url)
            self._origin = f"{parts.scheme}://{parts.netloc}"
        return self._origin

    def signed_url(self, key: str, seconds: int = 900) -> str:
        return str(self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds))

    def _put(self, key: str, content: bytes, content_type: str) -> None:
        try:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=content,
                                    ContentType=content_type)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("photo storage is unavailable") from e


class PowertoolsIdempotency:
    """Retried submissions, remembered in DynamoDB by powertools' idempotency utility."""

    def __init__(self, table_name: str, make_client: Callable[[], Any],
                 expires_after_seconds: int = 24 * 3600) -> None:
        self._table_name = table_name
        # The function's own DynamoDB client: powertools would otherwise make a boto3
        # session of its own (and read botocore's data files again) on the first keyed POST.
        self._make_client = make_client
        self._expires_after_seconds = expires_after_seconds
        self._store: Any = None
        self._config: Any = None

    def run_once(self, key: str, payload: dict[str, object],
                 work: Callable[[], dict[str, object]],
                 deadline: Any = None) -> dict[str, object]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        if self._store is None:  # built on the first keyed POST, not on every POST
            self._store = DynamoDBPersistenceLayer(table_name=self._table_name,
                                                   boto3_client=self._make_client())
            self._config = IdempotencyConfig(
                event_key_jmespath="key", payload_validation_jmespath="payload",
                expires_after_seconds=self._expires_after_seconds,
                raise_on_no_idempotency_key=True)

        @idempotent_function(data_keyword_argument="call", persistence_store=self._store,
                             config=self._config)
        def submit_service_request(call: dict[str, object]) -> dict[str, object]:
            return work()

        if deadline is not None and hasattr(deadline, "get_remaining_time_in_millis"):
            # An in-progress record then expires with the invocation, so a call killed by
            # the Lambda timeout can be retried at once rather than after the record's TTL.
            self._config.register_lambda_context(deadline)
        try:
            return submit_service_request(call={"key": key, "payload": payload})
        except IdempotencyValidationError as e:
            raise Conflict("this Idempotency-Key was already used for a different request") from e
        except IdempotencyAlreadyInProgressError as e:
            raise RetryLater("the first request with this Idempotency-Key is still running") from e
        except IdempotencyPersistenceLayerError as e:
            raise StorageUnavailable("the idempotency store is unavailable") from e
