"""Requests per second through the app, against raw boto3 doing only the unavoidable calls.

moto is slow and in-process, so an absolute rate says little about Lambda; the ratio does:
both sides pay the same emulator for the same calls, and what is left is ours (Chalice's
routing, pydantic parsing, pynamodb's models, powertools, rendering the response).

- POST: the app through ``chalice.test.Client`` (form-encoded, no Idempotency-Key) against
  one ``transact_write_items`` (its six items) plus one ``send_message``;
- GET one request: the app against one ``get_item``.

The raw calls are the app's own: their parameters are captured from one app call (through
the botocore hooks) and replayed with fresh ids, so both sides write and read the same
items. The raw DynamoDB client skips parameter validation, as pynamodb's does, so that the
raw side is the least those calls can cost rather than a slower client than the app's.
Each side makes ``n`` calls after a warm-up, timed one by one, the two sides taking turns
call by call (and taking turns at going first), so that the load other processes put on
the machine falls on both alike; the rate is ``n`` over the time spent in those calls, and
the median time per call is kept as well, as a check that a few stalls did not decide it.
While the app runs, the time spent inside AWS calls is added up too, which splits the
app's time into "inside botocore + moto" and "everything else"; and on both sides the time
moto itself spends answering is added up (``EmulatorClock``: moto answers in-process from
botocore's ``before-send`` event, in ``BotocoreStubber.process_request``, which is timed),
so that each side's own milliseconds per call (total − emulator) stand beside its totals.

Replayed POSTs must each be a new request, or a unique item's condition refuses them (the
tracking number's, the token hash's, the request's own): which values are per-request is
not guessed from the receipt but found by capturing two app POSTs and taking every token
(a run of letters and digits) that differs between them; each replay gets fresh tokens of
the same length and characters in their place, in the transaction and the message alike.

moto's costs grow with what it holds, DynamoDB's and SQS's do not: it deep-copies the whole
table for every item of a TransactWriteItems (its rollback snapshot), and SendMessage slows
as the queue fills. The run therefore uses its own deployment (only the demo town), and
after every POST, untimed, takes the table back to that and empties the routing queue, so
that every POST, app or raw, meets the same emulator. (moto keeps an empty partition behind
when its last item is deleted, and copies those too; they are dropped from moto's table
directly, the one place the bench reaches into the emulator.)
"""

from __future__ import annotations

import json
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.awscalls import AwsCall, AwsCallRecorder, CallClock
from bench.deployment import Deployment
from bench.environment import API_KEY, FORM, POTHOLE, REGION, TOWN_BASE

WARM_UP = 20


@dataclass
class Rate:
    operation: str
    requests: int
    app_times: list[float]  # seconds, one per call
    raw_times: list[float]
    app_aws: CallClock
    raw_calls: str
    app_emulator: list[float] = field(default_factory=list)  # seconds moto spent, per call
    raw_emulator: list[float] = field(default_factory=list)

    @property
    def app_seconds(self) -> float:
        return sum(self.app_times)

    @property
    def raw_seconds(self) -> float:
        return sum(self.raw_times)

    @property
    def app_rate(self) -> float:
        return self.requests / self.app_seconds

    @property
    def raw_rate(self) -> float:
        return self.requests / self.raw_seconds

    @property
    def ratio(self) -> float:
        """App rate ÷ raw rate: the share of the app's time the unavoidable calls take."""
        return self.app_rate / self.raw_rate

    def per_request_ms(self) -> dict[str, float]:
        app = self.app_seconds / self.requests * 1000
        in_aws = self.app_aws.seconds / self.requests * 1000
        raw = self.raw_seconds / self.requests * 1000
        app_emulator = sum(self.app_emulator) / self.requests * 1000
        raw_emulator = sum(self.raw_emulator) / self.requests * 1000
        return {"app": app, "raw": raw,
                "app_inside_aws_calls": in_aws, "app_outside_aws_calls": app - in_aws,
                "app_emulator": app_emulator, "app_own": app - app_emulator,
                "raw_emulator": raw_emulator, "raw_own": raw - raw_emulator,
                "app_median": statistics.median(self.app_times) * 1000,
                "raw_median": statistics.median(self.raw_times) * 1000}

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "requests": self.requests,
                "app_rps": self.app_rate, "raw_rps": self.raw_rate, "ratio": self.ratio,
                "app_aws_calls_per_request": self.app_aws.calls / self.requests,
                "raw_calls": self.raw_calls, "ms_per_request": self.per_request_ms()}


class _EmulatorReset:
    """Takes the table back to the items it had when this was made (a Scan: bench only),
    and empties the routing queue."""

    def __init__(self, dynamodb: Any, table: str, sqs: Any, queue_url: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._sqs = sqs
        self._queue_url = queue_url
        self._kept = self._keys()

    def _keys(self) -> set[tuple[str, str]]:
        keys: set[tuple[str, str]] = set()
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._table, ProjectionExpression="PK, SK")
        for page in pages:
            keys.update((item["PK"]["S"], item["SK"]["S"]) for item in page["Items"])
        return keys

    def restore(self) -> None:
        added = sorted(self._keys() - self._kept)
        for start in range(0, len(added), 25):
            deletes = [{"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}
                       for pk, sk in added[start:start + 25]]
            self._dynamodb.batch_write_item(RequestItems={self._table: deletes})
        self._drop_empty_partitions()
        while True:  # PurgeQueue is allowed once a minute: receive and delete instead
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                for n, m in enumerate(messages)])

    def _drop_empty_partitions(self) -> None:
        from moto.dynamodb.models import dynamodb_backends

        from local.provision import DEFAULT_ACCOUNT_ID

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
        partitions: dict[Any, dict[Any, Any]] = backend.tables[self._table].items
        for empty in [key for key, items in partitions.items() if not items]:
            del partitions[empty]


class EmulatorClock:
    """The time in-process moto spends answering, added up while ``running()``."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def running(self) -> Iterator[EmulatorClock]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.process_request
        clock = self

        def timed(stubber: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, request)
            finally:
                clock.seconds += time.perf_counter() - started

        BotocoreStubber.process_request = timed  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            BotocoreStubber.process_request = original  # type: ignore[method-assign]


_TOKEN = re.compile(r"[0-9A-Za-z]+")


def per_request_tokens(first: Any, second: Any) -> list[str]:
    """The tokens of ``first`` that differ from ``second``'s at the same place: the values
    one call of the same operation makes anew (ids, hashes, numbers, times)."""
    a, b = _TOKEN.findall(json.dumps(first)), _TOKEN.findall(json.dumps(second))
    if len(a) != len(b):
        raise RuntimeError("two captures of the same call differ in shape; cannot replay")
    return sorted({x for x, y in zip(a, b, strict=True) if x != y}, key=len, reverse=True)


def replayed(captures: list[dict[str, Any]], tokens: list[str], count: int,
             rng: random.Random) -> list[list[dict[str, Any]]]:
    """``count`` copies of ``captures`` (the parameters of one operation's calls), each
    with every token of ``tokens`` replaced, consistently across the calls, by a fresh one
    of the same length drawn from the same characters."""
    if not tokens:
        return [json.loads(json.dumps(captures)) for _ in range(count)]
    pattern = re.compile(r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, tokens))
                         + r")(?![0-9A-Za-z])")
    text = json.dumps(captures)
    copies = []
    for _ in range(count):
        fresh = {token: "".join(rng.choice(_characters(token)) for _ in token)
                 for token in tokens}
        copies.append(json.loads(pattern.sub(_replacer(fresh), text)))
    return copies


def _replacer(fresh: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda match: fresh[match.group(1)]


def _characters(token: str) -> str:
    """What a fresh token may be made of: the token's own characters (an id stays an id, a
    number a number), or, for a token of one repeated character, its kind."""
    if len(set(token)) > 1:
        return "".join(sorted(set(token)))
    return "0123456789" if token.isdigit() else "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _only(calls: list[AwsCall], name: str) -> dict[str, Any]:
    matching = [c for c in calls if c.name == name]
    if len(matching) != 1:
        raise RuntimeError(f"expected one {name}, saw {[c.name for c in calls]}")
    return matching[0].params


def _race(operation: str, app: Callable[[int], object], raw: Callable[[int], object], n: int,
          recorder: AwsCallRecorder, raw_calls: str,
          after_each: Callable[[], None] | None = None) -> Rate:
    """``n`` app calls and ``n`` raw calls, each timed alone, the sides taking turns."""
    times: dict[str, list[float]] = {"app": [], "raw": []}
    emulated: dict[str, list[float]] = {"app": [], "raw": []}
    clock = CallClock()
    emulator = EmulatorClock()
    with emulator.running():
        for i in range(n):
            order = ("app", "raw") if i % 2 == 0 else ("raw", "app")
            for side in order:
                before = emulator.seconds
                if side == "app":
                    with recorder.timing(clock):
                        started = time.perf_counter()
                        app(i)
                        times[side].append(time.perf_counter() - started)
                else:
                    started = time.perf_counter()
                    raw(i)
                    times[side].append(time.perf_counter() - started)
                emulated[side].append(emulator.seconds - before)
                if after_each is not None:
                    after_each()
    return Rate(operation, n, times["app"], times["raw"], clock, raw_calls,
                emulated["app"], emulated["raw"])


def measure_throughput(dep: Deployment, recorder: AwsCallRecorder, n: int) -> list[Rate]:
    """POST and GET-one-request rates, app against raw, ``n`` calls each after warm-up."""
    http = dep.http
    from botocore.config import Config

    dynamodb = dep.session.client("dynamodb", region_name=REGION,
                                  config=Config(parameter_validation=False))
    sqs = dep.client("sqs")
    reset = _EmulatorReset(dynamodb, dep.table, sqs, dep.queue_url)
    form = urlencode([*POTHOLE.items(), ("api_key", API_KEY)])

    def post(_: int) -> dict[str, Any]:
        response = http.post(f"{TOWN_BASE}/requests.json", body=form, headers=FORM)
        if response.status_code != 201:
            raise RuntimeError(f"POST: HTTP {response.status_code} {response.body!r}")
        return dict(json.loads(response.body)[0])

    for i in range(WARM_UP):
        post(i)
    captures = []
    for _ in range(2):
        with recorder.recording() as captured:
            post(0)
        reset.restore()
        captures.append([_only(captured.calls, "dynamodb.TransactWriteItems"),
                         _only(captured.calls, "sqs.SendMessage")])
    transaction = captures[0][0]
    copies = replayed(captures[0], per_request_tokens(captures[0], captures[1]),
                      n + WARM_UP, random.Random(14))
    transactions = [copy[0] for copy in copies]
    messages = [copy[1] for copy in copies]

    def raw_post(i: int) -> None:
        dynamodb.transact_write_items(**transactions[i])
        sqs.send_message(**messages[i])

    for i in range(n, n + WARM_UP):
        raw_post(i)
    reset.restore()
    posts = _race("POST request", post, raw_post, n, recorder,
                  f"transact_write_items ({len(transaction['TransactItems'])} items) + "
                  "send_message", reset.restore)

    # GET one request: cycle over requests the app stored, read the same ones raw.
    ids = [post(i)["service_request_id"] for i in range(WARM_UP)]

    def get(i: int) -> None:
        response = http.get(f"{TOWN_BASE}/requests/{ids[i % len(ids)]}.json")
        if response.status_code != 200:
            raise RuntimeError(f"GET: HTTP {response.status_code} {response.body!r}")

    with recorder.recording() as captured:
        get(0)
    template = json.dumps(_only(captured.calls, "dynamodb.GetItem"))
    reads = [json.loads(template.replace(ids[0], rid)) for rid in ids]

    def raw_get(i: int) -> None:
        if "Item" not in dynamodb.get_item(**reads[i % len(reads)]):
            raise RuntimeError("raw get_item found nothing")

    for i in range(WARM_UP):
        get(i)
        raw_get(i)
    gets = _race("GET one request", get, raw_get, n, recorder, "get_item")
    return [posts, gets]
