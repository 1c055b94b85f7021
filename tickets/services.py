"""Ticket writes. Each runs inside the caller's transaction (or its own) and writes its reporting event."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.models import ChannelKind
from tickets.business_hours import schedule_for
from tickets.models import ReportingEvent, SlaTarget, Ticket

LIVE_KINDS = {ChannelKind.WEB_WIDGET, ChannelKind.API}


def sla_targets_for(*, inbox, channel_kind: str) -> tuple[float, float]:
    """(first response, resolution) targets in business seconds for an inbox and channel kind."""
    target = SlaTarget.objects.filter(inbox=inbox, channel_kind=channel_kind).first()
    if target is not None:
        return float(target.first_response_seconds), float(target.resolution_seconds)
    if channel_kind in LIVE_KINDS:
        return settings.SLA_CHAT_FIRST_RESPONSE_SECONDS, settings.SLA_CHAT_RESOLUTION_SECONDS
    return settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS, settings.SLA_OFFLINE_RESOLUTION_SECONDS


def reporting_event_record(
    *,
    name: str,
    inbox,
    channel_kind: str,
    start: datetime,
    end: datetime,
    ticket: Ticket | None = None,
    conversation=None,
    operator=None,
    team=None,
) -> ReportingEvent:
    end = max(end, start)
    schedule = schedule_for(inbox)
    wall = (end - start).total_seconds()
    business = min(schedule.business_seconds(start, end), wall)
    return ReportingEvent.objects.create(
        name=name,
        inbox=inbox,
        channel_kind=channel_kind,
        ticket=ticket,
        conversation=conversation,
        operator=operator,
        team=team,
        event_start=start,
        event_end=end,
        value_seconds=wall,
        value_business_seconds=business,
    )


@transaction.atomic
def ticket_create(
    *, inbox, contact, channel_kind: str, subject: str = "", at: datetime | None = None, team=None
) -> Ticket:
    at = at or timezone.now()
    schedule = schedule_for(inbox)
    first_response_target, resolution_target = sla_targets_for(inbox=inbox, channel_kind=channel_kind)
    ticket = Ticket.objects.create(
        inbox=inbox,
        contact=contact,
        channel_kind=channel_kind,
        subject=subject[:200],
        team=team or inbox.team,
        created_at=at,
        first_response_due_at=schedule.add_business_seconds(at, first_response_target),
        resolution_due_at=schedule.add_business_seconds(at, resolution_target),
    )
    reporting_event_record(
        name=ReportingEvent.Name.TICKET_CREATED,
        inbox=inbox,
        channel_kind=channel_kind,
        start=at,
        end=at,
        ticket=ticket,
        team=ticket.team,
    )
    return ticket


def ticket_attach_conversation(*, ticket: Ticket, conversation) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(conversation_count=ticket.conversation_count + 1)
    ticket.conversation_count += 1
    conversation.ticket = ticket
    conversation.save(update_fields=["ticket", "updated_at"])


def ticket_record_first_response(*, ticket: Ticket, at: datetime, operator, conversation=None) -> bool:
    """Records the ticket's first public human reply once; False when it already had one."""
    updated = Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(first_response_at=at)
    if not updated:
        return False
    event = reporting_event_record(
        name=ReportingEvent.Name.FIRST_RESPONSE,
        inbox=ticket.inbox,
        channel_kind=ticket.channel_kind,
        start=ticket.created_at,
        end=at,
        ticket=ticket,
        conversation=conversation,
        operator=operator,
        team=ticket.team,
    )
    ticket.first_response_at = at
    ticket.first_response_seconds = event.value_seconds
    ticket.first_response_business_seconds = event.value_business_seconds
    if operator is not None and ticket.assignee_id is None:
        ticket.assignee = operator
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_seconds=event.value_seconds,
        first_response_business_seconds=event.value_business_seconds,
        assignee=ticket.assignee,
    )
    return True


def _close_pending(ticket: Ticket, at: datetime) -> None:
    if ticket.pending_since is not None:
        ticket.pending_business_seconds += schedule_for(ticket.inbox).business_seconds(ticket.pending_since, at)
        ticket.pending_since = None


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, at: datetime | None = None, operator=None, conversation=None) -> Ticket:
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Ticket.Status.RESOLVED:
        return ticket
    _close_pending(ticket, at)
    event = reporting_event_record(
        name=ReportingEvent.Name.TICKET_RESOLVED,
        inbox=ticket.inbox,
        channel_kind=ticket.channel_kind,
        start=ticket.created_at,
        end=at,
        ticket=ticket,
        conversation=conversation,
        operator=operator or ticket.assignee,
        team=ticket.team,
    )
    ticket.status = Ticket.Status.RESOLVED
    ticket.resolved_at = at
    ticket.resolution_seconds = event.value_seconds
    ticket.resolution_business_seconds = event.value_business_seconds
    ticket.save()
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, at: datetime | None = None, conversation=None) -> Ticket:
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status != Ticket.Status.RESOLVED:
        return ticket
    reporting_event_record(
        name=ReportingEvent.Name.TICKET_REOPENED,
        inbox=ticket.inbox,
        channel_kind=ticket.channel_kind,
        start=ticket.resolved_at,
        end=at,
        ticket=ticket,
        conversation=conversation,
        team=ticket.team,
    )
    ticket.status = Ticket.Status.OPEN
    ticket.reopen_count += 1
    ticket.last_reopened_at = at
    ticket.save()
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, at: datetime | None = None, operator=None) -> Ticket:
    if status not in Ticket.Status.values:
        raise ValueError(f"unknown ticket status {status!r}")
    at = at or timezone.now()
    if status == Ticket.Status.RESOLVED:
        return ticket_resolve(ticket=ticket, at=at, operator=operator)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Ticket.Status.RESOLVED:
        ticket = ticket_reopen(ticket=ticket, at=at)
    if status == Ticket.Status.PENDING and ticket.pending_since is None:
        ticket.pending_since = at
    elif status == Ticket.Status.OPEN:
        _close_pending(ticket, at)
    ticket.status = status
    ticket.save()
    return ticket


def ticket_set_priority(*, ticket: Ticket, priority: str) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ValueError(f"unknown ticket priority {priority!r}")
    ticket.priority = priority
    ticket.save(update_fields=["priority", "updated_at"])
    return ticket
