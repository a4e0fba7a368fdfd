"""One validated settings model, read from the environment once, on first use.

Nothing here runs at import time: a Lambda cold start and the test client both read the
environment only when the first call needs a setting, so tests can set it after import.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.usage import AwsPrices


class SettingsError(RuntimeError):
    """The deployment is misconfigured: fail loudly at start, not later as a strange call."""


@dataclass(frozen=True)
class Settings:
    """The deployment's settings, checked by ``settings_from_env`` (lengths and patterns in
    ``_RULES``). A plain dataclass, not a pydantic model: every cold start reads settings,
    and a GET that validates nothing else should not build a validator for them."""

    table_name: str
    idempotency_table_name: str
    photo_bucket: str
    routing_queue_url: str
    # Departments' delivery channels: the queue whose messages become webhook POSTs, and
    # the stack's name, which starts every department queue's name (`<prefix>-dept-...`,
    # at most 80 characters in all).
    webhook_queue_url: str
    # Messages to residents and staff about requests (chalicelib.schemas.notices).
    notice_queue_url: str
    queue_prefix: str
    region: str = "us-east-1"
    public_base_url: str | None = None
    stage: str = "dev"
    # API Gateway refuses bodies over 10 MB; chalice local does not, so we enforce it too.
    max_body_bytes: int = 10 * 1024 * 1024
    # A warm Lambda keeps towns, catalogues and API-key checks this long (seconds): a
    # revoked key or a catalogue edit reaches every container within this time.
    cache_seconds: float = 60.0
    # Staff sign-in: the Cognito user pool's issuer and app client (audience); its JWKS URL
    # is derived from the issuer. Locally, a PEM public key replaces the JWKS.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_public_key: str | None = None
    user_pool_id: str | None = None
    # The SES-verified address residents' e-mails come from; without it (the emulator)
    # messages are logged instead of sent.
    mail_from: str | None = None
    # Local runs only: a JSON file {"shift_seconds": n} moving the app's clock forward, so
    # that SLA warnings and escalations can be seen without waiting (`make clock`).
    clock_file: str | None = None
    # Local runs only: departments' webhooks may go to loopback (and plain http there), so
    # the demo can show real POSTs to a receiver on this machine. Deployed stages never set
    # it: in Lambda, loopback is the runtime API (see settings_from_env).
    allow_loopback_webhooks: bool = False
    # Local runs only: the demo people's staff tokens (`make run`'s demo.json), which the
    # console's development sign-in page offers by role. Deployed stages never set it.
    dev_sign_in_file: str | None = None
    # The staff console's sign-in in the cloud: the Cognito user pool's hosted UI domain
    # (https://<prefix>.auth.<region>.amazoncognito.com); the app client is jwt_audience.
    cognito_domain: str | None = None
    # Background exports (chalicelib.services.open_data): the export worker's queue. Not
    # required, so that a stage without it still serves everything else; asking for an
    # export there is answered 503.
    export_queue_url: str | None = None
    # E-mail intake (chalicelib.services.mail_intake): the domain SES receives the towns'
    # mail on; a town's address is <town_id>@<it> unless it set its own. Unset: no mail
    # is received, and the console shows no intake address.
    mail_intake_domain: str | None = None


# (shortest, longest, pattern) of the text settings that have rules.
_RULES: dict[str, tuple[int, int | None, re.Pattern[str] | None]] = {
    "table_name": (3, None, None),
    "idempotency_table_name": (3, None, None),
    "photo_bucket": (3, None, None),
    "routing_queue_url": (8, None, None),
    "webhook_queue_url": (8, None, None),
    "notice_queue_url": (8, None, None),
    "queue_prefix": (1, 58, re.compile(r"[A-Za-z0-9_-]+")),
}
# Rules of settings that may be left out (checked when given).
_OPTIONAL_RULES: dict[str, tuple[int, int | None, re.Pattern[str] | None]] = {
    "mail_intake_domain": (3, 253, re.compile(
        r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")),
}
_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})
_TYPES = {field.name: field.type for field in dataclasses.fields(Settings)}


def _checked(name: str, raw: str) -> Any:
    """One setting from its environment text; ValueError when it is unusable."""
    kind = _TYPES[name]
    if kind == "int":
        return int(raw)
    if kind == "float":
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(name)
        return value
    if kind == "bool":
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
        raise ValueError(name)
    shortest, longest, pattern = _RULES.get(name) or _OPTIONAL_RULES.get(
        name, (0, None, None))
    if len(raw) < shortest or (longest is not None and len(raw) > longest) or \
            (pattern is not None and not pattern.fullmatch(raw)):
        raise ValueError(name)
    return raw


# The environment is mapped by hand (this table) rather than by pydantic-settings'
# BaseSettings, because that library costs every cold start more than it saves. Measured
# on the 2-core dev machine (shared, load ~5), fresh processes, median of 5 (issue 13):
#   `python -X importtime -c "import app"`:  hand 1951 ms,  BaseSettings 2159 ms;
#   pydantic_settings alone, pydantic already imported:  257 ms (252-338; it imports
#   asyncio, python-dotenv and every settings source);
#   first get_settings() after import:  hand 0.19 ms,  BaseSettings 6.8 ms.
# Since issue 14 the model is a plain dataclass checked here (no pydantic on a GET that
# validates nothing else): typed, checked once, every missing or wrong name reported.
_ENV = {
    "table_name": "TOWN311_TABLE",
    "idempotency_table_name": "TOWN311_IDEMPOTENCY_TABLE",
    "photo_bucket": "TOWN311_PHOTO_BUCKET",
    "routing_queue_url": "TOWN311_ROUTING_QUEUE_URL",
    "webhook_queue_url": "TOWN311_WEBHOOK_QUEUE_URL",
    "queue_prefix": "TOWN311_QUEUE_PREFIX",
    "notice_queue_url": "TOWN311_NOTICE_QUEUE_URL",
    "public_base_url": "TOWN311_PUBLIC_BASE_URL",
    "stage": "TOWN311_STAGE",
    "max_body_bytes": "TOWN311_MAX_BODY_BYTES",
    "cache_seconds": "TOWN311_CACHE_SECONDS",
    "jwt_issuer": "TOWN311_JWT_ISSUER",
    "jwt_audience": "TOWN311_JWT_AUDIENCE",
    "jwt_public_key": "TOWN311_JWT_PUBLIC_KEY",
    "user_pool_id": "TOWN311_USER_POOL_ID",
    "mail_from": "TOWN311_MAIL_FROM",
    "clock_file": "TOWN311_CLOCK_FILE",
    "allow_loopback_webhooks": "TOWN311_ALLOW_LOOPBACK_WEBHOOKS",
    "dev_sign_in_file": "TOWN311_DEV_SIGN_IN_FILE",
    "cognito_domain": "TOWN311_COGNITO_DOMAIN",
    "export_queue_url": "TOWN311_EXPORT_QUEUE_URL",
    "mail_intake_domain": "TOWN311_MAIL_INTAKE_DOMAIN",
}


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables, naming every missing one at once."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {
        field: env[name] for field, name in _ENV.items() if env.get(name)
    }
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        values["region"] = region
    checked: dict[str, Any] = {}
    wrong = [name for name in _RULES if name not in values]  # required and missing
    for name, raw in values.items():
        try:
            checked[name] = _checked(name, raw)
        except ValueError:
            wrong.append(name)
    if wrong:
        names = sorted({_ENV.get(name, name) for name in wrong})
        raise SettingsError(f"Town311 is misconfigured; check {', '.join(names)}")
    settings = Settings(**checked)
    if settings.allow_loopback_webhooks and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        # Lambda always sets AWS_LAMBDA_FUNCTION_NAME; the local runner never does.
        raise SettingsError("TOWN311_ALLOW_LOOPBACK_WEBHOOKS is for local runs only; "
                            "unset it in deployed stages")
    if settings.dev_sign_in_file and env.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise SettingsError("TOWN311_DEV_SIGN_IN_FILE is for local runs only; unset it in "
                            "deployed stages")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()


def aws_prices() -> AwsPrices:
    """The price table the usage screens estimate each town's monthly AWS cost from
    (chalicelib.domain.usage.estimate_cost): us-east-1 list prices, no free tier (the
    free tier is the account's, not a town's). Check them when AWS changes its prices.

    Sources (read December 2026):
    - Lambda: https://aws.amazon.com/lambda/pricing/ ($0.20 per million requests,
      $0.0000166667 per GB-second, x86)
    - API Gateway: https://aws.amazon.com/api-gateway/pricing/ (REST APIs, $3.50 per
      million requests, first 333 million)
    - SQS: https://aws.amazon.com/sqs/pricing/ (standard queues, $0.40 per million)
    - DynamoDB: https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million write
      request units, $0.125 per million read request units)
    - S3: https://aws.amazon.com/s3/pricing/ (Standard, $0.023 per GB-month, $0.005 per
      1,000 PUT/POST, $0.0004 per 1,000 GET)
    - SNS SMS: https://aws.amazon.com/sns/sms-pricing/ (US, per segment: the figure the
      alert preview uses, chalicelib.domain.alerts.SMS_SEGMENT_USD)
    - SES: https://aws.amazon.com/ses/pricing/ ($0.10 per 1,000 e-mails)
    """
    from chalicelib.domain.alerts import SMS_SEGMENT_USD
    from chalicelib.domain.usage import AwsPrices

    return AwsPrices(
        lambda_request=0.20 / 1e6, lambda_gb_second=0.0000166667,
        lambda_memory_gb=0.5,  # .chalice/config.json: 512 MB (the photo worker's 1 GB is rarer)
        lambda_seconds=0.2,
        api_request=3.50 / 1e6, sqs_request=0.40 / 1e6,
        dynamodb_write=0.625 / 1e6, dynamodb_read=0.125 / 1e6,
        s3_gb_month=0.023, s3_put=0.005 / 1000, s3_get=0.0004 / 1000,
        sms_segment=SMS_SEGMENT_USD, email=0.10 / 1000,
        # One request filed: the POST and ~5 page or API GETs around it (the form, the
        # track page), and 3 function runs (the API, the router, the notices worker) fed
        # by 2 queue messages; a transaction of ~5 items (2 units each), its usage count,
        # and ~3 reads.
        per_request_api_calls=6, per_request_invocations=3, per_request_queue_messages=2,
        per_request_writes=11, per_request_reads=3,
        # One photo: the upload and the worker's run, 3 objects written (the upload and
        # its 2 copies), ~20 views, 3 writes (the request, its timeline event, its count).
        per_photo_invocations=2, per_photo_puts=3, per_photo_gets=20, per_photo_writes=3,
        # One message: a tenth of a notices worker run (batches), its claim and its count.
        per_message_invocations=0.1, per_message_writes=2,
    )
