"""Ticket and live chat metrics, exactly as /shared/design/metrics.md defines them, aggregated in the database.

Every metric selector takes keyword arguments `filters: MetricFilter` and `by: str | None = None`:

    MetricFilter(start=None, end=None, inbox_ids=(), channel_kinds=(), team_ids=(), operator_ids=())
        period [start, end) of aware datetimes; empty tuples select all. team = the ticket's / conversation's
        team; operator = for tickets created in the period (FRT, first-response SLA, counts) the ticket's first
        responder, for tickets resolved in it (resolution, resolution SLA, FCR) who resolved it last; the
        conversation's assignee (who held it when it ended); a message's author.
    by: None, or one of BREAKDOWNS = ("inbox", "channel_kind", "team", "operator", "day").
        None  -> one dict (the shape below, without "key").
        "..." -> a list of those dicts, each with "key" (inbox / team / operator user id, channel kind value,
                 or datetime.date of the day in TIME_ZONE), ordered by key; a key may be None (no team, no operator).
        breakdown_labels(by=..., keys=[...]) -> {key: display name}.

Shapes (times in seconds, floats; figures are None — never 0 — when there is nothing to measure):

    Stats = {"mean": float|None, "median": float|None, "p90": float|None}

    first_response_time(filters, by)  -> {"count": int, "wall": Stats, "business": Stats}
        tickets created in the period that got a first public human reply.
    resolution_time(filters, by)      -> {"count": int, "wall": Stats, "business": Stats}
        resolved tickets whose last resolution is in the period, once per ticket.
    wait_time(filters, by)            -> {"count": int, "wall": Stats}
        live conversations requested in the period: first reply (or abandonment) − requested.
    sla_compliance(filters, by, now=None)
        -> {"first_response": Share, "resolution": Share}, Share = {"total": int, "met": int, "rate": float|None}
        first response: tickets created in the period, answered or unanswered past due;
        resolution: tickets whose last resolution is in the period (pending time does not count).
    fcr(filters, by, now=None)
        -> {"resolved": int, "eligible": int, "awaiting_window": int, "first_contact_resolved": int,
            "rate": float|None}   rate = first_contact_resolved ÷ eligible (window closed).
    conversation_outcomes(filters, by)
        -> {"requested", "answered", "abandoned", "missed", "transferred": int,
            "abandonment_rate": float|None, "mean_wait_before_abandonment": float|None,
            "transfer_rate": float|None}      live conversations requested in the period.
    canned_reply_share(filters, by)
        -> {"operator_messages": int, "canned_messages": int, "share": float|None}
    ticket_counts(filters, by)
        -> {"created", "open", "pending", "resolved", "reopened": int}   tickets created in the period.

Batch readers (every figure of one source in one query, per key; what the reports dashboard reads):
    ticket_created_metrics(filters, by, now) -> {key: {"frt", "sla_first_response", "counts"}}
    ticket_resolved_metrics(filters, by, now) -> {key: {"resolution", "sla_resolution", "fcr"}}
    conversation_metrics(filters, by, wait=True) -> {key: {"outcomes", "wait"}}
    (the same shapes as the single-metric selectors above; see tickets/selectors/batch.py)

Rates are shares in 0..1 (multiply by 100 to show a percentage).

    with report_session(): ...   optional, around a whole dashboard: one snapshot; on PostgreSQL more work_mem
                                 for the percentile sorts and no JIT (see bench/tickets_metrics.py).

Other readers:
    followup_candidate(*, conversation) -> Ticket | None
        the contact's earlier ticket the operator may mark the conversation as a follow-up of.
"""

from tickets.selectors.batch import conversation_metrics, ticket_created_metrics, ticket_resolved_metrics
from tickets.selectors.conversations import canned_reply_share, conversation_outcomes, wait_time
from tickets.selectors.filters import BREAKDOWNS, MetricFilter, breakdown_labels
from tickets.selectors.stats import percentile_cont, report_session
from tickets.selectors.tickets import (
    fcr,
    first_response_time,
    followup_candidate,
    resolution_time,
    sla_compliance,
    ticket_counts,
)

__all__ = [
    "BREAKDOWNS",
    "MetricFilter",
    "breakdown_labels",
    "canned_reply_share",
    "conversation_metrics",
    "conversation_outcomes",
    "fcr",
    "first_response_time",
    "followup_candidate",
    "percentile_cont",
    "report_session",
    "resolution_time",
    "sla_compliance",
    "ticket_counts",
    "ticket_created_metrics",
    "ticket_resolved_metrics",
    "wait_time",
]
