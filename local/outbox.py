"""What the emulator "sent": texts (SNS), e-mails (SES) and escalations (SNS topics) the
app published to moto.

moto records them instead of delivering them. The local runner (moto's server lives in
its process) prints each new one and appends it to .run/outbox.jsonl, so the demo shows
what a resident's phone and inbox would get.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"


@dataclass
class Outbox:
    region: str = "us-east-1"
    account: str = ACCOUNT
    _seen_sms: set[str] = field(default_factory=set)
    _seen_mail: int = 0
    _seen_escalations: dict[str, int] = field(default_factory=dict)

    def new_messages(self) -> list[dict[str, Any]]:
        """Messages recorded since the last call, oldest first."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        found: list[dict[str, Any]] = []
        sns = sns_backends[self.account][self.region]
        for message_id, (phone, text) in list(sns.sms_messages.items()):
            if message_id not in self._seen_sms:
                self._seen_sms.add(message_id)
                found.append({"channel": "sms", "to": phone, "text": text})
        ses = ses_backends[self.account][self.region]
        for message in ses.sent_messages[self._seen_mail:]:
            to = [a for addresses in (message.destinations or {}).values() for a in addresses]
            found.append({"channel": "email", "to": ", ".join(to),
                          "subject": message.subject, "text": message.body})
        self._seen_mail = len(ses.sent_messages)
        for arn, topic in list(sns.topics.items()):
            if "-escalations-" not in arn:
                continue
            sent = topic.sent_notifications
            for _, text, subject, _, _ in sent[self._seen_escalations.get(arn, 0):]:
                found.append({"channel": "escalation", "to": arn.rsplit(":", 1)[-1],
                              "subject": subject, "text": text})
            self._seen_escalations[arn] = len(sent)
        return found

    def drain_to(self, path: Path) -> list[dict[str, Any]]:
        fresh = self.new_messages()
        if fresh:
            path.parent.mkdir(exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                for message in fresh:
                    out.write(json.dumps(message, ensure_ascii=False) + "\n")
        return fresh


def describe(message: dict[str, Any]) -> str:
    if message["channel"] == "escalation":
        return f"[escalation on {message['to']}] {message['subject']}\n    {message['text']}"
    if message["channel"] == "sms":
        return f"[SMS to {message['to']}] {message['text']}"
    return f"[e-mail to {message['to']}] {message['subject']}\n    " + \
        message["text"].replace("\n", "\n    ")
