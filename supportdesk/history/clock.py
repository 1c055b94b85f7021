"""Business time of an inbox as cumulative opening intervals: one binary search per event."""

from __future__ import annotations

import bisect
from datetime import datetime

from chat.models import Inbox
from tickets.business_hours import schedule_for


class BusinessClock:
    """Business seconds of one inbox between instants (epoch seconds), from its merged opening intervals."""

    def __init__(self, inbox: Inbox, start: datetime, end: datetime):
        schedule = schedule_for(inbox)
        self.always_open = schedule.always_open
        self.los: list[float] = []
        self.his: list[float] = []
        self.cum: list[float] = []  # business seconds before each interval
        total = 0.0
        if not self.always_open:
            for lo, hi in schedule.open_intervals(start, end):
                a, b = lo.timestamp(), hi.timestamp()
                self.los.append(a)
                self.his.append(b)
                self.cum.append(total)
                total += b - a
        self.cum_end = [c + (h - lo) for c, lo, h in zip(self.cum, self.los, self.his, strict=True)]

    def _at(self, t: float) -> float:
        i = bisect.bisect_right(self.los, t) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + min(t, self.his[i]) - self.los[i]

    def between(self, a: float, b: float) -> float:
        if b <= a:
            return 0.0
        if self.always_open:
            return b - a
        return min(self._at(b) - self._at(a), b - a)

    def add(self, a: float, seconds: float) -> float:
        if self.always_open:
            return a + seconds
        target = self._at(a) + seconds
        j = bisect.bisect_left(self.cum_end, target)
        if j >= len(self.los):
            return self.his[-1] if self.his else a + seconds
        return max(self.los[j] + (target - self.cum[j]), a)

    def next_opening(self, t: float) -> float:
        if self.always_open or self.is_open(t):
            return t
        i = bisect.bisect_right(self.los, t)
        return self.los[i] if i < len(self.los) else t

    def is_open(self, t: float) -> bool:
        if self.always_open:
            return True
        i = bisect.bisect_right(self.los, t) - 1
        return i >= 0 and t < self.his[i]
