"""Least privilege: every Lambda function has its own IAM policy (.chalice/config.json,
written by infra/policies.py) with only the calls it makes."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
EVENT_FUNCTIONS = ("route_new_requests", "deliver_webhooks", "resend_unrouted_requests",
                   "check_service_levels", "process_photo", "send_notices",
                   "release_quiet_hours_texts", "receive_sms")
SENDING = ("sns:Publish", "ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail",
           "ses:SendBulkTemplatedEmail", "ses:SendBulkEmail", "ses:*", "sns:*")


def _policies_module() -> Any:
    spec = importlib.util.spec_from_file_location("policies", ROOT / "infra" / "policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config() -> dict[str, Any]:
    return json.loads((ROOT / ".chalice" / "config.json").read_text())


def policy_of(stage: str, function: str) -> dict[str, Any]:
    """The policy Chalice gives `function` in `stage` (its own file, else the stage's)."""
    settings = _config()["stages"][stage]
    name = settings.get("lambda_functions", {}).get(function, {}).get(
        "iam_policy_file", settings["iam_policy_file"])
    return json.loads((ROOT / ".chalice" / name).read_text())


def _actions(policy: dict[str, Any], effect: str = "Allow") -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        if statement["Effect"] == effect:
            actions = statement["Action"]
            found |= {actions} if isinstance(actions, str) else set(actions)
    return found


def _handlers() -> set[str]:
    """Every Lambda function the app defines, by Chalice's name (the API is api_handler)."""
    from app import app

    return {"api_handler", *(f.name for f in app.pure_lambda_functions),
            *(e.name for e in app.event_sources)}


def test_the_committed_policy_files_are_what_infra_policies_writes():
    module = _policies_module()
    for name, document in module.documents().items():
        assert (ROOT / ".chalice" / name).read_text() == module.render(document), (
            f"{name} is stale: run `python infra/policies.py`")


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_has_its_own_policy_file(stage):
    functions = _config()["stages"][stage]["lambda_functions"]
    assert set(functions) >= _handlers()
    files = [functions[f]["iam_policy_file"] for f in _handlers()]
    assert len(set(files)) == len(files)
    assert set(_policies_module().FUNCTIONS) == _handlers()


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_default_grants_nothing_but_logs(stage):
    """A handler added without a policy of its own reaches no data."""
    default = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    assert {a.split(":")[0] for a in _actions(default)} == {"logs"}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", ["api_handler", *EVENT_FUNCTIONS])
def test_no_function_has_wildcard_actions_or_resources(stage, function):
    policy = policy_of(stage, function)
    for statement in policy["Statement"]:
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert "*" not in action, (function, action)
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            assert resource != "*", (function, resource)
            # Scoped to this stage's stack, never another's.
            assert re.search(rf"town311-{stage}(-|:|$)", resource), (function, resource)
        assert statement.get("NotResource") in (None, "arn:aws:sns:*:*:*"), function


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", ["process_photo", "deliver_webhooks"])
def test_the_photo_decoder_and_the_webhook_poster_cannot_text_or_mail(stage, function):
    """Both handle what strangers send (image files; answers from any URL): neither may
    message anybody."""
    assert not _actions(policy_of(stage, function)) & set(SENDING)


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_api_send_notices_and_receive_sms_may_text_a_phone_number(stage):
    texting = set()
    for function in ["api_handler", *EVENT_FUNCTIONS]:
        for statement in policy_of(stage, function)["Statement"]:
            if statement.get("NotResource") is not None:
                assert statement == {
                    "Sid": "TextsToPhoneNumbers", "Effect": "Allow", "Action": "sns:Publish",
                    "NotResource": "arn:aws:sns:*:*:*"}
                texting.add(function)
    # receive_sms answers the texts residents send to the town's number.
    assert texting == {"api_handler", "send_notices", "receive_sms"}


@pytest.mark.parametrize("stage", STAGES)
def test_no_function_may_send_mail_by_its_policy_file(stage):
    """E-mail is granted in infra/template.yaml, from the MailFrom address only."""
    for function in ["api_handler", *EVENT_FUNCTIONS]:
        assert not {a for a in _actions(policy_of(stage, function)) if a.startswith("ses:")}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", EVENT_FUNCTIONS)
def test_each_event_function_has_less_than_the_api(stage, function):
    api = policy_of(stage, "api_handler")
    own = policy_of(stage, function)
    assert own != api
    assert own["Statement"] != api["Statement"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_webhook_poster_reads_only_town_partitions_and_writes_only_results(stage):
    policy = policy_of(stage, "deliver_webhooks")
    dynamodb = {a for a in _actions(policy) if a.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"}
    (write,) = [s for s in policy["Statement"] if "dynamodb:PutItem" in s["Action"]]
    assert write["Action"] == ["dynamodb:PutItem"]
    assert write["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOWN#*#DELIVERED#*"]}}
    dynamodb = {"dynamodb:GetItem", "dynamodb:Query"}
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"
                and "dynamodb:GetItem" in s["Action"]]
    assert allow["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["TOWN#*"]}}
    assert all("/index/" not in r for r in allow["Resource"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {
        "ForAnyValue:StringLike": {"dynamodb:LeadingKeys": ["TOWN#*#*"]}}
    assert set(deny["Action"]) == dynamodb
    assert {a.split(":")[0] for a in _actions(policy)} == {"dynamodb", "sqs", "logs"}
    assert "sqs:SendMessage" not in _actions(policy)


@pytest.mark.parametrize("stage", STAGES)
def test_the_photo_processor_touches_only_the_photo_bucket_and_the_table(stage):
    policy = policy_of(stage, "process_photo")
    assert {a.split(":")[0] for a in _actions(policy)} == {"dynamodb", "s3", "logs"}
    for statement in policy["Statement"]:
        if "s3:PutObject" in statement["Action"]:
            assert statement["Resource"] == [f"arn:aws:s3:::town311-{stage}-photos-*/photos/*"]
