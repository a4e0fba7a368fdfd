"""A POST repeated with the same Idempotency-Key returns the first response and creates
nothing new (powertools idempotency, records in the idempotency table)."""

from __future__ import annotations

from tests.functional.helpers import POTHOLE, TOWN, body, error_descriptions, post_request


def _count(api) -> int:
    return len(body(api.http.get(f"{TOWN}/requests.json?page_size=500")))


def test_a_retried_post_returns_the_first_receipt(api, deployment):
    headers = {"Idempotency-Key": "phone-7f3a-0001"}
    first = post_request(api, POTHOLE, headers=headers)
    again = post_request(api, POTHOLE, headers=headers)
    assert first.status_code == again.status_code == 201
    assert body(first) == body(again)
    assert _count(api) == 1
    sqs = deployment.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=deployment.environment["TOWN311_ROUTING_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"


def test_different_keys_make_different_requests(api):
    a = body(post_request(api, POTHOLE, headers={"Idempotency-Key": "a"}))
    b = body(post_request(api, POTHOLE, headers={"Idempotency-Key": "b"}))
    assert a != b
    assert _count(api) == 2


def test_a_key_reused_for_a_different_request_is_a_conflict(api):
    post_request(api, POTHOLE, headers={"Idempotency-Key": "k1"})
    r = post_request(api, {**POTHOLE, "description": "another"},
                     headers={"Idempotency-Key": "k1"})
    assert r.status_code == 409
    assert any("Idempotency-Key" in d for d in error_descriptions(r))
    assert _count(api) == 1


def test_a_refused_post_does_not_burn_the_key(api):
    bad = post_request(api, {**POTHOLE, "lat": "91"}, headers={"Idempotency-Key": "k2"})
    assert bad.status_code == 400
    good = post_request(api, {**POTHOLE, "lat": "41.9"}, headers={"Idempotency-Key": "k2"})
    assert good.status_code == 201, good.body


def test_the_idempotency_record_holds_plain_json_not_models(api, monkeypatch):
    """The keyed submission's payload and receipt go through powertools' JSON encoder. Were
    either a pydantic model, the encoder would import powertools' event_handler, which the
    Lambda zip leaves out (infra/build_package.py UNTAKEN_IMPORTS)."""
    from aws_lambda_powertools.shared import functions, json_encoder

    def refuse(data: object) -> dict:
        raise AssertionError(f"a model reached powertools' encoder: {type(data)}")

    monkeypatch.setattr(functions, "pydantic_to_dict", refuse)
    monkeypatch.setattr(json_encoder, "pydantic_to_dict", refuse)
    headers = {"Idempotency-Key": "plain-json-0001"}
    first = post_request(api, POTHOLE, headers=headers)
    again = post_request(api, POTHOLE, headers=headers)  # read back from the record
    assert first.status_code == again.status_code == 201
    assert body(first) == body(again)
