"""Due dates on a town's calendar: weekends, holidays, daylight saving (issue 7's clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.sla import (
    SlaTarget,
    business_time_between,
    due_at,
    us_federal_holidays,
)
from chalicelib.domain.towns import BusinessCalendar

CHICAGO = "America/Chicago"
CAL = BusinessCalendar(holidays=tuple(us_federal_holidays(2026)))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(CHICAGO))


def test_friday_afternoon_before_thanksgiving_weekend():
    # Wednesday 25 Nov 2026 at 16:00; Thursday is Thanksgiving: 8 business hours run
    # 1 h on Wednesday, then Friday 08:00-15:00.
    due = due_at(local(2026, 11, 25, 16, 0), SlaTarget(8), CAL, CHICAGO)
    assert due == local(2026, 11, 27, 15, 0)


def test_a_pothole_filed_on_friday_afternoon_before_a_monday_holiday():
    # Friday 4 Sep 2026 at 15:00; Monday 7 Sep is Labor Day: 4 business hours are 2 on
    # Friday and 2 on Tuesday.
    due = due_at(local(2026, 9, 4, 15, 0), SlaTarget(4), CAL, CHICAGO)
    assert due == local(2026, 9, 8, 10, 0)


def test_calendar_hours_are_elapsed_time_across_the_dst_change():
    start = local(2026, 10, 31, 12, 0)  # CDT; clocks go back on 1 Nov
    due = due_at(start, SlaTarget(48, "hours"), CAL, CHICAGO)
    assert due - start == timedelta(hours=48)
    assert due.astimezone(ZoneInfo(CHICAGO)).hour == 11  # an hour "earlier" on the wall


def test_calendar_days_keep_the_local_time_of_day_across_dst():
    due = due_at(local(2026, 10, 31, 12, 0), SlaTarget(3, "days"), CAL, CHICAGO)
    assert due.astimezone(ZoneInfo(CHICAGO)).replace(tzinfo=None) == datetime(2026, 11, 3, 12)


def test_a_due_time_in_the_spring_gap_moves_past_it():
    due = due_at(local(2026, 3, 7, 2, 30), SlaTarget(1, "days"), CAL, CHICAGO)
    assert due.astimezone(ZoneInfo(CHICAGO)).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)


def test_business_days_end_at_the_close_of_the_nth_working_day():
    # Filed Wednesday evening before Thanksgiving: day 1 is Friday, day 2 Monday.
    due = due_at(local(2026, 11, 25, 18, 0), SlaTarget(2, "business_days"), CAL, CHICAGO)
    assert due == local(2026, 11, 30, 17, 0)


def test_targets_must_be_positive_and_known():
    for bad in (0, -1):
        with pytest.raises(ValueError):
            SlaTarget(bad)
    with pytest.raises(ValueError):
        SlaTarget(1, "fortnights")


def test_us_federal_holidays_as_observed():
    assert us_federal_holidays(2026) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 10, 12),
        date(2026, 11, 11), date(2026, 11, 26), date(2026, 12, 25)]


@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1),
                          timezones=st.just(UTC)),
       hours=st.integers(min_value=1, max_value=120))
def test_business_hours_due_counts_exactly_the_target(start, hours):
    due = due_at(start, SlaTarget(hours), CAL, CHICAGO)
    assert due > start
    assert business_time_between(start, due, CAL, CHICAGO) == timedelta(hours=hours)
    local_due = due.astimezone(ZoneInfo(CHICAGO))
    assert local_due.weekday() < 5 and local_due.date() not in CAL.holidays
    assert 8 <= local_due.hour + local_due.minute / 60 <= 17


def test_an_sla_policy_reads_back_as_it_was_written() -> None:
    from chalicelib.domain.sla import (
        PriorityRule,
        SlaPolicy,
        SlaTarget,
        policy_document,
        policy_from_document,
    )

    policy = SlaPolicy(SlaTarget(3.0, "business_days"), (
        PriorityRule("dangerous", "yes", SlaTarget(4.0, "hours")),))
    assert policy_from_document(policy_document(policy)) == policy
    assert policy_document(policy) == {
        "amount": 3.0, "unit": "business_days",
        "priorities": [{"question": "dangerous", "answer": "yes", "amount": 4.0,
                        "unit": "hours"}]}


def test_a_pack_may_leave_the_unit_out() -> None:
    from chalicelib.domain.sla import SlaTarget, policy_from_document

    policy = policy_from_document({"amount": 2, "priorities": [
        {"question": "q", "answer": "a", "amount": 1}]})
    assert policy.target == SlaTarget(2.0, "business_hours")
    assert policy.priorities[0].target == SlaTarget(1.0, "business_hours")
