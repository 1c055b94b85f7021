"""Messages: the visitor's (the first one requests a conversation), operators' replies and private notes.

A message is stored once per (conversation, client_id): a resend returns the stored message, `created`
False, and the transport acknowledges it again.
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import realtime, selectors
from chat.models import MAIL_KINDS, CannedReply, Contact, Conversation, InboxEvent, Message, OperatorProfile
from chat.selectors import conversation_for_operator, operator_name
from chat.services.assignment import _assign
from chat.services.attachments import attachments_attach, attachments_for_send
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


def _open_conversation_touch(contact: Contact, now) -> tuple[Conversation, str] | None:
    """The contact's open conversation, its row locked and its times moved to `now`, with the contact's name.

    One statement instead of a locking read and an update: the UPDATE takes the row lock, and its WHERE is checked
    again once the lock is granted, so a conversation that ended meanwhile is not returned. The name is read in the
    same statement, as the pre-chat form may have changed it since the socket's hello.
    """
    table, contacts = Conversation._meta.db_table, Contact._meta.db_table
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_message_at = %s, visitor_last_seen_at = %s "  # noqa: S608 — our own table names
            f"WHERE id = (SELECT id FROM {table} WHERE contact_id = %s AND status <> %s LIMIT 1) AND status <> %s "
            f"RETURNING id, inbox_id, assignee_id, status, (SELECT name FROM {contacts} WHERE id = %s)",
            [at, at, contact.pk, Conversation.Status.ENDED, Conversation.Status.ENDED, contact.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return _partial(
        Conversation, id=row[0], inbox_id=row[1], assignee_id=row[2], status=row[3], contact_id=contact.pk
    ), row[4]


def _partial(model, **known):
    """An instance with the fields read so far; any other field is read from the database if someone asks for it."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in known]
    return model.from_db(connection.alias, names, [known[name] for name in names])


def _visitor_message_insert(
    conversation: Conversation, contact: Contact, client_id: str | None, **fields
) -> int | None:
    """Inserts the visitor's message unless one with its client id is stored already (in any of the contact's
    conversations); its id, or None for a resend. One statement: the check, the insert and the unique constraint."""
    table, conversations = Message._meta.db_table, Conversation._meta.db_table
    columns = [
        "conversation_id",
        "sender",
        "author_name",
        "body",
        "private",
        "client_id",
        "has_attachments",
        "created_at",
    ]
    values = [
        conversation.pk,
        Message.Sender.VISITOR,
        fields["author_name"],
        fields["body"],
        False,
        client_id,
        fields.get("has_attachments", False),
        connection.ops.adapt_datetimefield_value(fields["created_at"]),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 — our own table and column names
            f"SELECT {', '.join(['%s'] * len(columns))} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} m JOIN {conversations} c ON c.id = m.conversation_id "
            "WHERE c.contact_id = %s AND m.client_id = %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [*values, contact.pk, client_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _earlier(contact: Contact, client_id: str) -> Message | None:
    found = list(
        Message.objects.select_related("conversation")
        .filter(conversation__contact=contact, client_id=client_id)
        .order_by()[:1]
    )
    return found[0] if found else None


def _visitor_message_in_one_statement(contact: Contact, client_id: str | None, body: str, now):
    """PostgreSQL: a visitor's message into their open conversation as one statement in autocommit, i.e. one round
    trip instead of five (begin, the conversation's update, the insert, its inbox event, commit). (message, the id
    of its inbox event), or None when the transaction path must decide (no open conversation, a resend).

    The conversation's UPDATE comes first in the statement and takes its row lock; the insert and the event read
    its RETURNING, so they happen only if the conversation was still open once the lock was granted (its WHERE is
    checked again then). A resend matches NOT EXISTS and updates nothing. Two sends of one client id at the same
    instant: the second's insert meets the unique constraint and returns nothing, and the slow path answers it
    with the stored message.
    """
    at = connection.ops.adapt_datetimefield_value(now)
    created_at = selectors.iso(now)
    conversations, messages, contacts = Conversation._meta.db_table, Message._meta.db_table, Contact._meta.db_table
    events = InboxEvent._meta.db_table
    ended, visitor = Conversation.Status.ENDED, Message.Sender.VISITOR
    with connection.cursor() as cursor:
        cursor.execute(
            # Our own table names; every value is a parameter.
            f"WITH conv AS (UPDATE {conversations} SET last_message_at = %(at)s, visitor_last_seen_at = %(at)s "  # noqa: S608
            f"WHERE id = (SELECT id FROM {conversations} WHERE contact_id = %(contact)s AND status <> %(ended)s "
            f"LIMIT 1) AND status <> %(ended)s AND NOT EXISTS (SELECT 1 FROM {messages} m "
            f"JOIN {conversations} c ON c.id = m.conversation_id "
            "WHERE c.contact_id = %(contact)s AND m.client_id = %(client_id)s) "
            "RETURNING id, inbox_id, assignee_id, status, "
            f"(SELECT name FROM {contacts} WHERE id = %(contact)s) AS name), "
            f"msg AS (INSERT INTO {messages} (conversation_id, sender, author_name, body, private, client_id, "
            "created_at) SELECT id, %(visitor)s, name, %(body)s, false, %(client_id)s, %(at)s FROM conv "
            "ON CONFLICT DO NOTHING RETURNING id, conversation_id), "
            f"ev AS (INSERT INTO {events} (inbox_id, conversation_id, type, payload, created_at) "
            "SELECT conv.inbox_id, conv.id, %(type)s, jsonb_build_object('type', %(type)s::text, 'message', "
            "jsonb_build_object('id', msg.id, 'conversation_id', conv.id, 'sender', %(visitor)s::text, "
            "'author_name', conv.name, 'author', null, 'body', %(body)s::text, 'private', false, "
            "'created_at', %(created_at)s::text, "
            "'client_id', %(client_id)s::text, 'canned_reply_id', null, 'attachments', '[]'::jsonb)), %(at)s "
            "FROM conv JOIN msg ON msg.conversation_id = conv.id RETURNING id) "
            "SELECT conv.id, conv.inbox_id, conv.assignee_id, conv.status, conv.name, msg.id, ev.id "
            "FROM conv LEFT JOIN msg ON true LEFT JOIN ev ON true",
            {
                "at": at,
                "contact": contact.pk,
                "ended": ended,
                "client_id": client_id,
                "visitor": visitor,
                "body": body,
                "type": realtime.MESSAGE_NEW,
                "created_at": created_at,
            },
        )
        row = cursor.fetchone()
    if row is None or row[5] is None:
        return None
    conversation_id, inbox_id, assignee_id, status, author_name, message_id, event_id = row
    conversation = _partial(
        Conversation,
        id=conversation_id,
        inbox_id=inbox_id,
        assignee_id=assignee_id,
        status=status,
        contact_id=contact.pk,
    )
    message = Message(
        id=message_id,
        conversation=conversation,
        sender=visitor,
        client_id=client_id,
        author_name=author_name,
        body=body,
        created_at=now,
    )
    message._state.adding, message._state.db = False, connection.alias
    return message, event_id


def visitor_message_send(
    *, contact: Contact, client_id: str | None, body: str, attachments: list[int] | None = None
) -> tuple[Message, bool]:
    """Stored once per client id; the first message of a visitor with no open conversation requests one.
    `attachments`: ids of the visitor's unsent uploads, sent with it (the body may then be empty)."""
    now = timezone.now()
    if attachments:
        return _visitor_message_send_in_transaction(
            contact=contact, client_id=client_id, body=body, now=now, attachment_ids=attachments
        )
    if connection.vendor == "postgresql":
        stored = _visitor_message_in_one_statement(contact, client_id, body, now)
        if stored is not None:
            message, event_id = stored
            # In autocommit the statement has committed; inside a caller's transaction the frames wait for it.
            message_created(message, event_id=event_id)
            return message, True
    return _visitor_message_send_in_transaction(contact=contact, client_id=client_id, body=body, now=now)


@transaction.atomic
def _visitor_message_send_in_transaction(
    *, contact: Contact, client_id: str | None, body: str, now, attachment_ids: list[int] | None = None
) -> tuple[Message, bool]:
    """The same in a transaction of its own, for the first message, a resend, a message with attachments, and
    SQLite (which has no writable common table expressions): a message into an open conversation is three
    statements there, the conversation's update, the insert, and its inbox event (bench/chat_load.py,
    docs/performance.md)."""
    if attachment_ids:
        # A resend is answered with the stored message, whatever it names; anything else must be the visitor's.
        if client_id and (earlier := _earlier(contact, client_id)) is not None:
            return earlier, False
        files = attachments_for_send(ids=attachment_ids, inbox_id=contact.inbox_id, visitor_id=contact.visitor_id)
    else:
        files = []
    touched = _open_conversation_touch(contact, now)
    if touched is not None:
        conversation, author_name = touched
        fields = {"author_name": author_name, "body": body, "created_at": now, "has_attachments": bool(files)}
        message_id = _visitor_message_insert(conversation, contact, client_id, **fields)
        if message_id is None:
            # A resend: the conversation's update is undone, and the stored message answers it.
            earlier = _earlier(contact, client_id)
            transaction.set_rollback(True)
            return earlier, False
        message = Message(
            id=message_id, conversation=conversation, sender=Message.Sender.VISITOR, client_id=client_id, **fields
        )
        message._state.adding, message._state.db = False, connection.alias
        if files:
            attachments_attach(attachments=files, message=message)
        message_created(message)
        return message, True
    # The socket's contact was loaded at hello; the pre-chat form may have named the visitor since.
    contact.refresh_from_db(fields=["name", "email"])
    # A resend of a message stored in a conversation that has ended since: it answers the resend.
    if client_id and (earlier := _earlier(contact, client_id)) is not None:
        return earlier, False
    try:
        with transaction.atomic():
            conversation = conversation_request(contact=contact, at=now, subject=body or files[0].name)
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
        has_attachments=bool(files),
        created_at=now,
    )
    if not created:
        return message, False
    if files:
        attachments_attach(attachments=files, message=message)
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
    attachments: list[int] | None = None,
) -> tuple[Message, bool]:
    """A reply (the first public one is the first response) or a private note (never seen by the visitor), with
    `attachments`: ids of the operator's unsent uploads for the conversation's inbox."""
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    if client_id and (message := conversation.messages.filter(client_id=client_id).first()) is not None:
        return message, False
    by_mail = conversation.channel_kind in MAIL_KINDS
    if conversation.status == Conversation.Status.ENDED and not by_mail:
        raise ChatError("closed", _("This conversation has ended."))
    if attachments and by_mail and not private:
        raise ChatError("invalid_frame", _("Attachments cannot be sent by e-mail yet; send them in a live chat."))
    files = attachments_for_send(ids=attachments or [], inbox_id=conversation.inbox_id, user=profile.user)
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
        has_attachments=bool(files),
        created_at=now,
    )
    if not created:
        return message, False
    if files:
        attachments_attach(attachments=files, message=message)
    if by_mail and not private:
        # In the reply's transaction: the mail is a row, sent by a task once this commits.
        from mail.services import outbound, threads

        threads.thread_replied(profile=profile, conversation=conversation)
        outbound.reply_queue(message=message)
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
