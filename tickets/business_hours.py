"""Business time of an inbox: its weekly schedule in its time zone, minus holidays.

An inbox with no schedule is open 24/7, so business seconds equal wall seconds (never a silent zero).
Instants are aware datetimes; local opening times are turned into instants with zoneinfo, so that a DST
change makes a business day 23 or 25 hours long exactly as the clock on the wall does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tickets.models import BusinessHoursInterval, Holiday

MAX_SCAN_DAYS = 800


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # weekday -> [(opens, closes)], closes <= opens meaning overnight
    weekly: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not self.weekly

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at).replace(tzinfo=self.tz)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Merged opening intervals (aware) that overlap [start, end], clipped to it."""
        if end <= start:
            return []
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        spans: list[tuple[datetime, datetime]] = []
        day = first
        while day <= last:
            if day not in self.holidays:
                for opens, closes in self.weekly.get(day.weekday(), ()):
                    close_day = day if closes > opens else day + timedelta(days=1)
                    lo = max(self._local(day, opens), start)
                    hi = min(self._local(close_day, closes), end)
                    if hi > lo:
                        spans.append((lo, hi))
            day += timedelta(days=1)
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def business_seconds(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        return sum((hi - lo).total_seconds() for lo, hi in self.open_intervals(start, end))

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        return bool(self.open_intervals(at, at + timedelta(microseconds=1)))

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of business time have passed since `start`."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        remaining = seconds
        window_start = start
        for _ in range(MAX_SCAN_DAYS // 7 + 1):
            window_end = window_start + timedelta(days=7)
            for lo, hi in self.open_intervals(window_start, window_end):
                length = (hi - lo).total_seconds()
                if length >= remaining:
                    return lo + timedelta(seconds=remaining)
                remaining -= length
            window_start = window_end
        raise ValueError("the schedule has no opening time in the next two years")

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the next instant the inbox opens (None when it never does)."""
        if self.is_open(at):
            return at
        window_start = at
        for _ in range(MAX_SCAN_DAYS // 7 + 1):
            window_end = window_start + timedelta(days=7)
            intervals = self.open_intervals(window_start, window_end)
            if intervals:
                return intervals[0][0]
            window_start = window_end
        return None


def schedule_for(inbox) -> Schedule:
    weekly: dict[int, list[tuple[time, time]]] = {}
    for interval in BusinessHoursInterval.objects.filter(inbox=inbox).order_by("weekday", "opens_at"):
        weekly.setdefault(interval.weekday, []).append((interval.opens_at, interval.closes_at))
    holidays = frozenset(Holiday.objects.filter(inbox=inbox).values_list("date", flat=True))
    return Schedule(tz=ZoneInfo(inbox.time_zone or "UTC"), weekly=weekly, holidays=holidays)


def business_seconds(*, inbox, start: datetime, end: datetime) -> float:
    return schedule_for(inbox).business_seconds(start, end)
