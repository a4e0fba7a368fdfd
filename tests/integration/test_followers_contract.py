"""The request store's other faces: ``FollowerStore`` (followers and confirm links),
``ServiceLevelStore`` (the SLA index and the sweep's cursor), ``PhoneMigrationStore`` and
the ``AuditLog``. The fakes and the DynamoDB adapters on moto answer the same."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.followers import FOLLOWER, REPORTER, Follower, contact_hashes
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import AuditEntry
from tests.fakes import FakeAuditLog, FakePhoneMigration, FakeRequestStore

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW = int(T0.timestamp())
TOWN, OTHER = "maplefalls.example", "riverton.example"


def _request(n: int, *, status: str = "open", due: datetime | None = None,
             phone: str | None = None) -> tuple[ServiceRequest, TimelineEvent]:
    event = TimelineEvent(at=T0, event_id=f"E{n:04d}", kind="submitted", summary="Reported")
    return ServiceRequest(
        town_id=TOWN, request_id=f"R{n:04d}", token_hash=f"T{n:04d}", service_code="pothole",
        service_name="Pothole", requested_at=T0, updated_at=T0,
        place=Place(lat=41.88, long=-87.63, address="1 Main St"), status=status,
        reporter=Reporter(email=f"r{n}@example.org", phone=phone), next_sla_at=due,
        timeline=[event]), event


def _follower(name: str, role: str = FOLLOWER, phone: str | None = None) -> Follower:
    email = f"{name}@example.org"
    return Follower(follower_id=contact_hashes(email, None)[0], role=role, since=T0,
                    email=email, phone=phone, confirmed=("email",))


class FollowerStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_following_counts_a_neighbour_once_and_finds_them_by_contact(self, store):
        store.add(*_request(1), reporter=_follower("ana", REPORTER))
        bo = _follower("bo")
        assert store.follow(TOWN, "R0001", bo)
        assert not store.follow(TOWN, "R0001", bo)
        assert store.get(TOWN, "R0001", with_timeline=False).followers == 1
        assert [f.follower_id for f in store.followers_of(TOWN, "R0001")] == sorted(
            [bo.follower_id, _follower("ana").follower_id])
        assert store.get_follower(TOWN, "R0001", bo.follower_id) == bo
        assert store.requests_followed_by(TOWN, bo.follower_id) == ["R0001"]
        assert store.is_reporter_or_follower(TOWN, "R0001", bo.follower_id) == FOLLOWER
        assert store.is_reporter_or_follower(OTHER, "R0001", bo.follower_id) is None

    def test_only_an_open_request_that_exists_can_be_followed(self, store):
        store.add(*_request(1, status="closed"))
        with pytest.raises(Conflict):
            store.follow(TOWN, "R0001", _follower("bo"))
        with pytest.raises(NotFound):
            store.follow(TOWN, "R0404", _follower("bo"))

    def test_unfollowing_takes_them_off_the_count_and_the_index(self, store):
        store.add(*_request(1))
        bo = _follower("bo")
        store.follow(TOWN, "R0001", bo)
        store.unfollow(TOWN, "R0001", bo)
        store.unfollow(TOWN, "R0001", bo)  # twice is not an error
        assert store.get(TOWN, "R0001", with_timeline=False).followers == 0
        assert store.get_follower(TOWN, "R0001", bo.follower_id) is None
        assert store.requests_followed_by(TOWN, bo.follower_id) == []

    def test_a_follower_who_stopped_cannot_be_saved_again(self, store):
        store.add(*_request(1))
        bo = _follower("bo")
        store.follow(TOWN, "R0001", bo)
        texted = dataclasses.replace(bo, phone="+16125550100", confirmed=("email", "sms"))
        store.save_follower(TOWN, "R0001", texted)
        assert store.get_follower(TOWN, "R0001", bo.follower_id) == texted
        store.unfollow(TOWN, "R0001", texted)
        with pytest.raises(NotFound):
            store.save_follower(TOWN, "R0001", texted)

    def test_a_confirm_link_works_once_and_not_after_it_expires(self, store):
        store.save_link(TOWN, "secret-1", "R0001", "F1", "sms", NOW + 60)
        store.save_link(TOWN, "secret-2", "R0001", "F1", "email", NOW - 1)
        assert store.take_link(OTHER, "secret-1", NOW) is None
        assert store.take_link(TOWN, "secret-1", NOW) == ("R0001", "F1", "sms")
        assert store.take_link(TOWN, "secret-1", NOW) is None
        assert store.take_link(TOWN, "secret-2", NOW) is None


class TestFakeFollowerStore(FollowerStoreContract):
    @pytest.fixture
    def store(self):
        return FakeRequestStore()


class TestDynamoFollowerStore(FollowerStoreContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.requests


class ServiceLevelStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_requests_due_in_an_hour_by_now_oldest_first(self, store):
        hour = T0.replace(minute=0)
        store.add(*_request(1, due=hour + timedelta(minutes=40)))
        store.add(*_request(2, due=hour + timedelta(minutes=10)))
        store.add(*_request(3, due=hour + timedelta(minutes=50)))  # not yet due at :45
        store.add(*_request(4, due=hour + timedelta(hours=1, minutes=5)))  # the next hour
        store.add(*_request(5, due=hour + timedelta(minutes=5), status="closed"))
        store.add(*_request(6))  # no SLA
        now = hour + timedelta(minutes=45)
        assert store.sla_due(hour, now, 10) == [(TOWN, "R0002"), (TOWN, "R0001")]
        assert store.sla_due(hour, now, 1) == [(TOWN, "R0002")]
        assert store.sla_due(hour + timedelta(hours=1), now + timedelta(hours=1), 10) == [
            (TOWN, "R0004")]

    def test_a_changed_due_time_moves_the_request_in_the_index(self, store):
        hour = T0.replace(minute=0)
        store.add(*_request(1, due=hour + timedelta(minutes=10)))
        request = store.get(TOWN, "R0001", with_timeline=False)
        request.next_sla_at = hour + timedelta(hours=2)
        note = TimelineEvent(at=T0, event_id="E9", kind="escalated", summary="Escalated")
        store.record_change(request, note)
        assert store.sla_due(hour, hour + timedelta(minutes=59), 10) == []
        assert store.sla_due(hour + timedelta(hours=2), hour + timedelta(hours=3), 10) == [
            (TOWN, "R0001")]

    def test_the_sweep_cursor_is_kept(self, store):
        assert store.sla_cursor() is None
        store.save_sla_cursor(T0)
        assert store.sla_cursor() == T0


class TestFakeServiceLevelStore(ServiceLevelStoreContract):
    @pytest.fixture
    def store(self):
        return FakeRequestStore()


class TestDynamoServiceLevelStore(ServiceLevelStoreContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.service_levels


class PhoneMigrationContract:
    @pytest.fixture
    def stores(self):
        """(RequestStore, PhoneMigrationStore) over the same requests."""
        raise NotImplementedError

    def test_a_reporters_phone_is_rewritten_and_found_by_its_new_hash(self, stores):
        store, migration = stores
        store.add(*_request(1, phone="612 555 0100"))
        store.add(*_request(2))
        assert sorted(migration.request_ids(TOWN)) == ["R0001", "R0002"]
        assert list(migration.request_ids(OTHER)) == []
        request = store.get(TOWN, "R0001", with_timeline=False)
        migration.set_reporter_phone(TOWN, "R0001",
                                     dataclasses.replace(request.reporter, phone="+16125550100"))
        assert store.get(TOWN, "R0001", with_timeline=False).reporter.phone == "+16125550100"
        (new,) = contact_hashes(None, "+16125550100")
        migration.add_resident_entry(TOWN, new, "R0001", reported=True)
        migration.add_resident_entry(TOWN, new, "R0002", reported=False)
        assert store.requests_of_resident(TOWN, new) == ["R0001"]
        assert store.requests_followed_by(TOWN, new) == ["R0002"]


class TestFakePhoneMigration(PhoneMigrationContract):
    @pytest.fixture
    def stores(self):
        store = FakeRequestStore()
        return store, FakePhoneMigration(store)


class TestDynamoPhoneMigration(PhoneMigrationContract):
    @pytest.fixture
    def stores(self, deployment):
        return deployment.container.requests, deployment.container.phone_migration


class AuditLogContract:
    @pytest.fixture
    def log(self):
        raise NotImplementedError

    def test_a_towns_entries_page_newest_first(self, log):
        for n in range(5):
            log.record(AuditEntry(town_id=TOWN, at=T0 + timedelta(minutes=n),
                                  entry_id=f"A{n}", actor="admin-1", actor_kind="staff",
                                  action="zone.saved", target=f"ward-{n}",
                                  source_ip="203.0.113.9", details={"name": f"Ward {n}"}))
        log.record(AuditEntry(town_id=OTHER, at=T0, entry_id="B0", actor="x",
                              actor_kind="staff", action="town.settings_changed", target=OTHER))
        first = log.page(TOWN, None, 2)
        assert [e.entry_id for e in first] == ["A4", "A3"]
        assert first[0].details == {"name": "Ward 4"} and first[0].source_ip == "203.0.113.9"
        assert [e.entry_id for e in log.page(TOWN, first[-1].at, 10)] == ["A2", "A1", "A0"]
        assert [e.entry_id for e in log.page(OTHER, None, 10)] == ["B0"]


class TestFakeAuditLog(AuditLogContract):
    @pytest.fixture
    def log(self):
        return FakeAuditLog()


class TestDynamoAuditLog(AuditLogContract):
    @pytest.fixture
    def log(self, deployment):
        return deployment.container.audit
