"""The bench's own machinery: what a cold-start child refuses, how replayed calls get fresh
values, how each function's memory size is read, what the emulator's clock counts."""

from __future__ import annotations

import json
import random
from typing import Any

from bench.coldchild import check, preloaded_forbidden
from bench.coldstart import configured_memory
from bench.emulator import TOTAL_PATH, EmulatorClock
from bench.throughput import per_request_tokens, replayed


def test_a_cold_child_refuses_to_start_with_the_sdk_or_the_app_in_memory() -> None:
    modules = ["sys", "time", "bench", "bench.coldchild", "botocore.session", "chalicelib",
               "http.client", "json"]

    assert preloaded_forbidden(modules) == ["botocore.session", "chalicelib", "http.client",
                                            "json"]
    assert preloaded_forbidden(["sys", "time", "bench", "bench.coldchild", "http"]) == []


def test_a_failing_first_call_is_never_taken_for_a_good_one() -> None:
    assert check({"statusCode": 500, "body": "boom"}, {"status": 200}) is not None
    assert check({"statusCode": 200, "body": "[]"}, {"status": 200}) is None
    assert check({"batchItemFailures": [{"itemIdentifier": "m1"}]},
                 {"equals": {"batchItemFailures": []}}) is not None
    assert check({"resent": "two"}, {"counts": True}) is not None
    assert check({"resent": 2}, {"counts": True}) is None
    assert check({}, {"item": True}) == "GetItem found no item"


def _transaction(request_id: str, tracking: str, token_hash: str) -> list[dict[str, Any]]:
    def put(pk: str, sk: str) -> dict[str, Any]:
        return {"Put": {"TableName": "main", "Item": {"PK": {"S": pk}, "SK": {"S": sk}},
                        "ConditionExpression": "attribute_not_exists(PK)"}}

    return [{"TransactItems": [
        put(f"TOWN#maple#REQ#{request_id}", "META"), put("TOWN#maple", "TALLY#open"),
        put(f"TOWN#maple#TRACK#{tracking}", "TRACK"),
        put(f"TOWN#maple#TOKENHASH#{token_hash}", "TOKEN")]},
        {"MessageBody": json.dumps({"town_id": "maple", "service_request_id": request_id})}]


def test_every_per_request_value_is_replaced_in_every_replay() -> None:
    first = _transaction("01ABCDEF", "K7PQ2MXA", "9f86d081884c7d65")
    second = _transaction("01ABCDEG", "R2D2C3PO", "60303ae22b998861")

    tokens = per_request_tokens(first, second)
    copies = replayed(first, tokens, 50, random.Random(1))

    assert set(tokens) == {"01ABCDEF", "K7PQ2MXA", "9f86d081884c7d65"}
    keys = [[item["Put"]["Item"]["PK"]["S"] for item in copy[0]["TransactItems"]]
            for copy in copies]
    for position in (0, 2, 3):  # the request, its tracking number, its token: all unique
        assert len({k[position] for k in keys}) == 50
        assert all(len(k[position]) == len(keys[0][position]) for k in keys)
    assert {k[1] for k in keys} == {"TOWN#maple"}  # what is shared stays shared
    for copy, key in zip(copies, keys, strict=True):  # the message names the same request
        request_id = json.loads(copy[1]["MessageBody"])["service_request_id"]
        assert key[0] == f"TOWN#maple#REQ#{request_id}"


def test_memory_sizes_are_read_from_the_chalice_config() -> None:
    sizes = configured_memory(["api_handler", "process_photo", "send_notices"])

    assert sizes == {"api_handler": 1024, "process_photo": 1024, "send_notices": 512}


def test_the_emulator_clock_counts_served_requests_but_not_its_own_total() -> None:
    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"{}"]

    clock = EmulatorClock(moto)
    answers: list[str] = []
    for path in ("/", "/", TOTAL_PATH):
        body = clock({"PATH_INFO": path}, lambda status, headers: answers.append(status))

    assert clock.requests == 2
    assert json.loads(b"".join(body))["requests"] == 2
    assert answers == ["200 OK"] * 3
