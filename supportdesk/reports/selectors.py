"""Report reads that no app selector provides: requests by weekday and hour for the heat map.

Uses the tickets app's filter (the same selection, period and live kinds as `conversation_outcomes`).
"""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from chat.models import Conversation
from tickets.selectors.conversations import LIVE_KINDS
from tickets.selectors.filters import CONVERSATION, MetricFilter, apply_filter


def requests_by_weekday_hour(*, filters: MetricFilter) -> list[list[int]]:
    """7 × 24 counts of live conversations requested in the period: [Monday..Sunday][hour], in the current time
    zone (the desk's TIME_ZONE)."""
    qs = apply_filter(Conversation.objects.filter(channel_kind__in=LIVE_KINDS), filters, CONVERSATION, "requested_at")
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        qs.annotate(_weekday=ExtractIsoWeekDay("requested_at"), _hour=ExtractHour("requested_at"))
        .values("_weekday", "_hour")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in rows:
        grid[row["_weekday"] - 1][row["_hour"]] = row["n"]
    return grid
