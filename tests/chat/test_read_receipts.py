"""Read receipts (`message.read`, docs/protocol.md): the visitor sees "Seen" once an operator has read their
messages, the operator sees when the visitor has read the reply."""

from channels.db import database_sync_to_async

from chat.models import Conversation
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import InboxFactory, OperatorFactory

db = database_sync_to_async


async def _chat(inbox, operator):
    """A visitor's question taken and answered by the operator: (widget, agent, question, reply)."""
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    question = (await say(widget, "Where is my parcel?"))["message"]
    await agent.send({"type": "conversation.claim", "conversation_id": question["conversation_id"]})
    await agent.conversation(id=question["conversation_id"], status="active")
    reply = (await say(agent, "Let me look.", conversation_id=question["conversation_id"]))["message"]
    await widget.expect("message.new", message=reply)
    return widget, agent, question, reply


async def test_the_operator_reading_tells_the_visitor_and_the_visitor_reading_tells_the_operator(inbox, operator):
    widget, agent, question, reply = await _chat(inbox, operator)
    conversation_id = question["conversation_id"]

    await agent.send({"type": "message.read", "conversation_id": conversation_id, "message_id": question["id"]})
    seen = await widget.expect("message.read")
    assert (seen["reader"], seen["message_id"], seen["conversation_id"]) == (
        "operator",
        question["id"],
        conversation_id,
    )
    assert seen["read_at"]

    await widget.send({"type": "message.read", "message_id": reply["id"]})
    read = await agent.expect("message.read")
    assert (read["reader"], read["message_id"], read["conversation_id"]) == ("visitor", reply["id"], conversation_id)
    assert isinstance(read["event_id"], int)  # logged: `sync` replays it to an operator who reconnects

    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert (conversation.operator_read_message_id, conversation.visitor_read_message_id) == (
        question["id"],
        reply["id"],
    )
    assert conversation.operator_read_at and conversation.visitor_read_at
    # The state is in the conversation's payload, so a widget or an inbox that reconnects shows it.
    again, welcome = await visitor(inbox, token=widget.token)
    assert welcome["conversation"]["operator_read_message_id"] == question["id"]
    assert welcome["conversation"]["visitor_read_message_id"] == reply["id"]
    for socket in (widget, again, agent):
        await socket.close()


async def test_a_receipt_only_moves_forward_and_a_repeat_sends_nothing(inbox, operator):
    widget, agent, question, reply = await _chat(inbox, operator)
    conversation_id = question["conversation_id"]
    later = (await say(widget, "It was due on Monday."))["message"]
    await agent.expect("message.new", message=later)

    await agent.send({"type": "message.read", "conversation_id": conversation_id, "message_id": later["id"]})
    await widget.expect("message.read", message_id=later["id"])
    for older in (later["id"], question["id"]):
        await agent.send({"type": "message.read", "conversation_id": conversation_id, "message_id": older})
    assert [f for f in await widget.drain(0.4) if f["type"] == "message.read"] == []
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.operator_read_message_id == later["id"]
    for socket in (widget, agent):
        await socket.close()


async def test_bad_receipts_get_an_error_frame(inbox, operator):
    widget, agent, question, reply = await _chat(inbox, operator)
    conversation_id = question["conversation_id"]
    await widget.send({"type": "message.read", "message_id": "812"})
    await widget.error("invalid_frame")
    await widget.send({"type": "message.read"})
    await widget.error("invalid_frame")
    await widget.send({"type": "message.read", "message_id": reply["id"] + 1000})
    await widget.error("not_found")
    await agent.send({"type": "message.read", "conversation_id": conversation_id, "message_id": True})
    await agent.error("invalid_frame")
    # A message of another conversation cannot be read here.
    other_widget, _ = await visitor(inbox)
    other = (await say(other_widget, "Another question"))["message"]
    await agent.send({"type": "message.read", "conversation_id": conversation_id, "message_id": other["id"]})
    await agent.error("not_found")
    assert (await db(Conversation.objects.get)(pk=conversation_id)).operator_read_message_id is None
    # A visitor who has not written has no conversation to read.
    newcomer, _ = await visitor(inbox)
    await newcomer.send({"type": "message.read", "message_id": reply["id"]})
    await newcomer.error("not_found")
    for socket in (widget, other_widget, newcomer, agent):
        await socket.close()


async def test_an_operator_of_another_inbox_cannot_mark_a_conversation_read(inbox, operator):
    widget, agent, question, reply = await _chat(inbox, operator)
    stranger = await db(OperatorFactory)(inboxes=[await db(InboxFactory)()], status="offline")
    outsider, _ = await operator_socket(stranger)
    await outsider.send(
        {"type": "message.read", "conversation_id": question["conversation_id"], "message_id": question["id"]}
    )
    await outsider.error("forbidden")
    assert [f for f in await widget.drain(0.3) if f["type"] == "message.read"] == []
    for socket in (widget, agent, outsider):
        await socket.close()
