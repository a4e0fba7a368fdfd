"""Routing: AWS calls per routed request, and in-process routing throughput.

The router is ``route_new_requests`` (``chalicelib/events/pipeline.py``), an SQS handler
that assigns each stored request to its department (``chalicelib/services/routing.py``).
Both measurements drive it as Lambda would, through ``chalice.test.Client(app).lambda_``
with Lambda-shaped SQS events, after giving Maple Falls what makes routing do real work: a
ward (the Ward 3 polygon of ``tests/functional/test_routing.py``, which holds the bench's
pothole), a department of its own, and a rule sending potholes in that ward to it. If the
container has ``channels`` (delivery of each assignment to the department's own SQS queue
and to the webhook queue), the department gets a queue and a webhook so that both sends
are counted; without it the sends are reported as not measured.

Calls per routed request (targets, on a warm container): the town, its catalogue and its
rules 0 reads (cached per warm Lambda); the request 1 GetItem (the message only names it);
1 conditional TransactWriteItems of the request and its timeline event; 1 SendMessage per
channel, and 1 PutItem of the department's delivery result per send to its queue; nothing
else, and no client created. The router's container is made fresh after
the requests are posted (the router is its own Lambda, so the API's warm caches are not
its), routes one request cold, then a second one warm: the warm one is checked.

Throughput: ``n`` requests routed by the handler in batches of 10 (as Lambda delivers
them), against raw boto3 making only the unavoidable calls per request (``get_item`` +
``transact_write_items`` of 2 items, + one ``send_message`` per channel) with the app's own
parameters, captured from one routed request and replayed with each request's ids. The
requests are stored untimed, with the items ``container.requests.add`` writes (one real
``add`` is captured, then copied with fresh ids by BatchWriteItem). They cannot all be
stored up front: moto deep-copies the whole table for every item of a TransactWriteItems,
so with 10,000 stored requests each routed one would cost the emulator seconds (a copy of
3,000 stored requests already takes 0.4 s). Each batch therefore has its ten requests stored
just before it and the table and queues taken back afterwards (untimed, see ``_Reset``), and
app and raw batches take turns (and turns at going first), so both sides meet the same
emulator.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from bench.awscalls import AwsCall, AwsCallRecorder, CallClock, ClientMade
from bench.calls import _Calls, signature
from bench.deployment import Deployment
from bench.environment import REGION, TOWN_ID
from bench.throughput import Rate

BATCH = 10  # the router's batch_size, and what Lambda hands it when the queue is busy
# Requests routed per side by default: about 80 s on 2 cores. The requirement's 10,000
# (``--routed 10000``) takes about 6 minutes, more than the whole bench should.
DEFAULT_ROUTED = 2000
WARM_UP_BATCHES = 4
DEPARTMENT = "ward3_roads"
DEPARTMENT_NAME = "Ward 3 Roads Contractor"
WEBHOOK_URL = "https://works.ward3-roads.example/town311"
WEBHOOK_QUEUE = "town311-webhooks-bench"
WARD_3 = {"type": "Polygon", "coordinates": [[[-87.70, 41.80], [-87.60, 41.80],
                                               [-87.60, 41.90], [-87.70, 41.90],
                                               [-87.70, 41.80]]]}
_READS = ("GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")


# --- the town's routing set-up ------------------------------------------------------------

@dataclass
class RoutingSetup:
    """What routing runs with: whether the app delivers to channels, and the queues."""

    channels: bool
    webhook_queue_url: str | None
    rules: list[str]

    @property
    def channel_count(self) -> int:
        return 2 if self.channels else 0

    def note(self) -> str:
        if self.channels:
            return ("channels present: the department has its own queue and a webhook, so "
                    "each routed request should make 2 sends")
        return ("channels absent: the container has no `channels` yet, so no department "
                "queue or webhook send is made or counted")


def prepare(dep: Deployment) -> RoutingSetup:
    """Give Maple Falls a ward, a department and a zone rule (and channels, if the app has
    them); the container is rebuilt afterwards, so no cache holds the old catalogue."""
    from chalicelib import bootstrap
    from chalicelib.domain.catalogue import Department
    from chalicelib.domain.routing import RoutingRule, RoutingRules
    from chalicelib.domain.towns import changeset_at
    from chalicelib.domain.zones import Zone, parse_zone_geometry

    channels = hasattr(bootstrap.Container, "channels")
    webhook_url = os.environ.get("TOWN311_WEBHOOK_QUEUE_URL")
    if channels and not webhook_url:
        webhook_url = dep.client("sqs").create_queue(QueueName=WEBHOOK_QUEUE)["QueueUrl"]
        os.environ["TOWN311_WEBHOOK_QUEUE_URL"] = webhook_url  # deployment() restores it
    store, now = dep.container.town_store, dep.container.now
    store.save_department(TOWN_ID, Department(
        DEPARTMENT, DEPARTMENT_NAME, "roads@ward3-roads.example", queue=True,
        webhook_url=WEBHOOK_URL, webhook_secret="bench-webhook-secret-0123456789"),
        changeset_at(now()))
    store.save_zone(TOWN_ID, Zone("ward-3", "Ward 3", "ward", parse_zone_geometry(WARD_3)),
                    changeset_at(now()))
    rules = (RoutingRule("pothole", DEPARTMENT, "ward-3"),
             RoutingRule("streetlight_out", "utilities"))
    store.save_routing(TOWN_ID, RoutingRules(rules=rules), changeset_at(now()))
    dep.fresh_container()
    return RoutingSetup(channels, webhook_url if channels else None,
                        [f"{r.service_code}{' in ' + r.zone if r.zone else ''} → {r.department}"
                         for r in rules])


def sqs_record(body: str, message_id: str, receipt: str = "bench") -> dict[str, Any]:
    """One record of a Lambda SQS event, as Lambda's poller shapes it."""
    now_ms = str(int(time.time() * 1000))
    return {"messageId": message_id, "receiptHandle": receipt, "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now_ms,
                           "SenderId": "AIDABENCH", "ApproximateFirstReceiveTimestamp": now_ms},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:town311-routing",
            "awsRegion": REGION}


def routing_body(request_id: str) -> str:
    """Version 1 of the routing message, as ``SqsRoutingQueue`` writes it."""
    return json.dumps({"version": 1, "town_id": TOWN_ID, "service_request_id": request_id})


def _invoke(lambdas: Any, records: list[dict[str, Any]]) -> None:
    result = lambdas.lambda_.invoke("route_new_requests", {"Records": records}).payload
    if result != {"batchItemFailures": []}:
        raise RuntimeError(f"route_new_requests reported failures: {result!r}")


def _routed_to(dep: Deployment, request_id: str) -> str | None:
    request = dep.container.requests.get(TOWN_ID, request_id, with_timeline=False)
    return request.department if request else None


# --- calls per routed request -------------------------------------------------------------

@dataclass(frozen=True)
class CallCheck:
    """One line of the target: the calls of one kind a warm routed request made."""

    key: str
    label: str
    target: str
    calls: tuple[str, ...]
    status: str  # PASS, FAIL, or n/a (a channel the app does not have yet)


@dataclass
class RoutedCalls:
    setup: RoutingSetup
    checks: list[CallCheck]
    cold: list[AwsCall] = field(default_factory=list)
    warm: list[AwsCall] = field(default_factory=list)
    cold_clients: list[ClientMade] = field(default_factory=list)
    warm_clients: list[ClientMade] = field(default_factory=list)
    cold_signatures: list[str] = field(default_factory=list)
    warm_signatures: list[str] = field(default_factory=list)
    department: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.status != "FAIL" for c in self.checks)

    def target_text(self) -> str:
        sends = "1 SendMessage per channel" if self.setup.channels else "no channels yet"
        return (f"town/catalogue/rules 0 (cached), request 1 GetItem, 1 conditional "
                f"TransactWriteItems (request + event), {sends}")

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target_text(), "passed": self.passed, "channels": self.setup.channels,
            "note": self.setup.note(), "rules": self.setup.rules,
            "routed_to": self.department,
            "checks": [{"what": c.label, "target": c.target, "calls": list(c.calls),
                        "status": c.status} for c in self.checks],
            "cold": self.cold_signatures, "warm": self.warm_signatures,
            "cold_clients": [{"service": c.service, "via": c.via, "ms": c.seconds * 1000,
                              "stack": list(c.stack)} for c in self.cold_clients],
            "warm_clients": [c.service for c in self.warm_clients],
            "warm_detail": [{"call": s, "via": c.via, "stack": list(c.stack)}
                            for s, c in zip(self.warm_signatures, self.warm, strict=True)],
        }


def routing_signature(call: AwsCall, dep: Deployment, setup: RoutingSetup) -> str:
    """As ``bench.calls.signature``, with the channels' queues named."""
    if call.service != "sqs":
        return signature(call, dep)
    url = call.params.get("QueueUrl")
    if url == dep.queue_url:
        where = "routing"
    elif url is not None and url == setup.webhook_queue_url:
        where = "webhook"
    elif url is not None:
        where = f"department queue {url.rsplit('/', 1)[-1]}"
    else:
        where = str(call.params.get("QueueName", "-"))
    return f"{call.name} {where}"


def _kind(call: AwsCall, request_id: str, dep: Deployment, setup: RoutingSetup) -> str:
    if call.service == "dynamodb" and call.operation in _READS:
        return "request" if request_id in json.dumps(call.params, default=str) else "catalogue"
    if call.service == "dynamodb" and call.operation == "TransactWriteItems":
        return "write"
    if call.service == "dynamodb" and call.operation == "PutItem" and "#DELIVERED#" in \
            json.dumps(call.params, default=str):
        return "result"
    if call.service == "sqs" and call.operation == "SendMessage":
        url = call.params.get("QueueUrl")
        if url == setup.webhook_queue_url:
            return "webhook"
        if url != dep.queue_url:
            return "department"
    return "other"


def _conditional(call: AwsCall) -> bool:
    return any("ConditionExpression" in next(iter(action.values()))
               for action in call.params.get("TransactItems", []))


def check_calls(warm: list[AwsCall], warm_clients: list[ClientMade], request_id: str,
                dep: Deployment, setup: RoutingSetup) -> list[CallCheck]:
    """The warm calls, sorted by kind, each kind against its target."""
    kinds: dict[str, list[AwsCall]] = {k: [] for k in
                                       ("catalogue", "request", "write", "department",
                                        "webhook", "result", "other")}
    for call in warm:
        kinds[_kind(call, request_id, dep, setup)].append(call)

    def sigs(key: str) -> tuple[str, ...]:
        return tuple(routing_signature(c, dep, setup) for c in kinds[key])

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    write = kinds["write"]
    checks = [
        CallCheck("catalogue", "reads of the town, catalogue and rules", "0 (cached)",
                  sigs("catalogue"), verdict(not kinds["catalogue"])),
        CallCheck("request", "read of the request", "1 GetItem", sigs("request"),
                  verdict([c.operation for c in kinds["request"]] == ["GetItem"])),
        CallCheck("write", "conditional write", "1 TransactWriteItems (request + event)",
                  sigs("write"), verdict(len(write) == 1 and write[0].items == 2
                                         and _conditional(write[0]))),
    ]
    for key, label in (("department", "send to the department's queue"),
                       ("webhook", "send to the webhook queue")):
        if setup.channels:
            checks.append(CallCheck(key, label, "1 SendMessage", sigs(key),
                                    verdict(len(kinds[key]) == 1)))
        else:
            checks.append(CallCheck(key, label, "1 SendMessage (no channels yet)", sigs(key),
                                    "n/a" if not kinds[key] else "FAIL"))
    # The department's recent delivery results (the console's list): one PutItem per send
    # to its own queue (the webhook function records the webhook's tries itself).
    checks.append(CallCheck("result", "delivery result recorded",
                            "1 PutItem per department-queue send", sigs("result"),
                            verdict(len(kinds["result"]) == len(kinds["department"]))))
    checks += [
        CallCheck("other", "any other call", "0", sigs("other"), verdict(not kinds["other"])),
        CallCheck("clients", "clients created", "0",
                  tuple(f"{c.service} ({c.label})" for c in warm_clients),
                  verdict(not warm_clients)),
    ]
    return checks


def measure_routing_calls(dep: Deployment, recorder: AwsCallRecorder) -> RoutedCalls:
    """One request routed on a fresh router container (cold), then one more (warm)."""
    from chalice.test import Client

    from app import app

    setup = prepare(dep)
    api = _Calls(dep)
    ids = [api.post()["service_request_id"] for _ in range(2)]
    sqs = dep.client("sqs")
    messages: dict[str, dict[str, Any]] = {}
    while len(messages) < len(ids):  # the messages the POSTs sent, as Lambda receives them
        got = sqs.receive_message(QueueUrl=dep.queue_url, MaxNumberOfMessages=10,
                                  AttributeNames=["All"]).get("Messages", [])
        if not got:
            raise RuntimeError("the POSTs left no routing message")
        for m in got:
            messages[json.loads(m["Body"])["service_request_id"]] = m

    def record(request_id: str) -> dict[str, Any]:
        m = messages[request_id]
        return {**sqs_record(m["Body"], m["MessageId"], m["ReceiptHandle"]),
                "attributes": m.get("Attributes", {})}

    dep.fresh_container()  # the router's own Lambda: nothing cached, no client yet
    with Client(app) as lambdas:
        with recorder.recording() as cold:
            _invoke(lambdas, [record(ids[0])])
        with recorder.recording() as warm:
            _invoke(lambdas, [record(ids[1])])
    result = RoutedCalls(setup, check_calls(warm.calls, warm.clients, ids[1], dep, setup),
                         cold.calls, warm.calls, cold.clients, warm.clients,
                         [routing_signature(c, dep, setup) for c in cold.calls],
                         [routing_signature(c, dep, setup) for c in warm.calls])
    result.department = _routed_to(dep, ids[1])
    if result.department != DEPARTMENT:
        raise RuntimeError(f"the zone rule did not route: went to {result.department!r}")
    return result


# --- throughput -----------------------------------------------------------------------------

@dataclass
class BatchRate(Rate):
    """A ``Rate`` timed batch by batch: medians are per request (batch median ÷ batch)."""

    batch: int = BATCH
    channels: bool = False
    app_calls: Counter[str] = field(default_factory=Counter)  # one warm routed request's
    measurement_seconds: float = 0.0  # all of it: set-up, warm-up, storing, resetting
    untimed_seconds: float = 0.0  # storing each batch's requests and resetting after it

    def per_request_ms(self) -> dict[str, float]:
        ms = super().per_request_ms()
        ms["app_median"] = statistics.median(self.app_times) * 1000 / self.batch
        ms["raw_median"] = statistics.median(self.raw_times) * 1000 / self.batch
        return ms

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "batch": self.batch, "channels": self.channels,
                "measurement_seconds": self.measurement_seconds,
                "untimed_store_and_reset_seconds": self.untimed_seconds,
                "one_warm_request_calls": dict(self.app_calls)}


class _Reset:
    """Takes the table back to the partitions it had when this was made, and empties the
    given queues, between batches (untimed). Every item a batch adds lies in a partition
    of its own (a request's, a token's), so dropping the new partitions in moto restores
    the table exactly; the partitions kept are checked to be the size they were. Doing it
    through the API (a Scan and BatchWriteItem, as ``bench.throughput`` does) costs moto about
    four times the batch itself. PurgeQueue empties a queue in one call: moto's
    once-a-minute rule is switched off for the run (``deployment()`` restores the
    environment afterwards)."""

    def __init__(self, table: str, sqs: Any) -> None:
        from moto.dynamodb.models import dynamodb_backends

        from local.provision import DEFAULT_ACCOUNT_ID

        os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
        self._partitions = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[table].items
        self._kept = {key: len(items) for key, items in self._partitions.items()}
        self._sqs = sqs
        self.queue_urls: list[str] = []

    def restore(self) -> None:
        for key in [k for k in self._partitions if k not in self._kept]:
            del self._partitions[key]
        changed = [k for k, size in self._kept.items() if len(self._partitions[k]) != size]
        if changed:
            raise RuntimeError(f"routing changed items outside the requests: {changed}")
        for url in self.queue_urls:
            self._sqs.purge_queue(QueueUrl=url)


class _Stored:
    """Requests in the table, with the items ``container.requests.add`` writes: one real
    ``add`` is captured, and its items are copied with fresh ids by BatchWriteItem."""

    def __init__(self, dep: Deployment, recorder: AwsCallRecorder, dynamodb: Any) -> None:
        container = dep.container
        self._dynamodb, self._table, self._new_id = dynamodb, dep.table, container.make_id
        posted = _Calls(dep).post()["service_request_id"]
        request = container.requests.get(TOWN_ID, posted, with_timeline=True)
        if request is None or not request.timeline:
            raise RuntimeError("the posted request was not stored with its first event")
        first = replace(request.timeline[0], event_id=self._new_id())
        from chalicelib.domain.followers import new_tracking_number

        # A tracking number is written only if new: the copy needs its own.
        template = replace(request, request_id=self._new_id(), token_hash=self._new_id(),
                           tracking_number=new_tracking_number(), timeline=[first])
        with recorder.recording() as captured:
            container.requests.add(template, first)
        (call,) = [c for c in captured.calls if c.name == "dynamodb.TransactWriteItems"]
        if any("Put" not in action for action in call.params["TransactItems"]):
            raise RuntimeError("requests.add wrote more than puts; the bench needs updating")
        self._items = json.dumps([a["Put"]["Item"] for a in call.params["TransactItems"]])
        self.old = (template.request_id, template.token_hash or "", first.event_id)

    def store(self, count: int) -> list[tuple[str, str, str]]:
        """``count`` new requests, each (request id, token, first event id)."""
        ids = [(self._new_id(), self._new_id(), self._new_id()) for _ in range(count)]
        puts = []
        for new in ids:
            text = self._items
            for old, value in zip(self.old, new, strict=True):
                text = text.replace(old, value)
            puts.extend({"PutRequest": {"Item": item}} for item in json.loads(text))
        for start in range(0, len(puts), 25):
            self._dynamodb.batch_write_item(RequestItems={self._table: puts[start:start + 25]})
        return ids


def _raw_template(calls: list[AwsCall], request_id: str, dep: Deployment,
                  setup: RoutingSetup) -> tuple[list[tuple[str, str, dict[str, Any]]], str]:
    """The unavoidable calls of one routed request, as (service, method, parameters): its
    GetItem, its TransactWriteItems and its channel sends; and the routed event's id."""
    from botocore import xform_name

    from chalicelib.adapters.dynamodb import keys

    keep = {"request", "write", "department", "webhook"}
    template = [(c.service, xform_name(c.operation), c.params) for c in calls
                if _kind(c, request_id, dep, setup) in keep]
    writes = [c for c in calls if _kind(c, request_id, dep, setup) == "write"]
    if len(writes) != 1:
        raise RuntimeError(f"expected one write per routed request, saw {len(writes)}")
    events = [item["event_id"]["S"] for action in writes[0].params["TransactItems"]
              for item in [next(iter(action.values())).get("Item", {})]
              if item.get("SK", {}).get("S", "").startswith(keys.EVENT_PREFIX)]
    if len(events) != 1:
        raise RuntimeError("the routing write holds no timeline event")
    return template, events[0]


def measure_routing_throughput(dep: Deployment, recorder: AwsCallRecorder,
                               n: int) -> BatchRate:
    """``n`` requests routed by the handler, ``n`` by raw boto3, in batches of ``BATCH``."""
    from botocore.config import Config
    from chalice.test import Client

    from app import app

    started = time.perf_counter()
    setup = prepare(dep)
    dynamodb = dep.session.client("dynamodb", region_name=REGION,
                                  config=Config(parameter_validation=False))
    clients = {"dynamodb": dynamodb, "sqs": dep.client("sqs")}
    stored = _Stored(dep, recorder, dynamodb)  # posts one request, adds one: both kept
    reset = _Reset(dep.table, clients["sqs"])
    new_id = dep.container.make_id

    def records(batch: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        return [sqs_record(routing_body(rid), f"bench-{rid}") for rid, _, _ in batch]

    with Client(app) as lambdas:
        # Warm the router up, then capture one routed request's calls: the raw template.
        for _ in range(WARM_UP_BATCHES):
            _invoke(lambdas, records(stored.store(BATCH)))
        (sample,) = stored.store(1)
        with recorder.recording() as captured:
            _invoke(lambdas, records([sample]))
        if _routed_to(dep, sample[0]) != DEPARTMENT:
            raise RuntimeError("the warm-up request was not routed by the zone rule")
        # Channels may have made queues on first use: they are emptied after each batch.
        queues = clients["sqs"].list_queues().get("QueueUrls", [])
        reset.queue_urls = [q for q in queues if not q.endswith("-dlq")]
        reset.restore()
        template, routed_event = _raw_template(captured.calls, sample[0], dep, setup)
        text = json.dumps(template)

        def raw_batch(batch: list[tuple[str, str, str]]) -> list[list[Any]]:
            """Each request's raw calls: the template with its ids (prepared untimed)."""
            prepared = []
            for ids in batch:
                calls = text
                for old, value in zip((*sample, routed_event), (*ids, new_id()), strict=True):
                    calls = calls.replace(old, value)
                prepared.append(json.loads(calls))
            return prepared

        def run_raw(prepared: list[list[Any]]) -> None:
            for calls in prepared:
                for service, method, params in calls:
                    getattr(clients[service], method)(**params)

        run_raw(raw_batch(stored.store(BATCH)))  # the raw side warms up too
        reset.restore()

        # Batch by batch, the sides taking turns (and turns at going first); each batch's
        # requests stored just before it and the emulator reset after it, untimed.
        times: dict[str, list[float]] = {"app": [], "raw": []}
        clock = CallClock()
        timed = 0.0
        loop_started = time.perf_counter()
        for round_ in range(n // BATCH):
            for side in ("app", "raw") if round_ % 2 == 0 else ("raw", "app"):
                batch = stored.store(BATCH)
                if side == "app":
                    event = records(batch)
                    with recorder.timing(clock):
                        t0 = time.perf_counter()
                        _invoke(lambdas, event)
                        times["app"].append(time.perf_counter() - t0)
                else:
                    prepared = raw_batch(batch)
                    t0 = time.perf_counter()
                    run_raw(prepared)
                    times["raw"].append(time.perf_counter() - t0)
                timed += time.perf_counter() - t0
                reset.restore()
        untimed = time.perf_counter() - loop_started - timed
    sends = f" + {setup.channel_count} send_message" if setup.channels else ""
    return BatchRate(
        f"route requests ({BATCH} per invocation)", n, times["app"], times["raw"], clock,
        f"get_item + transact_write_items (2 items){sends}", batch=BATCH,
        channels=setup.channels,
        app_calls=Counter(routing_signature(c, dep, setup) for c in captured.calls),
        measurement_seconds=time.perf_counter() - started, untimed_seconds=untimed)
