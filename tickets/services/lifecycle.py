"""The ticket lifecycle: open -> pending (waiting on the customer) -> resolved, reopened; first response,
conversations, channel, priority, assignee.

Each service runs in one transaction (the caller's, or its own), writes its reporting event and sends realtime
events only through chat.realtime, on commit. A service that changes a ticket takes its row lock first.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chat import realtime
from chat.models import ChannelKind
from tickets.business_hours import Schedule, schedule_for
from tickets.models import ReportingEvent, Ticket
from tickets.payloads import ticket_payload
from tickets.services.events import reporting_event_record
from tickets.services.sla import apply_first_response_targets, apply_resolution_targets

TICKET_UPDATED = realtime.TICKET_UPDATED


def announce_ticket(ticket: Ticket) -> None:
    realtime.send_to_inbox_operators(ticket.inbox_id, {"type": TICKET_UPDATED, "ticket": ticket_payload(ticket)})


@transaction.atomic
def ticket_create(
    *, inbox, contact, channel_kind: str, subject: str = "", at: datetime | None = None, team=None
) -> Ticket:
    """A new ticket (first conversation of a request, offline message, missed chat, e-mail) with its SLA times."""
    at = at or timezone.now()
    schedule = schedule_for(inbox)
    ticket = Ticket(
        inbox=inbox,
        contact=contact,
        channel_kind=channel_kind,
        subject=subject[:200],
        team=team or inbox.team,
        created_at=at,
    )
    apply_first_response_targets(ticket, schedule)
    apply_resolution_targets(ticket, schedule)
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
def ticket_set_channel_kind(*, ticket: Ticket, channel_kind: str, subject: str = "", at: datetime | None = None):
    """Moves a ticket to another channel kind and its targets, e.g. a missed chat kept as an offline message.

    Due and at-risk instants are recomputed from the creation; a flag whose new instant is still ahead is
    lowered, so that the sweep raises it again (once) against the new target.
    """
    if channel_kind not in ChannelKind.values:
        raise ValueError(f"unknown channel kind {channel_kind!r}")
    at = at or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    schedule = schedule_for(ticket.inbox)
    ticket.channel_kind = channel_kind
    if subject and not ticket.subject:
        ticket.subject = subject[:200]
    apply_first_response_targets(ticket, schedule)
    apply_resolution_targets(ticket, schedule)
    for target in ("first_response", "resolution"):
        due_at = getattr(ticket, f"{target}_due_at")
        risk_at = getattr(ticket, f"{target}_at_risk_at")
        if due_at is None or due_at > at:
            setattr(ticket, f"{target}_breached", False)
        if risk_at is None or risk_at > at:
            setattr(ticket, f"{target}_at_risk", False)
    ticket.save()
    announce_ticket(ticket)
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
def ticket_set_assignee(*, ticket: Ticket, assignee, team_id: int | None = None) -> Ticket:
    """The ticket's assignee and team follow its conversation's (metrics.md, per-operator attribution): set whenever
    the conversation is assigned or transferred, the assignee None while it waits for a team. A `team_id` of None
    leaves the ticket's team as it is. The conversation's `conversation_assigned` / `conversation_transferred`
    events, which carry the ticket, record the change."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    changed = []
    if locked.assignee_id != (assignee.pk if assignee else None):
        locked.assignee = assignee
        changed.append("assignee")
    if team_id is not None and locked.team_id != team_id:
        locked.team_id = team_id
        changed.append("team")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        announce_ticket(locked)
    return locked


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
    locked.first_responder = operator
    locked.save(
        update_fields=[
            "first_responder",
            "first_response_at",
            "first_response_seconds",
            "first_response_business_seconds",
            "first_response_breached",
            "assignee",
            "updated_at",
        ]
    )
    for field in (
        "first_response_at",
        "first_response_seconds",
        "first_response_business_seconds",
        "assignee_id",
        "first_responder_id",
    ):
        setattr(ticket, field, getattr(locked, field))
    ticket.first_response_breached = locked.first_response_breached
    return True


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


def _stop_pause(ticket: Ticket, at: datetime, schedule: Schedule) -> None:
    """Ends a pending stretch: its business time is added to the paused time, the resolution due time moves."""
    if ticket.pending_since is not None:
        ticket.pending_business_seconds += schedule.business_seconds(
            ticket.pending_since, max(at, ticket.pending_since)
        )
        ticket.pending_since = None
        apply_resolution_targets(ticket, schedule)


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
    ticket.resolved_by = event.operator
    ticket.resolution_seconds = event.value_seconds
    ticket.resolution_business_seconds = event.value_business_seconds
    if ticket.resolution_due_at is not None and at > ticket.resolution_due_at:
        ticket.resolution_breached = True
    ticket.save()
    announce_ticket(ticket)
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
    apply_resolution_targets(ticket, schedule)
    ticket.status = Ticket.Status.OPEN
    ticket.reopen_count += 1
    ticket.last_reopened_at = at
    ticket.save()
    announce_ticket(ticket)
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
    announce_ticket(ticket)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, priority: str) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ValueError(f"unknown ticket priority {priority!r}")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.priority != priority:
        ticket.priority = priority
        ticket.save(update_fields=["priority", "updated_at"])
        announce_ticket(ticket)
    return ticket
