"""E-mail intake's ports: the raw messages SES stores (S3 ``inbound-mail/``) and towns' own
intake addresses (one DynamoDB item per address). Each contract runs on the fake and on
the adapter (on moto)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.domain.errors import Conflict
from chalicelib.domain.mail import MailTooLarge
from tests.fakes import FakeInboundMailbox, FakeIntakeAddresses

TOWN, OTHER = "maplefalls.example", "riverton.example"


class InboundMailboxContract:
    @pytest.fixture
    def mailbox(self):
        """(InboundMailbox, store a raw message under a key as SES would)"""
        raise NotImplementedError

    def test_a_stored_message_is_read_then_forgotten(self, mailbox):
        box, store = mailbox
        store("inbound-mail/a", b"From: a@b.org\r\n\r\nhi")
        assert box.read("inbound-mail/a", 1000) == b"From: a@b.org\r\n\r\nhi"
        box.delete("inbound-mail/a")
        assert box.read("inbound-mail/a", 1000) is None
        box.delete("inbound-mail/a")  # twice: nothing to do

    def test_a_message_over_the_limit_is_refused_unread(self, mailbox):
        box, store = mailbox
        store("inbound-mail/big", b"x" * 101)
        with pytest.raises(MailTooLarge):
            box.read("inbound-mail/big", 100)

    def test_only_the_inbound_prefix_is_read(self, mailbox):
        box, store = mailbox
        with pytest.raises(ValueError, match="inbound-mail/"):
            box.read("incoming/t/r/p", 1000)


class TestFakeInboundMailbox(InboundMailboxContract):
    @pytest.fixture
    def mailbox(self):
        fake = FakeInboundMailbox()
        return fake, fake.messages.__setitem__


class TestS3InboundMailbox(InboundMailboxContract):
    @pytest.fixture
    def mailbox(self, deployment) -> tuple[object, Callable[[str, bytes], None]]:
        bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
        s3 = deployment.client("s3")
        return deployment.container.inbound_mail, lambda key, raw: s3.put_object(
            Bucket=bucket, Key=key, Body=raw)


class IntakeAddressesContract:
    @pytest.fixture
    def addresses(self):
        raise NotImplementedError

    def test_an_address_reaches_its_town_and_moves_with_it(self, addresses):
        addresses.point("potholes@reports.example", TOWN, None)
        assert addresses.town_for("Potholes@Reports.Example") == TOWN
        addresses.point("311@reports.example", TOWN, "potholes@reports.example")
        assert addresses.town_for("potholes@reports.example") is None
        assert addresses.town_for("311@reports.example") == TOWN
        addresses.point(None, TOWN, "311@reports.example")
        assert addresses.town_for("311@reports.example") is None

    def test_another_towns_address_cannot_be_taken(self, addresses):
        addresses.point("potholes@reports.example", TOWN, None)
        with pytest.raises(Conflict):
            addresses.point("potholes@reports.example", OTHER, None)
        assert addresses.town_for("potholes@reports.example") == TOWN
        addresses.point("potholes@reports.example", TOWN, None)  # its own again: fine


class TestFakeIntakeAddresses(IntakeAddressesContract):
    @pytest.fixture
    def addresses(self):
        return FakeIntakeAddresses()


class TestDynamoIntakeAddresses(IntakeAddressesContract):
    @pytest.fixture
    def addresses(self, deployment):
        return deployment.container.intake_addresses
