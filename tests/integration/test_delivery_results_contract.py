"""``DeliveryResults``: the in-memory fake and the DynamoDB adapter (on moto) keep and
read back a department's delivery results the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.deliveries import DeliveryResult
from tests.fakes import FakeDeliveryResults

T0 = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)
LATER = int((T0 + timedelta(days=14)).timestamp())
TOWN, OTHER = "maplefalls.example", "riverton.example"


def _result(minutes: int, delivery_id: str = "D1", attempt: int = 1, **fields) -> DeliveryResult:
    values = {"channel": "webhook", "outcome": "delivered", "status": 204} | fields
    return DeliveryResult(at=T0 + timedelta(minutes=minutes), delivery_id=delivery_id,
                          attempt=attempt, **values)


class DeliveryResultsContract:
    @pytest.fixture
    def results(self):
        raise NotImplementedError

    def test_a_result_reads_back_as_it_was_recorded(self, results):
        failed = _result(0, "test-01J", 2, outcome="retrying", status=None, test=True,
                         error="no answer (refused, timed out or reset)")
        queued = _result(1, "E2", channel="queue", outcome="queued", status=None)
        results.record(TOWN, "works", failed, LATER)
        results.record(TOWN, "works", queued, LATER)
        assert results.recent(TOWN, "works", 20) == [queued, failed]

    def test_the_newest_come_first_and_only_as_many_as_asked(self, results):
        for minute in range(25):
            results.record(TOWN, "works", _result(minute, f"D{minute}"), LATER)
        latest = results.recent(TOWN, "works", 20)
        assert [r.delivery_id for r in latest] == [f"D{m}" for m in range(24, 4, -1)]

    def test_each_try_is_its_own_result_and_a_repeat_replaces_it(self, results):
        results.record(TOWN, "works", _result(0, "D1", 1, outcome="retrying", status=500),
                       LATER)
        results.record(TOWN, "works", _result(1, "D1", 2), LATER)
        results.record(TOWN, "works", _result(1, "D1", 2), LATER)
        assert [(r.attempt, r.outcome) for r in results.recent(TOWN, "works", 20)] == [
            (2, "delivered"), (1, "retrying")]

    def test_results_stay_with_their_town_and_department(self, results):
        results.record(TOWN, "works", _result(0), LATER)
        assert results.recent(OTHER, "works", 20) == []
        assert results.recent(TOWN, "parks", 20) == []


class TestFakeDeliveryResults(DeliveryResultsContract):
    @pytest.fixture
    def results(self):
        return FakeDeliveryResults()


class TestDynamoDeliveryResults(DeliveryResultsContract):
    @pytest.fixture
    def results(self, deployment):
        return deployment.container.delivery_results

    def test_each_result_expires_with_the_table_ttl(self, results, deployment):
        results.record(TOWN, "works", _result(0), LATER)
        from chalicelib.adapters.dynamodb import DeliveryResultItem, keys

        (item,) = DeliveryResultItem.query(keys.delivery_result_pk(TOWN, "works"))
        assert item.expires_at == LATER
