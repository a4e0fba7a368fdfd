"""What a town uses in a calendar month, and what that is estimated to cost on AWS.

Usage is counted as things happen (services.usage, one atomic add per event on the town's
item of the month), never recomputed by reading requests. The counters are named here;
the cost is a pure function of them and a price table (chalicelib.domain.prices), so the
operator's figures and the town's own come from the same arithmetic.

What is counted, and where:
- ``requests_<channel>``: a request filed (services.intake), by its channel
- ``photos`` and ``photo_bytes``: a photo made safe and stored, and the bytes of its
  published copies (services.photos)
- ``messages_email``, ``messages_sms``, ``sms_segments``: every message sent, counted where
  every message goes (services.outreach.MeteredMessenger), and the texts SNS topics send
  to staff (services.outreach.count_topic_texts)
- ``alert_messages``: the emergency alert messages among them (services.alerts)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

REQUESTS_PREFIX = "requests_"
PHOTOS = "photos"
PHOTO_BYTES = "photo_bytes"
MESSAGES_EMAIL = "messages_email"
MESSAGES_SMS = "messages_sms"
SMS_SEGMENTS = "sms_segments"
ALERT_MESSAGES = "alert_messages"

# A counter's name is a stored attribute name: short, plain, and never anything a caller
# typed (a channel outside this shape is counted as "other").
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,20}")
_MONTH = re.compile(r"20[0-9]{2}-[01][0-9]")
GB = 1024 ** 3


def usage_month(at: datetime) -> str:
    """The calendar month (UTC) an event is counted in: ``2026-12``."""
    return at.astimezone(UTC).strftime("%Y-%m")


def month_asked(text: str) -> str:
    """A month someone asked for (``2026-11``), or InvalidInput."""
    from chalicelib.domain.errors import InvalidInput, Problem

    if not _MONTH.fullmatch(text) or not 1 <= int(text[5:]) <= 12:
        raise InvalidInput.of([Problem("month", "must be a month like 2026-11")])
    return text


def month_before(month: str) -> str:
    """The calendar month before ``month`` (``2026-01`` → ``2025-12``)."""
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def requests_counter(channel: str) -> str:
    """The counter of requests filed through ``channel`` (``requests_web``)."""
    return REQUESTS_PREFIX + (channel if _CHANNEL.fullmatch(channel) else "other")


def is_counter(name: str) -> bool:
    return bool(_NAME.fullmatch(name))


def requests_by_channel(usage: Mapping[str, int]) -> dict[str, int]:
    """Requests filed, by channel, in the channels' name order."""
    return {name.removeprefix(REQUESTS_PREFIX): n for name, n in sorted(usage.items())
            if name.startswith(REQUESTS_PREFIX)}


def requests_filed(usage: Mapping[str, int]) -> int:
    return sum(requests_by_channel(usage).values())


def messages_sent(usage: Mapping[str, int]) -> int:
    return usage.get(MESSAGES_EMAIL, 0) + usage.get(MESSAGES_SMS, 0)


@dataclass(frozen=True)
class AwsPrices:
    """Unit prices (USD) of what a town's usage spends, and how much of each AWS service
    one counted event takes (the model's assumptions, beside the prices they multiply)."""

    lambda_request: float  # per invocation
    lambda_gb_second: float
    lambda_memory_gb: float  # the functions' configured memory
    lambda_seconds: float  # an average invocation's billed duration
    api_request: float  # API Gateway REST API, per request
    sqs_request: float  # per request (64 KB chunk)
    dynamodb_write: float  # on-demand, per write request unit
    dynamodb_read: float  # on-demand, per read request unit
    s3_gb_month: float  # S3 Standard storage
    s3_put: float  # per PUT/POST
    s3_get: float  # per GET
    sms_segment: float  # SNS, per text segment
    email: float  # SES, per message
    # What one request filed takes: the POST and the pages around it, the router and the
    # notices worker, the queue messages between them, the transaction that stores it (a
    # transaction's writes cost two units each), and the reads of town and catalogue.
    per_request_api_calls: float
    per_request_invocations: float
    per_request_queue_messages: float
    per_request_writes: float
    per_request_reads: float
    # What one photo takes: its upload (a POST), the worker's run, the copies it publishes,
    # the GETs that show it, and the write that adds it to the request.
    per_photo_invocations: float
    per_photo_puts: float
    per_photo_gets: float
    per_photo_writes: float
    # What one message takes: its share of a notices worker run and its claim (a write).
    per_message_invocations: float
    per_message_writes: float


@dataclass(frozen=True)
class CostEstimate:
    """A month's estimated AWS cost of one town, by AWS service (USD)."""

    lines: dict[str, float]

    @property
    def total(self) -> float:
        return round(sum(self.lines.values()), 6)


COST_LINES = ("lambda", "api_gateway", "sqs", "dynamodb", "s3", "sms", "email")


def estimate_cost(usage: Mapping[str, int], prices: AwsPrices) -> CostEstimate:
    """The month's estimated cost of ``usage`` at ``prices``, by AWS service.

    Photo storage is what this month's photos add to a month's bill (photos kept from
    earlier months are not counted here: the counters are per month)."""
    filed = requests_filed(usage)
    photos = usage.get(PHOTOS, 0)
    messages = messages_sent(usage)
    invocations = (filed * prices.per_request_invocations
                   + photos * prices.per_photo_invocations
                   + messages * prices.per_message_invocations)
    lambda_cost = invocations * (prices.lambda_request + prices.lambda_memory_gb
                                 * prices.lambda_seconds * prices.lambda_gb_second)
    writes = (filed * prices.per_request_writes + photos * prices.per_photo_writes
              + messages * prices.per_message_writes)
    dynamodb = writes * prices.dynamodb_write + filed * prices.per_request_reads \
        * prices.dynamodb_read
    s3 = usage.get(PHOTO_BYTES, 0) / GB * prices.s3_gb_month + photos * (
        prices.per_photo_puts * prices.s3_put + prices.per_photo_gets * prices.s3_get)
    lines = {
        "lambda": lambda_cost,
        "api_gateway": (filed * prices.per_request_api_calls + photos) * prices.api_request,
        "sqs": filed * prices.per_request_queue_messages * prices.sqs_request,
        "dynamodb": dynamodb,
        "s3": s3,
        "sms": usage.get(SMS_SEGMENTS, 0) * prices.sms_segment,
        "email": usage.get(MESSAGES_EMAIL, 0) * prices.email,
    }
    return CostEstimate({name: round(lines[name], 6) for name in COST_LINES})
