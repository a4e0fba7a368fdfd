"""Messages on the notices queue (version 1).

``NoticeEvent``: "this happened to a request; tell whoever should hear" — written by the
API and the workers after the change is stored. ``NoticeBatch``: "send this event to these
people" — written by the fan-out when a request has more followers than one batch, and by
the morning release of texts held back by quiet hours.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

BATCH_SIZE = 50  # recipients per NoticeBatch: well under SQS's 256 KB per message

Id = Annotated[str, Field(min_length=1, max_length=100)]


class NoticeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["event"] = "event"
    version: Literal[1] = 1
    town_id: Id
    request_id: Id
    event_id: Id
    kind: Id


class Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    follower_id: Id  # a contact hash, or "staff:<user id>" for a supervisor
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    unsubscribe_key: str | None = None  # legacy stop links only
    role: str | None = None  # "reporter" or "follower"; none for staff
    # The channels whose address the person proved; None: all (staff, older followers).
    confirmed: list[str] | None = None


class NoticeBatch(BaseModel):
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


class NoticeMessage(BaseModel):
    """Either message, told apart by ``type``."""

    message: Annotated[NoticeEvent | NoticeBatch, Field(discriminator="type")]
