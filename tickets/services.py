"""Ticket writes. Each runs in one transaction (the caller's, or its own), writes its reporting event, and
sends realtime events only through chat.realtime, on commit.

Locks: a service that changes a ticket takes its row lock (select_for_update) first; services that lock
two tickets lock them in ascending id order.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chat import realtime
from chat.models import ChannelKind
from tickets.business_hours import Schedule, schedule_for
from tickets.models import ReportingEvent, SlaTarget, Ticket

LIVE_KINDS = {ChannelKind.WEB_WIDGET, ChannelKind.API}

TICKET_UPDATED = "ticket.updated"
SLA_ALERT = "sla.alert"


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
    schedule: Schedule | None = None,
) -> ReportingEvent:
    """Appends one event, its value in wall and in business seconds of the inbox's schedule."""
    end = max(end, start)
    schedule = schedule or schedule_for(inbox)
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


def _add_business(schedule: Schedule, start: datetime, seconds: float) -> datetime | None:
    try:
        return schedule.add_business_seconds(start, seconds)
    except ValueError:
        # A schedule that never opens has no due time: nothing to breach.
        return None


def _set_resolution_due(ticket: Ticket, schedule: Schedule) -> None:
    """Resolution due and at-risk instants: the target plus the time the clock was stopped, in business time."""
    _, resolution_target = sla_targets_for(inbox=ticket.inbox, channel_kind=ticket.channel_kind)
    paused = ticket.pending_business_seconds
    ticket.resolution_due_at = _add_business(schedule, ticket.created_at, resolution_target + paused)
    ticket.resolution_at_risk_at = _add_business(
        schedule, ticket.created_at, resolution_target * settings.SLA_AT_RISK_RATIO + paused
    )


def ticket_payload(ticket: Ticket) -> dict:
    """The ticket object of conversation frames and of `ticket.updated`."""

    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": ticket.pk,
        "status": ticket.status,
        "priority": ticket.priority,
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "first_response_breached": ticket.first_response_breached,
        "resolution_breached": ticket.resolution_breached,
        "first_response_at_risk": ticket.first_response_at_risk,
        "resolution_at_risk": ticket.resolution_at_risk,
    }


def _announce(ticket: Ticket) -> None:
    realtime.send_to_inbox_operators(ticket.inbox_id, {"type": TICKET_UPDATED, "ticket": ticket_payload(ticket)})


@transaction.atomic
def ticket_create(
    *, inbox, contact, channel_kind: str, subject: str = "", at: datetime | None = None, team=None
) -> Ticket:
    """A new ticket (first conversation of a request, offline message, missed chat, e-mail) with its SLA times."""
    at = at or timezone.now()
    schedule = schedule_for(inbox)
    first_response_target, _ = sla_targets_for(inbox=inbox, channel_kind=channel_kind)
    ticket = Ticket(
        inbox=inbox,
        contact=contact,
        channel_kind=channel_kind,
        subject=subject[:200],
        team=team or inbox.team,
        created_at=at,
        first_response_due_at=_add_business(schedule, at, first_response_target),
        first_response_at_risk_at=_add_business(schedule, at, first_response_target * settings.SLA_AT_RISK_RATIO),
    )
    _set_resolution_due(ticket, schedule)
    ticket.save()
    # FCR rule 3: this is the contact's next ticket after the last resolution of their earlier resolved ones.
    Ticket.objects.filter(
        Q(next_ticket_at__isnull=True) | Q(next_ticket_at__lt=F("resolved_at")),
        contact=contact,
        inbox=inbox,
        status=Ticket.Status.RESOLVED,
        resolved_at__lte=at,
    ).exclude(pk=ticket.pk).update(next_ticket_at=at)
    reporting_event_record(
        name=ReportingEvent.Name.TICKET_CREATED,
        inbox=inbox,
        channel_kind=channel_kind,
        start=at,
        end=at,
        ticket=ticket,
        team=ticket.team,
        schedule=schedule,
    )
    return ticket


@transaction.atomic
def ticket_attach_conversation(*, ticket: Ticket, conversation) -> None:
    """Puts a conversation on a ticket (a contact of the issue); counted once however often it is called."""
    if conversation.ticket_id == ticket.pk:
        return
    previous_id = conversation.ticket_id
    Ticket.objects.filter(pk=ticket.pk).update(conversation_count=F("conversation_count") + 1)
    if previous_id is not None:
        Ticket.objects.filter(pk=previous_id, conversation_count__gt=0).update(
            conversation_count=F("conversation_count") - 1
        )
    ticket.conversation_count += 1
    conversation.ticket = ticket
    conversation.save(update_fields=["ticket", "updated_at"])


@transaction.atomic
def ticket_record_first_response(*, ticket: Ticket, at: datetime, operator, conversation=None) -> bool:
    """Records the ticket's first public human reply once; False when it already had one.

    The caller decides what counts (not a private note, system message, greeting or bot reply).
    """
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.first_response_at is not None:
        return False
    at = max(at, locked.created_at)
    event = reporting_event_record(
        name=ReportingEvent.Name.FIRST_RESPONSE,
        inbox=locked.inbox,
        channel_kind=locked.channel_kind,
        start=locked.created_at,
        end=at,
        ticket=locked,
        conversation=conversation,
        operator=operator,
        team=locked.team,
    )
    locked.first_response_at = at
    locked.first_response_seconds = event.value_seconds
    locked.first_response_business_seconds = event.value_business_seconds
    if locked.first_response_due_at is not None and at > locked.first_response_due_at:
        # Late, but already answered: flagged without an alert (the sweep alerts only unanswered tickets).
        locked.first_response_breached = True
    if operator is not None and locked.assignee_id is None:
        locked.assignee = operator
    locked.save(
        update_fields=[
            "first_response_at",
            "first_response_seconds",
            "first_response_business_seconds",
            "first_response_breached",
            "assignee",
            "updated_at",
        ]
    )
    for field in ("first_response_at", "first_response_seconds", "first_response_business_seconds", "assignee_id"):
        setattr(ticket, field, getattr(locked, field))
    ticket.first_response_breached = locked.first_response_breached
    return True


def _stop_pause(ticket: Ticket, at: datetime, schedule: Schedule) -> None:
    """Ends a pending stretch: its business time is added to the paused time, the resolution due time moves."""
    if ticket.pending_since is not None:
        ticket.pending_business_seconds += schedule.business_seconds(
            ticket.pending_since, max(at, ticket.pending_since)
        )
        ticket.pending_since = None
        _set_resolution_due(ticket, schedule)


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, at: datetime | None = None, operator=None, conversation=None) -> Ticket:
    """Resolves the ticket; a reopened ticket's resolution columns then hold its last resolution."""
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Ticket.Status.RESOLVED:
        return ticket
    at = max(at, ticket.created_at)
    schedule = schedule_for(ticket.inbox)
    _stop_pause(ticket, at, schedule)
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
        schedule=schedule,
    )
    ticket.status = Ticket.Status.RESOLVED
    ticket.resolved_at = at
    ticket.resolution_seconds = event.value_seconds
    ticket.resolution_business_seconds = event.value_business_seconds
    if ticket.resolution_due_at is not None and at > ticket.resolution_due_at:
        ticket.resolution_breached = True
    ticket.save()
    _announce(ticket)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, at: datetime | None = None, conversation=None) -> Ticket:
    """Reopens a resolved ticket. The time it spent resolved does not count against its resolution target."""
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status != Ticket.Status.RESOLVED:
        return ticket
    at = max(at, ticket.resolved_at)
    schedule = schedule_for(ticket.inbox)
    event = reporting_event_record(
        name=ReportingEvent.Name.TICKET_REOPENED,
        inbox=ticket.inbox,
        channel_kind=ticket.channel_kind,
        start=ticket.resolved_at,
        end=at,
        ticket=ticket,
        conversation=conversation,
        team=ticket.team,
        schedule=schedule,
    )
    ticket.pending_business_seconds += event.value_business_seconds
    if ticket.min_reopen_gap_seconds is None or event.value_seconds < ticket.min_reopen_gap_seconds:
        ticket.min_reopen_gap_seconds = event.value_seconds
    _set_resolution_due(ticket, schedule)
    ticket.status = Ticket.Status.OPEN
    ticket.reopen_count += 1
    ticket.last_reopened_at = at
    ticket.save()
    _announce(ticket)
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, at: datetime | None = None, operator=None) -> Ticket:
    """open / pending (waiting on the customer: the resolution clock stops) / resolved."""
    if status not in Ticket.Status.values:
        raise ValueError(f"unknown ticket status {status!r}")
    at = at or timezone.now()
    if status == Ticket.Status.RESOLVED:
        return ticket_resolve(ticket=ticket, at=at, operator=operator)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == status:
        return ticket
    if ticket.status == Ticket.Status.RESOLVED:
        ticket = ticket_reopen(ticket=ticket, at=at)
    schedule = schedule_for(ticket.inbox)
    if status == Ticket.Status.PENDING:
        ticket.pending_since = max(at, ticket.created_at)
    else:
        _stop_pause(ticket, at, schedule)
    ticket.status = status
    ticket.save()
    _announce(ticket)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, priority: str) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ValueError(f"unknown ticket priority {priority!r}")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.priority != priority:
        ticket.priority = priority
        ticket.save(update_fields=["priority", "updated_at"])
        _announce(ticket)
    return ticket


@transaction.atomic
def ticket_mark_followup(*, conversation, ticket: Ticket, operator) -> Ticket:
    """The operator marks a new conversation as the same issue as the contact's earlier ticket.

    The conversation moves onto that ticket (a second contact: conversation_count), which reopens when it
    was resolved. The conversation's own fresh ticket disappears with its events when no other conversation
    is on it, so that it never counts in the reports; otherwise it only loses this conversation.
    """
    from chat.models import Conversation

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    fresh_id = conversation.ticket_id
    if fresh_id == ticket.pk:
        return Ticket.objects.get(pk=ticket.pk)
    ids = sorted(pk for pk in (ticket.pk, fresh_id) if pk is not None)
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    target = locked[ticket.pk]
    if target.contact_id != conversation.contact_id or target.inbox_id != conversation.inbox_id:
        raise ValueError("a follow-up belongs to the same contact and inbox")

    now = timezone.now()
    if target.status == Ticket.Status.RESOLVED:
        target = ticket_reopen(ticket=target, at=now, conversation=conversation)
    elif target.status == Ticket.Status.PENDING:
        target = ticket_set_status(ticket=target, status=Ticket.Status.OPEN, at=now, operator=operator)

    fresh = locked.get(fresh_id)
    conversation.ticket = target
    conversation.save(update_fields=["ticket", "updated_at"])
    Ticket.objects.filter(pk=target.pk).update(conversation_count=F("conversation_count") + 1)
    # Events of this conversation (requested, assigned, its reply) now belong to the issue it is part of.
    ReportingEvent.objects.filter(conversation=conversation, ticket_id=fresh_id).exclude(
        name__in=[ReportingEvent.Name.TICKET_CREATED, ReportingEvent.Name.FIRST_RESPONSE]
    ).update(ticket=target)
    if fresh is not None:
        if not Conversation.objects.filter(ticket_id=fresh.pk).exists():
            ReportingEvent.objects.filter(ticket_id=fresh.pk).delete()
            fresh.delete()
        else:
            Ticket.objects.filter(pk=fresh.pk, conversation_count__gt=0).update(
                conversation_count=F("conversation_count") - 1
            )
    target.refresh_from_db()
    _announce(target)
    return target


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


def _raise_flags(queryset, target: str, state: str, flags: dict[str, bool], guard: str, due_field: str) -> int:
    raised = 0
    for ticket in queryset.only("pk", "inbox", "first_response_due_at", "resolution_due_at"):
        with transaction.atomic():
            # Conditional UPDATE: of two sweeps racing, only one sees its row change and alerts.
            if not Ticket.objects.filter(pk=ticket.pk, **{guard: False}).update(**flags, updated_at=timezone.now()):
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
        "first_response_breached",
        "first_response_due_at",
    )
    raised += _raise_flags(
        unanswered.filter(first_response_at_risk=False, first_response_at_risk_at__lte=now),
        "first_response",
        "at_risk",
        {"first_response_at_risk": True},
        "first_response_at_risk",
        "first_response_due_at",
    )
    raised += _raise_flags(
        running.filter(resolution_breached=False, resolution_due_at__lte=now),
        "resolution",
        "breached",
        {"resolution_breached": True, "resolution_at_risk": True},
        "resolution_breached",
        "resolution_due_at",
    )
    raised += _raise_flags(
        running.filter(resolution_at_risk=False, resolution_at_risk_at__lte=now),
        "resolution",
        "at_risk",
        {"resolution_at_risk": True},
        "resolution_at_risk",
        "resolution_due_at",
    )
    return raised


def ticket_message_recorded(*, message) -> bool:
    """Called by chat services for every stored message: a public reply by a human operator is the ticket's
    first response when it has none. Private notes, system messages, greetings and bot replies (no human
    author) are not. Returns True when it was the first response."""
    conversation = message.conversation
    if (
        conversation.ticket_id is None
        or message.sender != message.Sender.OPERATOR
        or message.private
        or message.author_id is None
    ):
        return False
    return ticket_record_first_response(
        ticket=conversation.ticket, at=message.created_at, operator=message.author, conversation=conversation
    )
