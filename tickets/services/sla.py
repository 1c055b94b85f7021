"""SLA targets, due and at-risk instants in business time, and the beat sweep that flags and alerts once."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat import realtime
from tickets.business_hours import Schedule
from tickets.models import SlaTarget, Ticket
from tickets.selectors.conversations import LIVE_KINDS

SLA_ALERT = realtime.SLA_ALERT


def sla_targets_for(*, inbox, channel_kind: str) -> tuple[float, float]:
    """(first response, resolution) targets in business seconds for an inbox and channel kind."""
    target = SlaTarget.objects.filter(inbox=inbox, channel_kind=channel_kind).first()
    if target is not None:
        return float(target.first_response_seconds), float(target.resolution_seconds)
    if channel_kind in LIVE_KINDS:
        return settings.SLA_CHAT_FIRST_RESPONSE_SECONDS, settings.SLA_CHAT_RESOLUTION_SECONDS
    return settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS, settings.SLA_OFFLINE_RESOLUTION_SECONDS


def _add_business(schedule: Schedule, start: datetime, seconds: float) -> datetime | None:
    try:
        return schedule.add_business_seconds(start, seconds)
    except ValueError:
        # A schedule that never opens has no due time: nothing to breach.
        return None


def apply_first_response_targets(ticket: Ticket, schedule: Schedule) -> None:
    first_response_target, _ = sla_targets_for(inbox=ticket.inbox, channel_kind=ticket.channel_kind)
    ticket.first_response_due_at = _add_business(schedule, ticket.created_at, first_response_target)
    ticket.first_response_at_risk_at = _add_business(
        schedule, ticket.created_at, first_response_target * settings.SLA_AT_RISK_RATIO
    )


def apply_resolution_targets(ticket: Ticket, schedule: Schedule) -> None:
    """Resolution due and at-risk instants: the target plus the time the clock was stopped, in business time."""
    _, resolution_target = sla_targets_for(inbox=ticket.inbox, channel_kind=ticket.channel_kind)
    paused = ticket.pending_business_seconds
    ticket.resolution_due_at = _add_business(schedule, ticket.created_at, resolution_target + paused)
    ticket.resolution_at_risk_at = _add_business(
        schedule, ticket.created_at, resolution_target * settings.SLA_AT_RISK_RATIO + paused
    )


def _sla_alert(ticket: Ticket, target: str, state: str, due_at: datetime) -> None:
    conversation_id = ticket.conversations.order_by("-requested_at", "-pk").values_list("pk", flat=True).first()
    realtime.send_to_inbox_operators(
        ticket.inbox_id,
        {
            "type": SLA_ALERT,
            "ticket_id": ticket.pk,
            "conversation_id": conversation_id,
            "target": target,
            "state": state,
            "due_at": due_at.isoformat(),
        },
    )


def _raise_flags(queryset, target: str, state: str, flags: dict[str, bool], due_field: str) -> int:
    raised = 0
    # Earliest due first: an alert storm starts with the tickets that waited longest.
    for ticket in queryset.order_by(due_field, "pk").only("pk", "inbox", "first_response_due_at", "resolution_due_at"):
        with transaction.atomic():
            # Conditional UPDATE re-checking every condition: of two sweeps racing, or a sweep and a reply, only
            # one sees the row change, and only the sweep that changed it alerts.
            if not queryset.filter(pk=ticket.pk).update(**flags, updated_at=timezone.now()):
                continue
            _sla_alert(ticket, target, state, getattr(ticket, due_field))
            raised += 1
    return raised


def sla_sweep(*, now: datetime | None = None) -> int:
    """Flags tickets at risk and breached, each once, and alerts the inbox's operators. Returns alerts sent.

    First response: tickets with no first response yet (open or pending). Resolution: open tickets only —
    a pending ticket's clock is stopped and a resolved one is done. A ticket found past its due time is
    flagged at risk too, so that it never gets a late at-risk alert after its breach alert.
    """
    now = now or timezone.now()
    unanswered = Ticket.objects.filter(first_response_at__isnull=True).exclude(status=Ticket.Status.RESOLVED)
    running = Ticket.objects.filter(status=Ticket.Status.OPEN)
    raised = _raise_flags(
        unanswered.filter(first_response_breached=False, first_response_due_at__lte=now),
        "first_response",
        "breached",
        {"first_response_breached": True, "first_response_at_risk": True},
        "first_response_due_at",
    )
    raised += _raise_flags(
        unanswered.filter(first_response_at_risk=False, first_response_at_risk_at__lte=now),
        "first_response",
        "at_risk",
        {"first_response_at_risk": True},
        "first_response_due_at",
    )
    raised += _raise_flags(
        running.filter(resolution_breached=False, resolution_due_at__lte=now),
        "resolution",
        "breached",
        {"resolution_breached": True, "resolution_at_risk": True},
        "resolution_due_at",
    )
    raised += _raise_flags(
        running.filter(resolution_at_risk=False, resolution_at_risk_at__lte=now),
        "resolution",
        "at_risk",
        {"resolution_at_risk": True},
        "resolution_due_at",
    )
    return raised
