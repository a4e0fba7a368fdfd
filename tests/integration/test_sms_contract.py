"""``SmsConversations``: the fake and the DynamoDB adapter on moto answer the same —
inbound texts claimed once, conversations saved on their version, photo links taken once
and only before they expire."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.sms_intake import CONFIRM_PLACE, Conversation, FoundPlace, ServiceChoice
from tests.fakes import FakeSmsConversations

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW = int(T0.timestamp())
TOWN, OTHER = "maplefalls.example", "riverton.example"
PHONE = "a" * 64


def _conversation() -> Conversation:
    return Conversation(language="es", step=CONFIRM_PLACE, description="bache en 12 Oak St",
                        started_at=T0, updated_at=T0 + timedelta(minutes=2),
                        service_code="pothole", service_name="Pothole",
                        choices=(ServiceChoice("pothole", "Pothole"),),
                        place=FoundPlace("12 Oak St", 44.98, -93.26), place_tries=1,
                        answers={"size": "large", "hazard": ["lifted", "missing"]},
                        question="size")


class SmsConversationsContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_an_inbound_text_is_claimed_once_per_town(self, store):
        assert store.claim_message(TOWN, "m-1", NOW + 60)
        assert not store.claim_message(TOWN, "m-1", NOW + 60)
        assert store.claim_message(OTHER, "m-1", NOW + 60)

    def test_a_conversation_is_kept_whole_and_saved_on_its_version(self, store):
        assert store.conversation(TOWN, PHONE) is None
        first = _conversation()
        assert store.save_conversation(TOWN, PHONE, first)
        stored = store.conversation(TOWN, PHONE)
        assert stored == dataclasses.replace(first, version=1)
        assert store.conversation(OTHER, PHONE) is None
        # A second text that read the same version loses: only one moves it.
        moved = dataclasses.replace(stored, step="question")
        assert store.save_conversation(TOWN, PHONE, moved)
        assert not store.save_conversation(TOWN, PHONE, moved)
        assert not store.save_conversation(TOWN, PHONE, first)  # "new" over a stored one
        assert store.conversation(TOWN, PHONE).version == 2
        store.end_conversation(TOWN, PHONE)
        store.end_conversation(TOWN, PHONE)  # ending none is fine
        assert store.conversation(TOWN, PHONE) is None

    def test_a_photo_link_is_taken_once_and_not_after_it_expires(self, store):
        store.save_photo_link(TOWN, "h1", "K7QD-3M2P", "sealed", NOW + 60)
        assert store.take_photo_link(OTHER, "h1", NOW) is None
        assert store.take_photo_link(TOWN, "h1", NOW) == ("K7QD-3M2P", "sealed")
        assert store.take_photo_link(TOWN, "h1", NOW) is None
        store.save_photo_link(TOWN, "h2", "K7QD-3M2P", "sealed", NOW + 60)
        assert store.take_photo_link(TOWN, "h2", NOW + 61) is None


class TestFakeSmsConversations(SmsConversationsContract):
    @pytest.fixture
    def store(self):
        return FakeSmsConversations()


class TestDynamoSmsConversations(SmsConversationsContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.sms_conversations
