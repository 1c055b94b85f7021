"""Ticket metrics (FRT, resolution time, SLA compliance, FCR) and the follow-up candidate."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from tickets.models import Ticket
from tickets.selectors.filters import KEY_ORDER, TICKET, MetricFilter, apply_filter, breakdown_key
from tickets.selectors.stats import ratio, timing_stats


def _tickets(filters: MetricFilter, period_field: str):
    return apply_filter(Ticket.objects.all(), filters, TICKET, period_field)


def _one_or_rows(rows: list[dict], by: str | None):
    if by is None:
        row = rows[0]
        row.pop("key", None)
        return row
    return rows


def first_response_time(*, filters: MetricFilter, by: str | None = None):
    """FRT of tickets created in the period that have a first public human reply."""
    qs = _tickets(filters, "created_at")
    rows = timing_stats(
        qs,
        {"wall": F("first_response_seconds"), "business": F("first_response_business_seconds")},
        breakdown_key(by, TICKET, "created_at") if by else None,
    )
    return _one_or_rows(rows, by)


def resolution_time(*, filters: MetricFilter, by: str | None = None):
    """Resolution time of tickets whose last resolution is in the period, once per ticket.

    A reopened ticket that is open again is not resolved: it counts when it is resolved again.
    """
    qs = _tickets(filters, "resolved_at").filter(status=Ticket.Status.RESOLVED)
    rows = timing_stats(
        qs,
        {"wall": F("resolution_seconds"), "business": F("resolution_business_seconds")},
        breakdown_key(by, TICKET, "resolved_at") if by else None,
    )
    return _one_or_rows(rows, by)


def _share_rows(qs, total_q: Q, met_q: Q, key) -> dict:
    aggregates = {"total": Count("pk", filter=total_q), "met": Count("pk", filter=total_q & met_q)}
    if key is None:
        rows = [{"_key": None, **qs.aggregate(**aggregates)}]
    else:
        rows = qs.annotate(_key=key).values("_key").annotate(**aggregates).order_by(KEY_ORDER)
    return {
        row["_key"]: {"total": row["total"], "met": row["met"], "rate": ratio(row["met"], row["total"])} for row in rows
    }


def sla_compliance(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None):
    """Share of tickets whose first response (resp. resolution) came by its due time.

    First response: tickets created in the period whose outcome is known — answered, or unanswered past due
    (a breach). Resolution: tickets whose last resolution is in the period. Tickets without a due time (an
    inbox that never opens) are left out.
    """
    now = now or timezone.now()
    created = _tickets(filters, "created_at").filter(first_response_due_at__isnull=False)
    first = _share_rows(
        created,
        Q(first_response_at__isnull=False) | Q(first_response_due_at__lte=now),
        Q(first_response_at__lte=F("first_response_due_at")),
        breakdown_key(by, TICKET, "created_at") if by else None,
    )
    resolved = _tickets(filters, "resolved_at").filter(status=Ticket.Status.RESOLVED, resolution_due_at__isnull=False)
    second = _share_rows(
        resolved,
        Q(),
        Q(resolved_at__lte=F("resolution_due_at")),
        breakdown_key(by, TICKET, "resolved_at") if by else None,
    )
    empty = {"total": 0, "met": 0, "rate": None}
    keys = sorted(set(first) | set(second), key=lambda k: (k is None, k))
    rows = [{"key": k, "first_response": first.get(k, empty), "resolution": second.get(k, empty)} for k in keys]
    if by is None:
        return {"first_response": first[None], "resolution": second[None]}
    return rows


def fcr(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None):
    """First contact resolution of tickets whose last resolution is in the period (metrics.md rules 1–3).

    Rule 1: at most one conversation (an offline message or e-mail ticket with none is one contact).
    Rule 2: no reopen within the FCR window after a resolution (min_reopen_gap_seconds).
    Rule 3: the same contact opened no ticket on the same inbox within the window after the last resolution
    (next_ticket_at). Tickets whose window has not closed by `now` are counted apart as awaiting_window.
    """
    now = now or timezone.now()
    window = timedelta(seconds=settings.FCR_WINDOW_SECONDS)
    qs = _tickets(filters, "resolved_at").filter(status=Ticket.Status.RESOLVED)
    closed = Q(resolved_at__lte=now - window)
    first_contact = (
        Q(conversation_count__lte=1)
        & (Q(min_reopen_gap_seconds__isnull=True) | Q(min_reopen_gap_seconds__gt=window.total_seconds()))
        & (
            Q(next_ticket_at__isnull=True)
            | Q(next_ticket_at__lte=F("resolved_at"))
            | Q(next_ticket_at__gt=F("resolved_at") + window)
        )
    )
    aggregates = {
        "resolved": Count("pk"),
        "eligible": Count("pk", filter=closed),
        "first_contact_resolved": Count("pk", filter=closed & first_contact),
    }
    if by is None:
        rows = [{"_key": None, **qs.aggregate(**aggregates)}]
    else:
        rows = (
            qs.annotate(_key=breakdown_key(by, TICKET, "resolved_at"))
            .values("_key")
            .annotate(**aggregates)
            .order_by(KEY_ORDER)
        )
    out = []
    for row in rows:
        out.append(
            {
                "key": row["_key"],
                "resolved": row["resolved"],
                "eligible": row["eligible"],
                "awaiting_window": row["resolved"] - row["eligible"],
                "first_contact_resolved": row["first_contact_resolved"],
                "rate": ratio(row["first_contact_resolved"], row["eligible"]),
            }
        )
    return _one_or_rows(out, by)


def followup_candidate(*, conversation) -> Ticket | None:
    """The contact's earlier ticket that a new conversation may be the same issue as, or None.

    That is the contact's latest other ticket on the inbox if it is still open or pending, or was resolved
    no longer than the FCR window before the conversation was requested.
    """
    window = timedelta(seconds=settings.FCR_WINDOW_SECONDS)
    latest = (
        Ticket.objects.filter(
            contact_id=conversation.contact_id,
            inbox_id=conversation.inbox_id,
            created_at__lte=conversation.requested_at,
        )
        .exclude(pk=conversation.ticket_id)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None:
        return None
    if latest.status != Ticket.Status.RESOLVED:
        return latest
    if latest.resolved_at >= conversation.requested_at - window:
        return latest
    return None


def ticket_counts(*, filters: MetricFilter, by: str | None = None):
    """Tickets created in the period by outcome: created, open, pending, resolved, reopened (at least once)."""
    qs = _tickets(filters, "created_at")
    aggregates = {
        "created": Count("pk"),
        "open": Count("pk", filter=Q(status=Ticket.Status.OPEN)),
        "pending": Count("pk", filter=Q(status=Ticket.Status.PENDING)),
        "resolved": Count("pk", filter=Q(status=Ticket.Status.RESOLVED)),
        "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
    }
    if by is None:
        return qs.aggregate(**aggregates)
    rows = (
        qs.annotate(_key=breakdown_key(by, TICKET, "created_at"))
        .values("_key")
        .annotate(**aggregates)
        .order_by(KEY_ORDER)
    )
    return [{"key": row.pop("_key"), **row} for row in rows]
