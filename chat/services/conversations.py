"""The conversation lifecycle: request, resolve, close by the visitor, visitor left, abandoned, missed.

Each end writes its reporting event and tells the visitor and the inbox on commit; an operator freed by
the end gets the oldest waiting conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import realtime
from chat.models import MAIL_KINDS, ChannelKind, Contact, Conversation, Message, OperatorProfile
from chat.selectors import conversation_for_operator, conversation_for_update, conversation_payload, inbox_availability
from chat.services.assignment import assign_waiting_to_freed, conversation_assign_auto
from chat.services.broadcast import conversation_changed, message_created, queue_moved, visitor_view
from chat.services.errors import ChatError
from chat.services.reporting import conversation_event_record
from surveys.services import survey_conversation_ended
from tickets.models import ReportingEvent
from tickets.services import ticket_attach_conversation, ticket_create, ticket_resolve, ticket_set_channel_kind

# A live socket (a visitor's or an operator's) refreshes its `…last_seen_at` this often; a count not refreshed for
# three periods belongs to a server process that died, and the visitor or operator is treated as gone.
SOCKET_HEARTBEAT_SECONDS = 30.0
STALE_SOCKET_SECONDS = 3 * SOCKET_HEARTBEAT_SECONDS


def conversation_request(*, contact: Contact, at: datetime, subject: str = "") -> Conversation:
    """The visitor's first message requests a conversation (inside the caller's transaction)."""
    inbox = contact.inbox
    conversation = Conversation.objects.create(
        inbox=inbox,
        channel_kind=inbox.kind,
        contact=contact,
        team=inbox.team,
        status=Conversation.Status.QUEUED,
        requested_at=at,
        visitor_last_seen_at=at,
    )
    ticket = ticket_create(inbox=inbox, contact=contact, channel_kind=inbox.kind, subject=subject, at=at)
    ticket_attach_conversation(ticket=ticket, conversation=conversation)
    conversation_event_record(
        conversation=conversation, name=ReportingEvent.Name.CONVERSATION_REQUESTED, start=at, end=at
    )
    payload = conversation_payload(conversation)
    realtime.send_to_inbox_operators(inbox.pk, {"type": realtime.CONVERSATION_QUEUED, "conversation": payload})
    # The visitor's sockets do not know the conversation yet: they hear of it on the contact's group.
    realtime.send_to_contact_visitor(
        contact.visitor_id, {"type": realtime.CONVERSATION_UPDATED, "conversation": visitor_view(payload)}
    )
    if not conversation_assign_auto(conversation=conversation):
        queue_moved(inbox.pk)
    return conversation


def _end(
    conversation: Conversation,
    *,
    reason: str,
    event: str,
    at: datetime,
    operator=None,
    survey: bool = False,
    visitor_left_at: datetime | None = None,
) -> None:
    was_queued = conversation.status == Conversation.Status.QUEUED
    previous_assignee_id = conversation.assignee_id
    conversation.status = Conversation.Status.ENDED
    conversation.end_reason = reason
    conversation.ended_at = at
    conversation.visitor_left_at = visitor_left_at
    conversation.save(update_fields=["status", "end_reason", "ended_at", "visitor_left_at", "updated_at"])
    conversation_event_record(
        conversation=conversation,
        name=event,
        start=conversation.requested_at,
        end=visitor_left_at or at,
        operator=operator or conversation.assignee,
    )
    if survey:
        survey_conversation_ended(conversation=conversation)
    conversation_changed(conversation)
    if was_queued:
        queue_moved(conversation.inbox_id)
    if previous_assignee_id is not None:
        assign_waiting_to_freed(user_id=previous_assignee_id)


@transaction.atomic
def conversation_resolve(*, profile: OperatorProfile, conversation_id: int) -> Conversation:
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    if conversation.channel_kind in MAIL_KINDS:
        from mail.services.threads import thread_resolve

        return thread_resolve(profile=profile, conversation=conversation)
    if conversation.status == Conversation.Status.ENDED:
        raise ChatError("closed", _("This conversation has already ended."))
    at = timezone.now()
    _end(
        conversation,
        reason=Conversation.EndReason.RESOLVED,
        event=ReportingEvent.Name.CONVERSATION_RESOLVED,
        at=at,
        operator=profile.user,
        survey=True,
    )
    if conversation.ticket_id:
        ticket_resolve(ticket=conversation.ticket, at=at, operator=profile.user, conversation=conversation)
    return conversation


@transaction.atomic
def conversation_close_by_visitor(*, contact: Contact) -> Conversation:
    """Closed after an operator's reply: `closed_by_visitor` (surveyed); before any reply: `abandoned`."""
    open_id = (
        Conversation.objects.filter(contact=contact)
        .exclude(status=Conversation.Status.ENDED)
        .values_list("pk", flat=True)
        .first()
    )
    conversation = conversation_for_update(open_id) if open_id else None
    if conversation is None or conversation.status == Conversation.Status.ENDED:
        raise ChatError("not_found", _("You have no open conversation."))
    at = timezone.now()
    if conversation.first_response_at is not None:
        _end(
            conversation,
            reason=Conversation.EndReason.CLOSED_BY_VISITOR,
            event=ReportingEvent.Name.CONVERSATION_CLOSED,
            at=at,
            survey=True,
        )
    else:
        _end(
            conversation,
            reason=Conversation.EndReason.ABANDONED,
            event=ReportingEvent.Name.CONVERSATION_ABANDONED,
            at=at,
            visitor_left_at=at,
        )
    return conversation


def _visitor_gone(now: datetime, after_seconds: float) -> Q:
    return Q(visitor_connection_count__lte=0, visitor_last_seen_at__lt=now - timedelta(seconds=after_seconds)) | Q(
        visitor_last_seen_at__lt=now - timedelta(seconds=max(after_seconds, STALE_SOCKET_SECONDS))
    )


def _abandoned_q(now: datetime) -> Q:
    return Q(
        status__in=[Conversation.Status.QUEUED, Conversation.Status.ACTIVE], first_response_at__isnull=True
    ) & _visitor_gone(now, settings.ABANDONMENT_GRACE_SECONDS)


def _visitor_left_q(now: datetime) -> Q:
    return Q(status=Conversation.Status.ACTIVE, first_response_at__isnull=False) & _visitor_gone(
        now, settings.VISITOR_INACTIVITY_TIMEOUT_SECONDS
    )


@transaction.atomic
def conversation_abandon_if_gone(*, conversation_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    conversation = conversation_for_update(conversation_id, _abandoned_q(now))
    if conversation is None:
        return False
    # Gone since their last sign: the disconnect that began the grace period, or the last heartbeat of a socket
    # whose server died.
    left = min(conversation.visitor_last_seen_at, now)
    _end(
        conversation,
        reason=Conversation.EndReason.ABANDONED,
        event=ReportingEvent.Name.CONVERSATION_ABANDONED,
        at=now,
        visitor_left_at=max(left, conversation.requested_at),
    )
    return True


@transaction.atomic
def conversation_visitor_left_if_gone(*, conversation_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    conversation = conversation_for_update(conversation_id, _visitor_left_q(now))
    if conversation is None:
        return False
    _end(
        conversation,
        reason=Conversation.EndReason.VISITOR_LEFT,
        event=ReportingEvent.Name.CONVERSATION_VISITOR_LEFT,
        at=now,
        survey=True,
    )
    return True


def _transcript_text(message: Message) -> str:
    """A message as the transcript shows it: its files are named with their sizes, not included."""
    lines = [message.body] if message.body else []
    lines += [
        _("[Attachment “%(name)s”, %(size)s, not included]") % {"name": a.name, "size": filesizeformat(a.size)}
        for a in message.attachments.all()
    ]
    return "\n".join(lines)


def _turn_into_offline_ticket(conversation: Conversation, at: datetime) -> None:
    """A missed chat becomes an offline message: the ticket moves to the offline channel and its targets, and,
    when the visitor left an e-mail address, it is answered by mail from the Tickets list like one (its thread
    holds what they wrote), acknowledged with when."""
    if conversation.ticket is None:
        return
    visitor_messages = conversation.messages.filter(sender=Message.Sender.VISITOR).order_by("id")
    written = [_transcript_text(m) for m in visitor_messages.prefetch_related("attachments")]
    conversation.ticket = ticket_set_channel_kind(
        ticket=conversation.ticket,
        channel_kind=ChannelKind.OFFLINE_FORM,
        subject=written[0][:200] if written else "",
        at=at,
    )
    if written and conversation.contact.email:
        from mail.services.threads import thread_open

        thread_open(
            ticket=conversation.ticket,
            contact=conversation.contact,
            channel_kind=ChannelKind.OFFLINE_FORM,
            body="\n\n".join(written),
            at=at,
            counted=False,
        )


@transaction.atomic
def conversation_miss_if_unanswered(*, conversation_id: int, now: datetime | None = None) -> bool:
    """Queued past the queue timeout, or nobody available: missed, kept as an offline-message ticket."""
    now = now or timezone.now()
    conversation = conversation_for_update(conversation_id, Q(status=Conversation.Status.QUEUED))
    if conversation is None:
        return False
    timed_out = conversation.requested_at < now - timedelta(seconds=settings.QUEUE_TIMEOUT_SECONDS)
    if not timed_out and inbox_availability(conversation.inbox, now)[0]:
        return False
    _turn_into_offline_ticket(conversation, now)
    notice = Message.objects.create(
        conversation=conversation,
        sender=Message.Sender.SYSTEM,
        body=_("No one could answer right now. We have kept your message and will reply as soon as we can."),
        created_at=now,
    )
    message_created(notice)
    _end(conversation, reason=Conversation.EndReason.MISSED, event=ReportingEvent.Name.CONVERSATION_MISSED, at=now)
    return True


def conversation_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Ends what nobody will come back to. Each conversation in its own transaction, re-checked under lock."""
    now = now or timezone.now()
    counts = {"abandoned": 0, "visitor_left": 0, "missed": 0}
    for conversation_id in Conversation.objects.filter(_abandoned_q(now)).values_list("pk", flat=True):
        counts["abandoned"] += conversation_abandon_if_gone(conversation_id=conversation_id, now=now)
    for conversation_id in Conversation.objects.filter(_visitor_left_q(now)).values_list("pk", flat=True):
        counts["visitor_left"] += conversation_visitor_left_if_gone(conversation_id=conversation_id, now=now)
    queued = Conversation.objects.filter(status=Conversation.Status.QUEUED).values_list("pk", flat=True)
    for conversation_id in queued:
        counts["missed"] += conversation_miss_if_unanswered(conversation_id=conversation_id, now=now)
    return counts
