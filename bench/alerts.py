"""Emergency alert fan-out: choosing 30,000 recipients among 100,000 and queueing them.

Issue 8's requirement: a town of ``subscribers`` active alert subscribers (default
100,000), an alert to ``targeted`` of its ``zones`` zones (3 of 10, so about 30,000
recipients). Figures: the SQS and SNS/SES calls, the DynamoDB reads that select the
recipients (one Query per zone, never a Scan) and the in-process time to queue them all.

Setup (untimed). The subscribers are written with BatchWriteItem, 25 a call, as the items
``DynamoSubscribers.save`` writes for an active subscriber that the fan-out reads: the
subscriber (``SubscriberItem``) and its audience entries (``AudienceItem``) under
``TOWN#t#AUDIENCE#*`` and under its one zone (``zone-01`` … ``zone-10``, round robin, so
each zone holds a tenth). The contact and STOP pointers, which only sign-up and STOP read,
are not written. A third have a phone only, a third an e-mail only, a third both; one in
five reads Spanish. The alert (English and Spanish, severity extreme) is stored with
``DynamoAlerts.save`` and set to sending as ``approve`` leaves it; the zone codes are not
in the catalogue (only ``compose`` checks them). Messages go through
``chalicelib.adapters.messages.AwsMessenger``, so SES and SNS calls are moto's (the sender
is verified in SES first).

Measured, each through ``send_notices`` (``chalice.test.Client(app).lambda_.invoke``):

1. the fan-out: one invocation with the ``{"type": "alert"}`` message, as ``approve`` queues
   it: the Queries per audience partition, their pages and the items they read, the
   SendMessageBatch calls, the batch messages and their size, and the time in process;
2. delivery of a sample: the first ``sample`` batch messages (default 20, 1,000
   recipients) taken off the notices queue and handed to ``send_notices`` ten per event, as
   Lambda does, then one of them again (a re-delivery, which must send nothing). Calls by
   operation, per recipient, and extrapolated to the whole audience (sample × audience ÷
   sample recipients: an extrapolation, not a run).

Texts are paced town-wide by ``take_sms_slot`` (the town's ``alert_sms_per_second``, 5 by
default): a batch that finds the second's texts taken sleeps to the next second. The bench
gives the alert ports a clock that runs in real time plus whatever they slept, and a sleep
that only adds to it, so the pacing costs its real calls (a refused slot is one more
UpdateItem) but no wall time; the simulated wait is reported.

Moto is slow in one place that does not concern the app: it re-measures an item's size for
every attribute it stores, so while writing the subscribers the bench checks each item once
instead (``bench.service_levels._item_size_checked_once``). On 2 cores the default run
takes about 3.5 minutes (85 s writing the 300,000 items, 40 s the fan-out, 85 s the
sample; nearly all of it inside moto). Run alone with
``python -m bench.alerts [--subscribers N] [--zones N] [--targeted N] [--sample N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.awscalls import AwsCallRecorder
from bench.deployment import Deployment
from bench.dynamo_calls import DynamoCalls
from bench.environment import TOWN_ID

DEFAULT_SUBSCRIBERS = 100_000
DEFAULT_ZONES = 10
DEFAULT_TARGETED = 3
DEFAULT_SAMPLE = 20  # batch messages delivered: 1,000 recipients
BATCH = 50  # chalicelib.schemas.notices.BATCH_SIZE
MAIL_FROM = "alerts@maplefalls.example"
SQS_BATCH_LIMIT = 262_144  # bytes in one SendMessageBatch, all messages together
TITLE = {"en": "Boil water notice", "es": "Aviso de hervir el agua"}
BODY = {"en": "Boil tap water for one minute before drinking until further notice.",
        "es": "Hierva el agua del grifo un minuto antes de beberla hasta nuevo aviso."}


# --- what was measured -----------------------------------------------------------------


@dataclass
class Reads:
    """DynamoDB reads by the app's (pynamodb's) client: per Query partition, the calls
    (pages) and ScannedCount; GetItem and BatchGetItem items."""

    queries: dict[str, dict[str, int]] = field(default_factory=dict)
    items: Counter[str] = field(default_factory=Counter)

    def audience(self) -> dict[str, dict[str, int]]:
        from chalicelib.adapters.dynamodb.keys import audience_zone

        return {zone: v for pk, v in self.queries.items()
                if (zone := audience_zone(pk)) is not None}


@dataclass
class Step:
    """One measured stretch: AWS calls by operation, reads, seconds in process."""

    calls: dict[str, int]
    reads: Reads
    seconds: float
    aws_seconds: float = 0.0  # of them, inside AWS calls (botocore and moto)
    batch_payloads: list[list[int]] = field(default_factory=list)  # bytes per message

    @property
    def timing(self) -> str:
        return (f"{self.seconds:.1f} s in process ({self.aws_seconds:.1f} s inside AWS "
                f"calls on moto, {self.seconds - self.aws_seconds:.1f} s the app's own)")

    def count(self, name: str) -> int:
        return self.calls.get(name, 0)

    def to_json(self) -> dict[str, Any]:
        return {"calls": self.calls, "calls_total": sum(self.calls.values()),
                "queries": self.reads.queries, "items_read": dict(self.reads.items),
                "seconds_in_process": round(self.seconds, 2),
                "seconds_inside_aws_calls": round(self.aws_seconds, 2)}


@dataclass
class AlertBench:
    subscribers: int
    zones: int
    targeted: tuple[str, ...]
    audience: int  # subscribers of the targeted zones (counted while writing)
    phones: int  # of them, with a phone
    emails: int
    sms_segments: int  # for the whole audience, as ``preview`` estimates them
    sms_cap_segments: int
    sms_per_second: int
    populate_seconds: float
    fanout: Step
    queued: int  # the alert's "recipients" tally after the fan-out
    batch_messages: int
    batch_bytes_max: int  # largest SendMessageBatch payload
    message_bytes_max: int
    sample_batches: int
    sample_recipients: int
    sample_phones: int
    sample_emails: int
    delivery: Step
    simulated_wait: float  # seconds the pacing slept in the sample (simulated clock)
    tallies: dict[str, int]  # the alert's tallies after the sample
    redelivery: Step
    seconds: float = 0.0

    @property
    def sample_messages(self) -> int:
        return self.sample_phones + self.sample_emails

    def per_recipient(self) -> dict[str, float]:
        return {name: n / self.sample_recipients for name, n in self.delivery.calls.items()}

    def extrapolated(self) -> dict[str, int]:
        return {name: round(n * self.audience / self.sample_recipients)
                for name, n in self.delivery.calls.items()}

    def extrapolated_wait(self) -> float:
        """Seconds of pacing for every text of the audience: the rate, not the sample."""
        return self.phones / self.sms_per_second

    @property
    def checks(self) -> dict[str, bool]:
        f, d, r = self.fanout, self.delivery, self.redelivery
        audience = f.reads.audience()
        sends = self.batch_messages
        return {
            "one Query (paged) per targeted zone, no other partition, no Scan":
                set(audience) == set(self.targeted)
                and all(v["calls"] == 1 for v in audience.values())
                and not any(n.endswith((":Scan", ":Query by_sla")) for n in f.calls),
            "items read = recipients": sum(v["items"] for v in audience.values())
                == self.audience == self.queued,
            f"ceil(recipients / {BATCH}) batch messages, ten per SendMessageBatch":
                sends == math.ceil(self.audience / BATCH)
                and f.count("sqs:SendMessageBatch") + f.count("sqs:SendMessage")
                == math.ceil(sends / 10),
            "each SendMessageBatch within SQS's 256 KiB": self.batch_bytes_max
                <= SQS_BATCH_LIMIT,
            "sample: one SES SendEmail per e-mail, one SNS Publish per phone":
                d.count("ses:SendEmail") == self.sample_emails
                and d.count("sns:Publish") == self.sample_phones,
            "sample: one claim per message, each sent": d.count("dynamodb:PutItem")
                == self.sample_messages == self.tallies.get("sent_sms", 0)
                + self.tallies.get("sent_email", 0),
            "a re-delivered batch sends nothing": r.count("ses:SendEmail") == 0
                and r.count("sns:Publish") == 0,
        }

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers, "zones": self.zones,
            "targeted": list(self.targeted), "recipients": self.audience,
            "recipients_with_phone": self.phones, "recipients_with_email": self.emails,
            "populate_seconds": round(self.populate_seconds, 1), "passed": self.passed,
            "checks": self.checks,
            "fanout": {**self.fanout.to_json(), "queued": self.queued,
                       "batch_messages": self.batch_messages,
                       "send_message_batch_bytes_max": self.batch_bytes_max,
                       "message_bytes_max": self.message_bytes_max},
            "delivery_sample": {
                **self.delivery.to_json(), "batches": self.sample_batches,
                "recipients": self.sample_recipients, "texts": self.sample_phones,
                "emails": self.sample_emails, "simulated_pacing_seconds":
                    round(self.simulated_wait, 1), "tallies": self.tallies},
            "delivery_extrapolated_to_all_recipients": {
                "note": "sample calls × recipients ÷ sample recipients; not a run",
                "calls": self.extrapolated(),
                "calls_total": sum(self.extrapolated().values()),
                "calls_per_recipient": {k: round(v, 3)
                                        for k, v in self.per_recipient().items()},
                "sms_per_second": self.sms_per_second,
                "sms_pacing_seconds": round(self.extrapolated_wait()),
                "sms_segments": self.sms_segments,
                "sms_monthly_cap_segments": self.sms_cap_segments},
            "redelivery": self.redelivery.to_json(),
            "seconds": round(self.seconds, 1)}


# --- the subscribers ---------------------------------------------------------------------


def zone_codes(zones: int) -> list[str]:
    return [f"zone-{z + 1:02d}" for z in range(zones)]


def populate(dep: Deployment, subscribers: int, zones: int, targeted: set[str],
             seed: int) -> tuple[int, int, int, int]:
    """Write the subscribers; returns (audience, with phone, with e-mail, SMS segments) of
    the targeted zones."""
    from bench.service_levels import _item_size_checked_once, _Writer
    from chalicelib.adapters.dynamodb import AudienceItem, SubscriberItem, keys
    from chalicelib.domain import alerts as domain

    rng = random.Random(seed)
    codes = zone_codes(zones)
    created = keys.sort_time(datetime.now(UTC) - timedelta(days=30))
    segments = {lang: domain.sms_segments(f"{TITLE[lang]}: {BODY[lang]}")
                for lang in TITLE}
    audience = phones = emails = sms = 0
    writer = _Writer(dep)
    with _item_size_checked_once():
        for n in range(subscribers):
            sid = f"01BENCH{n:019d}"  # 26 characters, as a ULID
            zone = codes[n % zones]
            kind = n // zones % 3  # phone only, e-mail only, both: in every zone alike
            phone = f"+1312{2000000 + n:07d}" if kind in (0, 2) else None  # valid, E.164
            email = f"resident{n}@example.org" if kind in (1, 2) else None
            language = "es" if rng.random() < 0.2 else "en"
            stop_key = f"{rng.getrandbits(144):036x}"
            writer.put(SubscriberItem(
                keys.subscriber_pk(TOWN_ID, sid), keys.SUBSCRIBER_SK, language=language,
                zones=[zone], created_at=created, phone=phone, email=email, status="active",
                code_hash=None, code_expires=0, tries=0, stop_key=stop_key))
            for audience_of in (keys.WHOLE_TOWN, zone):
                writer.put(AudienceItem(
                    keys.audience_pk(TOWN_ID, audience_of), keys.audience_sk(sid),
                    subscriber_id=sid, language=language, phone=phone, email=email,
                    stop_key=stop_key))
            if zone in targeted:
                audience += 1
                phones += phone is not None
                emails += email is not None
                sms += segments[language] if phone else 0
        writer.flush()
    return audience, phones, emails, sms


# --- the app's container, with a clock the pacing can sleep on ------------------------------


class _Clock:
    """Real time plus what was slept: sleeping costs no wall time."""

    def __init__(self) -> None:
        self.slept = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.slept)

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


def _install_container(dep: Deployment, clock: _Clock) -> Any:
    """A fresh container whose alert ports sleep on ``clock`` and send through SES/SNS;
    returns pynamodb's client."""
    from chalicelib import bootstrap
    from chalicelib.adapters.dynamodb import SubscriberItem
    from chalicelib.adapters.messages import AwsMessenger
    from chalicelib.config import settings_from_env

    class PacedContainer(bootstrap.Container):
        @property
        def alert_ports(self) -> Any:
            return replace(super().alert_ports, sleep=clock.sleep)

    container = PacedContainer(settings_from_env(), now=clock.now)
    container.__dict__["outbox"] = AwsMessenger(
        lambda: container.client("ses"), lambda: container.client("sns"), MAIL_FROM)
    bootstrap.install(container)
    dep.container = container
    container.subscribers  # noqa: B018 - binds the item classes (one shared connection)
    return SubscriberItem._get_connection().connection.client


class _ReadCounter(DynamoCalls):
    """Hooks on pynamodb's client: each Query's partition, pages and ScannedCount, and the
    items GetItem / BatchGetItem returned."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.reads = Reads()

    def __enter__(self) -> Reads:
        super().__enter__()
        return self.reads

    def seen(self, call: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        from chalicelib.adapters.dynamodb import keys

        if call in ("Query", "Scan"):
            values = [v.get("S", "") for v in
                      (params.get("ExpressionAttributeValues") or {}).values()]
            # The partition: a town's, or one of the platform's.
            pk = next((v for v in values if v.startswith((keys.TOWN_PREFIX, keys.PLATFORM_PK))),
                      call)
            q = self.reads.queries.setdefault(pk, {"calls": 0, "pages": 0, "items": 0})
            q["calls"] += "ExclusiveStartKey" not in params
            q["pages"] += 1
            q["items"] += int(parsed.get("ScannedCount", 0))
            self.reads.items["query"] += int(parsed.get("ScannedCount", 0))
        elif call == "GetItem" and "Item" in parsed:
            self.reads.items["get"] += 1
        elif call == "BatchGetItem":
            self.reads.items["batch get"] += sum(
                len(v) for v in parsed.get("Responses", {}).values())


def _event(bodies: list[tuple[str, str]]) -> dict[str, Any]:
    """An SQS event as Lambda hands it over: (body, receipt handle) per record."""
    return {"Records": [
        {"messageId": str(uuid.uuid4()), "receiptHandle": handle, "body": body,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0",
                        "SenderId": "AIDABENCH", "ApproximateFirstReceiveTimestamp": "0"},
         "messageAttributes": {},
         "md5OfBody": "", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:town311-notices",
         "awsRegion": "us-east-1"} for body, handle in bodies]}


def _invoke(recorder: AwsCallRecorder, client: Any,
            events: list[dict[str, Any]]) -> tuple[Step, list[Any]]:
    """``send_notices`` once per event; the time inside AWS calls (every client's
    ``_make_api_call``: botocore and the emulator) is added up apart from the rest."""
    import botocore.client
    from chalice.test import Client

    from app import app

    original = botocore.client.BaseClient._make_api_call
    inside = [0.0]

    def timed(self: Any, operation: str, params: dict[str, Any]) -> Any:
        began = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            inside[0] += time.perf_counter() - began

    answers = []
    with Client(app) as lambdas, _ReadCounter(client) as reads, \
            recorder.recording() as seen:
        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            for event in events:
                answers.append(lambdas.lambda_.invoke("send_notices", event).payload)
            seconds = time.perf_counter() - started
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
    calls = Counter(f"{c.service}:{c.operation}" + (f" {c.index}" if c.index else "")
                    for c in seen.calls)
    payloads = [[len(e["MessageBody"].encode()) for e in c.params["Entries"]]
                for c in seen.calls if c.operation == "SendMessageBatch"]
    return Step(dict(sorted(calls.items())), reads, seconds, inside[0], payloads), answers


def _failures(answers: list[Any]) -> int:
    return sum(len((a or {}).get("batchItemFailures", [])) for a in answers)


def _forget_subscribers_in_emulator(dep: Deployment) -> None:
    """Drop the subscribers' items from moto's table before the delivery sample.

    Delivery reads none of them (each batch message carries its recipients), but moto
    deep-copies the whole table on every TransactWriteItems (to roll back), and each
    message is settled in one: with 100,000 subscribers that is seconds and gigabytes per
    message, an artefact of the emulator (DynamoDB's transactions cost what they touch)."""
    from moto.dynamodb.models import dynamodb_backends

    from bench.environment import REGION
    from chalicelib.adapters.dynamodb import keys
    from local.provision import DEFAULT_ACCOUNT_ID

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[dep.table]
    # Every key of these kinds starts with the key built for an empty id.
    kinds = (keys.subscriber_pk(TOWN_ID, ""), keys.audience_pk(TOWN_ID, ""),
             keys.alert_contact_pk(TOWN_ID, ""), keys.alert_phone_pk(""))
    for key in [k for k in table.items if str(getattr(k, "value", k)).startswith(kinds)]:
        del table.items[key]


def measure_alert_fanout(dep: Deployment, recorder: AwsCallRecorder,
                         subscribers: int = DEFAULT_SUBSCRIBERS, zones: int = DEFAULT_ZONES,
                         targeted: int = DEFAULT_TARGETED, sample: int = DEFAULT_SAMPLE,
                         seed: int = 8) -> AlertBench:
    from chalicelib.domain import alerts as domain
    from chalicelib.domain.alerts import Alert

    if not 1 <= targeted <= zones or subscribers < zones or sample < 1:
        raise SystemExit("need 1 ≤ --targeted ≤ --zones ≤ --subscribers and --sample ≥ 1")
    started = time.perf_counter()
    codes = tuple(zone_codes(zones)[:targeted])
    t0 = time.perf_counter()
    audience, phones, emails, segments = populate(dep, subscribers, zones, set(codes), seed)
    populated = time.perf_counter() - t0

    clock = _Clock()
    client = _install_container(dep, clock)
    dep.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
    town = dep.container.town_store.get_town(TOWN_ID)
    now = clock.now()
    alert = Alert(
        town_id=TOWN_ID, alert_id=dep.container.make_id(), title=dict(TITLE), body=dict(BODY),
        fallback_language="en", severity="extreme", category="water",
        expires_at=now + timedelta(hours=12), zones=codes, created_by="bench-writer",
        created_at=now)
    dep.container.alert_store.save(alert, new=True)
    alert.approve("bench-approver")  # as ``approve`` leaves it: sending
    alert.sent_at = now
    dep.container.alert_store.save(alert)
    message = json.dumps({"version": 1, "type": "alert", "town_id": TOWN_ID,
                          "alert_id": alert.alert_id})

    fanout, answers = _invoke(recorder, client, [_event([(message, "fan-out")])])
    if _failures(answers):
        raise RuntimeError(f"the fan-out failed: {answers}")
    queued = dep.container.alert_store.counts(TOWN_ID, alert.alert_id).get("recipients", 0)
    payloads = fanout.batch_payloads

    # The sample: the first batch messages on the notices queue, ten per event.
    sqs, url = dep.client("sqs"), dep.environment["TOWN311_NOTICE_QUEUE_URL"]
    taken: list[tuple[str, str]] = []
    while len(taken) < sample:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, sample - len(taken)),
                                  VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        taken += [(m["Body"], m["ReceiptHandle"]) for m in got]
    people = [p for body, _ in taken for p in json.loads(body)["recipients"]]
    events = [_event(taken[k:k + 10]) for k in range(0, len(taken), 10)]
    _forget_subscribers_in_emulator(dep)
    delivery, answers = _invoke(recorder, client, events)
    if _failures(answers):
        raise RuntimeError(f"a sample batch failed: {answers}")
    waited = clock.slept
    tallies = dep.container.alert_store.counts(TOWN_ID, alert.alert_id)
    redelivery, _ = _invoke(recorder, client, [_event(taken[:1])])

    return AlertBench(
        subscribers=subscribers, zones=zones, targeted=codes, audience=audience,
        phones=phones, emails=emails, sms_segments=segments,
        sms_cap_segments=int(town.sms_monthly_cap_usd / domain.SMS_SEGMENT_USD),
        sms_per_second=town.alert_sms_per_second, populate_seconds=populated,
        fanout=fanout, queued=queued, batch_messages=sum(len(p) for p in payloads)
        + fanout.count("sqs:SendMessage"),
        batch_bytes_max=max((sum(p) for p in payloads), default=0),
        message_bytes_max=max((max(p) for p in payloads if p), default=0),
        sample_batches=len(taken), sample_recipients=len(people),
        sample_phones=sum(1 for p in people if p.get("phone")),
        sample_emails=sum(1 for p in people if p.get("email")), delivery=delivery,
        simulated_wait=waited, tallies=tallies, redelivery=redelivery,
        seconds=time.perf_counter() - started)


# --- the report ---------------------------------------------------------------------------


def _calls_text(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in calls.items()) or "none"


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def console_lines(b: AlertBench) -> list[str]:
    f, d = b.fanout, b.delivery
    audience = f.reads.audience()
    out = ["", f"(g) EMERGENCY ALERT FAN-OUT — send_notices through "
               f"chalice.test.Client(app).lambda_; {b.subscribers:,} subscribers in "
               f"{b.zones} zones, an alert to {len(b.targeted)} of them",
           f"  {'PASS' if b.passed else 'FAIL'}   target: one Query per zone, never a Scan; "
           "SQS calls about recipients ÷ 500 (50 per message, 10 per call)",
           f"  written untimed in {b.populate_seconds:.0f} s; recipients {b.audience:,} "
           f"({b.phones:,} with a phone, {b.emails:,} with an e-mail)",
           f"  fan-out: {b.queued:,} queued in {b.batch_messages} batch messages, "
           f"{f.timing}",
           "    audience Queries: " + ", ".join(
               f"{z} {v['calls']} ({v['pages']} pages, {v['items']:,} items)"
               for z, v in audience.items()),
           f"    calls: {_calls_text(f.calls)}",
           f"    largest SendMessageBatch {b.batch_bytes_max:,} bytes, largest message "
           f"{b.message_bytes_max:,} bytes",
           f"  delivery sample: {b.sample_batches} batches, {b.sample_recipients:,} "
           f"recipients ({b.sample_phones} texts, {b.sample_emails} e-mails), "
           f"{d.timing}; pacing slept {b.simulated_wait:.0f} s "
           f"(simulated) at {b.sms_per_second} texts/s",
           f"    calls: {_calls_text(d.calls)}",
           f"    extrapolated to {b.audience:,} recipients: {_calls_text(b.extrapolated())}",
           f"    texts at {b.sms_per_second}/s: {_duration(b.extrapolated_wait())} of pacing; "
           f"SMS segments {b.sms_segments:,} against the monthly cap's "
           f"{b.sms_cap_segments:,}",
           f"  re-delivered batch: {_calls_text(b.redelivery.calls)}"]
    failed = [name for name, ok in b.checks.items() if not ok]
    if failed:
        out.append(f"  FAILED: {'; '.join(failed)}")
    return out


def _op(name: str) -> str:
    labels = {
        "dynamodb:PutItem": "DynamoDB PutItem (claim per recipient + channel)",
        "dynamodb:UpdateItem": "DynamoDB UpdateItem (SMS slot and spend)",
        "dynamodb:TransactWriteItems": "DynamoDB TransactWriteItems (settle + tally, once)",
        "dynamodb:GetItem": "DynamoDB GetItem (alert, town)",
        "dynamodb:Query": "DynamoDB Query (the alert's tallies)",
        "dynamodb:BatchGetItem": "DynamoDB BatchGetItem (STOP checks)",
        "ses:SendEmail": "SES SendEmail", "sns:Publish": "SNS Publish (SMS)",
    }
    return labels.get(name, name)


def markdown_lines(b: AlertBench) -> list[str]:
    f, d = b.fanout, b.delivery
    audience = f.reads.audience()
    sqs_calls = f.count("sqs:SendMessageBatch") + f.count("sqs:SendMessage")
    pages = sum(v["pages"] for v in audience.values())
    other = sum(n for k, n in f.calls.items() if k.startswith("dynamodb")) - pages
    per = b.per_recipient()
    extra = b.extrapolated()
    lines = [
        "",
        f"**Emergency alert fan-out** (`bench/alerts.py`) — {b.subscribers:,} active "
        f"subscribers in Maple Falls spread over {b.zones} zones (a third phone only, a "
        "third e-mail only, a third both; one in five Spanish); an alert to "
        f"{len(b.targeted)} zones reaches {b.audience:,} of them ({b.phones:,} phones, "
        f"{b.emails:,} e-mail addresses). Both steps run through `send_notices` "
        "(`chalice.test.Client(app).lambda_`) on moto; SES and SNS are moto's.",
        "",
        "| fan-out (one invocation) | measured | target |",
        "|---|---:|---|",
        f"| DynamoDB Query on audience partitions | "
        f"{sum(v['calls'] for v in audience.values())} ({pages} pages) | one per zone, "
        "never a Scan |",
    ]
    lines += [f"| — items read, {z} | {v['items']:,} | |" for z, v in audience.items()]
    lines += [
        f"| DynamoDB Scan | {f.count('dynamodb:Scan')} | 0 |",
        f"| other DynamoDB calls (alert GetItem, tallies Query, planned tallies "
        f"PutItem) | {other} | |",
        f"| batch messages (50 recipients each) | {b.batch_messages:,} | "
        f"recipients ÷ 50 = {math.ceil(b.audience / BATCH):,} |",
        f"| SQS SendMessageBatch | {sqs_calls:,} | recipients ÷ 500 = "
        f"{math.ceil(b.audience / BATCH / 10):,} |",
        f"| largest SendMessageBatch payload | {b.batch_bytes_max / 1024:,.0f} KiB | ≤ 256 KiB |",
        f"| in-process time to queue {b.queued:,} recipients | {f.seconds:.1f} s | |",
        f"| — of it inside AWS calls (botocore + moto) | {f.aws_seconds:.1f} s | |",
        "",
        f"Delivery: {b.sample_batches} of the {b.batch_messages} batch messages "
        f"({b.sample_recipients:,} recipients: {b.sample_phones} texts, "
        f"{b.sample_emails} e-mails) taken off the notices queue and handled ten per "
        f"invocation, in {d.timing}; the last column is **extrapolated** "
        f"(sample × {b.audience:,} ÷ {b.sample_recipients:,}), not measured.",
        "",
        f"| delivery call | sample ({b.sample_recipients:,} recipients) | per recipient | "
        f"extrapolated to {b.audience:,} |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {_op(name)} | {n:,} | {per[name]:.2f} | {extra[name]:,} |"
              for name, n in d.calls.items()]
    total = sum(d.calls.values())
    lines += [
        f"| all | {total:,} | {total / b.sample_recipients:.2f} | {sum(extra.values()):,} |",
        "",
        "Selecting recipients is one paged Query per targeted zone and reads exactly the "
        "recipients; the queue work is batched (about recipients ÷ 500 SQS calls). The "
        "sends are not: SES SendEmail and SNS Publish take one recipient per call (a direct "
        "text has no batch API, and each e-mail carries its own stop link), and each "
        "message also costs a conditional PutItem claim and a transaction that settles and "
        "tallies it once (the last one marks the alert sent). Texts are paced town-wide "
        "at the town's `alert_sms_per_second` "
        f"({b.sms_per_second}, the default): the {b.phones:,} texts take "
        f"{_duration(b.extrapolated_wait())} whatever the Lambda concurrency (the bench's "
        "clock lets the pacing sleep without waiting; each refused slot is one more "
        f"UpdateItem). The texts come to {b.sms_segments:,} SMS segments against the "
        f"monthly cap's {b.sms_cap_segments:,}. A re-delivered batch sends nothing. "
        f"{'PASS' if b.passed else 'FAIL'}.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import silenced

    parser = argparse.ArgumentParser(prog="python -m bench.alerts",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=DEFAULT_SUBSCRIBERS,
                        help=f"active subscribers in Maple Falls (default {DEFAULT_SUBSCRIBERS})")
    parser.add_argument("--zones", type=int, default=DEFAULT_ZONES,
                        help=f"zones they are spread over (default {DEFAULT_ZONES})")
    parser.add_argument("--targeted", type=int, default=DEFAULT_TARGETED,
                        help=f"zones the alert goes to (default {DEFAULT_TARGETED})")
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE,
                        help=f"batch messages delivered (default {DEFAULT_SAMPLE})")
    parser.add_argument("--json", action="store_true", help="print the JSON figures too")
    args = parser.parse_args(argv)
    RECORDER.install()
    with silenced(), deployment() as dep:
        result = measure_alert_fanout(dep, RECORDER, args.subscribers, args.zones,
                                      args.targeted, args.sample)
    print("\n".join(console_lines(result)))
    print("\n".join(markdown_lines(result)))
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    print(f"\ntook {result.seconds:.0f} s")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
