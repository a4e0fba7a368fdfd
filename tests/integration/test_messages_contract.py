"""``ResidentAccess``, ``NoticeBook`` and ``Limits``: the in-memory fakes and the DynamoDB
adapters on moto answer the same (sign-in codes and sessions, stops, claims and deferred
texts, budgets and tallies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FakeLimits, FakeNoticeBook, FakeResidentAccess

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOW = int(T0.timestamp())
TOWN, OTHER = "maplefalls.example", "riverton.example"


class ResidentAccessContract:
    @pytest.fixture
    def access(self):
        raise NotImplementedError

    def test_a_new_code_waits_for_the_resend_time(self, access):
        assert access.save_code(TOWN, "ana", "h1", NOW + 600, NOW)
        assert not access.save_code(TOWN, "ana", "h2", NOW + 600, NOW)  # too soon
        assert access.save_code(OTHER, "ana", "h3", NOW + 600, NOW)  # another town
        assert access.save_code(TOWN, "ana", "h4", NOW + 900, NOW + 601)  # later on
        assert access.take_code(TOWN, "ana", 5) == ("h4", NOW + 900, 1)

    def test_each_try_is_counted_until_none_is_left(self, access):
        access.save_code(TOWN, "ana", "h1", NOW + 600, NOW)
        assert [access.take_code(TOWN, "ana", 2) for _ in range(3)] == [
            ("h1", NOW + 600, 1), ("h1", NOW + 600, 2), None]
        assert access.take_code(TOWN, "bo", 2) is None

    def test_a_dropped_code_no_longer_matches_but_still_holds_the_resend_time(self, access):
        access.save_code(TOWN, "ana", "h1", NOW + 600, NOW)
        access.drop_code(TOWN, "ana")
        assert access.take_code(TOWN, "ana", 5) == ("", NOW + 600, 1)
        assert not access.save_code(TOWN, "ana", "h2", NOW + 600, NOW)
        access.drop_code(TOWN, "bo")  # nothing to drop: no error

    def test_a_session_names_its_contact_in_its_town(self, access):
        access.save_session(TOWN, "sess", "ana", NOW + 3600)
        assert access.session_contact(TOWN, "sess") == ("ana", NOW + 3600)
        assert access.session_contact(OTHER, "sess") is None
        assert access.session_contact(TOWN, "other") is None


class TestFakeResidentAccess(ResidentAccessContract):
    @pytest.fixture
    def access(self):
        return FakeResidentAccess()


class TestDynamoResidentAccess(ResidentAccessContract):
    @pytest.fixture
    def access(self, deployment):
        return deployment.container.resident_access


class NoticeBookContract:
    @pytest.fixture
    def book(self):
        raise NotImplementedError

    def test_a_town_stop_and_a_stop_to_the_shared_number(self, book):
        book.stop(TOWN, "ana", T0)
        book.stop(None, "phone-1", T0)
        assert book.stopped(TOWN, ["ana", "bo"], ["phone-1", "phone-2"]) == (
            {"ana"}, {"phone-1"})
        assert book.stopped(OTHER, ["ana"], ["phone-1"]) == (set(), {"phone-1"})
        book.restart(TOWN, "ana")
        book.restart(None, "phone-1")
        assert book.stopped(TOWN, ["ana"], ["phone-1"]) == (set(), set())
        assert book.stopped(TOWN, [], []) == (set(), set())

    def test_a_message_is_claimed_once_until_released(self, book):
        assert book.claim(TOWN, "E1", "ana#email", NOW + 60, stop_hash="h", request_id="R1")
        assert not book.claim(TOWN, "E1", "ana#email", NOW + 60)
        assert book.claim(TOWN, "E1", "ana#sms", NOW + 60)
        assert book.claim(OTHER, "E1", "ana#email", NOW + 60)
        assert book.stop_link(TOWN, "E1", "ana#email") == ("h", "R1")
        assert book.stop_link(TOWN, "E1", "ana#sms") is None
        book.release(TOWN, "E1", "ana#email")
        assert book.stop_link(TOWN, "E1", "ana#email") is None
        assert book.claim(TOWN, "E1", "ana#email", NOW + 60)

    def test_deferred_texts_come_back_when_their_time_has_come_oldest_first(self, book):
        book.defer(TOWN, T0 + timedelta(hours=2), "late", "body-late")
        book.defer(OTHER, T0 + timedelta(hours=1), "early", "body-early")
        book.defer(TOWN, T0 + timedelta(days=1), "tomorrow", "body-tomorrow")
        due = book.deferred_until(T0 + timedelta(hours=3), 10)
        assert [(town, body) for _, town, body in due] == [
            (OTHER, "body-early"), (TOWN, "body-late")]
        assert book.deferred_until(T0 + timedelta(hours=3), 1)[0][2] == "body-early"
        book.drop_deferred(due[0][0])
        assert [b for _, _, b in book.deferred_until(T0 + timedelta(hours=3), 10)] == [
            "body-late"]


class TestFakeNoticeBook(NoticeBookContract):
    @pytest.fixture
    def book(self):
        return FakeNoticeBook()


class TestDynamoNoticeBook(NoticeBookContract):
    @pytest.fixture
    def book(self, deployment):
        return deployment.container.notice_book


class LimitsContract:
    @pytest.fixture
    def limits(self):
        raise NotImplementedError

    def test_a_budget_refuses_what_would_pass_it_and_counts_nothing_then(self, limits):
        assert limits.take(TOWN, "codes", 7, 3, NOW + 60, amount=2)
        assert not limits.take(TOWN, "codes", 7, 3, NOW + 60, amount=2)
        assert limits.take(TOWN, "codes", 7, 3, NOW + 60)
        assert not limits.take(TOWN, "codes", 7, 3, NOW + 60)
        assert limits.take(TOWN, "codes", 8, 3, NOW + 60, amount=3)  # the next window
        assert limits.take(OTHER, "codes", 7, 3, NOW + 60, amount=3)

    def test_tallies_grow_and_are_read_by_prefix(self, limits):
        limits.add(TOWN, "refused#2026-11-20", 1)
        limits.add(TOWN, "refused#2026-11-20", 2)
        limits.add(TOWN, "refused#2026-11-21", 1)
        limits.add(OTHER, "refused#2026-11-20", 5)
        assert limits.totals(TOWN, "refused#") == {"refused#2026-11-20": 3,
                                                   "refused#2026-11-21": 1}
        assert limits.totals(TOWN, "nothing#") == {}

    def test_texts_count_against_the_monthly_cap(self, limits):
        assert limits.spend_sms(TOWN, "2026-11", 3, 4)
        assert not limits.spend_sms(TOWN, "2026-11", 2, 4)
        assert limits.spend_sms(TOWN, "2026-11", 1, 4)
        assert limits.spend_sms(TOWN, "2026-12", 4, 4)
        assert limits.totals(TOWN, "sms#") == {"sms#2026-11": 4, "sms#2026-12": 4}


class TestFakeLimits(LimitsContract):
    @pytest.fixture
    def limits(self):
        return FakeLimits()


class TestDynamoLimits(LimitsContract):
    @pytest.fixture
    def limits(self, deployment):
        return deployment.container.limits
