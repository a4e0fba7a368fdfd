"""Routing: rules by service and zone, a dry run, and nothing lost when SQS fails."""

from __future__ import annotations

import json
from datetime import timedelta

from chalice.test import Client

from app import app
from tests.functional.helpers import TOWN, body, post_request
from tests.lambda_events import sqs_event, sqs_record_of

WARD_3 = {"type": "Polygon", "coordinates": [[[-87.70, 41.80], [-87.60, 41.80],
                                               [-87.60, 41.90], [-87.70, 41.90],
                                               [-87.70, 41.80]]]}
INSIDE, OUTSIDE = ("41.85", "-87.65"), ("41.95", "-87.65")
STREETLIGHT = {"service_code": "streetlight_out", "attribute[problem]": "out"}


def _admin(api, staff, method, path, payload):
    r = api.http.request(method, path, headers=staff.headers("town_admin"),
                         body=json.dumps(payload).encode())
    assert r.status_code in (200, 201), r.body
    return json.loads(r.body)


def _pump_router(deployment) -> dict:
    """What the event pump does: the queue's messages through the real handler."""
    sqs = deployment.client("sqs")
    url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    records = [sqs_record_of(m, queue="routing") for m in messages]
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    if not records:  # Lambda never delivers an empty batch
        return {"batchItemFailures": []}
    with Client(app) as lambdas:
        return lambdas.lambda_.invoke("route_new_requests", {"Records": records}).payload


def _file(api, at):
    lat, long = at
    (receipt,) = body(post_request(api, {**STREETLIGHT, "lat": lat, "long": long}))
    return receipt["service_request_id"]


def _agency(api, rid):
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    return request


def test_a_zone_rule_sends_streetlights_in_ward_3_to_the_contractor(api, staff, deployment):
    _admin(api, staff, "PUT", "/admin/departments/lights_contractor", {"name": "Bright Lights LLC"})
    _admin(api, staff, "PUT", "/admin/zones/ward-3", {"name": "Ward 3", "geometry": WARD_3})
    _admin(api, staff, "PUT", "/admin/routing", {"rules": [
        {"service_code": "streetlight_out", "zone": "ward-3", "department": "lights_contractor"}]})
    dry = _admin(api, staff, "POST", "/admin/routing/dry-run",
                 {"service_code": "streetlight_out", "lat": 41.85, "long": -87.65})
    assert dry == {"department": "lights_contractor", "agency_responsible": "Bright Lights LLC",
                   "reason": "rule for streetlight_out in ward-3", "zones": ["ward-3"]}
    import chalicelib.bootstrap as bootstrap

    bootstrap.container().towns._towns._entries.clear()  # the 60 s catalogue cache
    inside, outside = _file(api, INSIDE), _file(api, OUTSIDE)
    assert _pump_router(deployment) == {"batchItemFailures": []}
    routed_inside, routed_outside = _agency(api, inside), _agency(api, outside)
    assert routed_inside["agency_responsible"] == "Bright Lights LLC"
    assert routed_inside["extended_attributes"]["zone"] == "ward-3"
    assert routed_outside["agency_responsible"] == "Utilities — Lights & Signals"
    assert [n["type"] for n in routed_inside["notes"]] == ["submitted", "routed"]


def test_rules_naming_unknown_things_are_refused(api, staff):
    r = api.http.request("PUT", "/admin/routing", headers=staff.headers("town_admin"),
                         body=json.dumps({"triage": "nobody", "rules": [
                             {"service_code": "unicorns", "department": "water"},
                             {"service_code": "pothole", "department": "nowhere",
                              "zone": "ward-99"}]}).encode())
    assert r.status_code == 400
    fields = {p["field"] for p in json.loads(r.body)["error"]["problems"]}
    assert fields == {"triage", "rules.0.service_code", "rules.1.department", "rules.1.zone"}


def test_a_request_whose_routing_message_was_lost_is_routed_by_the_sweep(api, deployment):
    import chalicelib.bootstrap as bootstrap

    real = bootstrap.container().routing_queue

    class Down:
        def request_submitted(self, town_id, request_id):  # noqa: ANN001, ANN202
            from chalicelib.domain.errors import StorageUnavailable

            raise StorageUnavailable("SQS is down")

    bootstrap.container().__dict__["routing_queue"] = Down()
    rid = _file(api, INSIDE)  # stored although the send failed
    bootstrap.container().__dict__["routing_queue"] = real
    assert _agency(api, rid)["agency_responsible"] is None
    assert _pump_router(deployment) == {"batchItemFailures": []}  # nothing was queued

    with Client(app) as lambdas:
        tick = lambdas.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
        early = lambdas.lambda_.invoke("resend_unrouted_requests", tick).payload
        deployment.clock[0] += timedelta(minutes=3)
        late = lambdas.lambda_.invoke("resend_unrouted_requests", tick).payload
        assert (early, late) == ({"resent": 0}, {"resent": 1})
        _pump_router(deployment)
        assert _agency(api, rid)["agency_responsible"] == "Utilities — Lights & Signals"
        # Routed requests leave the sweep's index.
        assert lambdas.lambda_.invoke("resend_unrouted_requests", tick).payload == {"resent": 0}


def test_a_poison_message_ends_in_the_dead_letter_queue(deployment):
    sqs = deployment.client("sqs")
    url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    dlq = sqs.get_queue_url(QueueName=url.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"version": 1, "town_id": "x"}')
    failures = 0
    with Client(app) as lambdas:
        for _ in range(10):  # Lambda's poller: receive, run, keep what failed
            messages = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0,
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            (m,) = messages
            result = lambdas.lambda_.invoke("route_new_requests",
                                            sqs_event(sqs_record_of(m))).payload
            assert result == {"batchItemFailures": [{"itemIdentifier": m["MessageId"]}]}
            failures += 1
    assert failures == 5  # the redrive policy's maxReceiveCount, from infra/template.yaml
    (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == '{"version": 1, "town_id": "x"}'
