"""The one module that sends realtime events. Called only from services, and only on commit.

Audiences (channel-layer groups):
- `conversation_visitor(conversation_id)`: the visitor's sockets of one conversation — never a private note.
- `inbox_operators(inbox_id)`: every operator socket of an inbox.
- `operator(user_id)`: every socket of one operator.
A consumer in a group receives {"type": "realtime.frame", "frame": {...}} and forwards the frame as it is.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def conversation_visitor_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}.visitor"


def inbox_operators_group(inbox_id: int) -> str:
    return f"inbox.{inbox_id}.operators"


def operator_group(user_id: int) -> str:
    return f"operator.{user_id}"


def _group_send_now(group: str, frame: dict) -> None:
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(group, {"type": "realtime.frame", "frame": frame})


def _on_commit(group: str, frame: dict) -> None:
    transaction.on_commit(lambda: _group_send_now(group, frame))


def send_to_conversation_visitor(conversation_id: int, frame: dict) -> None:
    if frame.get("type") == "message.new" and frame.get("message", {}).get("private"):
        raise ValueError("a private note never goes to a visitor")
    _on_commit(conversation_visitor_group(conversation_id), frame)


def send_to_inbox_operators(inbox_id: int, frame: dict) -> None:
    _on_commit(inbox_operators_group(inbox_id), frame)


def send_to_operator(user_id: int, frame: dict) -> None:
    _on_commit(operator_group(user_id), frame)
