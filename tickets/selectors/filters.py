"""The one filter object of every metric selector, and the breakdown dimensions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate

BREAKDOWNS = ("inbox", "channel_kind", "team", "operator", "day")
# Breakdown rows come ordered by key, the "none" group (no team, no operator) last on every backend.
KEY_ORDER = F("_key").asc(nulls_last=True)


@dataclass(frozen=True)
class MetricFilter:
    """Selection of a report. Period is half-open [start, end); empty tuples mean "all".

    Which instant places a row in the period is the metric's (metrics.md): ticket creation for FRT and
    first-response SLA, last resolution for resolution time, resolution SLA and FCR, request for conversation
    outcomes and wait time.
    """

    start: datetime | None = None
    end: datetime | None = None
    inbox_ids: tuple[int, ...] = ()
    channel_kinds: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    operator_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Source:
    """Where each dimension lives on one queried model."""

    inbox: str
    channel_kind: str
    team: str
    operator: str


# Tickets created in the period (FRT, first-response SLA, counts) count for their first responder; tickets
# resolved (resolution time, resolution SLA, FCR) for who resolved them last (metrics.md, attribution).
TICKET_CREATED = Source(inbox="inbox_id", channel_kind="channel_kind", team="team_id", operator="first_responder_id")
TICKET_RESOLVED = Source(inbox="inbox_id", channel_kind="channel_kind", team="team_id", operator="resolved_by_id")
CONVERSATION = Source(inbox="inbox_id", channel_kind="channel_kind", team="team_id", operator="assignee_id")
MESSAGE = Source(
    inbox="conversation__inbox_id",
    channel_kind="conversation__channel_kind",
    team="conversation__team_id",
    operator="author_id",
)


def apply_filter(queryset: QuerySet, filters: MetricFilter, source: Source, period_field: str) -> QuerySet:
    q = Q()
    if filters.start is not None:
        q &= Q(**{f"{period_field}__gte": filters.start})
    if filters.end is not None:
        q &= Q(**{f"{period_field}__lt": filters.end})
    if filters.inbox_ids:
        q &= Q(**{f"{source.inbox}__in": filters.inbox_ids})
    if filters.channel_kinds:
        q &= Q(**{f"{source.channel_kind}__in": filters.channel_kinds})
    if filters.team_ids:
        q &= Q(**{f"{source.team}__in": filters.team_ids})
    if filters.operator_ids:
        q &= Q(**{f"{source.operator}__in": filters.operator_ids})
    return queryset.filter(q)


def breakdown_key(by: str, source: Source, period_field: str):
    """The expression rows are grouped by: an id, a channel kind, or a date (the day of the period instant in the
    current time zone, the desk's TIME_ZONE, as the report periods are)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; one of {', '.join(BREAKDOWNS)}")
    if by == "day":
        return TruncDate(period_field)
    if by == "channel_kind":
        return F(source.channel_kind)
    # "+ 0": grouping on the bare foreign key lets PostgreSQL walk its index for presorted groups, a random heap
    # read per row (seconds at a million rows); on an expression it scans the period and sorts in memory.
    return ExpressionWrapper(F(getattr(source, by)) + 0, output_field=BigIntegerField())


def breakdown_labels(*, by: str, keys) -> dict:
    """Display names for breakdown keys: inbox / team names, operator display names, channel kind labels."""
    from chat.models import ChannelKind, Inbox, OperatorProfile, Team

    keys = [k for k in keys if k is not None]
    if by == "inbox":
        return dict(Inbox.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "operator":
        return dict(OperatorProfile.objects.filter(user_id__in=keys).values_list("user_id", "display_name"))
    if by == "channel_kind":
        return {k: str(ChannelKind(k).label) for k in keys if k in ChannelKind.values}
    if by == "day":
        return {k: k.isoformat() if isinstance(k, date) else str(k) for k in keys}
    raise ValueError(f"unknown breakdown {by!r}")
