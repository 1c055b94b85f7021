"""Messages: the visitor's (the first one requests a conversation), operators' replies and private notes.

A message is stored once per (conversation, client_id): a resend returns the stored message, `created`
False, and the transport acknowledges it again.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import CannedReply, Contact, Conversation, Message, OperatorProfile
from chat.selectors import conversation_for_operator, operator_name
from chat.services.assignment import _assign
from chat.services.broadcast import conversation_changed, message_created
from chat.services.conversations import conversation_request
from chat.services.errors import ChatError
from tickets.services import ticket_message_recorded


def _open_conversation_locked(contact: Contact) -> Conversation | None:
    # FOR UPDATE re-reads the row once the lock is granted: a conversation ended meanwhile is not returned.
    # A contact has at most one open conversation, so no ordering (and none of its per-query cost).
    found = list(
        Conversation.objects.select_for_update()
        .filter(contact=contact)
        .exclude(status=Conversation.Status.ENDED)
        .order_by()[:1]
    )
    return found[0] if found else None


def _create_once(conversation: Conversation, client_id: str | None, **fields) -> tuple[Message, bool]:
    try:
        with transaction.atomic():
            return Message.objects.create(conversation=conversation, client_id=client_id, **fields), True
    except IntegrityError:
        if not client_id:
            raise
        return Message.objects.select_related("conversation").get(conversation=conversation, client_id=client_id), False


@transaction.atomic
def visitor_message_send(*, contact: Contact, client_id: str | None, body: str) -> tuple[Message, bool]:
    # The socket's contact was loaded at hello; the pre-chat form may have named the visitor since.
    contact.refresh_from_db(fields=["name", "email"])
    now = timezone.now()
    conversation = _open_conversation_locked(contact)
    # Checked after the lock, so that two sockets resending at once cannot both miss the stored message.
    if client_id:
        earlier = list(
            Message.objects.select_related("conversation")
            .filter(conversation__contact=contact, client_id=client_id)
            .order_by()[:1]
        )
        if earlier:
            return earlier[0], False
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = conversation_request(contact=contact, at=now, subject=body)
        except IntegrityError:
            # Another socket of this visitor requested one at the same instant: write into theirs.
            conversation = _open_conversation_locked(contact)
            if conversation is None:
                raise
    message, created = _create_once(
        conversation,
        client_id,
        sender=Message.Sender.VISITOR,
        author_name=contact.name,
        body=body,
        created_at=now,
    )
    if not created:
        return message, False
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, visitor_last_seen_at=now)
    message_created(message)
    return message, True


def _canned_reply(profile: OperatorProfile, conversation: Conversation, canned_reply_id: int) -> CannedReply:
    reply = (
        CannedReply.objects.filter(pk=canned_reply_id)
        .filter(
            Q(inbox_id=conversation.inbox_id)
            | Q(team__in=profile.teams.all(), inbox__isnull=True)
            | Q(team__isnull=True, inbox__isnull=True)
        )
        .first()
    )
    if reply is None:
        raise ChatError("not_found", _("There is no such saved reply."))
    return reply


@transaction.atomic
def operator_message_send(
    *,
    profile: OperatorProfile,
    conversation_id: int,
    client_id: str | None,
    body: str,
    private: bool = False,
    canned_reply_id: int | None = None,
) -> tuple[Message, bool]:
    """A reply (the first public one is the first response) or a private note (never seen by the visitor)."""
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    if client_id and (message := conversation.messages.filter(client_id=client_id).first()) is not None:
        return message, False
    if conversation.status == Conversation.Status.ENDED:
        raise ChatError("closed", _("This conversation has ended."))
    canned = _canned_reply(profile, conversation, canned_reply_id) if canned_reply_id is not None else None
    now = timezone.now()
    if not private and conversation.status == Conversation.Status.QUEUED:
        # Answering a waiting visitor takes the conversation.
        _assign(conversation, profile, now)
    message, created = _create_once(
        conversation,
        client_id,
        sender=Message.Sender.OPERATOR,
        author=profile.user,
        author_name=operator_name(profile.user),
        body=body,
        private=private,
        canned_reply=canned,
        created_at=now,
    )
    if not created:
        return message, False
    if canned is not None:
        CannedReply.objects.filter(pk=canned.pk).update(use_count=F("use_count") + 1)
    # Reports read these counters instead of scanning messages (canned reply share).
    counters = (
        {}
        if private
        else {
            "operator_message_count": F("operator_message_count") + 1,
            "canned_message_count": F("canned_message_count") + (1 if canned is not None else 0),
        }
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, **counters)
    message_created(message)
    if not private and conversation.first_response_at is None:
        conversation.first_response_at = now
        Conversation.objects.filter(pk=conversation.pk).update(first_response_at=now)
        ticket_message_recorded(message=message)
        conversation_changed(conversation)
    return message, True
