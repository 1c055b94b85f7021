"""Follow-ups: a new conversation marked as the same issue as the contact's earlier ticket."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tickets.models import ReportingEvent, Ticket
from tickets.services.lifecycle import (
    announce_ticket,
    ticket_attach_conversation,
    ticket_reopen,
    ticket_set_assignee,
    ticket_set_status,
)


@transaction.atomic
def ticket_mark_followup(*, conversation, ticket: Ticket, operator) -> Ticket:
    """The operator marks a new conversation as the same issue as the contact's earlier ticket.

    The conversation moves onto that ticket (a second contact: conversation_count), which reopens when it
    was resolved and goes to the conversation's assignee. The conversation's own fresh ticket disappears with its
    events when no other conversation is on it, so that it never counts in the reports; otherwise it only loses
    this conversation.
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
    ticket_attach_conversation(ticket=target, conversation=conversation)
    target = ticket_set_assignee(ticket=target, assignee=conversation.assignee)
    # The conversation's own events (requested, assigned, transferred…) now belong to the issue it is part of;
    # the fresh ticket's events stay with it.
    ReportingEvent.objects.filter(
        conversation=conversation, ticket_id=fresh_id, name__startswith="conversation_"
    ).update(ticket=target)
    if fresh is not None and not Conversation.objects.filter(ticket_id=fresh.pk).exists():
        ReportingEvent.objects.filter(ticket_id=fresh.pk).delete()
        fresh.delete()
    target.refresh_from_db()
    announce_ticket(target)
    return target
