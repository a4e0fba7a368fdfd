"""The events Lambda hands Town311's functions, built in the bench's parent process.

A cold-start child may import nothing of the app before its timer, so every event (and the
state behind it: the stored request it reads, the routing message for a request nobody has
routed, the photo waiting under ``incoming/``) is made here, in the parent, against the
same moto server the children use, and handed over as JSON. The parent drives the app in
its own process for that (``app.app(event, context)``, as Lambda would), which also checks
each API event once before a child is timed with it.

``ColdTown`` holds that deployment: the resources of infra/template.yaml, Maple Falls, a
department with a webhook to a receiver on loopback (so that ``deliver_webhooks`` makes
a real delivery), a stored request to read. Each ``*_event`` method returns a fresh event
and the check its answer must pass; events that use something up (a routing message, an
upload) are made anew for every round.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.deployment import Deployment
from bench.emulator import Emulator
from bench.environment import API_KEY, POTHOLE, REGION, TOWN_ID, isolate

CHALICE_CONFIG = "config.json"
API_FUNCTION = "api_handler"
FORM_TYPE = "application/x-www-form-urlencoded"
DEPARTMENT = "ward3_roads"
# A busy Open311 client's key for the memory run's POSTs: the demo key allows 60 a minute.
LOAD_KEY = "t311_bench_load_key_0123456789"

# (resource as API Gateway names it, its path parameters' names)
REQUEST_RESOURCE = "/towns/{town}/open311/v2/requests/{request_id}"
TOWN_RESOURCE = "/towns/{town}/open311/v2/{resource}"
SERVICE_RESOURCE = "/towns/{town}/open311/v2/services/{code}"
TRACK_RESOURCE = "/towns/{town}/track/{number}"
DUPLICATES_RESOURCE = "/towns/{town}/possible-duplicates"


@dataclass(frozen=True)
class Job:
    """What one child runs: a handler string, an event, and what a good answer is.

    ``check`` is one of ``{"status": 200}`` (an API answer), ``{"equals": ...}`` or
    ``{"counts": true}`` (a schedule's tally: a dict of whole numbers)."""

    function: str  # the Lambda function's name in .chalice/config.json
    handler: str  # module.attribute, as Lambda's handler setting names it
    event: dict[str, Any]
    check: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "handler": self.handler, "event": self.event,
                "check": self.check}


def api_event(method: str, resource: str, parameters: dict[str, str],
              query: list[tuple[str, str]] | None = None, body: bytes | str | None = None,
              headers: dict[str, str] | None = None, binary: bool = False,
              source_ip: str = "203.0.113.7") -> dict[str, Any]:
    """An API Gateway REST (payload v1) proxy event, as Chalice gets it on Lambda.

    A binary body (a media type in the app's ``binary_types``, such as multipart) arrives
    base64-encoded; a form arrives as text."""
    path = resource
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", value)
    multi: dict[str, list[str]] = {}
    for name, value in query or []:
        multi.setdefault(name, []).append(value)
    all_headers = {"Host": "api.maplefalls.example", "User-Agent": "town311-bench",
                   "X-Forwarded-For": source_ip, "X-Forwarded-Proto": "https",
                   **(headers or {})}
    if isinstance(body, bytes):
        text: str | None = base64.b64encode(body).decode() if binary else body.decode()
    else:
        text = body
    request_id = str(uuid.uuid4())
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": parameters or None, "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": f"/api{path}",
            "stage": "api", "requestId": request_id, "accountId": "123456789012",
            "apiId": "bench00001", "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": "town311-bench"},
            "requestTimeEpoch": 1764547200000,
        },
        "body": text, "isBase64Encoded": binary and body is not None,
    }


def form_post(fields: list[tuple[str, str]], source_ip: str = "203.0.113.7",
              api_key: str = API_KEY) -> dict[str, Any]:
    """``POST requests.json`` of the demo town, form-encoded, with the demo API key."""
    return api_event("POST", TOWN_RESOURCE, {"town": TOWN_ID, "resource": "requests.json"},
                     body=urlencode([*fields, ("api_key", api_key)]),
                     headers={"Content-Type": FORM_TYPE}, source_ip=source_ip)


def small_jpeg() -> bytes:
    """A small phone-like photo (640 × 480, EXIF orientation and GPS, as phones send)."""
    from PIL import Image

    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (41.0, 52.0, 41.0), 3: "W", 4: (87.0, 37.0, 47.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


MAIL_DOMAIN = "reports.town311.local"


def resident_mail(sender: str, photo: bytes) -> bytes:
    """A resident's e-mail to the demo town as SES stores it (its verdict headers on top):
    a pothole at an address of the town, with a photo."""
    from email import policy
    from email.message import EmailMessage

    message = EmailMessage(policy=policy.SMTP)
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["Authentication-Results"] = ("amazonses.com; spf=pass smtp.mailfrom=example.org; "
                                         "dkim=pass header.i=@example.org; dmarc=pass "
                                         "header.from=example.org;")
    message["From"] = sender
    message["To"] = f"{TOWN_ID}@{MAIL_DOMAIN}"
    message["Subject"] = "Pothole"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content("A deep pothole outside 112 Oak St.\n")
    message.add_attachment(photo, maintype="image", subtype="jpeg", filename="hole.jpg")
    return message.as_bytes()


def multipart_post(photo: bytes) -> dict[str, Any]:
    """``POST requests.json`` with a photo as a multipart ``media`` part."""
    boundary = "town311bench"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in [*POTHOLE.items(), ("api_key", API_KEY)]]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
                 'filename="pothole.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return api_event("POST", TOWN_RESOURCE, {"town": TOWN_ID, "resource": "requests.json"},
                     body=b"".join(parts), binary=True,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


class _Receiver(http.server.BaseHTTPRequestHandler):
    """A department's webhook endpoint: takes every POST with 204 and counts it."""

    received = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    """A webhook receiver on a free loopback port, in a thread of this process."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/town311", _Receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class LambdaContext:
    """The parts of Lambda's context the handlers read (the child has its own copy)."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class ColdTown:
    """Maple Falls on the emulator, and fresh events for every function of the app."""

    def __init__(self, dep: Deployment, webhook_url: str) -> None:
        import app as app_module
        from local.pump import import_handler

        self.dep = dep
        self._app = app_module.app
        self._handler = import_handler
        self._prepare(webhook_url)
        self.sent_request = self.post(form_post(list(POTHOLE.items())))
        stored = dep.container.requests.get(TOWN_ID, self.sent_request, with_timeline=False)
        self.tracking_number = str(stored.tracking_number)
        self._residents = 0

    # --- setting the town up ---------------------------------------------------------------

    def _prepare(self, webhook_url: str) -> None:
        from bench.routing import WARD_3
        from chalicelib.domain.catalogue import Department
        from chalicelib.domain.routing import RoutingRule, RoutingRules
        from chalicelib.domain.towns import ApiKey, changeset_at
        from chalicelib.domain.zones import Zone, parse_zone_geometry

        store, now = self.dep.container.town_store, self.dep.container.now
        self.dep.container.towns.add_api_key(ApiKey(
            town_id=TOWN_ID, key_id="bench-load", name="Bench load", prefix=LOAD_KEY[:9],
            created_at=now(), rate_limit_per_minute=1_000_000), LOAD_KEY)
        store.save_department(TOWN_ID, Department(
            DEPARTMENT, "Ward 3 Roads", "roads@ward3-roads.example", webhook_url=webhook_url,
            webhook_secret="bench-webhook-secret-0123456789"), changeset_at(now()))
        store.save_zone(TOWN_ID, Zone("ward-3", "Ward 3", "ward", parse_zone_geometry(WARD_3)),
                        changeset_at(now()))
        store.save_routing(TOWN_ID, RoutingRules(rules=(
            RoutingRule("pothole", DEPARTMENT, "ward-3"),
            RoutingRule("streetlight_out", "utilities"))), changeset_at(now()))
        self.dep.client("ses").verify_email_identity(
            EmailAddress=self.dep.environment["TOWN311_MAIL_FROM"])
        self.dep.fresh_container()

    # --- driving the app in this process ---------------------------------------------------

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._app(event, LambdaContext(API_FUNCTION))
        return answer

    def post(self, event: dict[str, Any]) -> str:
        """POST a request; its service_request_id."""
        answer = self.call(event)
        if answer["statusCode"] != 201:
            raise RuntimeError(f"POST refused: {answer['statusCode']} {answer['body'][:300]}")
        return str(json.loads(answer["body"])[0]["service_request_id"])

    def _take(self, url_variable: str, request_id: str) -> dict[str, Any]:
        """Empty a queue, and return its message about ``request_id`` as Lambda's record."""
        from local.pump import sqs_record

        sqs, url = self.dep.client("sqs"), self.dep.environment[url_variable]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        found = None
        while messages := sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                MessageAttributeNames=["All"]).get("Messages", []):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                if request_id in message["Body"]:
                    found = sqs_record(message, arn, REGION)
        if found is None:
            raise RuntimeError(f"no message about {request_id} on {url_variable}")
        return found

    def _stream_insert(self, request_id: str) -> dict[str, Any]:
        """The table stream's INSERT of ``request_id``'s first timeline event (what the
        figures function's filter passes), as one record of Lambda's stream event."""
        from local.pump import stream_record

        arn = self.dep.client("dynamodb").describe_table(TableName=self.dep.table)[
            "Table"]["LatestStreamArn"]
        streams = self.dep.client("dynamodbstreams")
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                for record in page.get("Records", []):
                    image = record["dynamodb"].get("NewImage", {})
                    if record["eventName"] == "INSERT" and request_id in image.get(
                            "PK", {}).get("S", "") and image.get("SK", {}).get(
                            "S", "").startswith("EVENT#"):
                        return stream_record(record, arn)
                if not page.get("Records"):
                    break
                iterator = page.get("NextShardIterator")
        raise RuntimeError(f"no stream record of {request_id}'s first event")

    def _export_message(self) -> dict[str, Any]:
        """A fresh export job (this year's open data), queued as the public year-file
        route queues one; its message as Lambda's SQS record."""
        from chalicelib import bootstrap
        from chalicelib.domain.exports import OPEN_DATA_YEAR, ExportJob

        c = bootstrap.container()
        now = c.now()
        job = ExportJob(town_id=TOWN_ID, job_id=f"bench-{uuid.uuid4().hex[:12]}",
                        kind=OPEN_DATA_YEAR, created_at=now, requested_by="bench",
                        year=now.year)
        ports = c.open_data_ports
        ports.jobs.create(job)
        ports.queue.export_requested(job.town_id, job.job_id)
        return self._take("TOWN311_EXPORT_QUEUE_URL", job.job_id)

    # --- the events ------------------------------------------------------------------------

    def api_jobs(self) -> dict[str, Job]:
        """The three acceptance calls: reads of a stored request and of the catalogue, and
        a new request (each POST stores one more: it is what a resident does)."""
        handler = "app.app"
        return {
            "get-request": Job(API_FUNCTION, handler, api_event(
                "GET", REQUEST_RESOURCE,
                {"town": TOWN_ID, "request_id": f"{self.sent_request}.json"}), {"status": 200}),
            "get-services": Job(API_FUNCTION, handler, api_event(
                "GET", TOWN_RESOURCE, {"town": TOWN_ID, "resource": "services.json"}),
                {"status": 200}),
            "post-request": Job(API_FUNCTION, handler, form_post(list(POTHOLE.items())),
                                {"status": 201}),
        }

    def event_jobs(self, handlers: dict[str, str]) -> dict[str, Job]:
        """One fresh first event per event function (``handlers``: function name → handler
        string). A new resident's request (with an e-mail and a phone, from an address of
        their own: anonymous receipts have budgets per address and per IP) gives the routing
        and the receipt notice; another, routed here, gives a webhook delivery; a third,
        with a photo, gives an upload; a resident's e-mail, stored as SES stores it, gives
        the mail function's first message."""
        from local.pump import FakeLambdaContext, scheduled_event, sns_event

        no_failures: dict[str, Any] = {"equals": {"batchItemFailures": []}}
        self._residents += 1
        n = self._residents
        fresh = self.post(form_post([*POTHOLE.items(), ("email", f"resident{n}@example.org"),
                                     ("phone", f"+1312556{n:04d}")], f"198.51.100.{n % 250}"))
        routing = self._take("TOWN311_ROUTING_QUEUE_URL", fresh)
        notice = self._take("TOWN311_NOTICE_QUEUE_URL", fresh)

        routed = self.post(form_post(list(POTHOLE.items())))
        router = self._handler(handlers["route_new_requests"])
        done = router({"Records": [self._take("TOWN311_ROUTING_QUEUE_URL", routed)]},
                      FakeLambdaContext("route_new_requests"))
        if done != {"batchItemFailures": []}:
            raise RuntimeError(f"routing for the webhook event failed: {done}")
        webhook = self._take("TOWN311_WEBHOOK_QUEUE_URL", routed)

        with_photo = self.post(multipart_post(small_jpeg()))
        self._take("TOWN311_ROUTING_QUEUE_URL", with_photo)
        s3, bucket = self.dep.client("s3"), self.dep.environment["TOWN311_PHOTO_BUCKET"]
        (upload,) = [o for o in s3.list_objects_v2(Bucket=bucket, Prefix="incoming/").get(
            "Contents", []) if with_photo in o["Key"]]
        from local.pump import s3_event

        mail_key = f"inbound-mail/bench-{uuid.uuid4().hex}"
        s3.put_object(Bucket=bucket, Key=mail_key,
                      Body=resident_mail(f"resident{n}@example.org", small_jpeg()))
        (stored_mail,) = [o for o in s3.list_objects_v2(
            Bucket=bucket, Prefix=mail_key).get("Contents", [])]

        inbound_topic = f"arn:aws:sns:{REGION}:123456789012:town311-sms-inbound"
        sms = sns_event({"Type": "Notification", "MessageId": str(uuid.uuid4()),
                         "TopicArn": inbound_topic, "Message": json.dumps({
                             "originationNumber": f"+1312557{n:04d}",
                             "destinationNumber": "+13125550000", "messageBody": "STOP",
                             "inboundMessageId": str(uuid.uuid4())})},
                        f"{inbound_topic}:{uuid.uuid4()}")
        events: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
            # The table's stream: the new request's "submitted" event, as Lambda batches it.
            "count_figures": ({"Records": [self._stream_insert(fresh)]}, no_failures),
            # An export job's message, as asking for a year's file or a town export queues.
            "write_exports": ({"Records": [self._export_message()]}, no_failures),
            "route_new_requests": ({"Records": [routing]}, no_failures),
            "deliver_webhooks": ({"Records": [webhook]}, no_failures),
            "send_notices": ({"Records": [notice]}, no_failures),
            "resend_unrouted_requests": (scheduled_event("resend", REGION), {"counts": True}),
            "check_service_levels": (scheduled_event("sla", REGION), {"counts": True}),
            "release_quiet_hours_texts": (scheduled_event("quiet", REGION), {"counts": True}),
            "receive_sms": (sms, {"equals": {"outcome": "stopped"}}),
            "process_photo": (s3_event(bucket, upload, REGION), {"equals": {"published": 1}}),
            # A resident's e-mail as SES stores it: a draft in triage, its photo, a reply.
            "receive_mail": (s3_event(bucket, stored_mail, REGION), {"equals": {"drafted": 1}}),
        }
        return {name: Job(name, handlers[name], event, check)
                for name, (event, check) in events.items()}


def event_handlers() -> dict[str, str]:
    """Every event function's handler string, by function name: the app's event sources
    and its plain Lambda functions (the photo function, which infra/ wires to S3)."""
    import app as app_module

    handlers = {source.name: source.handler_string for source in app_module.app.event_sources}
    handlers.update((f.name, f.handler_string) for f in app_module.app.pure_lambda_functions)
    return handlers


@contextmanager
def cold_town(emulator: Emulator) -> Iterator[tuple[ColdTown, dict[str, str], type[Any]]]:
    """Provision and seed the emulator, with this process's clients pointed at it; yields
    the town, the environment the children need and the webhook receiver (to count its
    deliveries). The process's environment and the app's container are put back after."""
    saved = dict(os.environ)
    isolate(os.environ)
    os.environ.update(emulator.environment())
    os.environ["TOWN311_ALLOW_LOOPBACK_WEBHOOKS"] = "1"
    import boto3

    from chalicelib import bootstrap
    from chalicelib.config import settings_from_env
    from chalicelib.services.towns import seed_demo_town
    from local.provision import provision

    try:
        with webhook_receiver() as (url, receiver):
            session = boto3.session.Session(region_name=REGION)
            environment = provision(session)
            os.environ.update(environment)
            os.environ.setdefault("TOWN311_MAIL_FROM", "311@maplefalls.example")
            os.environ["TOWN311_MAIL_INTAKE_DOMAIN"] = MAIL_DOMAIN  # receive_mail's town
            container = bootstrap.Container(settings_from_env())
            bootstrap.install(container)
            seed_demo_town(container.towns, api_key=API_KEY)
            dep = Deployment(dict(os.environ), container, None, session)
            town = ColdTown(dep, url)
            child_env = {name: value for name, value in os.environ.items()
                         if name.startswith("TOWN311_")} | emulator.environment()
            yield town, child_env, receiver
    finally:
        bootstrap.reset()
        os.environ.clear()
        os.environ.update(saved)
