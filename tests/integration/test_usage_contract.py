"""``UsageMeter``: the in-memory fake and the DynamoDB adapter on moto answer the same
(counters added atomically per town and month, read back for several towns at once)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUsage

TOWN, OTHER = "maplefalls.example", "riverton.example"


class UsageContract:
    @pytest.fixture
    def meter(self):
        raise NotImplementedError

    def test_counters_add_up_per_town_and_month(self, meter):
        meter.add(TOWN, "2026-12", {"requests_web": 1})
        meter.add(TOWN, "2026-12", {"requests_web": 1, "requests_phone": 1})
        meter.add(TOWN, "2026-12", {"messages_sms": 2, "sms_segments": 3})
        meter.add(TOWN, "2026-11", {"requests_web": 5})
        meter.add(OTHER, "2026-12", {"photos": 1, "photo_bytes": 123_456})
        found = meter.months([TOWN, OTHER], "2026-12")
        assert found == {
            TOWN: {"requests_web": 2, "requests_phone": 1, "messages_sms": 2,
                   "sms_segments": 3},
            OTHER: {"photos": 1, "photo_bytes": 123_456},
        }
        assert meter.months([TOWN], "2026-11") == {TOWN: {"requests_web": 5}}

    def test_a_town_with_no_usage_is_absent(self, meter):
        meter.add(TOWN, "2026-12", {"requests_web": 1})
        assert meter.months([OTHER], "2026-12") == {}
        assert meter.months([], "2026-12") == {}
        assert meter.months([TOWN, TOWN], "2027-01") == {}

    def test_zero_amounts_write_nothing(self, meter):
        meter.add(TOWN, "2026-12", {"photos": 0})
        assert meter.months([TOWN], "2026-12") == {}

    def test_a_name_that_is_not_a_counter_is_refused(self, meter):
        with pytest.raises(ValueError, match="not a usage counter"):
            meter.add(TOWN, "2026-12", {"PK": 1})
        with pytest.raises(ValueError, match="not a usage counter"):
            meter.add(TOWN, "2026-12", {"requests web; drop": 1})
        assert meter.months([TOWN], "2026-12") == {}

    def test_many_towns_are_read_in_one_call(self, meter):
        towns = [f"town{n:03d}.example" for n in range(130)]  # more than one batch
        for n, town in enumerate(towns):
            meter.add(town, "2026-12", {"requests_open311": n + 1})
        found = meter.months(towns, "2026-12")
        assert len(found) == 130
        assert found["town129.example"] == {"requests_open311": 130}


class TestFakeUsage(UsageContract):
    @pytest.fixture
    def meter(self):
        return FakeUsage()


class TestDynamoUsage(UsageContract):
    @pytest.fixture
    def meter(self, deployment):
        return deployment.container.usage
