"""Business seconds of an inbox: weekly schedule in its time zone, holidays, overnight intervals, DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import BusinessHoursIntervalFactory, HolidayFactory, InboxFactory
from tickets.business_hours import Schedule, business_seconds, schedule_for

HOUR = 3600.0
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def office_hours(inbox, days=range(5), opens=time(9), closes=time(17)):
    for weekday in days:
        BusinessHoursIntervalFactory(inbox=inbox, weekday=weekday, opens_at=opens, closes_at=closes)


@pytest.mark.django_db
def test_inbox_without_schedule_counts_every_wall_second():
    inbox = InboxFactory()
    start = utc(2026, 3, 6, 16)  # a Friday
    assert business_seconds(inbox=inbox, start=start, end=start + timedelta(days=3)) == 3 * 24 * HOUR
    assert schedule_for(inbox).is_open(utc(2026, 3, 7, 3))


@pytest.mark.django_db
def test_weekend_is_not_business_time():
    inbox = InboxFactory(time_zone="UTC")
    office_hours(inbox)
    # Friday 16:00 -> Monday 10:00: one hour on Friday, one on Monday.
    assert business_seconds(inbox=inbox, start=utc(2026, 3, 6, 16), end=utc(2026, 3, 9, 10)) == 2 * HOUR
    schedule = schedule_for(inbox)
    assert schedule.add_business_seconds(utc(2026, 3, 6, 16), 2 * HOUR) == utc(2026, 3, 9, 10)
    assert not schedule.is_open(utc(2026, 3, 7, 12))
    assert schedule.next_opening(utc(2026, 3, 7, 12)) == utc(2026, 3, 9, 9)
    assert schedule.next_opening(utc(2026, 3, 9, 9, 30)) == utc(2026, 3, 9, 9, 30)


@pytest.mark.django_db
def test_holiday_closes_its_day():
    inbox = InboxFactory(time_zone="UTC")
    office_hours(inbox)
    HolidayFactory(inbox=inbox, date=date(2026, 3, 11), name="Wednesday off")
    # Tuesday 16:00 -> Thursday 10:00: the whole Wednesday is closed.
    assert business_seconds(inbox=inbox, start=utc(2026, 3, 10, 16), end=utc(2026, 3, 12, 10)) == 2 * HOUR


@pytest.mark.django_db
def test_several_intervals_a_day():
    inbox = InboxFactory(time_zone="UTC")
    office_hours(inbox, opens=time(9), closes=time(12))
    office_hours(inbox, opens=time(13), closes=time(17))
    assert business_seconds(inbox=inbox, start=utc(2026, 3, 9, 10), end=utc(2026, 3, 9, 14)) == 3 * HOUR


@pytest.mark.django_db
def test_overnight_schedule_runs_into_the_next_day():
    inbox = InboxFactory(time_zone="UTC")
    office_hours(inbox, days=range(7), opens=time(22), closes=time(6))
    assert business_seconds(inbox=inbox, start=utc(2026, 3, 9, 21), end=utc(2026, 3, 10, 7)) == 8 * HOUR
    # 05:00-06:00 from the night before, then 22:00-23:00.
    assert business_seconds(inbox=inbox, start=utc(2026, 3, 10, 5), end=utc(2026, 3, 10, 23)) == 2 * HOUR
    assert schedule_for(inbox).is_open(utc(2026, 3, 10, 2))


@pytest.mark.django_db
def test_dst_spring_forward_day_is_23_hours_in_berlin():
    inbox = InboxFactory(time_zone="Europe/Berlin")
    # Open all day on Sundays only; 29 March 2026 is the Sunday clocks go 02:00 -> 03:00.
    BusinessHoursIntervalFactory(inbox=inbox, weekday=6, opens_at=time(0), closes_at=time(0))
    week_start = datetime(2026, 3, 23, tzinfo=BERLIN)
    assert business_seconds(inbox=inbox, start=week_start, end=week_start + timedelta(days=8)) == 23 * HOUR
    # The Sunday before, an ordinary day.
    assert business_seconds(inbox=inbox, start=week_start - timedelta(days=7), end=week_start) == 24 * HOUR


@pytest.mark.django_db
def test_dst_fall_back_night_is_one_hour_longer_in_new_york():
    inbox = InboxFactory(time_zone="America/New_York")
    # 00:00-04:00 local on Sunday 1 November 2026, when 02:00 EDT becomes 01:00 EST: five real hours.
    BusinessHoursIntervalFactory(inbox=inbox, weekday=6, opens_at=time(0), closes_at=time(4))
    day = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert business_seconds(inbox=inbox, start=day - timedelta(hours=1), end=day + timedelta(days=1)) == 5 * HOUR
    schedule = schedule_for(inbox)
    assert schedule.add_business_seconds(day, 5 * HOUR) == utc(2026, 11, 1, 9)


ZONES = [ZoneInfo("UTC"), BERLIN, NEW_YORK, ZoneInfo("Asia/Tehran")]
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
schedules = st.builds(
    lambda zone, intervals, holidays: Schedule(
        tz=zone,
        weekly={day: [(o, c) for d, o, c in intervals if d == day] for day in {d for d, _, _ in intervals}},
        holidays=frozenset(holidays),
    ),
    st.sampled_from(ZONES),
    st.lists(st.tuples(st.integers(0, 6), times, times), max_size=6),
    st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)), max_size=5),
)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=schedules, points=st.lists(instants, min_size=3, max_size=3))
def test_business_seconds_never_exceed_wall_and_add_up(schedule, points):
    a, b, c = sorted(points)
    total = schedule.business_seconds(a, c)
    assert 0 <= total <= (c - a).total_seconds()
    assert total == pytest.approx(schedule.business_seconds(a, b) + schedule.business_seconds(b, c), abs=1e-6)
    if total > 0:
        # Adding back the business time spent lands no later than the end (the end may be in a closed stretch).
        reached = schedule.add_business_seconds(a, total)
        assert reached <= c
        assert schedule.business_seconds(a, reached) == pytest.approx(total, abs=1e-6)
