"""AWS calls per Open311 operation, cold and warm, checked against targets.

The cost of a Lambda request is mostly its AWS calls (each a network round trip and a
billed request), and a cache or a lazy client that stops working shows up here first, as
a count, long before it shows in a latency graph. Counts are deterministic, unlike times.

For each operation a fresh container is installed (empty caches, no clients: what a cold
Lambda has), the operation is called once (the "cold" count) and then again with a
different id or key (the "warm" count, which is checked; the replay reuses the key of its
first call, which is the request the replay must not repeat). Every call is listed as
``service.Operation`` with the table (or queue) it touched and the project frames it came
from, so an unexpected call names the line that made it.

Targets (warm container; towns, catalogues and API-key checks are cached for
``TOWN311_CACHE_SECONDS``; and no warm call may create a client):

- GET one request: one DynamoDB GetItem;
- GET a page of requests: one Query per page (a catalogue read would be a second);
- POST without Idempotency-Key: one TransactWriteItems of six items (request, first event,
  token hash, tracking number, the key's rate counter, the audit entry), one UpdateItem of
  the town's usage for the month, and one SQS SendMessage; the API-key
  check is a cache hit;
- POST with a new Idempotency-Key: the same, plus powertools' record on the idempotency
  table (written "in progress", then "completed": at most two calls);
- the same POST replayed: the idempotency table only, no write, no routing message;
- GET services, GET a service definition: nothing (both come from the cached catalogue);
- GET a token: one GetItem.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.awscalls import AwsCall, AwsCallRecorder, ClientMade
from bench.deployment import Deployment
from bench.environment import API_KEY, FORM, POTHOLE, TOWN_BASE


@dataclass(frozen=True)
class Target:
    """The calls a warm operation may make: exactly ``calls`` (in any order), plus at most
    ``idempotency`` calls on powertools' idempotency table."""

    calls: tuple[str, ...]
    idempotency: int = 0
    text: str = ""

    def check(self, signatures: list[str]) -> bool:
        idempotency = [s for s in signatures if s.endswith(" idempotency")]
        rest = [s for s in signatures if not s.endswith(" idempotency")]
        return Counter(rest) == Counter(self.calls) and len(idempotency) <= self.idempotency


@dataclass
class Operation:
    key: str
    title: str
    target: Target
    cold: list[AwsCall] = field(default_factory=list)
    warm: list[AwsCall] = field(default_factory=list)
    cold_clients: list[ClientMade] = field(default_factory=list)
    warm_clients: list[ClientMade] = field(default_factory=list)
    cold_signatures: list[str] = field(default_factory=list)
    warm_signatures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """The warm calls meet the target, and a warm container creates no client."""
        return self.target.check(self.warm_signatures) and not self.warm_clients

    def clients_text(self) -> str:
        """``dynamodb (pynamodb) 41 ms, sqs (boto3) 30 ms``: the cold container's clients."""
        return ", ".join(f"{c.service} ({c.label}) {c.seconds * 1000:.0f} ms"
                         for c in self.cold_clients) or "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.title, "target": self.target.text, "passed": self.passed,
            "cold": self.cold_signatures, "warm": self.warm_signatures,
            "cold_clients": [{"service": c.service, "via": c.via, "ms": c.seconds * 1000,
                              "stack": list(c.stack)} for c in self.cold_clients],
            "warm_clients": [c.service for c in self.warm_clients],
            "warm_detail": [{"call": s, "via": c.via, "stack": list(c.stack)}
                            for s, c in zip(self.warm_signatures, self.warm, strict=True)],
        }


# Five items, one call: request, first event, token, the key's per-minute rate counter and
# the audit entry (the last two joined the transaction with rate limits and the audit log).
# One transaction of six items: the request, its first event, its token's hash, its
# tracking number (each written only if new), the key's rate window and the audit entry.
# And one UpdateItem: the town's usage counter for the month (issue 17's cost per town). It
# is outside the transaction on purpose: every filing of a town in a month adds to that one
# item, and inside the transaction concurrent filings would cancel each other.
POST_CALLS = ("dynamodb.TransactWriteItems main×6", "dynamodb.UpdateItem main",
              "sqs.SendMessage routing")


def _operations() -> list[Operation]:
    return [
        Operation("services", "GET services", Target((), text="0 calls (cached catalogue)")),
        Operation("definition", "GET service definition",
                  Target((), text="0 calls (cached catalogue)")),
        Operation("request", "GET one request", Target(("dynamodb.GetItem main",),
                                                        text="1 DynamoDB call (GetItem)")),
        Operation("page", "GET requests (page 2 of 10)",
                  Target(("dynamodb.Query main/by_requested",),
                         text="1 Query per page, catalogue 0 when warm")),
        Operation("token", "GET token", Target(("dynamodb.GetItem main",),
                                               text="1 DynamoDB call (GetItem)")),
        Operation("post", "POST request", Target(
            POST_CALLS, text="key check 0 (cached), 1 TransactWriteItems, 1 usage UpdateItem, "
                             "1 SendMessage")),
        Operation("post_idempotent", "POST request + Idempotency-Key", Target(
            POST_CALLS, idempotency=2,
            text="as POST, plus ≤2 calls on the idempotency table")),
        Operation("post_replay", "POST replayed (same Idempotency-Key)", Target(
            (), idempotency=2, text="idempotency table only (≤2): no write, no message")),
    ]


class _Calls:
    """The HTTP side: one method per kind of Open311 call, each checking its status."""

    def __init__(self, dep: Deployment) -> None:
        self._http = dep.http

    def get(self, path: str) -> Any:
        response = self._http.get(f"{TOWN_BASE}{path}")
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code} {response.body!r}")
        return json.loads(response.body)

    def post(self, idempotency_key: str | None = None, expected: int = 201) -> dict[str, Any]:
        headers = dict(FORM)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self._http.post(f"{TOWN_BASE}/requests.json",
                                   body=urlencode([*POTHOLE.items(), ("api_key", API_KEY)]),
                                   headers=headers)
        if response.status_code != expected:
            raise RuntimeError(f"POST: HTTP {response.status_code} {response.body!r}")
        return dict(json.loads(response.body)[0])


def signature(call: AwsCall, dep: Deployment) -> str:
    """``dynamodb.GetItem main``: the operation and which of our resources it touched."""
    aliases = {dep.table: "main", dep.idempotency_table: "idempotency"}
    if call.service == "sqs":
        where = "routing" if call.params.get("QueueUrl") == dep.queue_url else "other queue"
        return f"{call.name} {where}"
    where = ",".join(aliases.get(t, t) for t in call.tables) or "-"
    if call.index:
        where += f"/{call.index}"
    if call.items:
        where += f"×{call.items}"
    return f"{call.name} {where}"


def measure_calls(dep: Deployment, recorder: AwsCallRecorder) -> list[Operation]:
    """Count each operation's AWS calls on a cold container, then on the warm one."""
    api = _Calls(dep)
    # Enough requests for a second page of ten; their ids and tokens feed the GETs.
    receipts = [api.post() for _ in range(24)]
    ids = [r["service_request_id"] for r in receipts]
    tokens = [r["token"] for r in receipts]

    actions: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "services": (lambda: api.get("/services.json"), lambda: api.get("/services.json")),
        "definition": (lambda: api.get("/services/pothole.json"),
                       lambda: api.get("/services/streetlight_out.json")),
        "request": (lambda: api.get(f"/requests/{ids[0]}.json"),
                    lambda: api.get(f"/requests/{ids[1]}.json")),
        "page": (lambda: api.get("/requests.json?page_size=10&page=2"),
                 lambda: api.get("/requests.json?page_size=10&page=2")),
        "token": (lambda: api.get(f"/tokens/{tokens[0]}.json"),
                  lambda: api.get(f"/tokens/{tokens[1]}.json")),
        "post": (api.post, api.post),
        "post_idempotent": (lambda: api.post("bench-first"), lambda: api.post("bench-second")),
        "post_replay": (lambda: api.post("bench-replay-a"), lambda: api.post("bench-replay-a")),
    }
    operations = _operations()
    for operation in operations:
        first, second = actions[operation.key]
        dep.fresh_container()
        with recorder.recording() as cold:
            first()
        with recorder.recording() as warm:
            second()
        operation.cold, operation.warm = cold.calls, warm.calls
        operation.cold_clients, operation.warm_clients = cold.clients, warm.clients
        operation.cold_signatures = [signature(c, dep) for c in cold.calls]
        operation.warm_signatures = [signature(c, dep) for c in warm.calls]
    return operations
