"""The local event pump calls handlers as Lambda would, and settles messages as Lambda does."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Chalice, Rate

from local.provision import provision_stack
from local.pump import S3Source, ScheduleSource, SqsSource, StreamSource, discover_sources


class RecordingHandler:
    """Stands in for a Chalice handler: records each (event, context) and answers `reply`."""

    def __init__(self, reply: Any = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.reply = reply
        self.error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        if self.error is not None:
            raise self.error
        return self.reply(event) if callable(self.reply) else self.reply


def routing_source(aws, handler, **overrides) -> tuple[SqsSource, Any, dict[str, str]]:
    stack = provision_stack(aws)
    queue = stack.resources["RoutingQueue"]
    sqs = aws.client("sqs")
    source = SqsSource(sqs=sqs, queue_url=queue["QueueUrl"], queue_arn=queue["Arn"],
                       handler=handler, function_name="town311-local-RouteNewRequests",
                       **overrides)
    return source, sqs, queue


def message_counts(sqs, queue_url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


def test_one_message_becomes_one_handler_call_and_is_deleted(aws):
    handler = RecordingHandler()
    source, sqs, queue = routing_source(aws, handler)
    sent = sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody='{"version": 1}')

    received = source.poll_once(wait_seconds=0)

    assert received == 1
    (event, context), = handler.calls
    (record,) = event["Records"]
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == '{"version": 1}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue["Arn"]
    assert record["receiptHandle"]
    assert int(record["attributes"]["ApproximateReceiveCount"]) == 1
    assert context.function_name == "town311-local-RouteNewRequests"
    assert context.get_remaining_time_in_millis() > 0
    assert message_counts(sqs, queue["QueueUrl"]) == (0, 0)


def test_every_record_of_a_batch_has_its_own_message_id(aws):
    handler = RecordingHandler()
    source, sqs, queue = routing_source(aws, handler)
    for n in range(3):
        sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody=f'{{"n": {n}}}')

    while source.poll_once(wait_seconds=0):
        pass

    ids = [r["messageId"] for event, _ in handler.calls for r in event["Records"]]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert message_counts(sqs, queue["QueueUrl"]) == (0, 0)


def test_a_reported_batch_item_failure_stays_on_the_queue_and_the_rest_is_deleted(aws):
    def fail_the_poison(event):
        return {"batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if "poison" in r["body"]
        ]}

    handler = RecordingHandler(reply=fail_the_poison)
    source, sqs, queue = routing_source(aws, handler)
    sqs.send_message_batch(QueueUrl=queue["QueueUrl"], Entries=[
        {"Id": "good", "MessageBody": "good"}, {"Id": "bad", "MessageBody": "poison"}])

    source.poll_once(wait_seconds=0)

    # The poison message is in flight until its visibility timeout, then comes back.
    assert message_counts(sqs, queue["QueueUrl"]) == (0, 1)


def test_a_handler_that_raises_leaves_the_whole_batch_for_redelivery(aws):
    handler = RecordingHandler(error=RuntimeError("database down"))
    source, sqs, queue = routing_source(aws, handler)
    sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody="x")

    source.poll_once(wait_seconds=0)

    assert len(handler.calls) == 1
    assert message_counts(sqs, queue["QueueUrl"]) == (0, 1)


def test_an_unknown_item_identifier_fails_the_whole_batch_as_lambda_does(aws):
    handler = RecordingHandler(reply={"batchItemFailures": [{"itemIdentifier": ""}]})
    source, sqs, queue = routing_source(aws, handler)
    sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody="x")

    source.poll_once(wait_seconds=0)

    assert message_counts(sqs, queue["QueueUrl"]) == (0, 1)


def test_without_report_batch_item_failures_a_returned_failure_list_is_ignored(aws):
    handler = RecordingHandler(reply={"batchItemFailures": [{"itemIdentifier": "whatever"}]})
    source, sqs, queue = routing_source(aws, handler, report_batch_item_failures=False)
    sqs.send_message(QueueUrl=queue["QueueUrl"], MessageBody="x")

    source.poll_once(wait_seconds=0)

    assert message_counts(sqs, queue["QueueUrl"]) == (0, 0)


def test_an_upload_under_the_prefix_becomes_one_s3_event(aws):
    stack = provision_stack(aws)
    bucket = stack.resources["PhotoBucket"]["Ref"]
    s3 = aws.client("s3")
    handler = RecordingHandler()
    source = S3Source(s3=s3, bucket=bucket, handler=handler, function_name="photo",
                      prefix="incoming/")
    s3.put_object(Bucket=bucket, Key="incoming/town/a b.jpg", Body=b"jpeg")
    s3.put_object(Bucket=bucket, Key="public/town/c.jpg", Body=b"jpeg")

    source.poll_once(wait_seconds=0)
    source.poll_once(wait_seconds=0)

    (event, _), = handler.calls
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "incoming/town/a+b.jpg"  # S3 URL-encodes keys
    assert record["s3"]["object"]["size"] == 4


def test_a_failed_s3_invocation_is_retried(aws):
    stack = provision_stack(aws)
    bucket = stack.resources["PhotoBucket"]["Ref"]
    s3 = aws.client("s3")
    handler = RecordingHandler(error=RuntimeError("not yet"))
    source = S3Source(s3=s3, bucket=bucket, handler=handler, function_name="photo",
                      prefix="incoming/", retry_delays=(0.0, 0.0))
    s3.put_object(Bucket=bucket, Key="incoming/x.jpg", Body=b"jpeg")

    for _ in range(4):
        source.poll_once(wait_seconds=0)

    assert len(handler.calls) == 3  # the first try and two retries, as Lambda does


# A miniature app with the same handler names as Town311's, to check that discovery wires
# them to the resources of infra/template.yaml rather than to the names in the decorators.
blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(queue="town311-routing", batch_size=10)
def route_new_requests(event):
    return {"batchItemFailures": []}


@blueprint.lambda_function(name="process_photo")
def process_photo(event, context):
    return {}


@blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def sweep_due_requests(event):
    return None


miniature = Chalice(app_name="town311")
miniature.register_blueprint(blueprint)


def test_discovery_wires_handlers_to_the_template_resources(aws):
    stack = provision_stack(aws)

    sources = discover_sources(miniature, stack, aws.client("sqs"), aws.client("s3"),
                               schedule_seconds=5)

    (sqs_source,) = [s for s in sources if isinstance(s, SqsSource)]
    assert sqs_source.queue_arn == stack.resources["RoutingQueue"]["Arn"]
    assert sqs_source.queue_url == stack.resources["RoutingQueue"]["QueueUrl"]
    assert sqs_source.report_batch_item_failures
    assert sqs_source.batch_size == 10
    (s3_source,) = [s for s in sources if isinstance(s, S3Source)]
    assert s3_source.bucket == stack.resources["PhotoBucket"]["Ref"]
    assert s3_source.prefix == "incoming/"
    (schedule,) = [s for s in sources if isinstance(s, ScheduleSource)]
    assert schedule.interval_seconds == 5
    # The handler objects are the ones Lambda would import from the handler string.
    assert sqs_source.handler is route_new_requests
    assert s3_source.handler is process_photo
    assert schedule.handler is sweep_due_requests


def test_a_message_goes_through_the_discovered_chalice_handler(aws):
    stack = provision_stack(aws)
    sqs = aws.client("sqs")
    (source,) = [s for s in discover_sources(miniature, stack, sqs, aws.client("s3"))
                 if isinstance(s, SqsSource)]
    sqs.send_message(QueueUrl=source.queue_url, MessageBody="hello")

    assert source.poll_once(wait_seconds=0) == 1

    assert message_counts(sqs, source.queue_url) == (0, 0)


def test_every_event_handler_of_the_app_is_pumped_locally(aws):
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    from app import app

    stack = provision_stack(aws)

    sources = discover_sources(app, stack, aws.client("sqs"), aws.client("s3"))

    pumped = {type(s): 0 for s in sources}
    for source in sources:
        pumped[type(source)] += 1
    expected_sqs = sum(isinstance(c, SQSEventConfig) for c in app.event_sources)
    expected_schedules = sum(isinstance(c, ScheduledEventConfig) for c in app.event_sources)
    assert pumped.get(SqsSource, 0) == expected_sqs >= 1
    assert pumped.get(ScheduleSource, 0) == expected_schedules
    buckets = {s.function_name: s.prefix for s in sources if isinstance(s, S3Source)}
    assert buckets == {"town311-local-ProcessPhoto": "incoming/",
                       "town311-local-ReceiveMail": "inbound-mail/"}


def test_a_message_stored_under_inbound_mail_reaches_receive_mail(aws):
    from app import app
    from chalicelib.events.mail import receive_mail

    stack = provision_stack(aws)
    sources = discover_sources(app, stack, aws.client("sqs"), aws.client("s3"))
    (mail,) = [s for s in sources if isinstance(s, S3Source) and s.prefix == "inbound-mail/"]
    assert mail.handler is receive_mail
    assert mail.bucket == stack.resources["PhotoBucket"]["Ref"]


def test_the_webhook_queue_is_pumped_to_the_webhook_sender(aws):
    from app import app
    from chalicelib.events.pipeline import deliver_webhooks

    stack = provision_stack(aws)

    sources = discover_sources(app, stack, aws.client("sqs"), aws.client("s3"))

    (webhooks,) = [s for s in sources if isinstance(s, SqsSource)
                   and s.queue_arn == stack.resources["WebhookQueue"]["Arn"]]
    assert webhooks.handler is deliver_webhooks
    assert webhooks.function_name == "town311-local-DeliverWebhooks"
    assert webhooks.report_batch_item_failures
    assert webhooks.batch_size == 10


def test_a_handler_whose_queue_is_not_in_the_template_is_skipped_with_a_warning(aws, caplog):
    stray = Blueprint(__name__)

    @stray.on_sqs_message(queue="nobody-made-this", batch_size=1)
    def read_nothing(event):
        return None

    app = Chalice(app_name="town311")
    app.register_blueprint(stray)
    stack = provision_stack(aws)

    sources = discover_sources(app, stack, aws.client("sqs"), aws.client("s3"),
                               handler_loader=lambda handler_string: read_nothing)

    assert [s for s in sources if isinstance(s, SqsSource)] == []
    assert "nobody-made-this" in caplog.text


def test_the_notices_queue_and_inbound_texts_are_pumped(aws):
    import json

    from app import app
    from chalicelib.events.notices import receive_sms, send_notices
    from local.pump import SnsSource

    stack = provision_stack(aws)
    sns = aws.client("sns")

    sources = discover_sources(app, stack, aws.client("sqs"), aws.client("s3"), sns=sns)

    (notices,) = [s for s in sources if isinstance(s, SqsSource)
                  and s.queue_arn == stack.resources["NoticeQueue"]["Arn"]]
    assert notices.handler is send_notices and notices.report_batch_item_failures
    (texts,) = [s for s in sources if isinstance(s, SnsSource)]
    assert texts.handler is receive_sms
    assert texts.topic_arn == stack.resources["InboundSmsTopic"]["TopicArn"]

    seen = RecordingHandler(reply={"outcome": "stopped"})
    texts.handler = seen
    sns.publish(TopicArn=texts.topic_arn, Message=json.dumps(
        {"originationNumber": "+15550100200", "messageBody": "STOP"}))
    assert texts.poll_once(wait_seconds=0) == 1
    ((event, _),) = seen.calls
    assert json.loads(event["Records"][0]["Sns"]["Message"])["messageBody"] == "STOP"
    assert texts.poll_once(wait_seconds=0) == 0


# --- the table's stream (the figures function) ----------------------------------------------


def _streams(aws):
    from botocore.config import Config

    # A stream ARN names an account; botocore would call an account endpoint moto does not
    # answer (local/run.py sets AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled the same way).
    return aws.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def test_the_table_stream_is_pumped_to_the_figures_function_with_its_filter(aws):
    from app import app

    stack = provision_stack(aws)
    (source,) = [s for s in discover_sources(app, stack, aws.client("sqs"), aws.client("s3"),
                                             streams=_streams(aws))
                 if isinstance(s, StreamSource)]
    assert source.stream_arn == stack.resources["RequestsTable"]["StreamArn"]
    assert source.function_name == "town311-local-CountFigures"
    assert source.report_batch_item_failures and len(source.filters) == 2

    handler = RecordingHandler(reply={"batchItemFailures": []})
    source.handler = handler
    table, ddb = stack.resources["RequestsTable"]["Ref"], aws.client("dynamodb")
    pk = {"S": "TOWN#t#REQ#r"}
    for sk, extra in (("META", {}), ("EVENT#2026-11-20T00:00:00.000000Z#e1", {}),
                      ("SUB#f1", {"role": {"S": "follower"}}),
                      ("SUB#f2", {"role": {"S": "reporter"}})):
        ddb.put_item(TableName=table, Item={"PK": pk, "SK": {"S": sk}, **extra})
    # Written again: a MODIFY, which the filter leaves out.
    ddb.put_item(TableName=table, Item={"PK": pk, "SK": {"S": "SUB#f1"},
                                        "role": {"S": "follower"}})

    assert source.poll_once(wait_seconds=0) == 5
    [(event, _)] = handler.calls
    assert [r["dynamodb"]["NewImage"]["SK"]["S"] for r in event["Records"]] == [
        "EVENT#2026-11-20T00:00:00.000000Z#e1", "SUB#f1"]
    assert all(r["eventSourceARN"] == source.stream_arn for r in event["Records"])
    assert source.poll_once(wait_seconds=0) == 0


def test_a_failed_stream_record_is_retried_from_where_it_failed(aws):
    stack = provision_stack(aws)
    source = StreamSource(streams=_streams(aws),
                          stream_arn=stack.resources["RequestsTable"]["StreamArn"],
                          handler=RecordingHandler(), function_name="f")
    table, ddb = stack.resources["RequestsTable"]["Ref"], aws.client("dynamodb")
    for n in range(3):
        ddb.put_item(TableName=table, Item={"PK": {"S": "p"}, "SK": {"S": f"s{n}"}})
    second = []

    def fail_the_second(event):
        if not second:
            second.append(event["Records"][1]["dynamodb"]["SequenceNumber"])
            return {"batchItemFailures": [{"itemIdentifier": second[0]}]}
        return {"batchItemFailures": []}

    source.handler = RecordingHandler(reply=fail_the_second)
    source.poll_once(wait_seconds=0)
    source.poll_once(wait_seconds=0)
    calls = source.handler.calls
    assert [len(e["Records"]) for e, _ in calls] == [3, 2]
    assert calls[1][0]["Records"][0]["dynamodb"]["SequenceNumber"] == second[0]
