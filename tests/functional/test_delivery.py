"""Departments' channels: an assignment lands on the department's own queue in the
published schema and is POSTed, signed, to its webhook; refusals back off and retry."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.schemas.delivery import RequestAssigned
from tests.functional.helpers import POTHOLE, body, post_request
from tests.lambda_events import sqs_event, sqs_record_of

REPORTER = {"email": "ana.reporter@example.org", "first_name": "Ana", "last_name": "Reyes",
            "phone": "+13125550123"}


class Receiver:
    """A work-order system's webhook endpoint on 127.0.0.1: records every POST and answers
    with the next of ``statuses`` (200 once they run out)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _admin(api, staff, method: str, path: str, payload: dict | None = None) -> Any:
    r = api.http.request(method, path, headers=staff.headers("town_admin"),
                         body=json.dumps(payload).encode() if payload is not None else b"")
    return r.status_code, json.loads(r.body)


def _forget_cached_catalogue(deployment) -> None:
    # The router reads the catalogue through the 60-second cache; the admin just changed it.
    towns = deployment.container.towns
    towns._towns._entries.clear()
    towns._catalogues._entries.clear()


def _allow_loopback_webhooks(deployment) -> None:
    # The receiver listens on 127.0.0.1, as on `make run`, whose environment sets
    # TOWN311_ALLOW_LOOPBACK_WEBHOOKS; deployed stages (and the hostile tests) do not.
    settings = deployment.container.settings
    deployment.container.settings = dataclasses.replace(
        settings, allow_loopback_webhooks=True)


def _set_up_public_works(api, staff, deployment, receiver: Receiver) -> str:
    _allow_loopback_webhooks(deployment)
    status, department = _admin(api, staff, "PUT", "/admin/departments/public_works", {
        "name": "Public Works — Streets", "queue": True, "webhook_url": receiver.url})
    assert status == 200, department
    _forget_cached_catalogue(deployment)
    return department["webhook_secret"]


def _receive(deployment, queue_url: str) -> list[dict[str, Any]]:
    return deployment.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"],
        VisibilityTimeout=600).get("Messages", [])


def _lambda_event(messages: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """A Lambda SQS event for messages received from ``queue``: each record keeps its own
    messageId and receive count (chalice's generate_sqs_event would give one id to all)."""
    return sqs_event(*(sqs_record_of(m, queue=queue) for m in messages))


def _route(deployment) -> list[dict[str, Any]]:
    """What the event pump does for the router; returns the routing messages it took."""
    url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    messages = _receive(deployment, url)
    assert messages
    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("route_new_requests",
                                        _lambda_event(messages, "routing")).payload
    assert result == {"batchItemFailures": []}
    for m in messages:
        deployment.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return messages


def _deliver_webhooks(deployment, messages: list[dict[str, Any]]) -> dict[str, Any]:
    with Client(app) as lambdas:
        return lambdas.lambda_.invoke("deliver_webhooks",
                                      _lambda_event(messages, "webhooks")).payload


def _department_queue_url(api, staff) -> str:
    status, found = _admin(api, staff, "GET", "/admin/departments/public_works/queue")
    assert status == 200, found
    return found["queue_url"]


def _file_pothole(api) -> str:
    (receipt,) = body(post_request(api, {**POTHOLE, **REPORTER}))
    return receipt["service_request_id"]


def _headers(delivery: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in delivery["headers"].items()}


def _valid_signature(secret: str, delivery: dict[str, Any]) -> bool:
    headers = _headers(delivery)
    signed = f"{headers['x-town311-timestamp']}.".encode() + delivery["body"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-town311-signature"])


def test_an_assignment_reaches_the_department_queue_and_its_webhook_signed(
        api, staff, deployment, receiver):
    secret = _set_up_public_works(api, staff, deployment, receiver)
    rid = _file_pothole(api)
    _route(deployment)

    # The work-order system polls the queue the admin API names, with plain boto3.
    (queued,) = _receive(deployment, _department_queue_url(api, staff))
    assignment = RequestAssigned.model_validate_json(queued["Body"])
    document = json.loads(queued["Body"])
    assert document["schema_version"] == 1 and document["event"] == "assigned"
    assert document["town"] == {"jurisdiction_id": "maplefalls.example"}
    assert document["department"] == {"code": "public_works", "name": "Public Works — Streets"}
    request = document["service_request"]
    assert request["service_request_id"] == rid
    assert (request["service_code"], request["status"]) == ("pothole", "open")
    assert (request["lat"], request["long"]) == (41.8781, -87.6298)
    assert request["attributes"] == {"size": "large"}
    assert request["requested_datetime"] == "2026-11-20T15:30:00Z"
    assert request["agency_responsible"] == "Public Works — Streets"
    assert set(request) == set(RequestAssigned.model_json_schema()["$defs"][
        "AssignedServiceRequest"]["properties"])
    assert document["links"] == {
        "open311": f"/towns/maplefalls.example/open311/v2/requests/{rid}.json",
        "staff": f"/staff/requests/{rid}"}
    for private in REPORTER.values():
        assert private not in queued["Body"]

    (webhook_message,) = _receive(deployment, deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"])
    assert _deliver_webhooks(deployment, [webhook_message]) == {"batchItemFailures": []}
    (delivery,) = receiver.received
    headers = _headers(delivery)
    assert delivery["path"] == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Town311-Webhooks/1"
    assert headers["x-town311-delivery"] == assignment.delivery_id
    assert headers["x-town311-timestamp"] == str(int(deployment.clock[0].timestamp()))
    assert _valid_signature(secret, delivery)
    assert not _valid_signature("whsec_someone-else", delivery)
    assert delivery["body"] == queued["Body"].encode()  # the same document on both channels


def test_a_refused_webhook_fails_alone_and_is_hidden_for_its_backoff(
        api, staff, deployment, receiver):
    _set_up_public_works(api, staff, deployment, receiver)
    _file_pothole(api)
    _file_pothole(api)
    _route(deployment)
    webhook_url = deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"]
    first, second = _receive(deployment, webhook_url)
    first["Attributes"]["ApproximateReceiveCount"] = "3"  # its third try
    receiver.statuses = [500, 200]
    hidden: list[dict[str, Any]] = []
    sqs = deployment.container.client("sqs")
    sqs.meta.events.register("provide-client-params.sqs.ChangeMessageVisibility",
                             lambda params, **_: hidden.append(params))

    result = _deliver_webhooks(deployment, [first, second])

    assert result == {"batchItemFailures": [{"itemIdentifier": first["MessageId"]}]}
    assert len(receiver.received) == 2
    (call,) = hidden
    assert call["ReceiptHandle"] == first["ReceiptHandle"]
    assert call["VisibilityTimeout"] == 120  # 30 s, doubled after each failed try
    # Still on the queue (in flight) for the next try; the delivered one is the pump's to
    # delete.
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=webhook_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "2"


def test_an_unreachable_webhook_is_a_failure_too(api, staff, deployment, receiver):
    _set_up_public_works(api, staff, deployment, receiver)
    _file_pothole(api)
    _route(deployment)
    (message,) = _receive(deployment, deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"])
    receiver.__exit__()  # nobody listens on the port any more

    result = _deliver_webhooks(deployment, [message])

    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_a_redirect_is_an_answer_not_a_new_destination(receiver):
    from chalicelib.adapters.channels import HttpWebhookPoster
    from chalicelib.domain.addresses import check_webhook_destination

    receiver.statuses = [307]
    destination = check_webhook_destination(receiver.url, ["127.0.0.1"], allow_loopback=True)

    assert HttpWebhookPoster().post(destination, b"{}", {}) == 307
    assert [d["path"] for d in receiver.received] == ["/hook"]


def test_a_redelivered_routing_message_delivers_again_with_the_same_delivery_id(
        api, staff, deployment, receiver):
    _set_up_public_works(api, staff, deployment, receiver)
    _file_pothole(api)
    (routing_message,) = _route(deployment)
    with Client(app) as lambdas:  # SQS delivers the routing message a second time
        lambdas.lambda_.invoke("route_new_requests", _lambda_event(
            [{**routing_message, "MessageId": "again"}], "routing"))

    queued = _receive(deployment, _department_queue_url(api, staff))
    webhook_messages = _receive(deployment, deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"])

    assert len(queued) == len(webhook_messages) == 2
    ids = {RequestAssigned.model_validate_json(m["Body"]).delivery_id for m in queued}
    assert len(ids) == 1
    _deliver_webhooks(deployment, webhook_messages)
    assert {_headers(d)["x-town311-delivery"] for d in receiver.received} == ids


def test_a_department_without_channels_gets_only_the_console_inbox(api, staff, deployment):
    _file_pothole(api)
    _route(deployment)

    assert _receive(deployment, deployment.environment["TOWN311_WEBHOOK_QUEUE_URL"]) == []
    status, error = _admin(api, staff, "GET", "/admin/departments/public_works/queue")
    assert status == 409 and "queue" in error["error"]["message"]


def test_the_queue_of_a_department_is_its_own_and_stable(api, staff, deployment, receiver):
    _set_up_public_works(api, staff, deployment, receiver)
    status, found = _admin(api, staff, "GET", "/admin/departments/public_works/queue")
    again = _admin(api, staff, "GET", "/admin/departments/public_works/queue")[1]

    assert status == 200 and again == found
    assert found["schema_version"] == 1
    assert found["queue_name"].startswith("town311-local-dept-")
    assert found["queue_url"].endswith("/" + found["queue_name"])
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=found["queue_url"], AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert attributes["SqsManagedSseEnabled"] == "true"
    status, _ = _admin(api, staff, "GET", "/admin/departments/nowhere/queue")
    assert status == 404


def test_the_local_pump_posts_webhooks_and_leaves_refused_ones_for_their_retry(
        api, staff, deployment, receiver):
    from local.provision import provision_stack
    from local.pump import SqsSource, discover_sources

    stack = provision_stack(deployment.session)  # the resources exist: this only reads them
    sqs = deployment.client("sqs")
    (source,) = [s for s in discover_sources(app, stack, sqs, deployment.client("s3"))
                 if isinstance(s, SqsSource) and s.function_name.endswith("-DeliverWebhooks")]
    _set_up_public_works(api, staff, deployment, receiver)
    _file_pothole(api)
    _file_pothole(api)
    _route(deployment)
    receiver.statuses = [503]

    assert source.poll_once(wait_seconds=0) == 2

    assert len(receiver.received) == 2
    attributes = sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    # The delivered message is deleted; the refused one waits out its 30-second backoff.
    assert (attributes["ApproximateNumberOfMessages"],
            attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")
