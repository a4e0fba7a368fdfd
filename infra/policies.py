"""Each Lambda function's IAM policy: only the calls it makes, on only its resources.

`python infra/policies.py` writes `.chalice/policy-<stage>-<function>.json` for every stage
and function, and `.chalice/policy-<stage>.json`, the stage default (logs only: a handler
added later gets no data access until it is given a policy here). `.chalice/config.json`
names each file under `stages.<stage>.lambda_functions.<function>.iam_policy_file`;
tests/infra/test_infra_policies.py checks that the committed files are what this module
writes and that every function has one.

Resources are scoped by name, as the stack makes them: stage <stage> is deployed as the
stack `town311-<stage>` (infra/template.yaml). Two grants need CloudFormation values
and live in infra/template.yaml instead: staff sign-in (the user pool's ARN), and e-mail
(the MailFrom parameter, as `ses:FromAddress`).

What each function calls, read from chalicelib/bootstrap.py, chalicelib/events/ and the
adapters (see docs/security.md). Text messages cannot be scoped: SNS's direct publish to
a phone number has no resource and no condition key for the number, so it is granted to
the two functions that text residents (the API for sign-in codes, send_notices) and to no
other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_DIR = ROOT / ".chalice"
STAGES = ("dev", "prod")
APP_NAME = "town311"

# Chalice's handler names and the CloudFormation logical ids `chalice package` gives them
# (the CamelCase of the name; the API is APIHandler).
FUNCTIONS = {
    "api_handler": "APIHandler",
    "route_new_requests": "RouteNewRequests",
    "deliver_webhooks": "DeliverWebhooks",
    "resend_unrouted_requests": "ResendUnroutedRequests",
    "check_service_levels": "CheckServiceLevels",
    "process_photo": "ProcessPhoto",
    "send_notices": "SendNotices",
    "release_quiet_hours_texts": "ReleaseQuietHoursTexts",
    "receive_sms": "ReceiveSms",
    "write_exports": "WriteExports",
    "count_figures": "CountFigures",
    "receive_mail": "ReceiveMail",
}

# DynamoDB through pynamodb. TransactWriteItems is authorised per item as well (PutItem,
# UpdateItem, DeleteItem), so a function that writes in transactions lists those too.
READ = ["dynamodb:GetItem", "dynamodb:Query"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:TransactWriteItems"]
# What Lambda's DynamoDB stream poller needs, on the table's stream.
STREAM_TRIGGER = ["dynamodb:DescribeStream", "dynamodb:GetRecords",
                  "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
# What Lambda's SQS poller needs, on the queue a function is triggered by.
SQS_TRIGGER = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


def _table(stack: str) -> str:
    return f"arn:aws:dynamodb:*:*:table/{stack}-requests"


def _queue(stack: str, name: str) -> str:
    return f"arn:aws:sqs:*:*:{stack}-{name}"


def _bucket(stack: str, prefix: str = "") -> str:
    # The bucket is `<stack>-photos-<account id>`.
    return f"arn:aws:s3:::{stack}-photos-*{'/' + prefix + '*' if prefix else ''}"


def _statement(sid: str, actions: list[str], resources: list[str],
               condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(actions),
                                 "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _logs(stack: str, function: str | None) -> dict[str, Any]:
    """Its own log group: `<stack>-<LogicalId>-<suffix>` when CloudFormation names the
    function (`chalice package`), `<stack>-<name>` (`<stack>` for the API) under
    `chalice deploy`. The stage default covers every function of the stack."""
    if function is None:
        names = [f"{stack}-*"]
    else:
        deployed = stack if function == "api_handler" else f"{stack}-{function}"
        names = [f"{stack}-{FUNCTIONS[function]}-*", deployed]
    groups = [f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}" for name in names]
    return _statement("OwnLogs", ["logs:CreateLogGroup", "logs:CreateLogStream",
                                  "logs:PutLogEvents"],
                      [arn for group in groups for arn in (group, f"{group}:*")])


def _text_messages() -> dict[str, Any]:
    # NotResource: a publish with PhoneNumber has no topic; every topic ARN is excluded, so
    # this grants texts to phone numbers and nothing else.
    return {"Sid": "TextsToPhoneNumbers", "Effect": "Allow", "Action": "sns:Publish",
            "NotResource": "arn:aws:sns:*:*:*"}


def function_statements(stack: str, function: str) -> list[dict[str, Any]]:
    """The statements of one function's policy, besides its logs."""
    table, indexes = _table(stack), f"{_table(stack)}/index"
    dept_queues = _queue(stack, "dept-*")
    escalation_topics = f"arn:aws:sns:*:*:{stack}-escalations-*"
    if function == "api_handler":
        # Every route: the union of what residents, staff, admins and operators do.
        return [
            _statement("Table", READ + WRITE + [
                "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"],
                [table]),
            _statement("TableIndexes", ["dynamodb:Query"], [f"{indexes}/*"]),
            # powertools' DynamoDBPersistenceLayer (Idempotency-Key on submissions).
            _statement("IdempotencyRecords", ["dynamodb:GetItem", "dynamodb:PutItem",
                                              "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                       [f"arn:aws:dynamodb:*:*:table/{stack}-idempotency"]),
            # Uploads (direct, and presigned POST forms signed with this role) land under
            # incoming/; residents read published photos through presigned GETs; a
            # resident may delete their own published photo.
            _statement("PhotoUploads", ["s3:PutObject"], [_bucket(stack, "incoming/")]),
            _statement("PublishedPhotos", ["s3:GetObject", "s3:DeleteObject"],
                       [_bucket(stack, "photos/")]),
            # Finished exports are handed out as presigned GETs signed with this role.
            _statement("ExportFiles", ["s3:GetObject"], [_bucket(stack, "exports/")]),
            _statement("Queues", ["sqs:SendMessage"], [
                _queue(stack, "routing"), _queue(stack, "notices"),
                _queue(stack, "webhooks"), _queue(stack, "exports")]),
            # Hand-offs deliver to departments' queues; admins get a queue's address.
            _statement("DepartmentQueues", ["sqs:GetQueueUrl", "sqs:CreateQueue",
                                            "sqs:SendMessage"], [dept_queues]),
            # Admins list escalation topics and subscribe staff to them.
            _statement("EscalationTopics", ["sns:CreateTopic", "sns:Subscribe"],
                       [escalation_topics]),
            # Residents' sign-in codes and alert subscription confirmations.
            _text_messages(),
        ]
    if function == "route_new_requests":
        return [
            _statement("Table", READ + WRITE, [table]),
            _statement("RoutingTrigger", SQS_TRIGGER, [_queue(stack, "routing")]),
            _statement("Queues", ["sqs:SendMessage"], [
                _queue(stack, "webhooks"), _queue(stack, "notices")]),
            _statement("DepartmentQueues", ["sqs:GetQueueUrl", "sqs:CreateQueue",
                                            "sqs:SendMessage"], [dept_queues]),
        ]
    if function == "deliver_webhooks":
        # Reads the town and its catalogue (the department's webhook URL and secret), in
        # the town's own partition `TOWN#<id>`, never a request, resident or subscriber
        # partition (`TOWN#<id>#...`; jurisdiction ids hold no '#').
        return [
            _statement("TownCatalogue", READ, [table], {
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOWN#*"]}}),
            _statement("NothingBelowTheTown", READ, [table], {
                "ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["TOWN#*#*"]}},
                effect="Deny"),
            # Each try's outcome, in the department's delivery results (and only there).
            _statement("DeliveryResults", ["dynamodb:PutItem"], [table], {
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": ["TOWN#*#DELIVERED#*"]}}),
            _statement("WebhookTrigger", SQS_TRIGGER + ["sqs:ChangeMessageVisibility"],
                       [_queue(stack, "webhooks")]),
        ]
    if function == "resend_unrouted_requests":
        return [
            _statement("UnroutedRequests", ["dynamodb:Query"], [f"{indexes}/by_department"]),
            _statement("RoutingQueue", ["sqs:SendMessage"], [_queue(stack, "routing")]),
        ]
    if function == "check_service_levels":
        return [
            _statement("Table", READ + WRITE + ["dynamodb:BatchGetItem"], [table]),
            _statement("DueRequests", ["dynamodb:Query"], [f"{indexes}/by_sla"]),
            _statement("EscalationTopics", ["sns:CreateTopic", "sns:Publish"],
                       [escalation_topics]),
        ]
    if function == "process_photo":
        return [
            _statement("Table", READ + WRITE, [table]),
            _statement("Uploads", ["s3:GetObject", "s3:DeleteObject"],
                       [_bucket(stack, "incoming/")]),
            _statement("PublishedPhotos", ["s3:PutObject"], [_bucket(stack, "photos/")]),
            # Without it S3 answers a missing upload (an event delivered twice) with 403,
            # not 404, and the photo would be retried instead of ignored.
            _statement("PhotoBucketListing", ["s3:ListBucket"], [_bucket(stack)]),
        ]
    if function == "send_notices":
        return [
            _statement("Table", READ + WRITE + ["dynamodb:BatchGetItem", "dynamodb:DeleteItem"],
                       [table]),
            # Triggered by the notices queue, and puts fan-out batches back on it.
            _statement("NoticeQueue", SQS_TRIGGER + ["sqs:SendMessage"],
                       [_queue(stack, "notices")]),
            _text_messages(),
        ]
    if function == "release_quiet_hours_texts":
        return [
            _statement("DeferredTexts", ["dynamodb:Query", "dynamodb:DeleteItem"], [table]),
            _statement("NoticeQueue", ["sqs:SendMessage"], [_queue(stack, "notices")]),
        ]
    if function == "receive_sms":
        # STOP/START: opt-outs, and the phone's alert subscriptions in every town. Reports
        # by text (services.sms_intake): the conversation, the town's catalogue, the stop
        # list (BatchGetItem), the request filed (a transaction) and sent for routing, the
        # category guess's recent requests (by_requested), and the replies, texted to the
        # resident's phone.
        return [
            _statement("Table", READ + WRITE + ["dynamodb:DeleteItem", "dynamodb:BatchGetItem"],
                       [table]),
            _statement("RecentRequests", ["dynamodb:Query"], [f"{indexes}/by_requested"]),
            _statement("RoutingQueue", ["sqs:SendMessage"], [_queue(stack, "routing")]),
            _text_messages(),
        ]
    if function == "write_exports":
        # Reads a town's partitions (the whole-town export) and its request indexes (open
        # data), writes the job's progress, and the file in parts under exports/.
        return [
            _statement("Table", READ + ["dynamodb:PutItem"], [table]),
            _statement("RequestIndexes", ["dynamodb:Query"], [
                f"{indexes}/by_updated", f"{indexes}/by_requested"]),
            _statement("ExportFiles", ["s3:PutObject", "s3:AbortMultipartUpload"],
                       [_bucket(stack, "exports/")]),
            _statement("ExportTrigger", SQS_TRIGGER, [_queue(stack, "exports")]),
        ]
    if function == "count_figures":
        # The town (its time zone), a request's tally and facts; one transaction per event
        # (tally, day items, open counts). Triggered by the table's own stream.
        return [
            _statement("Table", READ + WRITE, [table]),
            _statement("RequestsStream", STREAM_TRIGGER, [f"{table}/stream/*"]),
        ]
    if function == "receive_mail":
        # A resident's e-mail: the raw message SES stored (read, then deleted), the town and
        # its catalogue, gazetteer and past requests (the guesses), the draft request in a
        # transaction with its count, the sender's flood budget and refusals, the reply's
        # claim, the idempotency record of the message, photos put where uploads land,
        # and the routing message. Its reply (SES) is granted in infra/template.yaml.
        return [
            _statement("Table", READ + WRITE, [table]),
            _statement("RequestIndexes", ["dynamodb:Query"], [f"{indexes}/by_requested"]),
            _statement("IdempotencyRecords", ["dynamodb:GetItem", "dynamodb:PutItem",
                                              "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                       [f"arn:aws:dynamodb:*:*:table/{stack}-idempotency"]),
            _statement("InboundMail", ["s3:GetObject", "s3:DeleteObject"],
                       [_bucket(stack, "inbound-mail/")]),
            # Without it S3 answers a message already handled (an event delivered twice)
            # with 403, not 404, and it would be retried instead of ignored.
            _statement("MailBucketListing", ["s3:ListBucket"], [_bucket(stack)]),
            _statement("PhotoUploads", ["s3:PutObject"], [_bucket(stack, "incoming/")]),
            _statement("RoutingQueue", ["sqs:SendMessage"], [_queue(stack, "routing")]),
        ]
    raise KeyError(f"no policy for {function}; add one to infra/policies.py")


def policy(stage: str, function: str | None) -> dict[str, Any]:
    """One function's policy document, or the stage default (function None)."""
    stack = f"{APP_NAME}-{stage}"
    statements = [] if function is None else function_statements(stack, function)
    return {"Version": "2012-10-17", "Statement": [*statements, _logs(stack, function)]}


def policy_file(stage: str, function: str | None) -> str:
    return f"policy-{stage}.json" if function is None else f"policy-{stage}-{function}.json"


def documents() -> dict[str, dict[str, Any]]:
    """Every policy file's name and content."""
    files = {}
    for stage in STAGES:
        files[policy_file(stage, None)] = policy(stage, None)
        for function in FUNCTIONS:
            files[policy_file(stage, function)] = policy(stage, function)
    return files


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def main() -> None:
    for name, document in documents().items():
        (CHALICE_DIR / name).write_text(render(document))
    config_path = CHALICE_DIR / "config.json"
    config = json.loads(config_path.read_text())
    for stage in STAGES:
        settings = config["stages"][stage]
        settings["iam_policy_file"] = policy_file(stage, None)
        functions = settings.setdefault("lambda_functions", {})
        for function in FUNCTIONS:
            functions.setdefault(function, {})["iam_policy_file"] = policy_file(stage, function)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    print(f"wrote {len(documents())} policies to {CHALICE_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
