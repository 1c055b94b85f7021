from tests.chat.conftest import operator_socket, say, visitor


async def test_a_visitor_and_an_operator_talk(inbox, operator):
    agent, welcome = await operator_socket(operator)
    assert welcome["operator"]["status"] == "online"
    widget, hello = await visitor(inbox)
    assert hello["conversation"] is None and hello["online"] is True
    ack = await say(widget, "Hello?")
    conversation_id = ack["message"]["conversation_id"]
    update = await agent.expect("conversation.updated")
    assert update["conversation"]["assignee"]["id"] == operator.user_id
    new = await agent.expect("message.new")
    assert new["message"]["body"] == "Hello?"
    reply = await say(agent, "Hi, how can I help?", conversation_id=conversation_id)
    got = await widget.expect("message.new", message=reply["message"])
    assert got["message"]["sender"] == "operator"
    await agent.send({"type": "conversation.resolve", "conversation_id": conversation_id})
    ended = await widget.expect("conversation.updated")
    while ended["conversation"]["status"] != "ended":
        ended = await widget.expect("conversation.updated")
    assert ended["conversation"]["end_reason"] == "resolved"
    await widget.close()
    await agent.close()
