"""What a logged-in operator's inbox socket lets others do: pages of other origins, removed members, ended sessions."""

import json

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from chat.models import Message, OperatorProfile
from tests.chat.conftest import agent_socket, client_id, operator_socket, say, visitor
from tests.factories import InboxFactory

db = database_sync_to_async


async def _first_output(socket) -> dict:
    return await socket.communicator.receive_output(3)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:9000",  # another port of the desk's host
        "https://shop.example.com",  # a sibling subdomain of the desk's site
        "https://localhost:8000",  # the desk's host:port, but not the scheme it was reached with
        "null",  # a sandboxed frame or a file
        None,  # no Origin at all: browsers always send one
    ],
)
async def test_a_page_of_another_origin_gets_4403_and_nothing_of_the_operator(inbox, operator, settings, origin):
    settings.SITE_URL = "https://desk.example.com"
    socket = await agent_socket(operator.user, origin=origin, host="localhost:8000")

    closed = await _first_output(socket)

    assert (closed["type"], closed.get("code")) == ("websocket.close", 4403)
    profile = await db(OperatorProfile.objects.get)(pk=operator.pk)
    assert (profile.status, profile.connection_count) == ("offline", 0)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://desk.example.com", "10.0.0.5:8000"),  # SITE_URL behind a proxy
        ("https://inbox.example.com", "10.0.0.5:8000"),  # a CSRF trusted origin
        ("http://localhost:8000", "localhost:8000"),  # the host the socket was opened on
    ],
)
async def test_the_desks_own_pages_open_the_inbox(inbox, operator, settings, origin, host):
    settings.SITE_URL = "https://desk.example.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://inbox.example.com"]
    agent, welcome = await operator_socket(operator, origin=origin, host=host)
    assert welcome["operator"]["id"] == operator.user_id
    await agent.close()


async def test_an_operator_removed_from_an_inbox_stops_hearing_it_and_hears_the_one_she_joins(inbox, operator):
    other = await db(InboxFactory)()
    agent, _ = await operator_socket(operator)

    await db(operator.inboxes.remove)(inbox)  # as the admin's form does
    await agent.drain(0.3)
    widget, _ = await visitor(inbox)
    await say(widget, "My card number is 4111")
    heard = await agent.drain(0.5)
    assert "4111" not in json.dumps(heard)
    assert [f for f in heard if f["type"] in ("conversation.queued", "message.new")] == []

    await db(operator.inboxes.add)(other)
    other_widget, _ = await visitor(other)
    conversation_id = (await say(other_widget, "Hello B"))["message"]["conversation_id"]
    queued = await agent.expect("conversation.queued")
    assert queued["conversation"]["id"] == conversation_id
    for socket in (widget, other_widget, agent):
        await socket.close()


async def test_an_inbox_that_loses_her_or_is_deactivated_is_no_longer_heard(inbox, operator):
    second = await db(InboxFactory)()
    await db(operator.inboxes.add)(second)
    agent, _ = await operator_socket(operator)
    await agent.send({"type": "presence.set", "status": "away"})  # chats wait for her in the queue
    waiting, _ = await visitor(second)
    await say(waiting, "Before")
    await agent.expect("conversation.queued")

    await db(inbox.operators.clear)()  # from the inbox's side
    second.is_active = False
    await db(second.save)()
    await agent.drain(0.3)
    await say(waiting, "secret on the deactivated inbox")
    widget, _ = await visitor(inbox)
    await say(widget, "secret on the inbox she left")

    heard = await agent.drain(0.5)
    assert "secret" not in json.dumps(heard)
    for socket in (waiting, widget, agent):
        await socket.close()


async def _stored(body: str) -> int:
    return await db(Message.objects.filter(body=body).count)()


async def _reply_refused(agent, conversation_id: int, body: str) -> None:
    """A reply sent on a closed session: no acknowledgement, nothing stored."""
    await agent.send(
        {"type": "message.send", "conversation_id": conversation_id, "client_id": client_id(), "body": body}
    )
    frames = await agent.drain(0.3)
    assert [f for f in frames if f["type"] == "message.ack"] == []
    assert await _stored(body) == 0


async def _operator_in_a_chat(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "Hi"))["message"]["conversation_id"]
    await agent.drain(0.3)
    return agent, widget, conversation_id


async def test_deactivating_the_user_closes_her_sockets_with_4401(inbox, operator):
    agent, widget, conversation_id = await _operator_in_a_chat(inbox, operator)
    user = operator.user
    user.is_active = False
    await db(user.save)()
    assert await agent.closed() == 4401
    await _reply_refused(agent, conversation_id, "after deactivation")
    await widget.close()


async def test_changing_the_password_closes_her_sockets_with_4401(inbox, operator):
    agent, widget, conversation_id = await _operator_in_a_chat(inbox, operator)
    user = operator.user
    user.set_password("another-pass-2")
    await db(user.save)()
    assert await agent.closed() == 4401
    await _reply_refused(agent, conversation_id, "after the password change")
    await widget.close()


def _logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def test_logging_out_closes_that_sessions_sockets_with_4401_and_no_other(inbox, operator):
    browser = await db(_logged_in_client)(operator.user)
    agent = await agent_socket(cookie=browser.cookies[settings.SESSION_COOKIE_NAME].value)
    await agent.expect("welcome")
    other_browser, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "Hi"))["message"]["conversation_id"]

    await db(browser.post)("/accounts/logout/")

    assert await agent.closed() == 4401
    await _reply_refused(agent, conversation_id, "after logging out")
    assert (await say(other_browser, "Still here", conversation_id=conversation_id))["message"]["body"] == "Still here"
    for socket in (other_browser, widget):
        await socket.close()


async def test_a_frame_after_a_change_nobody_announced_is_refused_with_4401(inbox, operator):
    agent, widget, conversation_id = await _operator_in_a_chat(inbox, operator)
    # A bulk update sends no signal: the socket finds out when the next frame comes.
    await db(get_user_model().objects.filter(pk=operator.user_id).update)(is_active=False)
    await agent.send({"type": "conversation.history", "conversation_id": conversation_id})
    assert await agent.closed() == 4401
    await _reply_refused(agent, conversation_id, "after a bulk deactivation")
    await widget.close()
