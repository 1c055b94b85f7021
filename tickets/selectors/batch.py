"""Every figure of one source in one query, per breakdown key: what a dashboard reads.

The single-metric selectors (first_response_time, sla_compliance, …) are thin views of these rows (part_view),
so each figure is defined once. One query per source and breakdown instead of one per metric: the period's rows are
read once for all the figures they carry.

    ticket_created_metrics(filters, by, now)   tickets created in the period: FRT, first-response SLA, counts
    ticket_resolved_metrics(filters, by, now)  tickets whose last resolution is in the period: resolution time,
                                               resolution SLA, FCR
    conversation_metrics(filters, by, wait)    live conversations requested in the period: outcomes, wait time,
                                               canned reply share (from the conversation's message counters)

Each returns {key: {part: shape}} (key None when `by` is None; always holds None for an empty selection).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Case, Count, F, FloatField, Q, Sum, When
from django.utils import timezone

from tickets.models import Ticket
from tickets.selectors.filters import (
    CONVERSATION,
    TICKET_CREATED,
    TICKET_RESOLVED,
    MetricFilter,
    Source,
    apply_filter,
    breakdown_key,
)
from tickets.selectors.stats import PERCENTILES, PercentilesCont, SecondsBetween, percentile_cont, ratio

EMPTY_STATS = {"mean": None, "median": None, "p90": None}


def _grouped(qs, aggregates: dict, by: str | None, source: Source, period_field: str) -> list[dict]:
    if by is None:
        return [{"_key": None, **qs.aggregate(**aggregates)}]
    key = breakdown_key(by, source, period_field)
    return list(qs.annotate(_key=key).values("_key").annotate(**aggregates).order_by())


def _stats_aggregates(name: str, value, only: Q) -> dict:
    """Count, mean and (PostgreSQL) median + p90 of `value` over the rows matching `only`."""
    aggregates = {
        f"_n_{name}": Count(value, filter=only),
        f"_mean_{name}": Avg(value, filter=only, output_field=FloatField()),
    }
    if connection.vendor == "postgresql":
        aggregates[f"_pct_{name}"] = PercentilesCont(value, tuple(PERCENTILES.values()), filter=only)
    return aggregates


def _python_percentiles(qs, name: str, value, only: Q, by, source, period_field) -> dict:
    """SQLite: the values of one measure, ordered, fetched once and interpolated as percentile_cont does."""
    qs = qs.filter(only).annotate(_v=value).filter(_v__isnull=False)
    groups: dict[object, list[float]] = defaultdict(list)
    if by is None:
        groups[None] = list(qs.order_by("_v").values_list("_v", flat=True))
    else:
        rows = (
            qs.annotate(_key=breakdown_key(by, source, period_field)).order_by("_key", "_v").values_list("_key", "_v")
        )
        for key, v in rows:
            groups[key].append(v)
    return {
        key: {label: percentile_cont(values, f) for label, f in PERCENTILES.items()} for key, values in groups.items()
    }


def _stats(row: dict, name: str, python: dict | None) -> dict:
    if row.get(f"_n_{name}", 0) == 0:
        return dict(EMPTY_STATS)
    stats = {"mean": row[f"_mean_{name}"]}
    if python is None:
        values = row.get(f"_pct_{name}") or [None] * len(PERCENTILES)
        stats.update(dict(zip(PERCENTILES, values, strict=True)))
    else:
        stats.update(python.get(row["_key"], EMPTY_STATS))
    return stats


def _timed(qs, aggregates: dict, measures: dict, by, source, period_field) -> list[tuple[dict, dict]]:
    """Rows of `aggregates` plus the stats of each measure (name -> (value, only)), as (row, {name: stats})."""
    for name, (value, only) in measures.items():
        aggregates.update(_stats_aggregates(name, value, only))
    rows = _grouped(qs, aggregates, by, source, period_field)
    python = {}
    if connection.vendor != "postgresql":
        python = {
            name: _python_percentiles(qs, name, value, only, by, source, period_field)
            for name, (value, only) in measures.items()
        }
    return [(row, {name: _stats(row, name, python.get(name)) for name in measures}) for row in rows]


# Counted on columns that are never NULL and are in the covering indexes (COUNT(*) takes no FILTER in Django).
def _tickets(filters: MetricFilter, source: Source, period_field: str):
    return apply_filter(Ticket.objects.all(), filters, source, period_field)


def ticket_created_metrics(
    *, filters: MetricFilter, by: str | None = None, now: datetime | None = None, business: bool = True
) -> dict:
    """{key: {"frt": {"count", "wall", "business"}, "sla_first_response": Share, "counts": {...}}}.

    business=False leaves the business-time FRT out (its median needs a sort; the per-day chart shows wall time).
    """
    now = now or timezone.now()
    answered = Q(first_response_seconds__isnull=False)
    has_due = Q(first_response_due_at__isnull=False)
    known = has_due & (Q(first_response_at__isnull=False) | Q(first_response_due_at__lte=now))
    aggregates = {
        "created": Count("*"),
        "open": Count("created_at", filter=Q(status=Ticket.Status.OPEN)),
        "pending": Count("created_at", filter=Q(status=Ticket.Status.PENDING)),
        "resolved": Count("created_at", filter=Q(status=Ticket.Status.RESOLVED)),
        "reopened": Count("created_at", filter=Q(reopen_count__gt=0)),
        "sla_total": Count("created_at", filter=known),
        "sla_met": Count("created_at", filter=known & Q(first_response_at__lte=F("first_response_due_at"))),
    }
    measures = {"wall": (F("first_response_seconds"), answered)}
    if business:
        measures["business"] = (F("first_response_business_seconds"), answered)
    out = {}
    created = _tickets(filters, TICKET_CREATED, "created_at")
    for row, stats in _timed(created, aggregates, measures, by, TICKET_CREATED, "created_at"):
        out[row["_key"]] = {
            "frt": {"count": row["_n_wall"] or 0, "business": dict(EMPTY_STATS), **stats},
            "sla_first_response": _share(row["sla_total"], row["sla_met"]),
            "counts": {k: row[k] or 0 for k in ("created", "open", "pending", "resolved", "reopened")},
        }
    return out


def first_contact_q(window: timedelta) -> Q:
    """FCR rules 1–3 (tickets.selectors.tickets.fcr) of a resolved ticket, whether or not its window has closed."""
    return (
        Q(conversation_count__lte=1)
        & (Q(min_reopen_gap_seconds__isnull=True) | Q(min_reopen_gap_seconds__gt=window.total_seconds()))
        & (
            Q(next_ticket_at__isnull=True)
            | Q(next_ticket_at__lte=F("resolved_at"))
            | Q(next_ticket_at__gt=F("resolved_at") + window)
        )
    )


def ticket_resolved_metrics(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None) -> dict:
    """{key: {"resolution": {"count", "wall", "business"}, "sla_resolution": Share, "fcr": {...}}}.

    Tickets whose last resolution is in the period, once per ticket (a reopened ticket that is open again
    counts when it is resolved again). FCR rules: see tickets.selectors.tickets.fcr.
    """
    now = now or timezone.now()
    window = timedelta(seconds=settings.FCR_WINDOW_SECONDS)
    closed = Q(resolved_at__lte=now - window)
    first_contact = first_contact_q(window)
    has_due = Q(resolution_due_at__isnull=False)
    aggregates = {
        "resolved": Count("*"),
        "eligible": Count("resolved_at", filter=closed),
        "first_contact_resolved": Count("resolved_at", filter=closed & first_contact),
        "sla_total": Count("resolved_at", filter=has_due),
        "sla_met": Count("resolved_at", filter=has_due & Q(resolved_at__lte=F("resolution_due_at"))),
    }
    measured = Q(resolution_seconds__isnull=False)
    measures = {"wall": (F("resolution_seconds"), measured), "business": (F("resolution_business_seconds"), measured)}
    qs = _tickets(filters, TICKET_RESOLVED, "resolved_at").filter(status=Ticket.Status.RESOLVED)
    out = {}
    for row, stats in _timed(qs, aggregates, measures, by, TICKET_RESOLVED, "resolved_at"):
        out[row["_key"]] = {
            "resolution": {"count": row["_n_wall"] or 0, **stats},
            "sla_resolution": _share(row["sla_total"], row["sla_met"]),
            "fcr": {
                "resolved": row["resolved"],
                "eligible": row["eligible"],
                "awaiting_window": row["resolved"] - row["eligible"],
                "first_contact_resolved": row["first_contact_resolved"],
                "rate": ratio(row["first_contact_resolved"], row["eligible"]),
            },
        }
    return out


def conversation_metrics(*, filters: MetricFilter, by: str | None = None, wait: bool = True) -> dict:
    """{key: {"outcomes": {...}, "wait": {"count", "wall"}, "canned": {...}}} of live conversations requested
    in the period.

    wait=False leaves the wait time out (its median needs a sort; the per-day chart does not show it).
    "canned" counts the public operator messages of these conversations, whoever wrote them: per operator (the
    message's author) or for selected operators, read canned_reply_share instead.
    """
    from tickets.selectors.conversations import ABANDONED, departure, live_conversations, outcome_aggregates

    answered = Q(first_response_at__isnull=False)
    abandoned = Q(end_reason=ABANDONED)
    aggregates = {
        **outcome_aggregates(),
        "operator_messages": Sum("operator_message_count"),
        "canned_messages": Sum("canned_message_count"),
    }
    measures = {}
    if wait:
        waited_until = Case(When(answered, then=F("first_response_at")), When(abandoned, then=departure()))
        measures["wall"] = (SecondsBetween(waited_until, F("requested_at")), answered | abandoned)
    qs = live_conversations(filters)
    out = {}
    for row, stats in _timed(qs, aggregates, measures, by, CONVERSATION, "requested_at"):
        out[row["_key"]] = _conversation_parts(row, stats)
    if by == "operator":
        _transferred_away(out, filters)
    return out


def _conversation_parts(row: dict, stats: dict) -> dict:
    from tickets.selectors.conversations import outcome_figures

    return {
        "outcomes": outcome_figures(row),
        "wait": {"count": row.get("_n_wall") or 0, "wall": stats.get("wall", dict(EMPTY_STATS))},
        "canned": {
            "operator_messages": row["operator_messages"] or 0,
            "canned_messages": row["canned_messages"] or 0,
            "share": ratio(row["canned_messages"] or 0, row["operator_messages"] or 0),
        },
    }


def _transferred_away(out: dict, filters: MetricFilter) -> None:
    """Per operator, `transferred` is what the operator transferred away (metrics.md: transfer rate per operator =
    conversations the operator transferred away ÷ conversations the operator answered), whoever holds them now:
    the conversations of the period and selection but the operator's, each counted once per operator who handed
    it on (the conversation_transferred events carry who did)."""
    from tickets.models import ReportingEvent
    from tickets.selectors.conversations import live_conversations

    conversations = live_conversations(replace(filters, operator_ids=()))
    events = ReportingEvent.objects.filter(
        name=ReportingEvent.Name.CONVERSATION_TRANSFERRED,
        conversation_id__in=conversations.values("pk"),
        operator_id__isnull=False,
    )
    if filters.operator_ids:
        events = events.filter(operator_id__in=filters.operator_ids)
    away = dict(
        events.values("operator_id")
        .annotate(n=Count("conversation_id", distinct=True))
        .order_by()
        .values_list("operator_id", "n")
    )
    zero = {name: 0 for name in ("requested", "answered", "abandoned", "missed", "transferred")}
    for operator_id in away.keys() - out.keys():
        empty = {**zero, "mean_wait_before_abandonment": None, "operator_messages": 0, "canned_messages": 0}
        out[operator_id] = _conversation_parts(empty, {})
    for key, parts in out.items():
        outcomes = parts["outcomes"]
        outcomes["transferred"] = away.get(key, 0) if key is not None else 0
        outcomes["transfer_rate"] = ratio(outcomes["transferred"], outcomes["answered"])


def _share(total: int, met: int) -> dict:
    return {"total": total, "met": met, "rate": ratio(met, total)}


def ordered_keys(keys) -> list:
    """Breakdown keys in the selectors' order: by key, the None group last."""
    return sorted(keys, key=lambda k: (k is None, k if k is not None else 0))


def part_view(rows: dict, part: str, by: str | None, *, measured: bool = False):
    """One part of a batch reader's rows: one dict when `by` is None, else rows with "key", ordered by key.

    measured: per key, only the keys with something measured (a timing has no row for a key with no value).
    """
    if by is None:
        return rows[None][part]
    return [{"key": key, **rows[key][part]} for key in ordered_keys(rows) if not measured or rows[key][part]["count"]]
