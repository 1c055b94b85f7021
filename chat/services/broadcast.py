"""Who hears about a conversation change: its visitor's sockets and the inbox's operators (on commit)."""

from __future__ import annotations

from chat import attachment_links, realtime
from chat.models import Conversation, Message
from chat.selectors import conversation_payload, inbox_queue, message_payload


def conversation_changed(
    conversation: Conversation, *, frame_type: str = realtime.CONVERSATION_UPDATED, visitor: bool = True
) -> dict:
    """`visitor=False`: a change only operators can see (its labels), which the visitor's sockets need not hear."""
    payload = conversation_payload(conversation)
    realtime.send_to_inbox_operators(conversation.inbox_id, {"type": frame_type, "conversation": payload})
    if visitor:
        realtime.send_to_conversation_visitor(
            conversation.pk, {"type": realtime.CONVERSATION_UPDATED, "conversation": visitor_view(payload)}
        )
    return payload


def visitor_view(payload: dict) -> dict:
    """What a visitor may see of a conversation: not the ticket's internals, not the team, not its labels."""
    return {key: value for key, value in payload.items() if key not in ("ticket", "team", "labels")}


def queue_moved(inbox_id: int) -> None:
    """Every waiting visitor of the inbox learns their new position and estimated wait."""
    for payload in inbox_queue([inbox_id]):
        realtime.send_to_conversation_visitor(
            payload["id"], {"type": realtime.CONVERSATION_UPDATED, "conversation": visitor_view(payload)}
        )


def message_created(message: Message, *, event_id: int | None = None) -> dict:
    """The new message to its conversation's operators and visitor; `event_id`: its InboxEvent, when the statement
    that stored the message wrote it too."""
    payload = message_payload(message)
    frame = {"type": realtime.MESSAGE_NEW, "message": payload}
    conversation = message.conversation
    realtime.send_to_conversation_operators(
        inbox_id=conversation.inbox_id, assignee_id=conversation.assignee_id, frame=frame, event_id=event_id
    )
    if not message.private:
        if message.has_attachments:
            # The visitor's copy carries addresses of the visitor's audience.
            frame = {
                "type": realtime.MESSAGE_NEW,
                "message": message_payload(message, audience=attachment_links.VISITOR),
            }
        realtime.send_to_conversation_visitor(conversation.pk, frame)
    return payload
