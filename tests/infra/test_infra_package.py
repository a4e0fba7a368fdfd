"""`make package`: the merged SAM template passes cfn-lint and wires what Chalice cannot;
the zips (one per function, and the photo function's layer) carry no runtime-provided or
locally compiled code, each function's zip holds everything its handler can import and
little else, and the API's is under 10 MB."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_ENVIRONMENT = {
    "TOWN311_TABLE", "TOWN311_IDEMPOTENCY_TABLE", "TOWN311_PHOTO_BUCKET",
    "TOWN311_ROUTING_QUEUE_URL", "TOWN311_OPS_TOPIC_ARN", "POWERTOOLS_SERVICE_NAME",
    "TOWN311_WEBHOOK_QUEUE_URL", "TOWN311_QUEUE_PREFIX", "TOWN311_NOTICE_QUEUE_URL",
}
# Lambda's limit is 250 MB unzipped for a function and its layers together; this only notices
# growth (the layer was 13.5 MB zipped when it was set).
LAYER_BUDGET_BYTES = 20 * 1024 * 1024
PHOTO_LIBRARIES = {"PIL", "pillow.libs", "pillow_heif", "pillow_heif.libs"}

# The package is built once per session (a minute of work); `make test` runs pytest-xdist
# with --dist loadfile, so every test here runs on the same worker and it is built once.
pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("chalice") is None or shutil.which(
            "cfn-lint", path=str(Path(sys.executable).parent)) is None,
        reason="chalice and cfn-lint (requirements-dev.txt) are needed to package",
    ),
]


@functools.cache
def _build_package_module() -> Any:
    spec = importlib.util.spec_from_file_location("build_package", ROOT / "infra" /
                                                  "build_package.py")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: its dataclasses look their module up by name.
    sys.modules.setdefault("build_package", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    work = tmp_path_factory.mktemp("src")
    result = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "build_package.py"), "--stage", "prod",
         "--out", str(out), "--workdir", str(work)],
        cwd=ROOT, capture_output=True, text=True, timeout=540,
        env={**_clean_environment(), "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, f"packaging failed:\n{result.stdout}\n{result.stderr}"
    return out


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


@pytest.fixture(scope="session")
def template(package: Path) -> dict[str, Any]:
    return yaml.safe_load((package / "sam.yaml").read_text())


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical: resource for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_every_merged_resource_has_a_type(template):
    """An override whose logical id Chalice no longer generates would be a typeless stub."""
    untyped = [logical for logical, r in template["Resources"].items() if "Type" not in r]
    assert untyped == []


def test_the_functions_are_the_api_the_router_the_webhook_sender_and_the_photo_processor(
        template):
    assert {"APIHandler", "RouteNewRequests", "ProcessPhoto", "DeliverWebhooks"} <= set(
        functions(template))


def test_every_sqs_trigger_reads_a_template_queue_and_reports_item_failures(template):
    queues = {
        logical for logical, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    triggers = {
        name: event["Properties"]
        for function in functions(template).values()
        for name, event in function["Properties"].get("Events", {}).items()
        if event["Type"] == "SQS"
    }
    assert "RouteNewRequestsSqsEventSource" in triggers
    for name, properties in triggers.items():
        # Chalice's default is an ARN built from the decorator's queue name, which no stack
        # creates: every trigger must be overridden in infra/template.yaml.
        queue = properties["Queue"].get("Fn::Sub", "")
        assert queue.startswith("${") and queue.endswith(".Arn}"), name
        assert queue[2:-5] in queues, name
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
    router = triggers["RouteNewRequestsSqsEventSource"]
    assert router["Queue"] == {"Fn::Sub": "${RoutingQueue.Arn}"}
    assert router["BatchSize"] == 10
    webhooks = triggers["DeliverWebhooksSqsEventSource"]
    assert webhooks["Queue"] == {"Fn::Sub": "${WebhookQueue.Arn}"}
    assert webhooks["BatchSize"] == 10
    # One export a run: a whole town may take most of the function's 15 minutes.
    exports = triggers["WriteExportsSqsEventSource"]
    assert exports["Queue"] == {"Fn::Sub": "${ExportQueue.Arn}"}
    assert exports["BatchSize"] == 1


def test_every_function_gets_the_app_environment(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) >= APP_ENVIRONMENT
    assert variables["TOWN311_TABLE"] == {"Ref": "RequestsTable"}
    assert variables["TOWN311_ROUTING_QUEUE_URL"] == {"Ref": "RoutingQueue"}
    assert variables["TOWN311_WEBHOOK_QUEUE_URL"] == {"Ref": "WebhookQueue"}
    assert variables["TOWN311_QUEUE_PREFIX"] == {"Fn::Sub": "${AWS::StackName}"}
    for logical, function in functions(template).items():
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        # Function-level values would win over Globals: none may shadow the resources.
        assert not (set(own) & APP_ENVIRONMENT), logical


def test_the_photo_bucket_invokes_the_photo_and_mail_functions_on_prefixes_apart(template):
    resources = template["Resources"]
    bucket = resources["PhotoBucket"]
    targets = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    prefixes = {t["Function"]["Fn::GetAtt"][0]: t["Filter"]["S3Key"]["Rules"]
                for t in targets}
    assert prefixes == {"ProcessPhoto": [{"Name": "prefix", "Value": "incoming/"}],
                        "ReceiveMail": [{"Name": "prefix", "Value": "inbound-mail/"}]}
    assert all(t["Event"] == "s3:ObjectCreated:*" for t in targets)
    # S3 refuses two notifications of one event type whose prefixes overlap.
    values = [rules[0]["Value"] for rules in prefixes.values()]
    assert not any(a != b and b.startswith(a) for a in values for b in values)
    invoked = set()
    for logical in bucket["DependsOn"]:
        permission = resources[logical]
        assert permission["Type"] == "AWS::Lambda::Permission"
        assert permission["Properties"]["Principal"] == "s3.amazonaws.com"
        invoked.add(permission["Properties"]["FunctionName"]["Fn::GetAtt"][0])
    assert invoked == {"ProcessPhoto", "ReceiveMail"}


def test_ses_stores_the_towns_mail_under_inbound_mail_for_this_account_only(template):
    resources = template["Resources"]
    rule = resources["MailReceiptRule"]
    assert rule["Condition"] == "ReceivesMail"
    assert rule["DependsOn"] == "MailBucketPolicy"
    spec = rule["Properties"]["Rule"]
    assert spec["ScanEnabled"] is True  # the verdicts receive_mail refuses forgeries by
    assert spec["Recipients"] == [{"Ref": "MailIntakeDomain"}]
    (action,) = spec["Actions"]
    assert action["S3Action"] == {"BucketName": {"Ref": "PhotoBucket"},
                                  "ObjectKeyPrefix": "inbound-mail/"}
    assert rule["Properties"]["RuleSetName"] == {"Ref": "MailReceiptRuleSet"}
    policy = resources["MailBucketPolicy"]
    assert policy["Condition"] == "ReceivesMail"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"]["Fn::Sub"].endswith("/inbound-mail/*")
    assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": {
        "Ref": "AWS::AccountId"}}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TOWN311_MAIL_INTAKE_DOMAIN"] == {"Ref": "MailIntakeDomain"}


@pytest.mark.parametrize("alarm, queue", [("RoutingDeadLetterAlarm", "RoutingDeadLetterQueue"),
                                          ("WebhookDeadLetterAlarm", "WebhookDeadLetterQueue"),
                                          ("ExportDeadLetterAlarm", "ExportDeadLetterQueue")])
def test_the_dead_letter_alarms_notify_the_ops_topic(template, alarm, queue):
    alarm = template["Resources"][alarm]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert {"Ref": "OpsTopic"} in alarm["AlarmActions"]


LOGICAL_IDS = {
    "api_handler": "APIHandler", "route_new_requests": "RouteNewRequests",
    "deliver_webhooks": "DeliverWebhooks", "resend_unrouted_requests": "ResendUnroutedRequests",
    "check_service_levels": "CheckServiceLevels", "process_photo": "ProcessPhoto",
    "send_notices": "SendNotices", "release_quiet_hours_texts": "ReleaseQuietHoursTexts",
    "receive_sms": "ReceiveSms", "write_exports": "WriteExports", "count_figures": "CountFigures",
    "receive_mail": "ReceiveMail",
}


def test_every_function_has_its_own_role_with_its_own_policy_file(template):
    resources = template["Resources"]
    fns = functions(template)
    assert set(fns) == set(LOGICAL_IDS.values())
    roles = set()
    for name, logical in LOGICAL_IDS.items():
        role = fns[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        roles.add(role)
        (document,) = [p["PolicyDocument"] for p in resources[role]["Properties"]["Policies"]]
        policy = json.loads((ROOT / ".chalice" / f"policy-prod-{name}.json").read_text())
        assert document == policy, logical
    assert len(roles) == len(LOGICAL_IDS)


def test_only_the_api_send_notices_and_receive_mail_may_mail_and_only_from_mail_from(
        template):
    resources = template["Resources"]
    mail = [(logical, r) for logical, r in resources.items() if r["Type"] == "AWS::IAM::Policy"
            and "ses:" in json.dumps(r["Properties"]["PolicyDocument"])]
    assert [logical for logical, _ in mail] == ["ResidentMailPolicy"]
    policy = mail[0][1]
    assert policy["Condition"] == "SendsMail"
    assert policy["Properties"]["Roles"] == [{"Ref": "ApiHandlerRole"}, {"Ref": "SendNoticesRole"},
                                             {"Ref": "ReceiveMailRole"}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["ses:SendEmail"]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}


def test_the_api_stage_is_throttled_and_tighter_on_routes_that_message_residents(template):
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    by_path = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings}
    stage = by_path[("/*", "*")]
    assert stage["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert stage["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    for path in ("/towns/{town}/residents/sign-in", "/towns/{town}/alerts/subscribers",
                 "/towns/{town}/requests/{reference}/followers"):
        route = by_path[("/" + path.replace("/", "~1"), "POST")]
        assert route["ThrottlingRateLimit"] == {"Ref": "CodeRequestRateLimit"}
        assert route["ThrottlingBurstLimit"] == {"Ref": "CodeRequestBurstLimit"}
        # The route exists in Chalice's API definition (a setting for no route is ignored).
        assert "post" in template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
            "paths"][path]
    parameters = template["Parameters"]
    assert int(parameters["CodeRequestRateLimit"]["Default"]) < int(
        parameters["ApiRateLimit"]["Default"])


def test_a_web_acl_on_the_api_stage_limits_each_ip_address(template):
    import re

    resources = template["Resources"]
    acl = resources["ApiWebAcl"]["Properties"]
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and "Allow" in acl["DefaultAction"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"]["Fn::Sub"].endswith(
        "/restapis/${RestAPI}/stages/${RestAPI.Stage}")
    rules = {r["Name"]: r for r in acl["Rules"]}
    limits = {"code-requests-per-ip": "CodeRequestsPerIp",
              "public-writes-per-ip": "PublicWritesPerIp", "requests-per-ip": "RequestsPerIp"}
    assert set(rules) == set(limits)
    for name, parameter in limits.items():
        statement = rules[name]["Statement"]["RateBasedStatement"]
        assert statement["AggregateKeyType"] == "IP"
        assert statement["Limit"] == {"Ref": parameter}
        assert rules[name]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429

    def path_regex(name):
        statements = rules[name]["Statement"]["RateBasedStatement"]["ScopeDownStatement"][
            "AndStatement"]["Statements"]
        (regex,) = [s["RegexMatchStatement"]["RegexString"] for s in statements
                    if "UriPath" in s.get("RegexMatchStatement", {}).get("FieldToMatch", {})]
        return re.compile(regex)

    codes, writes = path_regex("code-requests-per-ip"), path_regex("public-writes-per-ip")
    for path in ("/api/towns/maple/residents/sign-in", "/towns/maple/alerts/subscribers",
                 "/api/towns/maple/requests/MF-1/followers"):
        assert codes.search(path) and writes.search(path), path
    for path in ("/api/towns/maple/open311/v2/requests.json", "/api/open311/v2/requests.xml",
                 "/towns/maple/requests/MF-1/dispute", "/towns/maple/residents/erase",
                 "/towns/maple/requests/01J/photos"):
        assert writes.search(path) and not codes.search(path), path
    for path in ("/api/staff/requests", "/api/staff/requests/01J/merge", "/api/admin/town",
                 "/departments/roads/requests/01J/close", "/api/towns/maple/track/MF-1"):
        assert not writes.search(path), path


def test_function_sizes_follow_the_chalice_config(template):
    fns = functions(template)
    assert fns["RouteNewRequests"]["Properties"]["Timeout"] == 30
    assert fns["DeliverWebhooks"]["Properties"]["Timeout"] == 60
    assert fns["ProcessPhoto"]["Properties"]["MemorySize"] == 1024
    assert fns["ProcessPhoto"]["Properties"]["Timeout"] == 60
    assert all(f["Properties"]["Runtime"] == "python3.12" for f in fns.values())


def _function_zips(package: Path, template: dict[str, Any]) -> dict[str, Path]:
    return {logical: package / function["Properties"]["CodeUri"]
            for logical, function in functions(template).items()}


def test_every_function_has_its_own_zip_beside_the_template(package, template):
    zips = _function_zips(package, template)
    for logical, function in functions(template).items():
        # Relative to sam.yaml, as Chalice's CodeUri is.
        assert function["Properties"]["CodeUri"] == f"./functions/{logical}.zip"
        assert zips[logical].is_file(), logical
    # No function uses Chalice's shared zip any more: it is not shipped.
    assert not (package / "deployment.zip").exists()


def test_every_zip_leaves_boto_to_the_runtime_and_holds_only_wheel_binaries(package, template):
    build_package = _build_package_module()
    for logical, zip_path in _function_zips(package, template).items():
        with zipfile.ZipFile(zip_path) as zf:
            top = {name.split("/", 1)[0] for name in zf.namelist()}

        assert not top & {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"}
        assert {"chalicelib", "chalice", "pynamodb", "pydantic_core",
                "aws_lambda_powertools"} <= top, logical
        assert build_package.check_zip(zip_path) == [], logical
        assert not top & PHOTO_LIBRARIES, logical
        assert not {name for name in top if name.lower().startswith(("pillow", "pil-"))}


def test_every_zip_is_within_its_budget_and_the_apis_within_10_mb(package, template):
    budgets = _build_package_module().FUNCTION_BUDGETS
    assert budgets["APIHandler"] <= 10_000_000
    for logical, zip_path in _function_zips(package, template).items():
        assert zip_path.stat().st_size <= budgets[logical], logical
    assert _function_zips(package, template)["APIHandler"].stat().st_size <= 10_000_000


def test_every_zip_holds_its_handler_and_only_the_api_holds_app_py(package, template):
    for logical, function in functions(template).items():
        module = function["Properties"]["Handler"].rsplit(".", 1)[0]
        with zipfile.ZipFile(_function_zips(package, template)[logical]) as zf:
            names = set(zf.namelist())
        source = f"{module.replace('.', '/')}.py"
        assert source in names, logical
        # Byte-compiled: a read-only file system would make every cold start compile it.
        assert importlib.util.cache_from_source(source) in names, logical
        # A blueprint's handler is imported by its own module: app.py is the API's alone.
        assert ("app.py" in names) == (logical == "APIHandler"), logical


def test_the_api_serves_its_openapi_document_and_the_packs_follow_the_towns_service(
        package, template):
    zips = _function_zips(package, template)
    with zipfile.ZipFile(zips["APIHandler"]) as zf:
        names = set(zf.namelist())
    assert "chalicelib/api/openapi.json" in names
    assert {"chalicelib/packs/small_town.json", "chalicelib/packs/rural_township.json"} <= names
    for logical, zip_path in zips.items():
        with zipfile.ZipFile(zip_path) as zf:
            names = set(zf.namelist())
        # The packs are read by the towns service: they go wherever it goes.
        assert ("chalicelib/services/towns.py" in names) == (
            "chalicelib/packs/small_town.json" in names), logical


def test_powertools_is_trimmed_to_what_is_imported(package, template):
    for logical, zip_path in _function_zips(package, template).items():
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
        kept = {"/".join(n.split("/")[:3]) for n in names
                if n.startswith("aws_lambda_powertools/utilities/")}
        # Nothing imports data masking, streaming or feature flags.
        assert not kept & {"aws_lambda_powertools/utilities/data_masking",
                           "aws_lambda_powertools/utilities/streaming",
                           "aws_lambda_powertools/utilities/feature_flags"}, logical
        assert not [n for n in names if n.endswith(".pyi")], logical


def test_the_photo_layer_holds_pillow_and_pillow_heif_from_manylinux_wheels(package):
    layer = package / "photo-layer.zip"
    with zipfile.ZipFile(layer) as zf:
        names = zf.namelist()
        wheels = {name: zf.read(name).decode() for name in names
                  if name.endswith(".dist-info/WHEEL")}
        elf_headers = {name: zf.read(name)[:20] for name in names
                       if name.endswith(".so") or ".so." in name}

    # Lambda puts a layer's python/ on sys.path.
    assert all(name.startswith("python/") for name in names)
    top = {name.split("/")[1] for name in names}
    assert {"PIL", "pillow_heif"} <= top
    assert "python/PIL/__init__.py" in names and "python/pillow_heif/__init__.py" in names
    # Nothing the main zip or the runtime provides, no console scripts or test suites.
    assert not top & {"boto3", "botocore", "urllib3", "bin", "pydantic", "numpy"}
    assert not [n for n in names if "/tests/" in n]
    # Built from wheels: no sources or objects of a build.
    assert not [n for n in names if n.endswith((".c", ".cpp", ".o", ".a", ".pyx"))]
    # Byte-compiled like the main zip (a layer is read-only too).
    assert "python/PIL/__pycache__/Image.cpython-312.pyc" in names
    # Every compiled module comes from a CPython 3.12 manylinux x86_64 wheel...
    tags = [line.split(":", 1)[1].strip() for text in wheels.values()
            for line in text.splitlines() if line.startswith("Tag:")]
    assert {name.split("/")[1].split("-")[0] for name in wheels} == {"pillow", "pillow_heif"}
    assert tags and all(tag.startswith("cp312-cp312-manylinux") and tag.endswith("_x86_64")
                        for tag in tags), tags
    assert _build_package_module().check_zip(layer, root="python/") == []
    assert _build_package_module().check_layer_zip(layer) == []
    # ... and is a 64-bit little-endian x86-64 ELF file.
    assert elf_headers
    for name, header in elf_headers.items():
        assert header[:4] == b"\x7fELF" and header[4] == 2 and header[5] == 1, name
        assert int.from_bytes(header[18:20], "little") == 62, name  # EM_X86_64
    assert layer.stat().st_size < LAYER_BUDGET_BYTES


def test_only_the_photo_function_carries_the_photo_layer(template):
    layer = template["Resources"]["PhotoLibrariesLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # Relative to sam.yaml, as the functions' CodeUri is: all zips are written beside it.
    assert layer["Properties"]["ContentUri"] == "./photo-layer.zip"
    assert functions(template)["ProcessPhoto"]["Properties"]["CodeUri"] == (
        "./functions/ProcessPhoto.zip")
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert "Layers" not in template.get("Globals", {}).get("Function", {})
    layered = {logical: function["Properties"]["Layers"]
               for logical, function in functions(template).items()
               if "Layers" in function["Properties"]}
    assert layered == {"ProcessPhoto": [{"Ref": "PhotoLibrariesLayer"}]}


def test_throttling_and_unknown_paths_answer_in_open311_error_format(template):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in template["Resources"].values()
                 if r["Type"] == "AWS::ApiGateway::GatewayResponse"}
    throttled = responses["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert "gatewayresponse.header.Retry-After" in throttled["ResponseParameters"]
    assert throttled["ResponseTemplates"]["application/json"].startswith('[{"code":429')
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert throttled["RestApiId"] == {"Ref": "RestAPI"}


ROLES = {"operator", "town_admin", "agent", "department_worker", "supervisor",
         "emergency_manager", "analyst"}


def test_staff_sign_in_is_a_retained_admin_only_pool_keyed_by_email(template):
    pool = template["Resources"]["StaffUserPool"]
    properties = pool["Properties"]

    assert pool["Type"] == "AWS::Cognito::UserPool"
    assert pool["DeletionPolicy"] == "Retain"
    assert properties["UserPoolName"] == {"Fn::Sub": "${AWS::StackName}-staff"}
    assert properties["UsernameAttributes"] == ["email"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    # Every member of staff signs in with an authenticator app (TOTP).
    assert properties["MfaConfiguration"] == "ON"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert [m["Name"] for m in properties["AccountRecoverySetting"]["RecoveryMechanisms"]] == [
        "verified_email"]
    custom = {a["Name"]: a for a in properties["Schema"] if a["Name"] in ("town", "departments")}
    assert set(custom) == {"town", "departments"}
    assert all(a["AttributeDataType"] == "String" and a["Mutable"] for a in custom.values())


def test_every_role_is_a_group_of_the_staff_pool(template):
    from chalicelib.domain.access import Role

    groups = [r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::Cognito::UserPoolGroup"]

    assert {g["GroupName"] for g in groups} == ROLES == {role.value for role in Role}
    assert all(g["UserPoolId"] == {"Ref": "StaffUserPool"} for g in groups)


def test_staff_can_read_but_not_write_their_town_and_departments(template):
    client = template["Resources"]["StaffUserPoolClient"]
    properties = client["Properties"]

    assert client["Type"] == "AWS::Cognito::UserPoolClient"
    assert properties["UserPoolId"] == {"Ref": "StaffUserPool"}
    assert properties["GenerateSecret"] is False
    assert set(properties["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH",
                                                    "ALLOW_REFRESH_TOKEN_AUTH"}
    assert (properties["IdTokenValidity"], properties["TokenValidityUnits"]["IdToken"]) == (
        1, "hours")
    assert {"email", "custom:town", "custom:departments"} <= set(properties["ReadAttributes"])
    assert not {"custom:town", "custom:departments", "email"} & set(
        properties["WriteAttributes"])


def test_functions_verify_tokens_of_the_staff_pool_and_manage_its_users(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["TOWN311_JWT_ISSUER"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}"}
    assert variables["TOWN311_JWT_AUDIENCE"] == {"Ref": "StaffUserPoolClient"}
    assert variables["TOWN311_USER_POOL_ID"] == {"Ref": "StaffUserPool"}
    for logical, function in functions(template).items():
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not {"TOWN311_JWT_ISSUER", "TOWN311_JWT_AUDIENCE", "TOWN311_USER_POOL_ID",
                    "TOWN311_JWT_PUBLIC_KEY"} & set(own), logical
    outputs = template["Outputs"]
    assert outputs["StaffUserPoolId"]["Value"] == {"Ref": "StaffUserPool"}
    assert outputs["StaffUserPoolClientId"]["Value"] == {"Ref": "StaffUserPoolClient"}


def test_only_the_api_function_may_manage_sign_ins_and_only_in_the_staff_pool(template):
    """The pool ARN ends in a generated id no policy-file pattern can name: the grant is a
    template policy on the API function's role, by the pool's own ARN."""
    resources = template["Resources"]
    policies = {logical: r["Properties"] for logical, r in resources.items()
                if r["Type"] == "AWS::IAM::Policy"}
    api_role = resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0]

    grants = [(logical, statement) for logical, p in policies.items()
              for statement in p["PolicyDocument"]["Statement"]
              if any(a.startswith("cognito-idp:") for a in statement["Action"])]

    assert len(grants) == 1
    logical, statement = grants[0]
    assert policies[logical]["Roles"] == [{"Ref": api_role}]
    assert resources[api_role]["Type"] == "AWS::IAM::Role"
    assert set(statement["Action"]) == {
        "cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup",
        "cognito-idp:AdminDisableUser", "cognito-idp:AdminGetUser"}
    assert statement["Resource"] == {"Fn::GetAtt": ["StaffUserPool", "Arn"]}
    for path in (ROOT / ".chalice").glob("policy-*.json"):
        assert "cognito-idp" not in path.read_text(), path.name


# Run by a fresh interpreter on a function's unpacked zip: imports what it is given and says
# what failed, which babel locales the languages loaded, and any module that came from
# outside the zip, the runtime's boto3 and the standard library.
_IMPORT_EVERYTHING = """
import datetime, importlib, json, sys
paths, modules, members, languages, forbidden = json.loads(sys.argv[1])
sys.path[:0] = paths
failed = []
for name in modules:
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"import {name}: {e!r}")
for base, member in members:
    try:
        module = importlib.import_module(base)
        if not hasattr(module, member):  # what `from base import member` does next
            importlib.import_module(f"{base}.{member}")
    except Exception as e:
        failed.append(f"from {base} import {member}: {e!r}")
loaded = []
if languages:
    from babel import Locale, localedata
    from babel.dates import format_date
    for language in languages:
        try:
            Locale.parse(language)._data
            format_date(datetime.date(2026, 3, 1), "long", locale=language)
        except Exception as e:
            failed.append(f"babel {language}: {e!r}")
    loaded = sorted(localedata._cache)
strays = sorted(name for name, m in list(sys.modules.items())
                if (getattr(m, "__file__", None) or "").startswith(forbidden))
print(json.dumps({"failed": failed, "locales": loaded, "strays": strays}))
"""


def _runtime_provided(tmp_path: Path) -> Path:
    """A directory holding only what Lambda's Python runtime provides (boto3 and what it
    needs), as links into this venv, whose site-packages holds everything else too."""
    import boto3

    site = Path(boto3.__file__).resolve().parent.parent
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in _build_package_module().RUNTIME_MODULES:
        for candidate in (site / name, site / f"{name}.py"):
            if candidate.exists():
                (runtime / candidate.name).symlink_to(candidate)
    assert (runtime / "boto3").exists() and (runtime / "botocore").exists()
    return runtime


@pytest.fixture(scope="session")
def photo_layer(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    unpacked = tmp_path_factory.mktemp("photo-layer")
    with zipfile.ZipFile(package / "photo-layer.zip") as zf:
        zf.extractall(unpacked)
    return unpacked / "python"


def test_every_function_imports_all_it_can_reach_from_its_own_zip_alone(
        package, template, photo_layer, tmp_path):
    """The proof that the static walk pruned nothing a lazy import needs: for each function,
    its zip alone (with its layer, and boto3 as the runtime gives it) imports every app
    module its handler can reach, everything those import from libraries (powertools and
    babel modules included), and loads babel's data for every message language."""
    from chalicelib.domain.notices import LANGUAGES

    build_package = _build_package_module()
    runtime = _runtime_provided(tmp_path)
    venv_site = str(Path(pytest.__file__).resolve().parent.parent)
    layer_modules = {module for d in build_package.installed_distributions(photo_layer).values()
                     for module in d.modules}
    for logical, function in functions(template).items():
        handler = function["Properties"]["Handler"]
        unpacked = tmp_path / logical
        with zipfile.ZipFile(package / function["Properties"]["CodeUri"]) as zf:
            zf.extractall(unpacked)
        # The walk is of the source tree, not of the zip, so that it cannot agree with a
        # zip that lost a module.
        closure = build_package.module_closure(ROOT, [handler.rsplit(".", 1)[0]],
                                               build_package.APP_PACKAGES)
        assert closure.missing == set(), logical
        has_layer = "Layers" in function["Properties"]
        paths = [str(unpacked), *([str(photo_layer)] if has_layer else []), str(runtime)]
        imported = [(base, member) for base, member in closure.external
                    if base.split(".")[0] not in sys.stdlib_module_names
                    and (has_layer or base.split(".")[0] not in layer_modules)]
        modules = sorted({base for base, member in imported if member is None})
        members = sorted((base, member) for base, member in imported if member is not None)
        uses_babel = "babel" in closure.external_tops()
        languages = list(LANGUAGES) if uses_babel else []
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _IMPORT_EVERYTHING,
             json.dumps([paths, sorted(closure.modules) + modules, members, languages,
                         venv_site])],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env={**_clean_environment(), "AWS_DEFAULT_REGION": "us-east-1"})
        assert done.returncode == 0, f"{logical}:\n{done.stderr}"
        result = json.loads(done.stdout.splitlines()[-1])
        assert result["failed"] == [], (logical, result["failed"])
        assert result["strays"] == [], logical
        assert (logical == "APIHandler") == ("app" in closure.modules)
        assert "aws_lambda_powertools" in closure.external_tops(), logical
        if uses_babel:
            # Exactly the locale files the languages load: nothing pruned, nothing spare.
            with zipfile.ZipFile(package / function["Properties"]["CodeUri"]) as zf:
                shipped = {Path(n).stem for n in zf.namelist()
                           if n.startswith("babel/locale-data/") and n.endswith(".dat")}
            assert shipped == set(result["locales"]), logical


_CATALOGUE_WORDS = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from chalicelib.adapters import catalogue_words
words = catalogue_words.PoCatalogueWords()
print(json.dumps([catalogue_words.__file__, words.words("es")("Pothole"),
                  words.words("es")("Larger than a car tire")]))
"""


@pytest.mark.parametrize("logical", ["ReceiveSms", "ReceiveMail", "APIHandler"])
def test_the_text_mail_and_api_zips_name_services_in_spanish_from_their_own_files(
        package, template, tmp_path, logical):
    """The replies by text and e-mail name services in the resident's language from the
    pages' catalogue.po (chalicelib.adapters.catalogue_words), read as a file: each zip
    carries it, and the words load from the unpacked zip alone."""
    zip_path = _function_zips(package, template)[logical]
    with zipfile.ZipFile(zip_path) as zf:
        assert "chalicelib/web/locale/es/catalogue.po" in zf.namelist(), logical
        zf.extractall(tmp_path / logical)
    unpacked = tmp_path / logical
    paths = [str(unpacked), str(_runtime_provided(tmp_path))]
    done = subprocess.run([sys.executable, "-I", "-S", "-c", _CATALOGUE_WORDS,
                           json.dumps(paths)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=_clean_environment())
    assert done.returncode == 0, f"{logical}:\n{done.stderr}"
    source, pothole, larger = json.loads(done.stdout.splitlines()[-1])
    assert Path(source).is_relative_to(unpacked), logical
    assert (pothole, larger) == ("Bache", "Más grande que una llanta"), logical
