"""Read receipts: the visitor sees "Seen" once an operator has read their messages, and the operator sees when the
visitor has read the reply (the widget open and visible). docs/protocol.md, `message.read`.

Each side says the newest message it has seen; the conversation keeps the highest such id and its time, so a
late or repeated frame changes nothing and sends nothing. One statement for the check and the write.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import realtime
from chat.models import MAIL_KINDS, Conversation, Message
from chat.selectors import iso
from chat.services.errors import ChatError

VISITOR = "visitor"
OPERATOR = "operator"
READERS = (VISITOR, OPERATOR)


def receipt_frame(*, conversation_id: int, reader: str, message_id: int, read_at) -> dict:
    return {
        "type": realtime.MESSAGE_READ,
        "conversation_id": conversation_id,
        "reader": reader,
        "message_id": message_id,
        "read_at": iso(read_at),
    }


@transaction.atomic
def conversation_read(*, conversation_id: int, reader: str, message_id: int, now=None) -> bool:
    """`reader` has seen the conversation's public messages up to `message_id`, one of them (the newest on the
    reader's screen). True when that moved the receipt forward (and the other side is told, after the commit)."""
    if reader not in READERS:
        raise ValueError(reader)
    now = now or timezone.now()
    id_field, at_field = f"{reader}_read_message_id", f"{reader}_read_at"
    readable = Message.objects.filter(pk=message_id, conversation_id=OuterRef("pk"), private=False)
    moved = (
        Conversation.objects.filter(Q(**{f"{id_field}__isnull": True}) | Q(**{f"{id_field}__lt": message_id}))
        .filter(Exists(readable), pk=conversation_id)
        .exclude(channel_kind__in=MAIL_KINDS)
        .update(**{id_field: message_id, at_field: now})
    )
    if not moved:
        if not Message.objects.filter(pk=message_id, conversation_id=conversation_id, private=False).exists():
            raise ChatError("not_found", _("There is no such message in this conversation."))
        return False  # read up to there already (another tab, a repeated frame), or a mail: nothing to tell
    frame = receipt_frame(conversation_id=conversation_id, reader=reader, message_id=message_id, read_at=now)
    if reader == OPERATOR:
        realtime.send_to_conversation_visitor(conversation_id, frame)
    else:
        inbox_id, assignee_id = Conversation.objects.filter(pk=conversation_id).values_list("inbox_id", "assignee_id")[
            0
        ]
        realtime.send_to_conversation_operators(inbox_id=inbox_id, assignee_id=assignee_id, frame=frame)
    return True
