"""Business time of an inbox: its weekly schedule in its time zone, minus holidays.

An inbox with no schedule is open 24/7, so business seconds equal wall seconds (never a silent zero).
Local opening times are turned into UTC instants through zoneinfo before any arithmetic: Python subtracts
two datetimes that share a tzinfo as naive wall-clock times, which would make a DST day 24 hours long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickets.models import BusinessHoursInterval, Holiday

MAX_SCAN_DAYS = 800


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # weekday -> [(opens, closes)], closes <= opens meaning the interval runs overnight into the next day
    weekly: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not self.weekly

    def _instant(self, day: date, at: time) -> datetime:
        # A local time inside a DST gap (fold=0) resolves with the offset before the change.
        return datetime.combine(day, at).replace(tzinfo=self.tz).astimezone(UTC)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Merged opening intervals (UTC) that overlap [start, end], clipped to it.

        A holiday closes the intervals that open on that local date (an overnight interval opened the day
        before still runs into it).
        """
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return []
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        spans: list[tuple[datetime, datetime]] = []
        while day <= last:
            if day not in self.holidays:
                for opens, closes in self.weekly.get(day.weekday(), ()):
                    close_day = day if closes > opens else day + timedelta(days=1)
                    lo = max(self._instant(day, opens), start)
                    hi = min(self._instant(close_day, closes), end)
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
        """The instant at which `seconds` of business time have passed since `start`.

        Raises ValueError when the schedule has no opening time in the next MAX_SCAN_DAYS.
        """
        if self.always_open:
            return start + timedelta(seconds=seconds)
        # timedelta arithmetic is exact to the microsecond; float seconds would leave crumbs at window edges.
        remaining = timedelta(seconds=seconds)
        window_start = start.astimezone(UTC)
        for _ in range(MAX_SCAN_DAYS // 7 + 1):
            window_end = window_start + timedelta(days=7)
            for lo, hi in self.open_intervals(window_start, window_end):
                if hi - lo >= remaining:
                    return lo + remaining
                remaining -= hi - lo
            window_start = window_end
        raise ValueError("the schedule has no opening time in the next two years")

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` itself when open, else the next instant the inbox opens (None when it never does)."""
        if self.is_open(at):
            return at
        window_start = at.astimezone(UTC)
        for _ in range(MAX_SCAN_DAYS // 7 + 1):
            window_end = window_start + timedelta(days=7)
            intervals = self.open_intervals(window_start, window_end)
            if intervals:
                return intervals[0][0]
            window_start = window_end
        return None


def zone_for(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A mistyped zone must not break every timing of the inbox; the admin form refuses it up front.
        return ZoneInfo("UTC")


def schedule_for(inbox) -> Schedule:
    weekly: dict[int, list[tuple[time, time]]] = {}
    for opens, closes, weekday in (
        BusinessHoursInterval.objects.filter(inbox=inbox)
        .order_by("weekday", "opens_at")
        .values_list("opens_at", "closes_at", "weekday")
    ):
        weekly.setdefault(weekday, []).append((opens, closes))
    holidays = frozenset(Holiday.objects.filter(inbox=inbox).values_list("date", flat=True))
    return Schedule(tz=zone_for(inbox.time_zone), weekly=weekly, holidays=holidays)


def business_seconds(*, inbox, start: datetime, end: datetime) -> float:
    return schedule_for(inbox).business_seconds(start, end)
