"""The local runner's emulator (local/emulator.py): a transaction whose conditions hold
runs without moto's whole-table copy and writes what moto would; one whose condition
fails is cancelled by moto's own path, exactly as before."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from local.emulator import light_transactions

TABLE = "t"


@pytest.fixture
def dynamodb(monkeypatch):
    # The patch is undone after the test: other tests in this process use moto as it is.
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items",
                        DynamoDBBackend.transact_write_items)
    light_transactions()
    light_transactions()  # idempotent: wrapping twice would check twice
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                       {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                  {"AttributeName": "SK", "AttributeType": "S"}])
        yield client


def _put(pk: str, condition: str | None = None) -> dict:
    op = {"TableName": TABLE, "Item": {"PK": {"S": pk}, "SK": {"S": "META"},
                                        "n": {"N": "1"}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def _get(client, pk: str) -> dict | None:
    return client.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": "META"}}
                           ).get("Item")


def test_a_transaction_whose_conditions_hold_writes_every_item(dynamodb) -> None:
    import moto.dynamodb.models as models

    real_copy = models.copy
    assert DynamoDBBackend.transact_write_items.light  # the patched path runs
    dynamodb.transact_write_items(TransactItems=[
        _put("a", "attribute_not_exists(PK)"), _put("b"),
        {"Update": {"TableName": TABLE, "Key": {"PK": {"S": "c"}, "SK": {"S": "META"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "2"}}}}])
    assert _get(dynamodb, "a") and _get(dynamodb, "b")
    assert _get(dynamodb, "c")["n"] == {"N": "2"}
    assert models.copy is real_copy  # put back after the transaction


def test_a_failing_condition_cancels_the_whole_transaction_as_moto_does(dynamodb) -> None:
    dynamodb.transact_write_items(TransactItems=[_put("taken")])
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as raised:
        dynamodb.transact_write_items(TransactItems=[
            _put("fresh"), _put("taken", "attribute_not_exists(PK)")])
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _get(dynamodb, "fresh") is None  # rolled back


def test_two_items_naming_one_item_are_refused_as_moto_does(dynamodb) -> None:
    with pytest.raises(dynamodb.exceptions.ClientError, match="multiple operations"):
        dynamodb.transact_write_items(TransactItems=[_put("same"), _put("same")])
    assert _get(dynamodb, "same") is None


def test_the_turn_lock_is_handed_out_in_the_order_it_was_asked_for() -> None:
    import threading

    from local.turns import TurnLock

    lock, order = TurnLock(), []

    def take(name: str) -> None:
        with lock:
            order.append(name)

    lock.__enter__()
    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=take, args=(name,))
        thread.start()
        while len(lock._waiting) < len(threads) + 1:  # queued before the next one asks
            thread.join(0.001)
        threads.append(thread)
    lock.__exit__()
    for thread in threads:
        thread.join()
    assert order == ["first", "second", "third"]
    assert not lock._held  # the last one out leaves it free
