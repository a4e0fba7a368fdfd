"""``SubscriberStore`` and ``AlertStore``: the in-memory fakes and the DynamoDB adapters on
moto answer the same, so the alert and subscriber service tests on fakes say something true."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import Conflict
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.subscribers import ACTIVE, PENDING, Subscriber
from tests.fakes import FakeAlerts, FakeSubscribers

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOWN, OTHER = "maplefalls.example", "riverton.example"


def _subscriber(n: int, *, town: str = TOWN, status: str = ACTIVE,
                zones: tuple[str, ...] = ("ward-1",), phone: str | None = "+16125550100",
                email: str | None = None) -> Subscriber:
    return Subscriber(town_id=town, subscriber_id=f"S{n:03d}", language="en", zones=zones,
                      created_at=T0, phone=phone, email=email, status=status,
                      code_hash="c0de" if status == PENDING else None,
                      code_expires=int(T0.timestamp()) + 3600, stop_key=f"stop-{n}",
                      home=(44.97, -93.26))


class SubscriberStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_a_subscriber_reads_back_whole_in_its_town_only(self, store):
        s = _subscriber(1, email="ana@example.org")
        store.save(s)
        assert store.get(TOWN, "S001") == s
        assert store.get(OTHER, "S001") is None
        assert store.get(TOWN, "S404") is None

    def test_only_an_active_subscription_is_found_by_contact_and_audience(self, store):
        pending = _subscriber(1, status=PENDING)
        store.save(pending)
        (phone_hash,) = contact_hashes(None, pending.phone)
        assert store.find_by_contact(TOWN, phone_hash) is None
        assert list(store.audience(TOWN, "*")) == []
        assert store.subscriptions_of_phone(phone_hash) == []
        store.save(dataclasses.replace(pending, status=ACTIVE, code_hash=None))
        assert store.find_by_contact(TOWN, phone_hash) == "S001"
        assert store.find_by_contact(OTHER, phone_hash) is None
        assert store.subscriptions_of_phone(phone_hash) == [(TOWN, "S001")]

    def test_the_audience_of_a_zone_and_of_the_whole_town(self, store):
        store.save(_subscriber(1, zones=("ward-1",)))
        store.save(_subscriber(2, zones=("ward-2",), phone=None, email="bo@example.org"))
        store.save(_subscriber(3, zones=(), phone="+16125550103"))
        store.save(_subscriber(4, town=OTHER))
        ward = list(store.audience(TOWN, "ward-1"))
        assert ward == [{"subscriber_id": "S001", "language": "en", "phone": "+16125550100",
                         "email": None, "stop_key": "stop-1", "home": [44.97, -93.26]}]
        assert sorted(p["subscriber_id"] for p in store.audience(TOWN, "*")) == [
            "S001", "S002", "S003"]
        assert list(store.audience(TOWN, "ward-9")) == []

    def test_removing_forgets_the_subscriber_everywhere(self, store):
        s = _subscriber(1)
        store.save(s)
        store.remove(s)
        (phone_hash,) = contact_hashes(None, s.phone)
        assert store.get(TOWN, "S001") is None
        assert store.find_by_contact(TOWN, phone_hash) is None
        assert list(store.audience(TOWN, "ward-1")) == []
        assert list(store.audience(TOWN, "*")) == []
        assert store.subscriptions_of_phone(phone_hash) == []

    def test_tries_at_a_code_are_counted_until_none_is_left(self, store):
        store.save(_subscriber(1, status=PENDING))
        assert store.take_try(TOWN, "S001", 2) and store.take_try(TOWN, "S001", 2)
        assert not store.take_try(TOWN, "S001", 2)
        assert store.get(TOWN, "S001").tries == 2
        assert not store.take_try(TOWN, "S404", 2)
        store.save(_subscriber(2))  # active: nothing to try
        assert not store.take_try(TOWN, "S002", 5)

    def forget_counts(self, store) -> None:
        """Make the store as it was before counts per audience were kept."""
        raise NotImplementedError

    def test_counts_move_once_when_a_subscriber_confirms_and_once_when_they_stop(self, store):
        both = _subscriber(1, zones=("ward-1",), email="ana@example.org")
        store.save(_subscriber(2, status=PENDING, zones=("ward-1",)))
        store.save(both)
        store.save(both)  # written again (a retry): counted once
        store.save(_subscriber(3, zones=("ward-2",), phone=None, email="bo@example.org"))
        store.save(_subscriber(4, town=OTHER))
        counts = store.audience_counts(TOWN, ["ward-1", "ward-2", "ward-9"])
        assert counts == {"*": {"people": 2, "sms": 1, "email": 2},
                          "ward-1": {"people": 1, "sms": 1, "email": 1},
                          "ward-2": {"people": 1, "sms": 0, "email": 1},
                          "ward-9": {"people": 0, "sms": 0, "email": 0}}
        store.remove(both)
        store.remove(both)  # STOP twice: left once
        counts = store.audience_counts(TOWN, ["ward-1"])
        assert counts["ward-1"] == {"people": 0, "sms": 0, "email": 0}
        assert counts["*"] == {"people": 1, "sms": 0, "email": 1}
        # Changing a subscription is remove-then-save: still one person.
        moved = _subscriber(3, zones=("ward-1",), phone=None, email="bo@example.org")
        store.remove(_subscriber(3, zones=("ward-2",), phone=None, email="bo@example.org"))
        store.save(moved)
        counts = store.audience_counts(TOWN, ["ward-1", "ward-2"])
        assert counts["ward-1"]["people"] == 1 and counts["ward-2"]["people"] == 0
        assert counts["*"]["people"] == 1

    def test_counts_of_subscribers_stored_before_them_are_backfilled_once(self, store):
        store.save(_subscriber(1, zones=("ward-1",)))
        store.save(_subscriber(2, zones=("ward-1", "ward-2"), email="bo@example.org"))
        self.forget_counts(store)
        counts = store.audience_counts(TOWN, ["ward-1", "ward-2"])
        assert counts["ward-1"] == {"people": 2, "sms": 2, "email": 1}
        assert counts["ward-2"] == {"people": 1, "sms": 1, "email": 1}
        assert counts["*"]["people"] == 2
        # From then on the kept counts move, without another backfill.
        store.save(_subscriber(3, zones=("ward-2",), phone=None, email="cy@example.org"))
        assert store.audience_counts(TOWN, ["ward-2"])["ward-2"] == {
            "people": 2, "sms": 1, "email": 2}


class TestFakeSubscribers(SubscriberStoreContract):
    @pytest.fixture
    def store(self):
        return FakeSubscribers()

    def forget_counts(self, store) -> None:
        store.counts.clear()
        store.counted.clear()


class TestDynamoSubscribers(SubscriberStoreContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.subscribers

    def forget_counts(self, store) -> None:
        from chalicelib.adapters.dynamodb import keys
        from chalicelib.adapters.dynamodb.subscribers import AudienceCountItem
        from chalicelib.adapters.dynamodb.table import query_items

        for raw in list(query_items(keys.audience_count_pk(TOWN))):
            AudienceCountItem(keys.audience_count_pk(TOWN), raw["SK"]["S"]).delete()


def _alert(n: int, *, town: str = TOWN, at: datetime = T0) -> Alert:
    return Alert(town_id=town, alert_id=f"A{n:03d}", title={"en": "Boil water"},
                 body={"en": "Boil tap water before drinking."}, fallback_language="en",
                 severity="severe", category="water", expires_at=at + timedelta(days=1),
                 zones=("ward-1",), created_by="em-1", created_at=at)


class AlertStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_an_alert_reads_back_and_is_listed_newest_first(self, store):
        first = _alert(1)
        store.save(first, new=True)
        store.save(_alert(2, at=T0 + timedelta(hours=1)), new=True)
        store.save(_alert(3, town=OTHER), new=True)
        found = store.get(TOWN, "A001")
        assert found.title == {"en": "Boil water"} and found.zones == ("ward-1",)
        assert found.status == "draft" and found.version == first.version == 1
        assert [a.alert_id for a in store.list(TOWN)] == ["A002", "A001"]
        assert store.get(OTHER, "A001") is None

    def test_who_asked_for_approval_reads_back(self, store):
        store.save(_alert(1), new=True)
        asked = store.get(TOWN, "A001")
        asked.ask_approval("em-2", T0 + timedelta(minutes=5))
        store.save(asked)
        found = store.get(TOWN, "A001")
        assert found.status == "awaiting_approval"
        assert (found.asked_by, found.asked_at) == ("em-2", T0 + timedelta(minutes=5))

    def test_a_save_is_refused_when_someone_changed_the_alert_first(self, store):
        store.save(_alert(1), new=True)
        mine, theirs = store.get(TOWN, "A001"), store.get(TOWN, "A001")
        mine.status = "sending"
        store.save(mine)
        assert mine.version == 2
        theirs.status = "cancelled"
        with pytest.raises(Conflict):
            store.save(theirs)
        with pytest.raises(Conflict):
            store.save(_alert(1), new=True)
        assert store.get(TOWN, "A001").status == "sending"

    def test_only_a_sending_alert_is_marked_sent_once(self, store):
        store.save(_alert(1), new=True)
        assert not store.mark_sent(TOWN, "A001")  # a draft
        alert = store.get(TOWN, "A001")
        alert.status = "sending"
        store.save(alert)
        assert store.mark_sent(TOWN, "A001")
        assert not store.mark_sent(TOWN, "A001")
        sent = store.get(TOWN, "A001")
        assert sent.status == "sent" and sent.version == 3

    def test_each_message_is_claimed_once_and_settled_once(self, store):
        store.save(_alert(1), new=True)
        assert store.claim(TOWN, "A001", "S001#email", 2_000_000_000, stop_hash="h1")
        assert not store.claim(TOWN, "A001", "S001#email", 2_000_000_000)
        assert store.stop_hash(TOWN, "A001", "S001#email") == "h1"
        assert store.stop_hash(TOWN, "A001", "S404#email") is None
        assert store.settle(TOWN, "A001", "S001#email", "sent", "sent_email")
        assert not store.settle(TOWN, "A001", "S001#email", "sent", "sent_email")
        assert store.counts(TOWN, "A001") == {"sent_email": 1}
        assert store.delivered_to(TOWN, "A001") == {"S001"}
        assert not store.settle(TOWN, "A001", "S404#sms", "sent", "sent_sms")  # unclaimed

    def test_a_failed_send_gives_its_claim_back(self, store):
        store.save(_alert(1), new=True)
        store.claim(TOWN, "A001", "S001#sms", 2_000_000_000)
        assert store.settle(TOWN, "A001", "S001#sms", None)
        assert store.claim(TOWN, "A001", "S001#sms", 2_000_000_000)
        assert store.settle(TOWN, "A001", "S001#sms", "opted_out")  # no tally
        assert store.counts(TOWN, "A001") == {}
        assert store.delivered_to(TOWN, "A001") == set()

    def test_counts_add_up_and_a_plan_is_set_not_added(self, store):
        store.save(_alert(1), new=True)
        store.count(TOWN, "A001", "failed_tries")
        store.count(TOWN, "A001", "failed_tries", 2)
        store.plan(TOWN, "A001", {"recipients": 3, "messages": 4})
        store.plan(TOWN, "A001", {"recipients": 3, "messages": 4})
        assert store.counts(TOWN, "A001") == {"failed_tries": 3, "recipients": 3,
                                              "messages": 4}
        assert store.get(TOWN, "A001").counts == store.counts(TOWN, "A001")
        assert store.counts(OTHER, "A001") == {}

    def test_a_town_sends_at_most_its_texts_per_second(self, store):
        assert store.take_sms_slot(TOWN, 100, 2) and store.take_sms_slot(TOWN, 100, 2)
        assert not store.take_sms_slot(TOWN, 100, 2)
        assert store.take_sms_slot(TOWN, 101, 2)
        assert store.take_sms_slot(OTHER, 100, 2)


class TestFakeAlerts(AlertStoreContract):
    @pytest.fixture
    def store(self):
        return FakeAlerts()


class TestDynamoAlerts(AlertStoreContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.alert_store
