"""Escalations on Amazon SNS: one topic per town and audience, made on first use, which
the SLA sweep publishes to when a request climbs the escalation ladder.

Topic names are ``<stack>-escalations-<town hash>-<audience>`` (audience ``supervisor``,
``town_admin`` or ``dept-<department>``), so the IAM policy grants them by name and a town
id never has to fit SNS's name rules. Staff subscribe to them by e-mail or SMS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import StorageUnavailable


def topic_name(prefix: str, town_id: str, audience: str) -> str:
    town = hashlib.sha256(town_id.encode()).hexdigest()[:12]
    who = audience.replace("department:", "dept-")
    who = re.sub(r"[^A-Za-z0-9_-]", "-", who)[:80]
    return f"{prefix}-escalations-{town}-{who}"


class SnsEscalationTopics:
    """``EscalationTopics`` on SNS."""

    def __init__(self, make_client: Callable[[], Any], prefix: str) -> None:
        self._make_client = make_client
        self._prefix = prefix
        self._arns: dict[str, str] = {}

    def topic_arn(self, town_id: str, audience: str) -> str:
        name = topic_name(self._prefix, town_id, audience)
        if name not in self._arns:
            try:  # CreateTopic is idempotent: it answers the existing topic's ARN
                self._arns[name] = self._make_client().create_topic(Name=name)["TopicArn"]
            except (ClientError, BotoCoreError) as e:
                raise StorageUnavailable("escalation topics are unavailable") from e
        return self._arns[name]

    def publish(self, town_id: str, audience: str, subject: str, text: str) -> None:
        arn = self.topic_arn(town_id, audience)
        try:
            self._make_client().publish(TopicArn=arn, Subject=subject[:100], Message=text)
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("escalations cannot be published right now") from e

    def subscribe(self, town_id: str, audience: str, protocol: str, endpoint: str) -> str:
        arn = self.topic_arn(town_id, audience)
        try:
            return str(self._make_client().subscribe(
                TopicArn=arn, Protocol=protocol, Endpoint=endpoint,
                ReturnSubscriptionArn=True)["SubscriptionArn"])
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "InvalidParameter":
                from chalicelib.domain.errors import InvalidInput, Problem

                raise InvalidInput.of([Problem("endpoint", "SNS refused this address")]) from e
            raise StorageUnavailable("escalation topics are unavailable") from e
        except BotoCoreError as e:
            raise StorageUnavailable("escalation topics are unavailable") from e
