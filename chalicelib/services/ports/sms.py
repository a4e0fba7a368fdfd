"""Residents' reports by text message: the conversations in progress, the inbound
messages already handled, and the photo links their receipts carry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.sms_intake import Conversation


class SmsConversations(Protocol):
    """Per town and phone (the phone's hash, never the number), one conversation at a
    time; each expires with its ``Conversation.expires_at`` (TTL, and checked on read)."""

    def claim_message(self, town_id: str, message_id: str, expires_at: int) -> bool:
        """True the first time an inbound message is seen; False for a redelivery."""
        ...

    def conversation(self, town_id: str, phone_hash: str) -> Conversation | None:
        """The phone's conversation as stored (perhaps expired: the caller decides)."""
        ...

    def save_conversation(self, town_id: str, phone_hash: str,
                          conversation: Conversation) -> bool:
        """Store ``conversation`` as the next version, if what is stored is still version
        ``conversation.version`` (0: nothing); False when another text moved it first."""
        ...

    def end_conversation(self, town_id: str, phone_hash: str) -> None: ...

    def save_photo_link(self, town_id: str, secret_hash: str, tracking_number: str,
                        sealed_token: str, expires_at: int) -> None:
        """A link to add a photo to a request filed by text: the hash of its secret, and
        the request's token sealed with that secret."""
        ...

    def take_photo_link(self, town_id: str, secret_hash: str,
                        now: int) -> tuple[str, str] | None:
        """(tracking number, sealed token), removed as it is used; None if there is none,
        it expired, or it was used a moment earlier."""
        ...
