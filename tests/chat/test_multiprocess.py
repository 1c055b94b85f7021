"""Two daphne processes on PostgreSQL + Redis: a visitor on one, an operator on the other; servers die
mid-chat and come back; the clients reconnect and nothing is lost or duplicated."""

import asyncio

import pytest
from django.conf import settings
from django.test import Client

from chat.models import Message
from tests.chat.live import ORIGIN, LiveClient, agent_url, widget_url
from tests.factories import InboxFactory, OperatorFactory
from tests.processes import require_services

pytestmark = [pytest.mark.slow, pytest.mark.services]


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_chat_survives_server_restarts_across_two_processes(asgi_server_factory):
    require_services()
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox], status="offline")
    cookie = session_cookie(operator.user)
    a, b = asgi_server_factory(), asgi_server_factory()

    async def scenario():
        agent = LiveClient(agent_url(b.ws_url), origin=b.url, additional_headers={"Cookie": cookie})
        await agent.open()
        welcome = await agent.wait(lambda f: f["type"] == "welcome")
        last_event_id = welcome["last_event_id"]

        widget = LiveClient(widget_url(a.ws_url, inbox.site_key), origin=ORIGIN)
        await widget.open()
        await widget.send({"type": "hello"})
        token = (await widget.wait(lambda f: f["type"] == "welcome"))["visitor_token"]
        first = await widget.say("Hello from server A")
        conversation_id = first["conversation_id"]
        await agent.wait(agent.has_body("Hello from server A"))
        await agent.say("Hi, from server B", conversation_id=conversation_id)
        await widget.wait(widget.has_body("Hi, from server B"))

        # Server A (the visitor's) crashes; the operator keeps writing.
        a.kill()
        await widget.close()
        await agent.say("Are you still there?", conversation_id=conversation_id)
        await agent.say("I found your order.", conversation_id=conversation_id)
        a.start()
        seen = max(widget.messages)
        widget2 = LiveClient(widget_url(a.ws_url, inbox.site_key), origin=ORIGIN)
        await widget2.open()
        await widget2.send({"type": "hello", "visitor_token": token, "last_message_id": seen})
        welcome2 = await widget2.wait(lambda f: f["type"] == "welcome")
        assert [m["body"] for m in welcome2["messages"]] == ["Are you still there?", "I found your order."]
        widget2.messages.update(widget.messages)
        resent = await widget2.say("Great, thanks!", client_id="after-restart")
        again = await widget2.say("Great, thanks!", client_id="after-restart")  # a retry after a lost ack
        assert resent == again

        await agent.wait(agent.has_body("Great, thanks!"))

        # Server B (the operator's) crashes while the visitor writes.
        for frame in agent.frames:
            last_event_id = max(last_event_id, frame.get("event_id") or 0)
        b.kill()
        await agent.close()
        await widget2.say("One more question")
        b.start()
        agent2 = LiveClient(agent_url(b.ws_url), origin=b.url, additional_headers={"Cookie": cookie})
        await agent2.open()
        await agent2.wait(lambda f: f["type"] == "welcome")
        await agent2.send({"type": "sync", "last_event_id": last_event_id})
        await agent2.wait(lambda f: f["type"] == "sync.done")
        replayed = [f["message"]["body"] for f in agent2.frames if f["type"] == "message.new"]
        assert replayed == ["One more question"]
        await agent2.say("Answered.", conversation_id=conversation_id)
        await widget2.wait(widget2.has_body("Answered."))
        await widget2.close()
        await agent2.close()
        return widget2, agent, agent2

    widget, agent_before, agent_after = asyncio.run(scenario())
    stored = list(Message.objects.filter(conversation__inbox=inbox).order_by("id").values_list("id", "body"))
    bodies = [body for _, body in stored]
    assert bodies == [
        "Hello from server A",
        "Hi, from server B",
        "Are you still there?",
        "I found your order.",
        "Great, thanks!",
        "One more question",
        "Answered.",
    ]
    # The visitor holds every message, each once, in order.
    assert sorted(widget.messages) == [pk for pk, _ in stored]
    # The operator saw every message across the two connections.
    operator_seen = set(agent_before.messages) | set(agent_after.messages)
    assert operator_seen == {pk for pk, _ in stored}
