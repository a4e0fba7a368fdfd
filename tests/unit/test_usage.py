"""Usage per town and month (chalicelib.services.usage): counted where each event happens,
once per event even when a queue redelivers it, never failing what it counts; and the
estimated AWS cost (chalicelib.domain.usage.estimate_cost) from the price table."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from chalicelib.config import aws_prices
from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, InvalidInput, NotFound, StorageUnavailable
from chalicelib.domain.towns import Town
from chalicelib.domain.usage import (
    AwsPrices,
    estimate_cost,
    month_asked,
    month_before,
    requests_by_channel,
    requests_counter,
    usage_month,
)
from chalicelib.schemas.open311 import NewServiceRequest
from chalicelib.services import outreach, usage
from chalicelib.services.intake import IntakePorts, submit_request
from chalicelib.services.photos import PhotoPorts, process_upload
from chalicelib.services.towns import seed_demo_town
from tests.fakes import (
    FakeLimits,
    FakeMessenger,
    FakePhotoStorage,
    FakeRequestStore,
    FakeRoutingQueue,
    FakeTownDirectory,
    FakeUsage,
    counter_ids,
)

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
MONTH = "2026-12"
OPERATOR = Principal(subject="op", town_id=None, roles=frozenset({Role.OPERATOR}))

# Round prices, so that each line of the estimate can be worked out by hand.
PRICES = AwsPrices(
    lambda_request=0.001, lambda_gb_second=0.01, lambda_memory_gb=0.5, lambda_seconds=0.2,
    api_request=0.01, sqs_request=0.001, dynamodb_write=0.002, dynamodb_read=0.001,
    s3_gb_month=0.5, s3_put=0.01, s3_get=0.001, sms_segment=0.01, email=0.002,
    per_request_api_calls=6, per_request_invocations=3, per_request_queue_messages=2,
    per_request_writes=10, per_request_reads=3, per_photo_invocations=2, per_photo_puts=3,
    per_photo_gets=20, per_photo_writes=2, per_message_invocations=0.5, per_message_writes=1)


# --- the cost -------------------------------------------------------------------------------


def test_the_cost_of_nothing_is_nothing():
    estimate = estimate_cost({}, aws_prices())
    assert estimate.total == 0 and set(estimate.lines.values()) == {0}


def test_each_line_of_the_estimate_is_its_counts_times_its_prices():
    counts = {"requests_web": 60, "requests_phone": 40, "photos": 10,
              "photo_bytes": 2 * 1024 ** 3, "messages_email": 100, "messages_sms": 50,
              "sms_segments": 70, "alert_messages": 20}
    lines = estimate_cost(counts, PRICES).lines
    # 100 requests x 3 runs + 10 photos x 2 + 150 messages x 0.5 = 395 runs, each
    # 0.001 + 0.5 GB x 0.2 s x 0.01
    assert lines["lambda"] == pytest.approx(395 * 0.002)
    assert lines["api_gateway"] == pytest.approx((100 * 6 + 10) * 0.01)
    assert lines["sqs"] == pytest.approx(100 * 2 * 0.001)
    # writes: 100 x 10 + 10 x 2 + 150 x 1; reads: 100 x 3
    assert lines["dynamodb"] == pytest.approx(1170 * 0.002 + 300 * 0.001)
    assert lines["s3"] == pytest.approx(2 * 0.5 + 10 * (3 * 0.01 + 20 * 0.001))
    assert lines["sms"] == pytest.approx(0.70)  # per segment, not per message
    assert lines["email"] == pytest.approx(0.20)
    assert estimate_cost(counts, PRICES).total == pytest.approx(sum(lines.values()))


def test_the_cost_grows_with_usage_and_texts_dominate_a_small_town():
    # A 25,000-person town at 0.5 requests per resident per year: ~1,040 a month, each
    # with about two e-mails and a text of one segment.
    month = {"requests_web": 1040, "messages_email": 2080, "messages_sms": 1040,
             "sms_segments": 1040, "photos": 300, "photo_bytes": 300 * 350_000}
    small = estimate_cost(month, aws_prices())
    double = estimate_cost({k: 2 * v for k, v in month.items()}, aws_prices())
    assert double.total == pytest.approx(2 * small.total, rel=1e-3)
    assert small.lines["sms"] > sum(v for k, v in small.lines.items() if k != "sms")
    assert 5 < small.total < 20  # dollars a month, not cents and not hundreds


def test_counters_are_named_by_channel_and_month():
    assert requests_counter("walk_in") == "requests_walk_in"
    assert requests_counter("Not A Channel!") == "requests_other"
    assert usage_month(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert requests_by_channel({"requests_web": 2, "photos": 1, "requests_phone": 1}) == {
        "phone": 1, "web": 2}
    assert month_before("2026-01") == "2025-12" and month_before("2026-11") == "2026-10"
    assert month_asked("2026-11") == "2026-11"
    for bad in ("2026-13", "2026-00", "2026-1", "26-11", "2026-11x", ""):
        with pytest.raises(InvalidInput):
            month_asked(bad)


# --- counting where things happen -----------------------------------------------------------


@pytest.fixture
def town():
    directory = FakeTownDirectory()
    demo = seed_demo_town(directory, api_key="secret-key-for-tests")
    catalogue = directory.get_catalogue(demo.town.town_id, demo.town.changeset)
    return directory, demo.town, catalogue


def _intake(meter: FakeUsage, store: FakeRequestStore | None = None) -> IntakePorts:
    return IntakePorts(store=store or FakeRequestStore(), routing=FakeRoutingQueue(),
                       photos=FakePhotoStorage(), new_id=counter_ids(), now=lambda: NOW,
                       usage=meter)


def _form() -> NewServiceRequest:
    return NewServiceRequest.model_validate({
        "service_code": "pothole", "lat": "41.88", "long": "-87.63",
        "attributes": {"size": ["small"]}})


def test_a_filed_request_is_counted_by_its_channel(town):
    _, maple, catalogue = town
    meter = FakeUsage()
    for channel in ("web", "web", "phone"):
        submit_request(_form(), maple, catalogue, None, _intake(meter), channel=channel)
    assert meter.months([maple.town_id], MONTH)[maple.town_id] == {
        "requests_web": 2, "requests_phone": 1}


def test_a_request_is_stored_even_when_its_count_fails(town, caplog):
    _, maple, catalogue = town
    meter, store = FakeUsage(), FakeRequestStore()
    meter.fail = StorageUnavailable("usage table throttled")
    with caplog.at_level(logging.ERROR, logger="chalicelib.services.usage"):
        receipt = submit_request(_form(), maple, catalogue, None, _intake(meter, store))
    assert store.get(maple.town_id, receipt.service_request_id, with_timeline=False)
    assert "usage not counted" in caplog.text and "throttled" in caplog.text


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_stored_photo_is_counted_once_even_when_its_event_is_redelivered(town):
    directory, maple, catalogue = town
    meter, store, bucket = FakeUsage(), FakeRequestStore(), FakePhotoStorage()
    receipt = submit_request(_form(), maple, catalogue, None, _intake(FakeUsage(), store))
    key = bucket.receive_upload(maple.town_id, receipt.service_request_id, "P1", _jpeg(),
                                "image/jpeg")
    ports = PhotoPorts(bucket=bucket, store=store, new_id=counter_ids("E"), now=lambda: NOW,
                       towns=directory, usage=meter)
    assert process_upload(key, ports) == "published"
    # The same S3 event again, once with the upload gone and once as if the first
    # delivery had stopped before deleting it: neither counts the photo again.
    assert process_upload(key, ports) == "ignored"
    bucket.objects[key] = _jpeg()
    assert process_upload(key, ports) == "ignored"
    published = sum(len(v) for k, v in bucket.objects.items() if k.startswith("photos/"))
    assert meter.months([maple.town_id], MONTH)[maple.town_id] == {
        "photos": 1, "photo_bytes": published}


def _messenger(meter: FakeUsage) -> tuple[outreach.MeteredMessenger, FakeMessenger]:
    towns = FakeTownDirectory()
    towns.towns["maple"] = Town("maple", "Maple Falls", "America/Chicago", "c1",
                                sms_monthly_cap_usd=0.05)
    outbox = FakeMessenger(fail_for={"+13125550199"})
    return outreach.MeteredMessenger(lambda: outbox, towns, FakeLimits(), lambda: NOW,
                                     meter), outbox


def test_messages_are_counted_by_channel_with_their_segments_only_when_sent():
    meter = FakeUsage()
    messenger, outbox = _messenger(meter)
    messenger.send(town_id="maple", email="a@example.org", phone="+13125550100",
                   subject="s", text="x" * 200)  # two segments
    with pytest.raises(StorageUnavailable):  # not sent: not counted
        messenger.send(town_id="maple", email=None, phone="+13125550199", subject="s",
                       text="t")
    for _ in range(5):  # the cap (7 segments) is used up
        messenger.send(town_id="maple", email=None, phone="+13125550101", subject="s",
                       text="t")
    with pytest.raises(outreach.SmsCapReached):  # refused: not counted
        messenger.send(town_id="maple", email=None, phone="+13125550101", subject="s",
                       text="t")
    assert len(outbox.sent) == 7
    assert meter.months(["maple"], MONTH)["maple"] == {
        "messages_email": 1, "messages_sms": 6, "sms_segments": 7}


def test_a_message_is_sent_even_when_its_count_fails():
    meter = FakeUsage()
    meter.fail = RuntimeError("boom")
    messenger, outbox = _messenger(meter)
    messenger.send(town_id="maple", email="a@example.org", phone="+13125550100",
                   subject="s", text="t")
    assert len(outbox.sent) == 2


def test_texts_sent_by_staff_topics_are_counted():
    meter, limits = FakeUsage(), FakeLimits()
    ports = outreach.OutreachPorts(limits=limits, now=lambda: NOW, usage=meter)
    for _ in range(3):
        outreach.text_subscription_added(ports, "maple", "dept#roads")
    outreach.count_topic_texts(ports, "maple", "dept#roads", "Overdue: pothole")
    assert meter.months(["maple"], MONTH)["maple"] == {"messages_sms": 3, "sms_segments": 3}


def test_alert_messages_are_counted_once_per_batch_and_not_again_when_it_is_retried():
    import dataclasses

    from tests.unit.test_alerts_service import World

    world, meter = World(), FakeUsage()
    world.ports = dataclasses.replace(world.ports, usage=meter)
    for n in range(3):
        world.join(n, ("ward-1",), email=n == 0)
    alert = world.sent_alert()
    alerts_sent = world.run_queue()
    assert [o["sent"] for o in alerts_sent] == [4]
    assert meter.months(["maple"], MONTH)["maple"] == {"alert_messages": 4}
    from chalicelib.services import alerts

    again = alerts.deliver(world.ports, "maple", alert.alert_id, [
        {"subscriber_id": f"S{n:03d}", "language": "en", "phone": f"+1612555{n:04d}"}
        for n in range(3)])
    assert again["repeated"] == 3
    assert meter.months(["maple"], MONTH)["maple"] == {"alert_messages": 4}


# --- reading it -----------------------------------------------------------------------------


def _usage_ports(meter: FakeUsage) -> tuple[usage.UsagePorts, FakeTownDirectory]:
    towns = FakeTownDirectory()
    for town_id, name in (("riverton", "Riverton"), ("maple", "Maple Falls")):
        towns.towns[town_id] = Town(town_id, name, "America/Chicago", "c1")
    return usage.UsagePorts(towns=towns, usage=meter, prices=PRICES, now=lambda: NOW), towns


def test_the_operator_sees_every_town_this_month_and_the_total():
    meter = FakeUsage()
    meter.add("maple", MONTH, {"requests_web": 2, "sms_segments": 3})
    meter.add("maple", "2026-11", {"requests_web": 50})  # last month: not shown
    ports, _ = _usage_ports(meter)
    found = usage.towns_usage(ports, OPERATOR)
    assert [(u.town.town_id, u.month, u.counts) for u in found] == [
        ("maple", MONTH, {"requests_web": 2, "sms_segments": 3}),
        ("riverton", MONTH, {})]
    assert found[1].cost.total == 0
    assert usage.total_cost(found) == pytest.approx(found[0].cost.total)
    document = usage.document(found[0])
    assert document["requests_by_channel"] == {"web": 2}
    assert json.loads(json.dumps(document))["estimated_cost_usd"]["sms"] == 0.03


def test_only_operators_see_every_town_and_admins_see_their_own():
    meter = FakeUsage()
    meter.add("maple", MONTH, {"messages_email": 4})
    ports, _ = _usage_ports(meter)
    admin = Principal(subject="a", town_id="maple", roles=frozenset({Role.TOWN_ADMIN}))
    agent = Principal(subject="b", town_id="maple", roles=frozenset({Role.AGENT}))
    with pytest.raises(AccessDenied):
        usage.towns_usage(ports, admin)
    with pytest.raises(AccessDenied):
        usage.town_usage(ports, admin, "riverton")
    with pytest.raises(AccessDenied):
        usage.town_usage(ports, agent)
    assert usage.town_usage(ports, admin).counts == {"messages_email": 4}
    assert usage.town_usage(ports, OPERATOR, "maple").counts == {"messages_email": 4}
    assert usage.town_usage(ports, OPERATOR, "maple", "2026-11").counts == {}
    assert usage.month_shown(ports, None) == ("2026-12", "2026-11")
    with pytest.raises(NotFound):
        usage.town_usage(ports, OPERATOR, "atlantis")
