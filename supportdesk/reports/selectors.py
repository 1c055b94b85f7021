"""Report reads that no app selector provides: requests by weekday and hour for the heat map, and operators'
online time from the presence log.

Uses the tickets app's filter (the same selection, period and live kinds as `conversation_outcomes`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from chat.models import Conversation, OperatorProfile, PresenceInterval
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


def operator_online_seconds(
    *,
    start: datetime,
    end: datetime,
    inbox_ids=(),
    team_ids=(),
    operator_ids=(),
    now: datetime | None = None,
) -> dict[int, float]:
    """{operator user id: seconds online within [start, end)} for the operators of the selection (members of the
    selected inboxes and teams, or the selected operators); a stretch still open runs until now."""
    now = now or timezone.now()
    operators = OperatorProfile.objects.all()
    if operator_ids:
        operators = operators.filter(user_id__in=operator_ids)
    if inbox_ids:
        operators = operators.filter(inboxes__in=inbox_ids)
    if team_ids:
        operators = operators.filter(teams__in=team_ids)
    stretches = PresenceInterval.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start),
        status=OperatorProfile.Status.ONLINE,
        started_at__lt=min(end, now),
        operator_id__in=operators.values("user_id"),
    ).values_list("operator_id", "started_at", "ended_at")
    seconds: dict[int, float] = defaultdict(float)
    for operator_id, began, ended in stretches:
        seconds[operator_id] += max(0.0, (min(ended or now, end, now) - max(began, start)).total_seconds())
    return dict(seconds)


def team_online_seconds(per_operator: dict[int, float], *, team_ids=()) -> dict[int, float]:
    """{team id: its operators' online seconds} from operator_online_seconds; only `team_ids` when given."""
    per_team: dict[int, float] = defaultdict(float)
    memberships = OperatorProfile.teams.through.objects.filter(operatorprofile__user_id__in=list(per_operator))
    for team_id, user_id in memberships.values_list("team_id", "operatorprofile__user_id"):
        if not team_ids or team_id in team_ids:
            per_team[team_id] += per_operator[user_id]
    return dict(per_team)
