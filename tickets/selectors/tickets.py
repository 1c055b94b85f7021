"""Ticket metrics (FRT, resolution time, SLA compliance, FCR) and the follow-up candidate."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from tickets.models import Ticket
from tickets.selectors.batch import ordered_keys, part_view, ticket_created_metrics, ticket_resolved_metrics
from tickets.selectors.filters import MetricFilter


def first_response_time(*, filters: MetricFilter, by: str | None = None):
    """FRT of tickets created in the period that have a first public human reply."""
    return part_view(ticket_created_metrics(filters=filters, by=by), "frt", by, measured=True)


def resolution_time(*, filters: MetricFilter, by: str | None = None):
    """Resolution time of tickets whose last resolution is in the period, once per ticket.

    A reopened ticket that is open again is not resolved: it counts when it is resolved again.
    """
    return part_view(ticket_resolved_metrics(filters=filters, by=by), "resolution", by, measured=True)


def sla_compliance(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None):
    """Share of tickets whose first response (resp. resolution) came by its due time.

    First response: tickets created in the period whose outcome is known — answered, or unanswered past due
    (a breach). Resolution: tickets whose last resolution is in the period. Tickets without a due time (an
    inbox that never opens) are left out.
    """
    created = ticket_created_metrics(filters=filters, by=by, now=now)
    resolved = ticket_resolved_metrics(filters=filters, by=by, now=now)
    if by is None:
        return {"first_response": created[None]["sla_first_response"], "resolution": resolved[None]["sla_resolution"]}
    empty = {"total": 0, "met": 0, "rate": None}
    return [
        {
            "key": key,
            "first_response": created[key]["sla_first_response"] if key in created else empty,
            "resolution": resolved[key]["sla_resolution"] if key in resolved else empty,
        }
        for key in ordered_keys(set(created) | set(resolved))
    ]


def fcr(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None):
    """First contact resolution of tickets whose last resolution is in the period (metrics.md rules 1–3).

    Rule 1: at most one conversation (an offline message or e-mail ticket with none is one contact).
    Rule 2: no reopen within the FCR window after a resolution (min_reopen_gap_seconds).
    Rule 3: the same contact opened no ticket on the same inbox within the window after the last resolution
    (next_ticket_at). Tickets whose window has not closed by `now` are counted apart as awaiting_window.
    """
    return part_view(ticket_resolved_metrics(filters=filters, by=by, now=now), "fcr", by)


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
    return part_view(ticket_created_metrics(filters=filters, by=by), "counts", by)
