"""local/provision.py builds, from infra/template.yaml, what the cloud stack would have."""

from __future__ import annotations

import copy
import fnmatch
import json
from pathlib import Path

import pytest

from local.provision import TemplateError, load_template, provision, provision_stack
from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, app_environment, mint, new_signing_key

ROOT = Path(__file__).resolve().parents[2]


def test_requests_table_has_its_keys_indexes_ttl_and_backups(aws):
    environment = provision(aws)
    ddb = aws.client("dynamodb")

    table = ddb.describe_table(TableName=environment["TOWN311_TABLE"])["Table"]

    assert table["TableName"] == "town311-local-requests"
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("PK", "HASH"), ("SK", "RANGE")}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {
        index["IndexName"]: (
            [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]],
            index["Projection"]["ProjectionType"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "by_requested": ([("GSI1PK", "HASH"), ("GSI1SK", "RANGE")], "ALL"),
        "by_updated": ([("GSI2PK", "HASH"), ("GSI2SK", "RANGE")], "ALL"),
        "by_place": ([("GSI3PK", "HASH"), ("GSI3SK", "RANGE")], "ALL"),
        "by_department": ([("GSI4PK", "HASH"), ("GSI4SK", "RANGE")], "ALL"),
        "by_sla": ([("GSI5PK", "HASH"), ("GSI5SK", "RANGE")], "KEYS_ONLY"),
    }
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    backups = ddb.describe_continuous_backups(TableName=table["TableName"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_idempotency_table_has_the_powertools_layout(aws):
    environment = provision(aws)
    ddb = aws.client("dynamodb")
    name = environment["TOWN311_IDEMPOTENCY_TABLE"]

    table = ddb.describe_table(TableName=name)["Table"]

    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("id", "HASH")]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"


def test_photo_bucket_is_private_encrypted_and_expires_incoming_uploads(aws):
    environment = provision(aws)
    s3 = aws.client("s3")
    bucket = environment["TOWN311_PHOTO_BUCKET"]

    assert bucket == "town311-local-photos-123456789012"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
    incoming, exports, mail = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert incoming["Filter"]["Prefix"] == "incoming/"
    assert incoming["Expiration"]["Days"] == 1
    assert incoming["Status"] == "Enabled"
    # Export files live a week, like their jobs; a cut-off upload's parts a day.
    assert exports["Filter"]["Prefix"] == "exports/"
    assert exports["Expiration"]["Days"] == 7
    assert exports["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    # Residents' raw e-mail: deleted once handled, any left (unreadable) after a week.
    assert mail["Filter"]["Prefix"] == "inbound-mail/"
    assert mail["Expiration"]["Days"] == 7


def test_routing_queue_dead_letters_after_five_receives(aws):
    environment = provision(aws)
    sqs = aws.client("sqs")

    attributes = sqs.get_queue_attributes(
        QueueUrl=environment["TOWN311_ROUTING_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    dlq_url = sqs.get_queue_url(QueueName="town311-local-routing-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_routing_queue_hides_a_message_for_six_router_timeouts(aws):
    environment = provision(aws)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    router_timeout = config["lambda_functions"]["route_new_requests"]["lambda_timeout"]

    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=environment["TOWN311_ROUTING_QUEUE_URL"],
        AttributeNames=["VisibilityTimeout"])["Attributes"]

    assert int(attributes["VisibilityTimeout"]) >= 6 * router_timeout


def test_webhook_queue_dead_letters_after_six_tries_and_outlasts_the_sender(aws):
    environment = provision(aws)
    sqs = aws.client("sqs")
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    sender_timeout = config["lambda_functions"]["deliver_webhooks"]["lambda_timeout"]

    attributes = sqs.get_queue_attributes(
        QueueUrl=environment["TOWN311_WEBHOOK_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    dlq_url = sqs.get_queue_url(QueueName="town311-local-webhooks-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 6
    assert int(attributes["VisibilityTimeout"]) >= 6 * sender_timeout
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)


def test_ops_topic_exists(aws):
    environment = provision(aws)

    topics = [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]]

    assert environment["TOWN311_OPS_TOPIC_ARN"] in topics
    assert environment["TOWN311_OPS_TOPIC_ARN"].endswith(":town311-local-ops")


def test_environment_names_every_resource_the_app_reads(aws):
    environment = provision(aws)

    assert environment == {
        "TOWN311_TABLE": "town311-local-requests",
        "TOWN311_IDEMPOTENCY_TABLE": "town311-local-idempotency",
        "TOWN311_PHOTO_BUCKET": "town311-local-photos-123456789012",
        "TOWN311_ROUTING_QUEUE_URL": aws.client("sqs").get_queue_url(
            QueueName="town311-local-routing")["QueueUrl"],
        "TOWN311_WEBHOOK_QUEUE_URL": aws.client("sqs").get_queue_url(
            QueueName="town311-local-webhooks")["QueueUrl"],
        "TOWN311_NOTICE_QUEUE_URL": aws.client("sqs").get_queue_url(
            QueueName="town311-local-notices")["QueueUrl"],
        "TOWN311_EXPORT_QUEUE_URL": aws.client("sqs").get_queue_url(
            QueueName="town311-local-exports")["QueueUrl"],
        "TOWN311_QUEUE_PREFIX": "town311-local",
        "TOWN311_OPS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:town311-local-ops",
        "POWERTOOLS_SERVICE_NAME": "town311",
        "POWERTOOLS_METRICS_NAMESPACE": "Town311",
        "TOWN311_JWT_ISSUER": LOCAL_ISSUER,
        "TOWN311_JWT_AUDIENCE": LOCAL_AUDIENCE,
        # A parameter takes its default locally: no sending address, messages are logged.
        "TOWN311_MAIL_FROM": "",
        # Likewise no intake domain: `make run` sets its own (local/run.py).
        "TOWN311_MAIL_INTAKE_DOMAIN": "",
    }


def test_provisioning_twice_is_harmless(aws):
    first = provision(aws)

    second = provision(aws)

    assert second == first


def test_stack_name_prefixes_every_resource(aws):
    environment = provision(aws, stack_name="town311-e2e")

    assert environment["TOWN311_TABLE"] == "town311-e2e-requests"
    assert environment["TOWN311_ROUTING_QUEUE_URL"].endswith("/town311-e2e-routing")


def test_a_property_the_provisioner_cannot_apply_is_an_error_not_a_silent_drift(aws):
    template = copy.deepcopy(load_template())
    template["Resources"]["RoutingQueue"]["Properties"]["SomethingNew"] = 1

    with pytest.raises(TemplateError, match="SomethingNew"):
        provision(aws, template=template)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _allowed(policy: dict, action: str, arn: str) -> bool:
    """Whether `policy` lets `action` on `arn`, by the files' name patterns (conditions
    are not evaluated: a conditional Deny does not count here, a conditional Allow does)."""
    allowed = False
    for statement in policy["Statement"]:
        if action not in _as_list(statement["Action"]):
            continue
        if "Resource" in statement:
            hit = any(fnmatch.fnmatchcase(arn, p) for p in _as_list(statement["Resource"]))
        else:
            hit = not any(fnmatch.fnmatchcase(arn, p)
                          for p in _as_list(statement["NotResource"]))
        if hit and statement["Effect"] == "Deny" and "Condition" not in statement:
            return False
        allowed = allowed or (hit and statement["Effect"] == "Allow")
    return allowed


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_function_policies_cover_the_resources_of_stack_town311_stage(aws, stage):
    """The policy files scope by name; the template's names must match those patterns, and
    each function reaches what it uses and not what the others use."""
    stack = provision_stack(aws, stack_name=f"town311-{stage}")
    resources = stack.resources

    def policy(function: str) -> dict:
        return json.loads((ROOT / ".chalice" / f"policy-{stage}-{function}.json").read_text())

    api, router, webhooks = policy("api_handler"), policy("route_new_requests"), \
        policy("deliver_webhooks")
    photos, notices = policy("process_photo"), policy("send_notices")
    table_arn = resources["RequestsTable"]["Arn"].replace("us-east-1", "eu-west-1")
    bucket = resources["PhotoBucket"]["Arn"]
    queue = {name: resources[name]["Arn"] for name in (
        "RoutingQueue", "RoutingDeadLetterQueue", "WebhookQueue", "NoticeQueue")}
    # Department queues are made by the app, named from the stack: `<stack>-dept-<hash>`.
    department_queue = f"arn:aws:sqs:eu-west-1:123456789012:town311-{stage}-dept-0123abcd"
    escalation_topic = (f"arn:aws:sns:eu-west-1:123456789012:town311-{stage}-escalations-"
                        "0123abcd-supervisor")
    phone = "+15550100200"  # what IAM sees as the resource of a direct SMS publish

    assert _allowed(api, "dynamodb:Query", table_arn)
    assert _allowed(api, "dynamodb:Query", table_arn + "/index/by_place")
    assert _allowed(api, "dynamodb:BatchWriteItem", table_arn)
    assert _allowed(api, "dynamodb:PutItem", resources["IdempotencyTable"]["Arn"])
    assert _allowed(api, "s3:PutObject", bucket + "/incoming/t/r/p")
    assert _allowed(api, "s3:GetObject", bucket + "/photos/t/r/p.jpg")
    assert not _allowed(api, "s3:GetObject", bucket + "/incoming/t/r/p")
    for name in ("RoutingQueue", "NoticeQueue", "WebhookQueue"):
        assert _allowed(api, "sqs:SendMessage", queue[name])
    for action in ("sqs:GetQueueUrl", "sqs:CreateQueue", "sqs:SendMessage"):
        assert _allowed(api, action, department_queue)
        assert _allowed(router, action, department_queue)
    assert not _allowed(api, "sqs:CreateQueue", queue["RoutingQueue"])
    assert not _allowed(api, "sqs:ReceiveMessage", department_queue)  # the work-order system's
    assert _allowed(api, "sns:Subscribe", escalation_topic)
    assert _allowed(api, "sns:Publish", phone)
    assert not _allowed(api, "sns:Publish", resources["OpsTopic"]["TopicArn"])

    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert _allowed(router, action, queue["RoutingQueue"])
        assert _allowed(webhooks, action, queue["WebhookQueue"])
        assert _allowed(notices, action, queue["NoticeQueue"])
    assert _allowed(router, "dynamodb:TransactWriteItems", table_arn)
    assert not _allowed(router, "sqs:ReceiveMessage", queue["WebhookQueue"])
    assert not _allowed(router, "sns:Publish", phone)

    assert _allowed(webhooks, "sqs:ChangeMessageVisibility", queue["WebhookQueue"])
    assert _allowed(webhooks, "dynamodb:GetItem", table_arn)
    # It writes only its tries' outcomes: every PutItem it may make is held to the
    # departments' delivery results by the leading key, and it updates nothing.
    puts = [st for st in webhooks["Statement"] if st["Effect"] == "Allow"
            and "dynamodb:PutItem" in _as_list(st["Action"])]
    assert puts and all(
        st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        == ["TOWN#*#DELIVERED#*"] for st in puts)
    assert not _allowed(webhooks, "dynamodb:UpdateItem", table_arn)
    assert not _allowed(webhooks, "dynamodb:DeleteItem", table_arn)
    assert not _allowed(webhooks, "dynamodb:Query", table_arn + "/index/by_place")
    assert not _allowed(webhooks, "sqs:SendMessage", department_queue)

    assert _allowed(photos, "s3:GetObject", bucket + "/incoming/t/r/p")
    assert _allowed(photos, "s3:DeleteObject", bucket + "/incoming/t/r/p")
    assert _allowed(photos, "s3:PutObject", bucket + "/photos/t/r/p.jpg")
    assert not _allowed(photos, "s3:PutObject", bucket + "/incoming/t/r/p")
    # Without ListBucket, S3 answers a missing key with AccessDenied instead of NoSuchKey.
    assert _allowed(photos, "s3:ListBucket", bucket)
    assert not _allowed(photos, "sqs:SendMessage", queue["NoticeQueue"])

    assert _allowed(notices, "sqs:SendMessage", queue["NoticeQueue"])
    assert _allowed(notices, "sns:Publish", phone)
    assert not _allowed(notices, "sns:Publish", escalation_topic)
    assert _allowed(policy("check_service_levels"), "sns:Publish", escalation_topic)
    assert _allowed(policy("check_service_levels"), "dynamodb:Query",
                    table_arn + "/index/by_sla")
    assert _allowed(policy("resend_unrouted_requests"), "dynamodb:Query",
                    table_arn + "/index/by_department")
    assert not _allowed(policy("resend_unrouted_requests"), "dynamodb:Query", table_arn)

    for function in ("api_handler", "route_new_requests", "deliver_webhooks", "process_photo",
                     "send_notices", "check_service_levels", "release_quiet_hours_texts",
                     "receive_sms"):
        assert not _allowed(policy(function), "sns:Publish", resources["OpsTopic"]["TopicArn"])
        for action in ("dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem"):
            other = "town311-dev" if stage == "prod" else "town311-prod"
            assert not _allowed(policy(function), action,
                                table_arn.replace(f"town311-{stage}", other))


def test_staff_sign_in_is_not_created_locally_and_the_app_uses_local_tokens(aws):
    stack = provision_stack(aws)

    assert not {logical for logical in stack.resources if logical.startswith("Staff")}
    assert stack.environment["TOWN311_JWT_ISSUER"] == LOCAL_ISSUER
    assert stack.environment["TOWN311_JWT_AUDIENCE"] == LOCAL_AUDIENCE
    # Without a pool id the app gives new staff local sign-ins instead of calling Cognito.
    assert "TOWN311_USER_POOL_ID" not in stack.environment


def test_the_local_environment_verifies_tokens_the_local_key_signs(aws):
    """What tests/conftest.py and local/run.py do: provision, then add the key."""
    from chalicelib import bootstrap
    from chalicelib.adapters.identity import LocalIdentity
    from chalicelib.config import settings_from_env

    key = new_signing_key()
    environment = provision(aws) | app_environment(key)
    container = bootstrap.Container(settings_from_env(environment))
    token = mint(key, subject="demo-admin", email="admin@maplefalls.example",
                 town="maplefalls.example", roles=["town_admin"])

    who = container.tokens.verify(token)

    assert (who.town_id, sorted(who.roles)) == ("maplefalls.example", ["town_admin"])
    assert isinstance(container.identity, LocalIdentity)


def test_a_variable_naming_a_resource_not_created_locally_needs_a_stand_in(aws):
    template = copy.deepcopy(load_template())
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    variables["TOWN311_SOMETHING_POOLED"] = {"Fn::GetAtt": ["StaffUserPool", "Arn"]}

    with pytest.raises(TemplateError, match="TOWN311_SOMETHING_POOLED.*StaffUserPool"):
        provision(aws, template=template)
