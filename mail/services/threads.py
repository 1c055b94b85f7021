"""What operators do with an offline message or e-mail ticket in the inbox: take it, hand it on, resolve it.

Its conversation holds the thread and is never live (ended from the start: no queue, no chat capacity, no
live-chat figure); the ticket carries its state: open, pending (waiting on the customer), resolved. The chat
services call these for a conversation of a mail kind (chat.models.MAIL_KINDS), in their transaction, with the
conversation locked.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import Conversation, OperatorProfile, Team
from chat.selectors import operator_name
from chat.services.assignment import _ticket_follows, transfer_note
from chat.services.broadcast import conversation_changed
from chat.services.errors import ChatError
from tickets.models import Ticket
from tickets.services import ticket_resolve


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
    transfer_note(conversation, profile, note)
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
