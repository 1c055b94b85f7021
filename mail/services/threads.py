"""What operators do with an offline message or e-mail ticket in the inbox: take it, hand it on, resolve it.

Its conversation holds the thread and is never live (ended from the start: no queue, no chat capacity, no
live-chat figure); the ticket carries its state: open, pending (waiting on the customer), resolved. The chat
services call these for a conversation of a mail kind (chat.models.MAIL_KINDS), in their transaction, with the
conversation locked.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import Contact, Conversation, Message, OperatorProfile, Team
from chat.selectors import operator_name
from chat.services.assignment import _ticket_follows, transfer_note
from chat.services.broadcast import conversation_changed, message_created
from chat.services.errors import ChatError
from mail.models import MailThread
from mail.services.outbound import acknowledgement_queue
from tickets.models import Ticket
from tickets.services import ticket_attach_conversation, ticket_resolve


def thread_for_ticket(
    *, ticket: Ticket, contact: Contact, channel_kind: str, subject: str, at: datetime, counted: bool = True
) -> MailThread:
    """The thread's conversation on the ticket. `counted`: it is the ticket's contact (FCR rule 1 counts
    conversations); a missed chat's thread continues the chat, which was counted already."""
    conversation = Conversation.objects.create(
        inbox=ticket.inbox,
        channel_kind=channel_kind,
        contact=contact,
        team=ticket.team,
        status=Conversation.Status.ENDED,
        end_reason=Conversation.EndReason.MISSED,
        requested_at=at,
        ended_at=at,
        last_message_at=at,
        visitor_connection_count=0,
        ticket=None if counted else ticket,
    )
    if counted:
        ticket_attach_conversation(ticket=ticket, conversation=conversation)
    return MailThread.objects.create(ticket=ticket, conversation=conversation, subject=subject[:300], created_at=at)


def thread_open(
    *, ticket: Ticket, contact: Contact, channel_kind: str, body: str, at: datetime, counted: bool = True
) -> MailThread:
    """A ticket answered by mail from what the visitor wrote in the widget (an offline message, or a missed
    chat's messages): its thread, holding that text as the customer's first message, acknowledged with when an
    answer can be expected. In the caller's transaction."""
    thread = thread_for_ticket(
        ticket=ticket, contact=contact, channel_kind=channel_kind, subject=ticket.subject, at=at, counted=counted
    )
    message_created(
        Message.objects.create(
            conversation=thread.conversation,
            sender=Message.Sender.VISITOR,
            author_name=contact.name,
            body=body,
            created_at=at,
        )
    )
    acknowledgement_queue(thread=thread)
    conversation_changed(thread.conversation)
    return thread


def thread_take(*, profile: OperatorProfile, conversation: Conversation) -> Conversation:
    if conversation.assignee_id == profile.user_id:
        return conversation
    if conversation.assignee_id is not None:
        raise ChatError(
            "conflict", _("%(name)s has this ticket already.") % {"name": operator_name(conversation.assignee)}
        )
    conversation.assignee = profile.user
    conversation.assigned_at = timezone.now()
    conversation.save(update_fields=["assignee", "assigned_at", "updated_at"])
    _ticket_follows(conversation)
    conversation_changed(conversation)
    return conversation


def thread_replied(*, profile: OperatorProfile, conversation: Conversation) -> None:
    """A reply by an operator who does not hold the ticket takes it, if nobody holds it."""
    if conversation.assignee_id is None:
        conversation.assignee = profile.user
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["assignee", "assigned_at", "updated_at"])
        _ticket_follows(conversation)


def thread_transfer(
    *,
    profile: OperatorProfile,
    conversation: Conversation,
    target: OperatorProfile | None,
    team: Team | None,
    note: str,
) -> Conversation:
    if target is not None:
        if target.user_id == conversation.assignee_id:
            raise ChatError("conflict", _("The ticket is already with that operator."))
        conversation.assignee = target.user
        conversation.assigned_at = timezone.now()
    else:
        conversation.team = team
        conversation.assignee = None
    conversation.transfer_count += 1
    conversation.save(update_fields=["assignee", "assigned_at", "team", "transfer_count", "updated_at"])
    _ticket_follows(conversation)
    transfer_note(conversation, profile, note, target=target, team=team)
    conversation_changed(conversation)
    return conversation


def thread_resolve(*, profile: OperatorProfile, conversation: Conversation) -> Conversation:
    """Resolves the ticket; the survey is then due by e-mail, under the same rules as a chat's (one per
    conversation, the cooldown, the opt-out)."""
    from surveys.services import survey_conversation_ended

    ticket = conversation.ticket
    if ticket is None:
        raise ChatError("not_found", _("This conversation has no ticket."))
    if ticket.status == Ticket.Status.RESOLVED:
        raise ChatError("closed", _("This ticket is already resolved."))
    at = timezone.now()
    conversation.ticket = ticket_resolve(ticket=ticket, at=at, operator=profile.user, conversation=conversation)
    if conversation.end_reason != Conversation.EndReason.RESOLVED:
        conversation.end_reason = Conversation.EndReason.RESOLVED
        conversation.ended_at = at
        conversation.save(update_fields=["end_reason", "ended_at", "updated_at"])
    survey_conversation_ended(conversation=conversation)
    conversation_changed(conversation)
    return conversation
