"""Reports by text message (chalicelib.domain.sms_intake), each in its own small items:

- a conversation: ``PK=TOWN#<town>#SMS#<phone hash>, SK=CONV`` (its state as JSON, a
  version every save is conditional on, TTL ``expires_at``)
- an inbound message handled: ``PK=TOWN#<town>#SMSIN#<message id>, SK=SMSIN`` (a
  conditional put; TTL)
- a photo link: ``PK=TOWN#<town>#PHOTOLINK#<sha256 of the secret>, SK=PHOTOLINK`` (taken
  with a conditional delete; TTL, and its expiry checked on use: TTL is late)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors, written_if
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.sms_intake import Conversation, FoundPlace, ServiceChoice


class ConversationItem(TableItem):
    state = UnicodeAttribute()
    version = NumberAttribute()
    expires_at = NumberAttribute()


class InboundSmsItem(TableItem):
    expires_at = NumberAttribute()


class PhotoLinkItem(TableItem):
    tracking_number = UnicodeAttribute()
    sealed_token = UnicodeAttribute()
    expires_at = NumberAttribute()


def conversation_document(c: Conversation) -> dict[str, Any]:
    return {"language": c.language, "step": c.step, "description": c.description,
            "started_at": c.started_at.isoformat(), "updated_at": c.updated_at.isoformat(),
            "service_code": c.service_code, "service_name": c.service_name,
            "choices": [[s.code, s.name] for s in c.choices],
            "place": None if c.place is None else [c.place.label, c.place.lat, c.place.long],
            "place_tries": c.place_tries, "answers": c.answers, "question": c.question}


def conversation_of(doc: dict[str, Any], version: int) -> Conversation:
    place = doc.get("place")
    return Conversation(
        language=doc["language"], step=doc["step"], description=doc["description"],
        started_at=datetime.fromisoformat(doc["started_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        service_code=doc.get("service_code"), service_name=doc.get("service_name"),
        choices=tuple(ServiceChoice(code, name) for code, name in doc.get("choices") or ()),
        place=FoundPlace(place[0], place[1], place[2]) if place else None,
        place_tries=int(doc.get("place_tries") or 0), answers=dict(doc.get("answers") or {}),
        question=doc.get("question"), version=version)


class DynamoSmsConversations:
    """SmsConversations on the one table."""

    def claim_message(self, town_id: str, message_id: str, expires_at: int) -> bool:
        item = InboundSmsItem(keys.inbound_sms_pk(town_id, message_id), keys.INBOUND_SMS_SK,
                              expires_at=expires_at)
        return written_if(lambda: item.save(condition=InboundSmsItem.PK.does_not_exist()))

    def conversation(self, town_id: str, phone_hash: str) -> Conversation | None:
        item = get_or_none(ConversationItem, keys.conversation_pk(town_id, phone_hash),
                           keys.CONVERSATION_SK, consistent_read=True)
        if item is None:
            return None
        return conversation_of(json.loads(item.state), int(item.version))

    def save_conversation(self, town_id: str, phone_hash: str,
                          conversation: Conversation) -> bool:
        item = ConversationItem(
            keys.conversation_pk(town_id, phone_hash), keys.CONVERSATION_SK,
            state=json.dumps(conversation_document(conversation)),
            version=conversation.version + 1,
            expires_at=int(conversation.expires_at().timestamp()))
        condition = ConversationItem.PK.does_not_exist() if conversation.version == 0 \
            else ConversationItem.version == conversation.version
        return written_if(lambda: item.save(condition=condition))

    def end_conversation(self, town_id: str, phone_hash: str) -> None:
        with storage_errors():
            TableItem(keys.conversation_pk(town_id, phone_hash),
                      keys.CONVERSATION_SK).delete()

    def save_photo_link(self, town_id: str, secret_hash: str, tracking_number: str,
                        sealed_token: str, expires_at: int) -> None:
        with storage_errors():
            PhotoLinkItem(keys.photo_link_pk(town_id, secret_hash), keys.PHOTO_LINK_SK,
                          tracking_number=tracking_number, sealed_token=sealed_token,
                          expires_at=expires_at).save()

    def take_photo_link(self, town_id: str, secret_hash: str,
                        now: int) -> tuple[str, str] | None:
        item = get_or_none(PhotoLinkItem, keys.photo_link_pk(town_id, secret_hash),
                           keys.PHOTO_LINK_SK, consistent_read=True)
        if item is None or not written_if(lambda: item.delete(
                condition=PhotoLinkItem.PK.exists())):
            return None
        if int(item.expires_at) < now:
            return None
        return item.tracking_number, item.sealed_token
