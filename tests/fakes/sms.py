"""Fake of the SMS conversations port: conversations, inbound messages seen, photo links."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.sms_intake import Conversation


class FakeSmsConversations:
    """SmsConversations in memory (like the table, it keeps expired items until read)."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], int] = {}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.links: dict[tuple[str, str], tuple[str, str, int]] = {}

    def claim_message(self, town_id: str, message_id: str, expires_at: int) -> bool:
        if (town_id, message_id) in self.messages:
            return False
        self.messages[(town_id, message_id)] = expires_at
        return True

    def conversation(self, town_id: str, phone_hash: str) -> Conversation | None:
        return self.conversations.get((town_id, phone_hash))

    def save_conversation(self, town_id: str, phone_hash: str,
                          conversation: Conversation) -> bool:
        stored = self.conversations.get((town_id, phone_hash))
        if (stored.version if stored else 0) != conversation.version:
            return False
        self.conversations[(town_id, phone_hash)] = replace(
            conversation, version=conversation.version + 1)
        return True

    def end_conversation(self, town_id: str, phone_hash: str) -> None:
        self.conversations.pop((town_id, phone_hash), None)

    def save_photo_link(self, town_id: str, secret_hash: str, tracking_number: str,
                        sealed_token: str, expires_at: int) -> None:
        self.links[(town_id, secret_hash)] = (tracking_number, sealed_token, expires_at)

    def take_photo_link(self, town_id: str, secret_hash: str,
                        now: int) -> tuple[str, str] | None:
        found = self.links.pop((town_id, secret_hash), None)
        if found is None or found[2] < now:
            return None
        return found[0], found[1]
