"""Messages on the notices queue (version 1), told apart by ``type``.

``NoticeEvent``: "this happened to a request; tell whoever should hear" — written by the
API and the workers after the change is stored. ``NoticeBatch``: "send this event to these
people" — written by the fan-out when a request has more followers than one batch, and by
the morning release of texts held back by quiet hours. ``AlertApproved`` and
``AlertBatch``: the same two steps for an emergency alert. ``send_notices`` reads every
one of them as ``NoticeQueueMessage`` (chalicelib.schemas.queues).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.model import WireModel

if TYPE_CHECKING:
    from chalicelib.domain.subscribers import AudienceMember

BATCH_SIZE = 50  # recipients per NoticeBatch: well under SQS's 256 KB per message

Id = Annotated[str, Field(min_length=1, max_length=100)]


class NoticeEvent(WireModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["event"] = "event"
    version: Literal[1] = 1
    town_id: Id
    request_id: Id
    event_id: Id
    kind: Id


class Recipient(WireModel):
    model_config = ConfigDict(extra="ignore")

    follower_id: Id  # a contact hash, or "staff:<user id>" for a supervisor
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    unsubscribe_key: str | None = None  # legacy stop links only
    role: str | None = None  # "reporter" or "follower"; none for staff
    # The channels whose address the person proved; None: all (staff, older followers).
    confirmed: list[str] | None = None


class NoticeBatch(WireModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["batch"] = "batch"
    version: Literal[1] = 1
    town_id: Id
    request_id: Id
    event_id: Id
    kind: Id
    recipients: list[Recipient] = Field(min_length=1, max_length=BATCH_SIZE)
    channels: list[Literal["email", "sms"]] = ["email", "sms"]
    after_quiet_hours: bool = False  # released in the morning: send even if still quiet


# --- emergency alerts share the notices queue ----------------------------------------------


class AlertApproved(WireModel):
    """"Fan this approved alert out": written by ``services.alerts.approve``."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["alert"] = "alert"
    version: Literal[1] = 1
    town_id: Id
    alert_id: Annotated[str, Field(min_length=1, max_length=64)]


class AlertRecipient(WireModel):
    """One subscriber as the fan-out read them (``services.alerts.recipients``)."""

    model_config = ConfigDict(extra="ignore")

    subscriber_id: Id
    language: str | None = None
    phone: str | None = None
    email: str | None = None
    stop_key: str = ""
    home: tuple[float, float] | None = None

    def member(self) -> AudienceMember:
        """The recipient as the sender reads them (an unknown language: the alert's own)."""
        # Loaded here: every notice message is parsed with this module, alerts are rare.
        from chalicelib.domain.subscribers import AudienceMember

        return AudienceMember(subscriber_id=self.subscriber_id, language=self.language or "",
                              phone=self.phone, email=self.email, stop_key=self.stop_key,
                              home=list(self.home) if self.home else None)


class AlertBatch(WireModel):
    """"Send the alert to these people": written by ``services.alerts.fan_out``."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["alert_batch"] = "alert_batch"
    version: Literal[1] = 1
    town_id: Id
    alert_id: Annotated[str, Field(min_length=1, max_length=64)]
    recipients: list[AlertRecipient] = Field(max_length=BATCH_SIZE)


# Every message on the notices queue, told apart by ``type``.
NoticeQueueMessage = Annotated[NoticeEvent | NoticeBatch | AlertApproved | AlertBatch,
                               Field(discriminator="type")]
