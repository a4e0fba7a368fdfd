"""Play Lambda's event sources for `chalice local`, which serves HTTP routes only.

The pump calls the very handler objects Lambda would call (`handler_string` of each Chalice
registration, e.g. ``chalicelib.events.pipeline.route_new_requests``) with Lambda-shaped
events:

* SQS: long-polls each queue that has an ``on_sqs_message`` handler; one record per message,
  each with its own messageId; deletes the messages the handler did not report in
  ``batchItemFailures`` (when the template turns ReportBatchItemFailures on) and none if it
  raised, so failures come back after the visibility timeout and end in the dead-letter
  queue, as in the cloud.
* S3: watches the buckets whose NotificationConfiguration in infra/template.yaml invokes a
  function (the photo function) and sends one ObjectCreated event per new object.
* Schedules: calls each ``schedule`` handler every `schedule_seconds`.

Which queue a handler reads is taken from the template's override of its event source (the
queue Chalice's decorator names does not exist locally); which function a bucket invokes,
from the bucket's notification. Invocations are serialised, like a function with reserved
concurrency 1, so lazily built clients in the app are never raced.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from local.provision import LocalStack
from local.turns import TurnLock

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]

# One invocation at a time across all sources, in turn.
_INVOKE_LOCK = TurnLock()


@dataclass
class FakeLambdaContext:
    """The parts of Lambda's context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    region: str = "us-east-1"
    account_id: str = "123456789012"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def invoke(handler: Handler, event: dict[str, Any], context: FakeLambdaContext) -> Any:
    with _INVOKE_LOCK:
        return handler(event, context)


def import_handler(handler_string: str) -> Handler:
    """The object Lambda calls for `module.attribute`."""
    module, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


# --- SQS ------------------------------------------------------------------------------------


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, from a ReceiveMessage message."""
    attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        binary = value.get("BinaryValue")
        attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])],
            "dataType": value["DataType"],
        }
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


@dataclass
class SqsSource:
    """A queue and the function its event source mapping invokes."""

    sqs: Any
    queue_url: str
    queue_arn: str
    handler: Handler
    function_name: str
    batch_size: int = 10
    report_batch_item_failures: bool = True
    region: str = "us-east-1"
    timeout_seconds: float = 30.0

    def describe(self) -> str:
        return f"SQS {self.queue_arn.rsplit(':', 1)[-1]} -> {self.function_name}"

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch, invoke the handler, delete what succeeded; returns the number
        of messages received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
        context = FakeLambdaContext(
            self.function_name, timeout_seconds=self.timeout_seconds, region=self.region)
        try:
            result = invoke(self.handler, event, context)
        except Exception:
            log.exception("%s failed; the batch returns after the visibility timeout",
                          self.describe())
            return len(messages)
        failed = self._failed_ids(result, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start:start + 10])])
        if failed:
            log.warning("%s reported %d of %d messages failed", self.describe(), len(failed),
                        len(messages))
        return len(messages)

    def _failed_ids(self, result: Any, batch_ids: set[str]) -> set[str]:
        if not self.report_batch_item_failures or not isinstance(result, dict):
            return set()
        failed = {f.get("itemIdentifier") for f in result.get("batchItemFailures") or []}
        if not failed <= batch_ids:
            # Lambda treats an empty or unknown identifier as a failure of the whole batch.
            log.warning("%s returned unknown itemIdentifiers %s", self.describe(),
                        sorted(map(str, failed - batch_ids)))
            return batch_ids
        return failed


# --- DynamoDB streams ------------------------------------------------------------------------


def matches_filter(pattern: Any, value: Any) -> bool:
    """Whether ``value`` (a stream record, or part of one) fits an event source mapping's
    filter ``pattern``: the part of Lambda's filter syntax the template uses (nested keys;
    a list of accepted strings, or of ``{"prefix": ...}``)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches_filter(sub, value[key]) for key, sub in pattern.items())
    if isinstance(pattern, list):
        return any(value.startswith(p["prefix"]) if isinstance(p, dict) and "prefix" in p
                   and isinstance(value, str) else value == p for p in pattern)
    return bool(pattern == value)


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of a Lambda DynamoDB stream event, from a GetRecords record."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


@dataclass
class StreamSource:
    """A table's stream and the function its event source mapping invokes: records are
    read in order from each shard, filtered as the mapping's FilterCriteria say, and a
    batch is retried from the first failed record (ReportBatchItemFailures) up to
    ``max_retries`` times, then skipped, as Lambda does."""

    streams: Any
    stream_arn: str
    handler: Handler
    function_name: str
    batch_size: int = 100
    filters: list[Any] = field(default_factory=list)
    starting_position: str = "TRIM_HORIZON"
    report_batch_item_failures: bool = True
    max_retries: int = 3
    region: str = "us-east-1"
    timeout_seconds: float = 60.0
    _iterators: dict[str, str] = field(default_factory=dict)
    _retries: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return f"DynamoDB stream {self.stream_arn.split('/')[1]} -> {self.function_name}"

    def _shards(self) -> None:
        described = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in described.get("Shards", []):
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType=self.starting_position)["ShardIterator"]

    def _restart_at(self, shard_id: str, sequence_number: str) -> None:
        self._iterators[shard_id] = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence_number)["ShardIterator"]

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Read one batch from each shard and invoke the handler with what passes the
        filters; returns the number of records read."""
        self._shards()
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            page = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = page.get("Records", [])
            read += len(records)
            if page.get("NextShardIterator"):
                self._iterators[shard_id] = page["NextShardIterator"]
            wanted = [stream_record(r, self.stream_arn) for r in records
                      if not self.filters or any(matches_filter(f, r) for f in self.filters)]
            if wanted:
                failed_at = self._invoke(wanted)
                if failed_at is not None:
                    tries = self._retries.get(failed_at, 0) + 1
                    if tries <= self.max_retries:
                        self._retries[failed_at] = tries
                        self._restart_at(shard_id, failed_at)
                    else:
                        log.error("%s: record %s failed %d times; skipped", self.describe(),
                                  failed_at, tries)
        if not read:
            time.sleep(wait_seconds)
        return read

    def _invoke(self, records: list[dict[str, Any]]) -> str | None:
        """The sequence number to retry from, or None when the batch is done."""
        context = FakeLambdaContext(
            self.function_name, timeout_seconds=self.timeout_seconds, region=self.region)
        first = records[0]["dynamodb"]["SequenceNumber"]
        try:
            result = invoke(self.handler, {"Records": records}, context)
        except Exception:
            log.exception("%s failed; the batch is retried", self.describe())
            return str(first)
        if not self.report_batch_item_failures or not isinstance(result, dict):
            return None
        failures = [f.get("itemIdentifier") for f in result.get("batchItemFailures") or []]
        if not failures:
            return None
        log.warning("%s reported a failed record; retrying from it", self.describe())
        return str(min(failures, key=lambda n: int(n or 0)) or first)


# --- S3 -------------------------------------------------------------------------------------


def s3_event(bucket: str, obj: dict[str, Any], region: str) -> dict[str, Any]:
    """A Lambda S3 ObjectCreated event for one object from ListObjectsV2."""
    now = datetime.now(UTC)
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:LOCAL"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                             "x-amz-id-2": "local"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "local-pump",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "LOCAL"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                # S3 URL-encodes keys in events (spaces become '+').
                "key": quote_plus(obj["Key"], safe="/"),
                "size": obj.get("Size", 0),
                "eTag": obj.get("ETag", "").strip('"'),
                "sequencer": f"{time.time_ns():X}",
            },
        },
    }]}


@dataclass
class S3Source:
    """A bucket notification: new objects under `prefix` (ending in `suffix`) invoke a
    function, one event per object. A failed invocation is retried after each of
    `retry_delays` (Lambda retries an asynchronous invocation twice, after about one and
    two minutes; locally sooner)."""

    s3: Any
    bucket: str
    handler: Handler
    function_name: str
    prefix: str = ""
    suffix: str = ""
    region: str = "us-east-1"
    timeout_seconds: float = 60.0
    retry_delays: tuple[float, ...] = (5.0, 10.0)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    # (due time, object, attempts so far)
    _retries: list[tuple[float, dict[str, Any], int]] = field(default_factory=list)

    def describe(self) -> str:
        return f"S3 s3://{self.bucket}/{self.prefix}*{self.suffix} -> {self.function_name}"

    def poll_once(self, wait_seconds: int = 1) -> int:
        current = set()
        created = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith(self.suffix):
                    continue
                signature = (obj["Key"], obj.get("ETag", ""))
                current.add(signature)
                if signature not in self._seen:
                    created.append(obj)
        # Forget deleted objects, so the set stays the size of the prefix.
        self._seen &= current
        now = time.monotonic()
        due = [(obj, attempts) for when, obj, attempts in self._retries if when <= now]
        self._retries = [r for r in self._retries if r[0] > now]
        for obj in created:
            self._seen.add((obj["Key"], obj.get("ETag", "")))
        for obj, attempts in [(obj, 0) for obj in created] + due:
            self._deliver(obj, attempts)
        if not created and not due:
            time.sleep(wait_seconds)
        return len(created) + len(due)

    def _deliver(self, obj: dict[str, Any], attempts: int) -> None:
        context = FakeLambdaContext(
            self.function_name, timeout_seconds=self.timeout_seconds, region=self.region)
        try:
            invoke(self.handler, s3_event(self.bucket, obj, self.region), context)
        except Exception:
            if attempts < len(self.retry_delays):
                delay = self.retry_delays[attempts]
                log.exception("%s failed for %s; retrying in %gs", self.describe(), obj["Key"],
                              delay)
                self._retries.append((time.monotonic() + delay, obj, attempts + 1))
            else:
                log.exception("%s failed for %s; giving up", self.describe(), obj["Key"])


# --- Schedules ------------------------------------------------------------------------------


def scheduled_event(rule: str, region: str, account_id: str = "123456789012") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule}"],
        "detail": {},
    }


@dataclass
class ScheduleSource:
    """A schedule handler, called every `interval_seconds` (not on its cloud rate: locally
    one wants to see it run)."""

    handler: Handler
    function_name: str
    interval_seconds: float = 60.0
    region: str = "us-east-1"
    timeout_seconds: float = 60.0
    _next: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._next = time.monotonic() + self.interval_seconds

    def describe(self) -> str:
        return f"schedule every {self.interval_seconds:g}s -> {self.function_name}"

    def poll_once(self, wait_seconds: int = 1) -> int:
        if time.monotonic() < self._next:
            time.sleep(min(wait_seconds, max(0.0, self._next - time.monotonic())))
            return 0
        self._next = time.monotonic() + self.interval_seconds
        context = FakeLambdaContext(
            self.function_name, timeout_seconds=self.timeout_seconds, region=self.region)
        try:
            invoke(self.handler, scheduled_event(self.function_name, self.region), context)
        except Exception:
            log.exception("%s failed", self.describe())
        return 1


# --- SNS ------------------------------------------------------------------------------------


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda event for one SNS notification (as SQS got it, raw delivery off)."""
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope.get("Type", "Notification"),
            "MessageId": envelope.get("MessageId", str(uuid.uuid4())),
            "TopicArn": envelope.get("TopicArn", ""),
            "Subject": envelope.get("Subject"),
            "Message": envelope.get("Message", ""),
            "Timestamp": envelope.get("Timestamp", ""),
            "SignatureVersion": "1", "Signature": "", "SigningCertUrl": "",
            "UnsubscribeUrl": "", "MessageAttributes": envelope.get("MessageAttributes", {}),
        }}]}


@dataclass
class SnsSource:
    """A topic's handler: the topic fans out to a local queue, which is read like SQS."""

    sqs: Any
    queue_url: str
    topic_arn: str
    subscription_arn: str
    handler: Handler
    function_name: str
    region: str = "us-east-1"

    def describe(self) -> str:
        return f"SNS {self.topic_arn.rsplit(':', 1)[-1]} -> {self.function_name}"

    def poll_once(self, wait_seconds: int = 1) -> int:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])
        for message in messages:
            context = FakeLambdaContext(self.function_name, region=self.region)
            try:
                invoke(self.handler, sns_event(json.loads(message["Body"]),
                                               self.subscription_arn), context)
            except Exception:
                log.exception("%s failed", self.describe())
            self.sqs.delete_message(QueueUrl=self.queue_url,
                                    ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def _sns_source(stack: LocalStack, config: Any, sqs: Any, sns: Any, function_name: str,
                handler: Handler) -> SnsSource | None:
    logical = _logical_id(config.name)
    resource = stack.template.get("Resources", {}).get(logical, {})
    override = resource.get("Properties", {}).get("Events", {}).get(
        f"{logical}SnsSubscription", {}).get("Properties", {})
    topic_arn = str(stack.resolve(override["Topic"])) if "Topic" in override else \
        config.topic if str(config.topic).startswith("arn:") else \
        f"arn:aws:sns:{stack.region}:{stack.account_id}:{config.topic}"
    if not any(t["TopicArn"] == topic_arn for t in sns.list_topics().get("Topics", [])):
        log.warning("%s reads %s, which infra/template.yaml does not create; not pumped",
                    config.name, topic_arn)
        return None
    queue_url = sqs.create_queue(QueueName=f"{stack.stack_name}-pump-{logical}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    return SnsSource(sqs=sqs, queue_url=queue_url, topic_arn=topic_arn,
                     subscription_arn=subscription, handler=handler,
                     function_name=function_name, region=stack.region)


Source = SqsSource | S3Source | ScheduleSource | SnsSource | StreamSource


# --- Discovery ------------------------------------------------------------------------------


def _logical_id(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(name)


def _local_function_name(stack: LocalStack, name: str) -> str:
    return f"{stack.stack_name}-{_logical_id(name)}"


def _sqs_override(stack: LocalStack, logical: str) -> dict[str, Any]:
    resource = stack.template.get("Resources", {}).get(logical, {})
    events = resource.get("Properties", {}).get("Events", {})
    return events.get(f"{logical}SqsEventSource", {}).get("Properties", {})


def _stream_override(stack: LocalStack, logical: str) -> dict[str, Any]:
    resource = stack.template.get("Resources", {}).get(logical, {})
    events = resource.get("Properties", {}).get("Events", {})
    return events.get(f"{logical}DynamodbEventSource", {}).get("Properties", {})


def _stream_source(stack: LocalStack, config: Any, streams: Any, function_name: str,
                   handler: Handler) -> StreamSource | None:
    override = _stream_override(stack, _logical_id(config.name))
    if "Stream" not in override:
        log.warning("%s reads a stream infra/template.yaml does not name; not pumped",
                    config.name)
        return None
    stream_arn = str(stack.resolve(override["Stream"]))
    filters = [json.loads(f["Pattern"])
               for f in override.get("FilterCriteria", {}).get("Filters", [])]
    return StreamSource(
        streams=streams, stream_arn=stream_arn, handler=handler, function_name=function_name,
        batch_size=int(override.get("BatchSize", config.batch_size)), filters=filters,
        starting_position=str(override.get("StartingPosition", config.starting_position)),
        report_batch_item_failures="ReportBatchItemFailures"
        in override.get("FunctionResponseTypes", []),
        region=stack.region)


def _queue_url(sqs: Any, stack: LocalStack, queue_arn: str) -> str:
    for attributes in stack.resources.values():
        if attributes.get("Arn") == queue_arn and "QueueUrl" in attributes:
            return attributes["QueueUrl"]
    return sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]


def discover_sources(
    chalice_app: Any,
    stack: LocalStack,
    sqs: Any,
    s3: Any,
    schedule_seconds: float = 60.0,
    handler_loader: Callable[[str], Handler] = import_handler,
    sns: Any = None,
    streams: Any = None,
) -> list[Source]:
    """The event sources of `chalice_app` (a chalice.Chalice with its blueprints
    registered), wired to the local resources of `stack`."""
    from chalice.app import (
        DynamoDBEventConfig,
        S3EventConfig,
        ScheduledEventConfig,
        SNSEventConfig,
        SQSEventConfig,
    )

    sources: list[Source] = []
    for config in chalice_app.event_sources:
        function_name = _local_function_name(stack, config.name)
        if isinstance(config, SQSEventConfig):
            override = _sqs_override(stack, _logical_id(config.name))
            if "Queue" in override:
                queue_arn = str(stack.resolve(override["Queue"]))
            elif config.queue_arn:
                queue_arn = config.queue_arn
            else:
                queue_arn = f"arn:aws:sqs:{stack.region}:{stack.account_id}:{config.queue}"
            try:
                queue_url = _queue_url(sqs, stack, queue_arn)
            except sqs.exceptions.QueueDoesNotExist:
                log.warning("%s reads %s, which infra/template.yaml does not create; "
                            "not pumped", config.name, queue_arn)
                continue
            sources.append(SqsSource(
                sqs=sqs,
                queue_url=queue_url,
                queue_arn=queue_arn,
                handler=handler_loader(config.handler_string),
                function_name=function_name,
                batch_size=int(override.get("BatchSize", config.batch_size)),
                report_batch_item_failures="ReportBatchItemFailures"
                in override.get("FunctionResponseTypes", []),
                region=stack.region,
            ))
        elif isinstance(config, ScheduledEventConfig):
            sources.append(ScheduleSource(
                handler=handler_loader(config.handler_string),
                function_name=function_name,
                interval_seconds=schedule_seconds,
                region=stack.region,
            ))
        elif isinstance(config, S3EventConfig):
            sources.append(S3Source(
                s3=s3, bucket=config.bucket, handler=handler_loader(config.handler_string),
                function_name=function_name, prefix=config.prefix or "",
                suffix=config.suffix or "", region=stack.region,
            ))
        elif isinstance(config, SNSEventConfig) and sns is not None:
            source = _sns_source(stack, config, sqs, sns, function_name,
                                 handler_loader(config.handler_string))
            if source is not None:
                sources.append(source)
        elif isinstance(config, DynamoDBEventConfig) and streams is not None:
            stream = _stream_source(stack, config, streams, function_name,
                                    handler_loader(config.handler_string))
            if stream is not None:
                sources.append(stream)
        else:
            log.warning("%s (%s) is not pumped locally", config.name, type(config).__name__)
    sources.extend(_bucket_notification_sources(chalice_app, stack, s3, handler_loader))
    return sources


def _bucket_notification_sources(
    chalice_app: Any, stack: LocalStack, s3: Any, handler_loader: Callable[[str], Handler]
) -> Iterable[S3Source]:
    functions = {_logical_id(f.name): f for f in chalice_app.pure_lambda_functions}
    for logical, resource in stack.template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::S3::Bucket":
            continue
        notification = resource.get("Properties", {}).get("NotificationConfiguration", {})
        for target in notification.get("LambdaConfigurations", []):
            if not str(target.get("Event", "")).startswith("s3:ObjectCreated:"):
                log.warning("%s: only ObjectCreated events are pumped locally", logical)
                continue
            function_ref = target["Function"]
            if "Fn::GetAtt" in function_ref:
                attr = function_ref["Fn::GetAtt"]
                function_logical = attr.split(".", 1)[0] if isinstance(attr, str) else attr[0]
            else:
                function_logical = function_ref.get("Ref", "")
            function = functions.get(function_logical)
            if function is None:
                log.warning("%s notifies %s, which is not a lambda_function of the app",
                            logical, function_logical)
                continue
            rules = target.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            by_name = {rule["Name"].lower(): rule["Value"] for rule in rules}
            yield S3Source(
                s3=s3,
                bucket=stack.resources[logical]["Ref"],
                handler=handler_loader(function.handler_string),
                function_name=_local_function_name(stack, function.name),
                prefix=by_name.get("prefix", ""),
                suffix=by_name.get("suffix", ""),
                region=stack.region,
            )


# --- Running --------------------------------------------------------------------------------


class Pump:
    """One thread per source, polling until `stop()`."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self.sources:
            thread = threading.Thread(
                target=self._run, args=(source,), name=source.describe(), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, source: Source) -> None:
        while not self._stop.is_set():
            try:
                source.poll_once(wait_seconds=1)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("polling %s failed; retrying", source.describe())
                self._stop.wait(2)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
