"""A visitor sees only their own conversation; an operator only the inboxes they belong to."""

from channels.db import database_sync_to_async

from chat.models import Conversation, Message
from chat.services.visitors import visitor_token_make
from tests.chat.conftest import client_id, operator_socket, say, visitor, widget_socket
from tests.factories import ContactFactory, InboxFactory, OperatorFactory

db = database_sync_to_async


async def test_visitor_b_cannot_read_or_write_a_conversation_of_visitor_a(inbox, operator):
    agent, _ = await operator_socket(operator)
    alice, _ = await visitor(inbox)
    a_ack = await say(alice, "Alice's secret order 1234")
    a_conversation = a_ack["message"]["conversation_id"]
    await say(agent, "Hi Alice", conversation_id=a_conversation)

    bob, welcome = await visitor(inbox, last_message_id=0)
    assert welcome["conversation"] is None and welcome["messages"] == []
    # Naming Alice's conversation in any frame is refused.
    await bob.send({"type": "message.send", "client_id": client_id(), "body": "x", "conversation_id": a_conversation})
    await bob.error("forbidden")
    await bob.send({"type": "typing", "is_typing": True, "conversation_id": a_conversation})
    await bob.error("forbidden")
    await bob.send({"type": "conversation.close", "conversation_id": a_conversation})
    await bob.error("forbidden")
    # Reusing Alice's client_id stores Bob's own message in Bob's own conversation.
    b_ack = await say(bob, "Bob here", client_id=a_ack["message"]["client_id"])
    assert b_ack["message"]["conversation_id"] != a_conversation
    assert b_ack["message"]["body"] == "Bob here"
    # Nothing of Alice's reached Bob.
    frames = await bob.drain(0.3)
    assert "Alice" not in repr(frames) and "Hi Alice" not in repr(frames)
    assert await db(Message.objects.filter(conversation_id=a_conversation).count)() == 2
    for socket in (alice, bob, agent):
        await socket.close()


async def test_tokens_forged_or_from_another_site_give_a_new_visitor(inbox):
    alice_widget, _ = await visitor(inbox)
    mine = await say(alice_widget, "mine")
    alice_id = (await db(Conversation.objects.get)(pk=mine["message"]["conversation_id"])).contact_id
    contact = await db(ContactFactory)(inbox=inbox)
    other_inbox = await db(InboxFactory)()
    foreign = await db(ContactFactory)(inbox=other_inbox)
    tampered = alice_widget.token[:-2] + ("AA" if not alice_widget.token.endswith("AA") else "BB")
    unsigned = f"{contact.visitor_id.hex}"
    foreign_token = await db(visitor_token_make)(contact=foreign)
    for token in (tampered, unsigned, foreign_token, "", "x" * 1000):
        socket = await widget_socket(inbox)
        await socket.send({"type": "hello", "visitor_token": token, "last_message_id": 0})
        welcome = await socket.expect("welcome")
        # A new visitor, with no contact yet; their first message makes one of their own, never someone else's.
        assert welcome["contact"]["id"] is None
        assert welcome["conversation"] is None and welcome["messages"] == []
        written = await say(socket, "who am I?")
        conversation = await db(Conversation.objects.get)(pk=written["message"]["conversation_id"])
        assert conversation.contact_id not in (alice_id, contact.pk, foreign.pk)
        await socket.close()
    await alice_widget.close()


async def test_an_operator_outside_the_inbox_cannot_claim_read_reply_or_resolve(inbox, operator):
    outsider = await db(OperatorFactory)(inboxes=[await db(InboxFactory)()])
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "private matter"))["message"]["conversation_id"]
    agent, welcome = await operator_socket(outsider)
    assert welcome["queue"] == []
    for frame in (
        {"type": "conversation.claim", "conversation_id": conversation_id},
        {"type": "conversation.history", "conversation_id": conversation_id},
        {"type": "message.send", "conversation_id": conversation_id, "client_id": "o1", "body": "hi"},
        {"type": "message.send", "conversation_id": conversation_id, "client_id": "o2", "body": "n", "private": True},
        {"type": "typing", "conversation_id": conversation_id, "is_typing": True},
        {"type": "conversation.transfer", "conversation_id": conversation_id, "to_operator_id": outsider.user_id},
        {"type": "conversation.resolve", "conversation_id": conversation_id},
    ):
        await agent.send(frame)
        await agent.error("forbidden")
    assert not any("private matter" in repr(f) for f in await agent.drain(0.2))
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.status == "queued" and conversation.assignee_id is None
    assert await db(Message.objects.filter(conversation_id=conversation_id).count)() == 1
    await widget.close()
    await agent.close()


async def test_membership_is_rechecked_on_every_frame(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "hello"))["message"]["conversation_id"]
    await db(operator.inboxes.clear)()
    await agent.send({"type": "message.send", "conversation_id": conversation_id, "client_id": "z", "body": "hi"})
    await agent.error("forbidden")
    await widget.close()
    await agent.close()
