"""Notification fan-out: the AWS calls to tell 500 followers that their request closed.

A request in Maple Falls gets ``followers`` "me too"s (each with an e-mail and a phone),
is routed and closed through the department API; then the notices queue is drained
through ``send_notices`` exactly as Lambda would (one record per message, ten per batch).
Every AWS call made while draining is recorded and grouped by service and operation.

What it shows: the queue work is batched (one fan-out message becomes ceil(n / 50) batch
messages, put on the queue ten per SendMessageBatch), the follower list is read with one
paged Query, opt-outs with one BatchGetItem per batch, and each message costs one claim
(a conditional PutItem, so that a retried batch never sends twice) plus the send itself:
SES SendEmail and SNS Publish take one recipient per call for direct SMS and for e-mails
that each carry their own unsubscribe link.

Run alone: ``python -m bench.notices [--followers 500]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import uuid
from collections import Counter
from typing import Any

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment

DEFAULT_FOLLOWERS = 500
BATCH = 50  # chalicelib.schemas.notices.BATCH_SIZE


def _post_json(dep: Deployment, path: str, payload: dict[str, Any],
               headers: dict[str, str] | None = None) -> Any:
    return dep.http.post(path, body=json.dumps(payload).encode(),
                         headers={"Content-Type": "application/json", **(headers or {})})


def _drain(dep: Deployment, url: str, handler: str) -> int:
    from chalice.test import Client

    from app import app

    sqs = dep.client("sqs")
    handled = 0
    with Client(app) as lambdas:
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=0).get("Messages", [])
            if not messages:
                return handled
            event = {"Records": [
                {"messageId": str(uuid.uuid4()), "receiptHandle": m["ReceiptHandle"],
                 "body": m["Body"],
                 "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0",
                                "SenderId": "AIDABENCH",
                                "ApproximateFirstReceiveTimestamp": "0"},
                 "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                 "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                 "awsRegion": "us-east-1"} for m in messages]}
            for m in messages:  # taken off before the handler may queue more
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            lambdas.lambda_.invoke(handler, event)
            handled += len(messages)


def measure_notice_fanout(dep: Deployment, recorder: AwsCallRecorder,
                          followers: int = DEFAULT_FOLLOWERS) -> dict[str, Any]:
    from chalicelib.adapters.messages import AwsMessenger
    from local.tokens import app_environment, mint, new_signing_key

    signing_key = new_signing_key()  # signs for the seeded worker (demo-streets) who closes it
    os.environ.update(app_environment(signing_key))
    dep.fresh_container()
    dep.client("ses").verify_email_identity(EmailAddress="311@maplefalls.example")
    dep.container.__dict__["outbox"] = AwsMessenger(
        lambda: dep.container.client("ses"), lambda: dep.container.client("sns"),
        "311@maplefalls.example")
    # Quiet hours off: the bench may run at any hour, and every text must go now.
    town = dep.container.town_store.get_town("maplefalls.example")
    from dataclasses import replace

    dep.container.town_store.save_town(replace(town, notices=replace(town.notices,
                                                                     quiet_hours=None)))
    dep.container.towns.forget()
    from bench.environment import API_KEY

    posted = dep.http.post(
        "/towns/maplefalls.example/open311/v2/requests.json",
        body=f"service_code=pothole&lat=41.8781&long=-87.6298&attribute%5Bsize%5D=large"
             f"&api_key={API_KEY}",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    request_id = json.loads(posted.body)[0]["service_request_id"]
    from chalicelib.domain.followers import FOLLOWER, Follower

    for n in range(followers):  # neighbours who followed and proved both addresses
        assert dep.container.requests.follow("maplefalls.example", request_id, Follower.make(
            FOLLOWER, dep.container.now(), f"neighbour{n}@example.org",
            f"+1312{2000000 + n:07d}", None, confirmed=("email", "sms")))
    _drain(dep, dep.environment["TOWN311_ROUTING_QUEUE_URL"], "route_new_requests")
    notice_url = dep.environment["TOWN311_NOTICE_QUEUE_URL"]
    _drain(dep, notice_url, "send_notices")  # nothing from the follows; clear anyway
    token = mint(signing_key, subject="demo-streets", email="streets@maplefalls.example",
                 town="maplefalls.example", roles=["department_worker"],
                 departments=["public_works"])
    r = _post_json(dep, f"/departments/public_works/requests/{request_id}/close",
                   {"resolution": "fixed", "note": "Filled"},
                   {"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.body
    started = time.perf_counter()
    with recorder.recording() as recording:
        handled = _drain(dep, notice_url, "send_notices")
    seconds = time.perf_counter() - started
    calls = Counter(f"{c.service}:{c.operation}" for c in recording.calls
                    if not (c.service == "sqs" and c.operation in ("ReceiveMessage",
                                                                   "DeleteMessage")))
    messages = followers * 2
    batches = math.ceil(followers / BATCH)
    return {
        "followers": followers, "messages": messages, "queue_messages_handled": handled,
        "batches": batches, "calls": dict(sorted(calls.items())),
        "calls_total": sum(calls.values()),
        "queue_sends": calls.get("sqs:SendMessageBatch", 0) + calls.get("sqs:SendMessage", 0),
        "seconds_in_process": round(seconds, 2),
    }


def console_lines(result: dict[str, Any]) -> list[str]:
    calls = ", ".join(f"{name} {n}" for name, n in result["calls"].items())
    return ["", f"notice fan-out: {result['followers']} followers told of a closure "
                f"({result['messages']} messages, {result['batches']} batches): {calls}; "
                f"{result['seconds_in_process']} s in process on moto"]


def markdown_lines(result: dict[str, Any]) -> list[str]:
    lines = ["", f"**Notice fan-out** (`bench/notices.py`): a request with "
                 f"{result['followers']} followers (e-mail and phone each) is closed; the "
                 f"{result['messages']} messages go out in {result['batches']} batches. AWS "
                 "calls while the notices queue is drained (receives and deletes, which "
                 "Lambda does, not counted):", "", "| call | count |", "|---|---:|"]
    lines += [f"| {name} | {n} |" for name, n in result["calls"].items()]
    lines += [f"| all | {result['calls_total']} |", "",
              "The follower list is one Query; the 10 batch messages go on the queue in one "
              "SendMessageBatch; each batch reads the request once and the opt-outs in "
              "BatchGetItem calls of 100 keys; each message is claimed with one "
              "conditional PutItem (so that a retried batch never sends twice) and sent "
              "with one SES SendEmail or SNS Publish (a direct text takes one number per "
              "call, and each e-mail carries its own stop link). "
              f"{result['seconds_in_process']} s in process on moto."]
    return lines


def main(argv: list[str] | None = None) -> None:
    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.notices", description=__doc__)
    parser.add_argument("--followers", type=int, default=DEFAULT_FOLLOWERS)
    args = parser.parse_args(argv)
    RECORDER.install()
    with silenced(), deployment() as dep:
        result = measure_notice_fanout(dep, RECORDER, args.followers)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
