"""Messages to residents: e-mail through Amazon SES, SMS through Amazon SNS.

On the emulator (no sending address configured) messages go to the log instead, so the
local run shows a resident's sign-in code in its console.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import StorageUnavailable

log = logging.getLogger(__name__)


class AwsMessenger:
    def __init__(self, make_ses: Callable[[], Any], make_sns: Callable[[], Any],
                 mail_from: str) -> None:
        self._make_ses = make_ses
        self._make_sns = make_sns
        self._mail_from = mail_from

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        try:
            if email:
                self._make_ses().send_email(
                    Source=self._mail_from, Destination={"ToAddresses": [email]},
                    Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                             "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
            # Numbers arrive in E.164 (services.outreach.MeteredMessenger checks them).
            number = phone if phone and phone.startswith("+") else None
            if phone and number is None:
                log.warning("not a phone number SMS can reach; text not sent")
            if number:
                self._make_sns().publish(
                    PhoneNumber=number, Message=text,
                    MessageAttributes={"AWS.SNS.SMS.SMSType": {
                        "DataType": "String", "StringValue": "Transactional"}})
        except (ClientError, BotoCoreError) as e:
            raise StorageUnavailable("messages cannot be sent right now") from e


class LoggedMessenger:
    """Keeps what it would have sent (``sent``) and logs it: the local run and tests."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str | None]] = []

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        self.sent.append({"email": email, "phone": phone, "subject": subject, "text": text,
                          "town_id": town_id})
        log.warning("message not sent (no TOWN311_MAIL_FROM): to %s: %s", email or phone, text)
