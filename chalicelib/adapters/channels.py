"""Departments' delivery channels: their own SQS queues, the webhook queue, and the HTTP
POST of a webhook. The console inbox needs nothing here: an assigned request is in the
department's inbox (the by_department index) as soon as the assignment is stored."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.aws import _LazyClient
from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import StorageUnavailable
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.schemas.delivery import RequestAssigned, WebhookDelivery

if TYPE_CHECKING:
    from chalicelib.domain.addresses import Destination

log = logging.getLogger(__name__)

# Department queues are made by the app, not the stack: they keep a message 14 days (the
# most SQS allows), so a work-order system that is down for a while loses nothing.
DEPARTMENT_QUEUE_ATTRIBUTES = {"MessageRetentionPeriod": "1209600",
                               "SqsManagedSseEnabled": "true"}
_NO_SUCH_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _no_such_queue(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _NO_SUCH_QUEUE


class SqsAssignmentChannels(_LazyClient):
    """``AssignmentChannels`` on SQS. A department with ``queue`` gets each assignment on
    its own queue, ``<prefix>-dept-<sha1(town:department)[:16]>`` (made on first use); one
    with a webhook gets a message on the webhook queue, which ``deliver_webhooks`` POSTs.
    One send per channel per delivery."""

    def __init__(self, make_client: Callable[[], Any], queue_prefix: str,
                 webhook_queue_url: str, root: str = "") -> None:
        super().__init__(make_client)
        self._prefix = queue_prefix
        self._webhook_queue_url = webhook_queue_url
        self._root = root
        # Queue URLs never change: a warm Lambda asks SQS once per department.
        self._urls: dict[str, str] = {}

    def deliver(self, town_id: str, department: Department, request: ServiceRequest,
                event: TimelineEvent) -> None:
        if not department.queue and not department.webhook_url:
            return
        self.send(town_id, department,
                  RequestAssigned.of(town_id, department, request, event, self._root))

    def send(self, town_id: str, department: Department, assignment: RequestAssigned,
             channels: tuple[str, ...] = ("queue", "webhook")) -> list[str]:
        sent = []
        if department.queue and "queue" in channels:
            self._send_to_department(town_id, department.code, assignment.body().decode())
            sent.append("queue")
        if department.webhook_url and "webhook" in channels:
            message = WebhookDelivery(town_id=town_id, department=department.code,
                                      assignment=assignment)
            self._send(self._webhook_queue_url, message.model_dump_json(), "the webhook queue")
            sent.append("webhook")
        return sent

    def queue_name_for(self, town_id: str, department: str) -> str:
        # Hashed: town and department codes may hold characters queue names may not, and
        # the name must stay under SQS's 80 characters whatever their length.
        digest = hashlib.sha1(f"{town_id}:{department}".encode(), usedforsecurity=False)
        return f"{self._prefix}-dept-{digest.hexdigest()[:16]}"

    def queue_url_for(self, town_id: str, department: str) -> str:
        name = self.queue_name_for(town_id, department)
        if name not in self._urls:
            self._urls[name] = self._find_or_create(name)
        return self._urls[name]

    def retry_webhook_later(self, receipt_handle: str, seconds: int) -> None:
        """Hide a failed webhook message for ``seconds`` (its backoff) instead of the
        queue's visibility timeout. Best effort: if it fails, the message still comes back,
        only sooner."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self._webhook_queue_url, ReceiptHandle=receipt_handle,
                VisibilityTimeout=seconds)
        except (ClientError, BotoCoreError) as e:
            log.warning("could not delay a failed webhook message", exc_info=e)

    def _send_to_department(self, town_id: str, department: str, body: str) -> None:
        url = self.queue_url_for(town_id, department)
        try:
            self._client.send_message(QueueUrl=url, MessageBody=body)
        except ClientError as e:
            if not _no_such_queue(e):
                raise StorageUnavailable("the department's queue is unavailable") from e
            # Deleted by hand since this Lambda cached its URL: make it again, once.
            self._urls.pop(self.queue_name_for(town_id, department), None)
            self._send(self.queue_url_for(town_id, department), body, "the department's queue")
        except BotoCoreError as e:
            raise StorageUnavailable("the department's queue is unavailable") from e

    def _find_or_create(self, name: str) -> str:
        try:
            try:
                return str(self._client.get_queue_url(QueueName=name)["QueueUrl"])
            except ClientError as e:
                if not _no_such_queue(e):
                    raise
            # CreateQueue with the same attributes is idempotent: two Lambdas racing to
            # make the queue both get its URL.
            log.info("department queue created", extra={"queue_name": name})
            return str(self._client.create_queue(
                QueueName=name, Attributes=DEPARTMENT_QUEUE_ATTRIBUTES)["QueueUrl"])
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("the department's queue is unavailable") from e

    def _send(self, url: str, body: str, what: str) -> None:
        try:
            self._client.send_message(QueueUrl=url, MessageBody=body)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable(f"{what} is unavailable") from e


class SystemResolver:
    """``HostResolver`` with the system's resolver (getaddrinfo): the addresses a
    connection to ``host`` would try, in the order it would try them. Numeric spellings
    (``2130706433``, ``0x7f.1``) come back as the address they mean."""

    def resolve(self, host: str, port: int) -> list[str]:
        import socket

        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:  # socket.gaierror is an OSError
            log.warning("webhook host did not resolve",
                        extra={"host": host, "error": type(e).__name__})
            return []
        # sockaddr[0] is the address as text (with "%zone" for a scoped IPv6 address).
        return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


class HttpWebhookPoster:
    """``WebhookPoster`` with the standard library's http.client (no HTTP dependency in
    the zip). It connects only to the destination's checked addresses, while the Host
    header, TLS SNI and the certificate check use its name; it never follows a redirect
    (http.client does not), and it ignores *_proxy variables (http.client reads none: a
    developer's shell must not send signed deliveries elsewhere)."""

    def __init__(self, timeout_seconds: float = 5.0, max_answer_bytes: int = 64 * 1024,
                 tls: Any = None) -> None:
        self._timeout = timeout_seconds
        self._max_answer = max_answer_bytes
        self._tls = tls  # an ssl.SSLContext; the system's trusted CAs when None

    def post(self, destination: Destination, body: bytes,
             headers: dict[str, str]) -> int | None:
        import http.client

        connection = self._connection(destination)
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            with connection.getresponse() as answer:
                answer.read(self._max_answer)
                return int(answer.status)
        except (http.client.HTTPException, OSError, ValueError) as e:
            # OSError covers refused, timed out, reset and TLS failures (a certificate
            # that is not the host's is an ssl.SSLCertVerificationError).
            log.warning("webhook did not answer", extra={
                "host": destination.host, "error": type(e).__name__})
            return None
        finally:
            connection.close()

    def _connection(self, destination: Destination) -> Any:
        import http.client
        import ssl

        connection: http.client.HTTPConnection
        if destination.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                destination.host, destination.port, timeout=self._timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(
                destination.host, destination.port, timeout=self._timeout)
        # http.client opens its socket through this one hook, with (host, port); the TLS
        # wrap and the Host header that follow still use the name. Replacing it pins the
        # connection to the addresses that were checked: a second lookup of the name could
        # answer differently (DNS rebinding).
        connection._create_connection = _connect_to(destination.addresses)  # type: ignore[attr-defined]
        return connection


def _connect_to(addresses: tuple[str, ...]) -> Callable[..., Any]:
    import socket

    def create_connection(address: tuple[str, int], timeout: Any = None,
                          source_address: Any = None) -> socket.socket:
        error: OSError | None = None
        for checked in addresses:  # in the resolver's order, like socket.create_connection
            try:
                return socket.create_connection((checked, address[1]), timeout,
                                                source_address)
            except OSError as e:
                error = e
        raise error or OSError("no address to connect to")

    return create_connection
