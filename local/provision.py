"""Create Town311's AWS resources on an emulator from infra/template.yaml.

The cloud gets its tables, bucket, queues and topic from the same file through
`chalice package --merge-template`; reading it here (instead of repeating the definitions)
is what keeps the local run and the tests from drifting away from production.

Only the resource types the app talks to are created: DynamoDB tables, S3 buckets, SQS
queues, SNS topics. Alarms, Lambda permissions, web ACLs and the like mean nothing without Lambda
and are skipped, and so is staff sign-in (Cognito): locally staff use tokens that
local/tokens.py signs, and the environment variables that name the user pool get local
stand-ins (`LOCAL_STAND_INS`). A property this module does not know how to apply is an
error rather than a silent difference: teach `_TRANSLATORS` about it, or list it in
`_LOCALLY_IRRELEVANT`.

`provision()` works against anything boto3 can reach: moto's server (the local run) or
an in-process `moto.mock_aws` (the tests). Running it again on existing resources is fine.
"""

from __future__ import annotations

import contextlib
import graphlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from local.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"
DEFAULT_STACK_NAME = "town311-local"
# moto's default account.
DEFAULT_ACCOUNT_ID = "123456789012"

# Resource types with no local meaning: nothing to create, nothing the app reads.
# SES receiving and the bucket policy letting SES write: locally `make mail` puts a message
# where SES would (local/mail.py), and the emulator checks no bucket policy.
_SKIPPED_TYPES = frozenset({"AWS::CloudWatch::Alarm", "AWS::Lambda::Permission",
                            "AWS::S3::BucketPolicy"})
_SKIPPED_PREFIXES = ("AWS::IAM::", "AWS::Serverless::", "AWS::Lambda::", "AWS::Logs::",
                     "AWS::ApiGateway::", "AWS::Cognito::", "AWS::WAFv2::", "AWS::SES::")

# Globals variables whose value refers to a resource that is not created locally: what each
# is on the emulator instead. None leaves the variable unset. Any other variable referring
# to such a resource is an error (TemplateError), not a guess.
LOCAL_STAND_INS: dict[str, str | None] = {
    # The user pool's issuer and app client become those of the tokens local/tokens.py
    # signs; the matching public key (TOWN311_JWT_PUBLIC_KEY) depends on the signing key,
    # so the caller adds it: `provision(...) | local.tokens.app_environment(key)`.
    "TOWN311_JWT_ISSUER": LOCAL_ISSUER,
    "TOWN311_JWT_AUDIENCE": LOCAL_AUDIENCE,
    # Unset, so the app gives new staff local sign-ins (LocalIdentity), not Cognito users.
    "TOWN311_USER_POOL_ID": None,
    # Unset: a local run signs staff in at the console's development page, not the pool's.
    "TOWN311_COGNITO_DOMAIN": None,
}

# Properties that are real in the cloud but have nothing to apply on an emulator.
_LOCALLY_IRRELEVANT = {
    "AWS::S3::Bucket": {
        # The event pump (local/pump.py) reads it from the template and plays S3's part.
        "NotificationConfiguration",
        "Tags",
    },
    "AWS::DynamoDB::Table": {"Tags", "ContributorInsightsSpecification"},
    "AWS::SQS::Queue": {"Tags"},
    "AWS::SNS::Topic": {"Tags", "Subscription"},
}


class TemplateError(ValueError):
    """The template uses something the local provisioner cannot reproduce."""


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


_SERVICES = ("dynamodb", "s3", "sqs", "sns")


@dataclass
class Clients:
    """The four boto3 clients provisioning needs."""

    dynamodb: Any
    s3: Any
    sqs: Any
    sns: Any

    @classmethod
    def from_any(cls, session_or_clients: Any = None) -> Clients:
        """Accept a boto3 Session, a mapping of service name to client, a Clients, or None
        (default session)."""
        if isinstance(session_or_clients, Clients):
            return session_or_clients
        if isinstance(session_or_clients, Mapping):
            return cls(**{name: session_or_clients[name] for name in _SERVICES})
        if session_or_clients is None:
            import boto3

            session_or_clients = boto3.session.Session()
        return cls(*(session_or_clients.client(name) for name in _SERVICES))

    @property
    def region(self) -> str:
        return self.sqs.meta.region_name


@dataclass
class LocalStack:
    """The template resolved for one stack name: what was created and what the app gets."""

    template: dict[str, Any]
    stack_name: str
    region: str
    account_id: str
    # logical id -> {"Ref": physical id, attribute name -> value}
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsic functions in `value` against the created resources."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._attribute(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                delimiter, parts = arg
                return delimiter.join(str(p) for p in self.resolve(parts))
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by local/provision.py")
        return {k: self.resolve(v) for k, v in value.items()}

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def _ref(self, name: str) -> str:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        parameter = self.template.get("Parameters", {}).get(name)
        if parameter is not None:  # locally a parameter always has its default
            return str(parameter.get("Default", ""))
        return self._attribute(name, "Ref")

    def _attribute(self, logical: str, attribute: str) -> str:
        try:
            return self.resources[logical][attribute]
        except KeyError:
            raise LookupError(
                f"{logical}.{attribute} has no local value (not created locally, or not yet)"
            ) from None

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        resolved_vars = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_vars:
                return str(resolved_vars[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self._attribute(logical, attribute)
            return self._ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) that `value` refers to."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref":
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {
                    m.split(".", 1)[0]
                    for m in re.findall(r"\$\{([^}!][^}]*)\}", text)
                    if not m.startswith("AWS::")
                }
                if not isinstance(arg, str):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return found


def _is_created_locally(resource: dict[str, Any]) -> bool:
    rtype = resource.get("Type")
    # No Type: an override merged into a resource Chalice generates.
    if rtype is None or rtype in _SKIPPED_TYPES or rtype.startswith(_SKIPPED_PREFIXES):
        return False
    if rtype not in _TRANSLATORS:
        raise TemplateError(f"local/provision.py cannot create {rtype}; teach it or skip it")
    return True


def _check_properties(rtype: str, logical: str, props: dict[str, Any], known: set[str]) -> None:
    unknown = set(props) - known
    if unknown:
        raise TemplateError(
            f"{logical} ({rtype}) uses {sorted(unknown)}, which local/provision.py does not "
            "apply; teach it, or list them in _LOCALLY_IRRELEVANT"
        )


def _default_name(stack: LocalStack, logical: str) -> str:
    # CloudFormation would add a random suffix; locally a stable name is more useful.
    return f"{stack.stack_name}-{logical}"


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


# --- DynamoDB -------------------------------------------------------------------------------

_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def share_moto_stream_records() -> None:
    """Make moto's copy of a table share its stream's records instead of copying them.

    moto deep-copies a table for every item of a TransactWriteItems (to roll a cancelled
    one back), and the copy includes every record its stream ever got: with a stream on,
    each transaction costs twice as much and keeps getting dearer. A stream record never
    changes once written, so the copy takes the same records in a new list (a cancelled
    transaction's own records are still dropped with the rest of its changes). Does
    nothing when moto is not installed (a real account)."""
    try:
        from moto.dynamodb.models.table import StreamShard
    except ImportError:  # pragma: no cover - provisioning a real account
        return
    if getattr(StreamShard, "_town311_shared_records", False):
        return

    def copy_shard(self: Any, memo: dict[int, Any]) -> Any:
        twin = StreamShard.__new__(StreamShard)
        memo[id(self)] = twin
        twin.__dict__.update(self.__dict__)
        twin.table = memo.get(id(self.table), self.table)
        twin.items = list(self.items)
        return twin

    StreamShard.__deepcopy__ = copy_shard  # type: ignore[attr-defined]
    StreamShard._town311_shared_records = True  # type: ignore[attr-defined]


def _create_table(clients: Clients, stack: LocalStack, logical: str, p: dict[str, Any]) -> dict:
    _check_properties("AWS::DynamoDB::Table", logical, p, {
        "TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
        "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "SSESpecification",
        "StreamSpecification", "TimeToLiveSpecification", "PointInTimeRecoverySpecification",
        "TableClass", "DeletionProtectionEnabled",
    })
    name = p.get("TableName") or _default_name(stack, logical)
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": p["AttributeDefinitions"],
        "KeySchema": p["KeySchema"],
        "BillingMode": p.get("BillingMode", "PROVISIONED"),
    }
    for key in ("ProvisionedThroughput", "TableClass", "DeletionProtectionEnabled"):
        if key in p:
            kwargs[key] = p[key]
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if key in p:
            kwargs[key] = [{k: v for k, v in index.items() if k in _INDEX_KEYS} for index in p[key]]
    if "SSESpecification" in p:
        sse = p["SSESpecification"]
        kwargs["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **{k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse},
        }
    if "StreamSpecification" in p:
        kwargs["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": p["StreamSpecification"]["StreamViewType"],
        }
        share_moto_stream_records()
    ddb = clients.dynamodb
    with contextlib.suppress(ddb.exceptions.ResourceInUseException):
        ddb.create_table(**kwargs)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    ttl = p.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"], "Enabled": True})
    pitr = p.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
    table = ddb.describe_table(TableName=name)["Table"]
    attributes = {"Ref": name, "Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return attributes


# --- S3 -------------------------------------------------------------------------------------

_LIFECYCLE_RULE_KEYS = {
    "Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload",
    "NoncurrentVersionExpirationInDays",
}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    unknown = set(rule) - _LIFECYCLE_RULE_KEYS
    if unknown:
        raise TemplateError(f"lifecycle rule keys {sorted(unknown)} are not translated locally")
    out: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "NoncurrentVersionExpirationInDays" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    return out


def _encryption_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
    return {renamed.get(k, k): v for k, v in rule.items()}


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"Id": "ID", "MaxAge": "MaxAgeSeconds"}
    return {renamed.get(k, k): v for k, v in rule.items()}


def _create_bucket(clients: Clients, stack: LocalStack, logical: str, p: dict[str, Any]) -> dict:
    _check_properties("AWS::S3::Bucket", logical, p, {
        "BucketName", "PublicAccessBlockConfiguration", "BucketEncryption", "OwnershipControls",
        "LifecycleConfiguration", "VersioningConfiguration", "CorsConfiguration",
    })
    s3 = clients.s3
    name = p.get("BucketName") or _default_name(stack, logical).lower()
    kwargs: dict[str, Any] = {"Bucket": name}
    if clients.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": clients.region}
    existing = (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists)
    with contextlib.suppress(*existing):
        s3.create_bucket(**kwargs)
    if "PublicAccessBlockConfiguration" in p:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"])
    if "OwnershipControls" in p:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
    if "BucketEncryption" in p:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [_encryption_rule(r) for r in
                      p["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    if "LifecycleConfiguration" in p:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
            "Rules": [_lifecycle_rule(r) for r in p["LifecycleConfiguration"]["Rules"]]})
    if "VersioningConfiguration" in p:
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": p["VersioningConfiguration"]["Status"]})
    if "CorsConfiguration" in p:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={
            "CORSRules": [_cors_rule(r) for r in p["CorsConfiguration"]["CorsRules"]]})
    return {
        "Ref": name,
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{clients.region}.amazonaws.com",
    }


# --- SQS ------------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "FifoQueue",
    "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
    "RedrivePolicy", "RedriveAllowPolicy",
)


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _create_queue(clients: Clients, stack: LocalStack, logical: str, p: dict[str, Any]) -> dict:
    _check_properties("AWS::SQS::Queue", logical, p, {"QueueName", *_QUEUE_ATTRIBUTES})
    sqs = clients.sqs
    fifo = bool(p.get("FifoQueue"))
    name = p.get("QueueName") or _default_name(stack, logical) + (".fifo" if fifo else "")
    attributes = {k: _attribute_value(p[k]) for k in _QUEUE_ATTRIBUTES if k in p}
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as e:
        if _error_code(e) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        # Exists with other attributes: bring it to the template's.
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes.pop("FifoQueue", None)
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}


# --- SNS ------------------------------------------------------------------------------------

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")


def _create_topic(clients: Clients, stack: LocalStack, logical: str, p: dict[str, Any]) -> dict:
    _check_properties("AWS::SNS::Topic", logical, p, {"TopicName", *_TOPIC_ATTRIBUTES})
    fifo = bool(p.get("FifoTopic"))
    name = p.get("TopicName") or _default_name(stack, logical) + (".fifo" if fifo else "")
    attributes = {k: _attribute_value(p[k]) for k in _TOPIC_ATTRIBUTES if k in p}
    arn = clients.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


_Translator = Callable[[Clients, LocalStack, str, dict[str, Any]], dict[str, str]]
_TRANSLATORS: dict[str, _Translator] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
}


# --- Entry points ---------------------------------------------------------------------------


def function_environment(stack: LocalStack) -> dict[str, str]:
    """The environment every function gets from the template (SAM Globals), resolved; a
    variable naming a resource that is not created locally takes its LOCAL_STAND_INS
    value, or is left out."""
    globals_env = (
        stack.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        .get("Variables", {})
    )
    not_local = set(stack.template.get("Resources", {})) - set(stack.resources)
    environment = {}
    for name, value in globals_env.items():
        missing = references(value) & not_local
        if not missing:
            environment[name] = str(stack.resolve(value))
        elif name not in LOCAL_STAND_INS:
            raise TemplateError(
                f"{name} refers to {sorted(missing)}, which local/provision.py does not "
                "create; give it a local value in LOCAL_STAND_INS")
        elif LOCAL_STAND_INS[name] is not None:
            environment[name] = LOCAL_STAND_INS[name]
    return environment


def provision_stack(
    session_or_clients: Any = None,
    stack_name: str = DEFAULT_STACK_NAME,
    template: dict[str, Any] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> LocalStack:
    """Create the template's resources (in dependency order) and resolve the app's
    environment; returns everything the local runner needs to know about them."""
    clients = Clients.from_any(session_or_clients)
    template = load_template() if template is None else template
    stack = LocalStack(template, stack_name, clients.region, account_id)
    resources = {
        logical: resource
        for logical, resource in template.get("Resources", {}).items()
        if _is_created_locally(resource)
    }
    graph = {
        logical: references(resource.get("Properties", {})) & resources.keys()
        for logical, resource in resources.items()
    }
    for logical in graphlib.TopologicalSorter(graph).static_order():
        resource = resources[logical]
        irrelevant = _LOCALLY_IRRELEVANT.get(resource["Type"], set())
        properties = stack.resolve({
            k: v for k, v in resource.get("Properties", {}).items() if k not in irrelevant})
        stack.resources[logical] = _TRANSLATORS[resource["Type"]](
            clients, stack, logical, properties)
    stack.environment = function_environment(stack)
    return stack


def provision(
    session_or_clients: Any = None,
    stack_name: str = DEFAULT_STACK_NAME,
    template: dict[str, Any] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> dict[str, str]:
    """Create every table, bucket, queue and topic of infra/template.yaml and return the
    environment the app needs to use them (TOWN311_TABLE, ...), with the local issuer and
    audience for staff tokens (add `local.tokens.app_environment(key)` for the key)."""
    return provision_stack(session_or_clients, stack_name, template, account_id).environment
