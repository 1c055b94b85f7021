"""The visitor's websocket: every frame, every refusal, every close code (protocol.md)."""

import asyncio
import datetime as dt
import json

import time_machine
from channels.db import database_sync_to_async
from django.db import connections

from chat.models import Contact, Conversation, Message
from chat.services import ratelimits
from tests.chat.conftest import an_address, client_id, operator_socket, say, visitor, widget_socket
from tests.factories import InboxFactory, OperatorFactory
from tests.processes import require_services

db = database_sync_to_async


async def test_hello_welcomes_a_new_visitor_with_no_conversation_yet(inbox, operator):
    widget, welcome = await visitor(inbox)
    assert welcome["conversation"] is None
    assert welcome["messages"] == []
    assert welcome["contact"] == {"id": None, "name": "", "email": ""}  # no row until they write
    assert welcome["online"] is False  # the operator has not opened the inbox yet
    assert welcome["next_opening"] is None  # open all week: only nobody is there
    await widget.close()


async def test_hello_without_a_valid_token_makes_a_new_visitor_with_a_new_token(inbox):
    widget = await widget_socket(inbox)
    await widget.send({"type": "hello", "visitor_token": "forged.token"})
    welcome = await widget.expect("welcome")
    assert welcome["visitor_token"] and welcome["visitor_token"] != "forged.token"
    assert welcome["conversation"] is None
    await widget.close()


async def test_first_message_requests_a_conversation_and_is_acknowledged_after_storing(inbox, operator):
    widget, _ = await visitor(inbox)
    ack = await say(widget, "Is my order shipped?")
    message = await db(Message.objects.get)(pk=ack["message"]["id"])
    assert message.body == "Is my order shipped?" and message.sender == "visitor"
    assert ack["message"]["conversation_id"] == message.conversation_id
    update = await widget.expect("conversation.updated")
    assert update["conversation"]["id"] == message.conversation_id
    assert update["conversation"]["status"] == "queued"
    assert update["conversation"]["queue_position"] == 1
    assert update["conversation"]["estimated_wait_seconds"] > 0
    assert "ticket" not in update["conversation"]  # internal SLA state is for operators only
    await widget.close()


async def test_resending_a_client_id_is_acknowledged_again_and_stored_once(inbox):
    widget, _ = await visitor(inbox)
    first = await say(widget, "Hello", client_id="same-id")
    second = await say(widget, "Hello", client_id="same-id")
    assert first["message"] == second["message"]
    assert await db(Message.objects.filter(client_id="same-id").count)() == 1
    await widget.close()


async def test_a_message_resent_after_its_conversation_ended_is_acknowledged_not_an_error(inbox):
    """The ack was lost with the connection, and the chat ended before the widget came back: the resend is a
    committed write, so it is acknowledged (it answered server_error: the consumer read the stored message's
    conversation on the event loop)."""
    widget, _ = await visitor(inbox)
    first = await say(widget, "Hello", client_id="lost-ack")
    await widget.send({"type": "conversation.close"})
    await widget.conversation(status="ended")
    await widget.close()

    again, welcome = await visitor(inbox, token=widget.token)
    assert welcome["conversation"] is None
    second = await say(again, "Hello", client_id="lost-ack")
    assert second["message"] == first["message"]
    assert await db(Message.objects.filter(client_id="lost-ack").count)() == 1
    await again.close()


async def test_reconnecting_with_last_message_id_gets_every_later_message_in_order(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    first = await say(widget, "one")
    conversation_id = first["message"]["conversation_id"]
    await widget.close()
    replies = [await say(agent, f"reply {n}", conversation_id=conversation_id) for n in range(3)]
    note = await say(agent, "internal", conversation_id=conversation_id, private=True)
    again, welcome = await visitor(inbox, token=widget.token, last_message_id=first["message"]["id"])
    assert [m["id"] for m in welcome["messages"]] == [r["message"]["id"] for r in replies]
    assert note["message"]["id"] not in [m["id"] for m in welcome["messages"]]
    assert welcome["conversation"]["id"] == conversation_id
    _, everything = await visitor(inbox, token=widget.token)
    assert [m["body"] for m in everything["messages"]] == ["one", "reply 0", "reply 1", "reply 2"]
    await again.close()
    await agent.close()


async def test_operator_messages_and_typing_reach_the_visitor(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "hi"))["message"]["conversation_id"]
    await agent.send({"type": "typing", "conversation_id": conversation_id, "is_typing": True})
    typing = await widget.expect("typing")
    assert typing == {"type": "typing", "is_typing": True, "name": operator.display_name}
    reply = await say(agent, "Hello! Looking now.", conversation_id=conversation_id)
    new = await widget.expect("message.new")
    assert new["message"] == reply["message"]
    await widget.close()
    await agent.close()


async def test_visitor_typing_reaches_operators_and_is_throttled(inbox, operator, settings):
    settings.TYPING_THROTTLE_SECONDS = 60
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "hi"))["message"]["conversation_id"]
    await agent.drain()
    for _ in range(5):
        await widget.send({"type": "typing", "is_typing": True})
    await widget.send({"type": "typing", "is_typing": False})
    frames = [f for f in await agent.drain(0.3) if f["type"] == "typing"]
    assert frames == [
        {"type": "typing", "conversation_id": conversation_id, "is_typing": True},
        {"type": "typing", "conversation_id": conversation_id, "is_typing": False},
    ]
    await widget.close()
    await agent.close()


async def test_visitor_closing_before_any_reply_abandons_after_a_reply_closes(inbox, operator):
    widget, _ = await visitor(inbox)
    await say(widget, "hello?")
    await widget.send({"type": "conversation.close"})
    ended = await widget.expect("conversation.updated", timeout=3)
    while ended["conversation"]["status"] != "ended":
        ended = await widget.expect("conversation.updated")
    assert ended["conversation"]["end_reason"] == "abandoned"
    agent, _ = await operator_socket(operator)
    conversation_id = (await say(widget, "me again"))["message"]["conversation_id"]
    await say(agent, "Yes?", conversation_id=conversation_id)
    await widget.send({"type": "conversation.close"})
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    for _ in range(50):
        if conversation.status == "ended":
            break
        await widget.drain(0.05)
        conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.end_reason == "closed_by_visitor"
    await widget.send({"type": "conversation.close"})
    await widget.error("not_found")
    await widget.close()
    await agent.close()


# --- Refusals that keep the connection open ---------------------------------------------------


async def test_malformed_frames_get_an_error_and_the_connection_stays(inbox):
    widget, _ = await visitor(inbox)
    for raw in ["{not json", "[1, 2]", '"hello"', "{}", '{"type": 5}', "[" * 5000 + "]" * 5000]:
        await widget.send(raw)
        await widget.error("invalid_frame")
    await widget.send({"type": "dance"})
    assert (await widget.error("unknown_type"))["ref_type"] == "dance"
    await widget.send({"type": "message.send", "client_id": 7, "body": "x"})
    await widget.error("invalid_frame")
    await widget.send({"type": "message.send", "client_id": "a", "body": ["x"]})
    await widget.error("invalid_frame")
    await widget.send({"type": "message.send", "client_id": "a", "body": "   "})
    await widget.error("invalid_frame")
    await widget.send({"type": "message.send", "client_id": "x" * 65, "body": "hi"})
    await widget.error("invalid_frame")
    await widget.send({"type": "typing", "is_typing": "yes"})
    await widget.error("invalid_frame")
    await widget.send({"type": "hello", "visitor_token": widget.token})
    await widget.error("invalid_frame")
    assert await db(Message.objects.count)() == 0  # nothing stored half-way
    ack = await say(widget, "still here")
    assert ack["message"]["body"] == "still here"
    await widget.close()


async def test_too_large_frames_and_bodies_are_refused(inbox, settings):
    widget, _ = await visitor(inbox)
    await widget.send(
        {"type": "message.send", "client_id": client_id(), "body": "x" * (settings.MESSAGE_MAX_CHARS + 1)}
    )
    await widget.error("too_large")
    await widget.send(
        json.dumps({"type": "message.send", "client_id": "big", "pad": "x" * settings.WS_MAX_FRAME_BYTES})
    )
    await widget.error("too_large")
    ack = await say(widget, "x" * settings.MESSAGE_MAX_CHARS)
    assert len(ack["message"]["body"]) == settings.MESSAGE_MAX_CHARS
    await widget.close()


async def test_frames_before_hello_are_forbidden(inbox):
    widget = await widget_socket(inbox)
    await widget.send({"type": "message.send", "client_id": "a", "body": "hi"})
    await widget.error("forbidden")
    await widget.close()


async def test_a_flooding_visitor_is_rate_limited_then_disconnected(inbox, settings):
    settings.VISITOR_RATE_LIMIT_MESSAGES = 3
    settings.VISITOR_FLOOD_CLOSE_AFTER = 2
    widget, _ = await visitor(inbox)
    for n in range(3):
        await say(widget, f"m{n}")
    await widget.send({"type": "message.send", "client_id": client_id(), "body": "too many"})
    assert (await widget.error("rate_limited"))["client_id"]
    await widget.send({"type": "message.send", "client_id": client_id(), "body": "too many"})
    await widget.error("rate_limited")
    await widget.send({"type": "message.send", "client_id": client_id(), "body": "too many"})
    assert await widget.closed() == 4429
    assert await db(Message.objects.count)() == 3


async def test_a_visitors_sockets_share_one_rate(inbox, settings):
    """Two tabs of one visitor do not send twice as much; another visitor keeps their own allowance."""
    settings.VISITOR_RATE_LIMIT_MESSAGES = 3
    first, _ = await visitor(inbox)
    second, _ = await visitor(inbox, token=first.token)
    await say(first, "one")
    await say(second, "two")
    await say(first, "three")
    await second.send({"type": "message.send", "client_id": client_id(), "body": "four"})
    assert (await second.error("rate_limited"))["client_id"]
    other, _ = await visitor(inbox)
    await say(other, "mine")
    assert await db(Message.objects.filter(sender="visitor").count)() == 4
    for socket in (first, second, other):
        await socket.close()


# --- Close codes ------------------------------------------------------------------------------


async def test_a_page_on_another_origin_is_refused_with_4403(inbox):
    widget = await widget_socket(inbox, origin="https://evil.example")
    assert await widget.closed() == 4403
    widget = await widget_socket(inbox, origin="")
    assert await widget.closed() == 4403


async def test_an_unknown_site_key_is_refused_with_4403(inbox):
    widget = await widget_socket(inbox, site_key="no-such-key")
    assert await widget.closed() == 4403
    other = await db(InboxFactory)(allowed_origins=["https://other.example"])
    widget = await widget_socket(other)  # an origin allowed for another inbox only
    assert await widget.closed() == 4403


async def test_no_hello_in_time_closes_with_4401(inbox, settings):
    settings.WS_HELLO_TIMEOUT_SECONDS = 0.2
    widget = await widget_socket(inbox)
    assert await widget.closed(timeout=3) == 4401


async def test_waiting_visitors_see_their_position_move_up_as_the_queue_moves(inbox, operator):
    first, _ = await visitor(inbox)
    await say(first, "first")
    second, _ = await visitor(inbox)
    second_id = (await say(second, "second"))["message"]["conversation_id"]
    assert (await second.conversation(id=second_id))["queue_position"] == 2
    await first.send({"type": "conversation.close"})
    moved = await second.conversation(id=second_id, queue_position=1)
    assert moved["status"] == "queued" and moved["estimated_wait_seconds"] > 0
    agent, _ = await operator_socket(operator)  # an operator comes online: the oldest waiting is taken
    taken = await second.conversation(id=second_id, status="active")
    assert taken["assignee"]["name"] == operator.display_name and taken["queue_position"] is None
    for socket in (first, second, agent):
        await socket.close()


async def test_an_open_widget_hears_when_the_only_operator_comes_online_and_goes_away(inbox, operator):
    widget, welcome = await visitor(inbox)
    assert welcome["online"] is False
    agent, _ = await operator_socket(operator)  # opening the inbox brings her online
    assert await widget.expect("availability") == {"type": "availability", "online": True, "next_opening": None}
    await agent.send({"type": "presence.set", "status": "away"})
    assert await widget.expect("availability") == {"type": "availability", "online": False, "next_opening": None}
    await agent.send({"type": "presence.set", "status": "online"})
    assert (await widget.expect("availability"))["online"] is True
    await widget.close()
    await agent.close()


async def test_availability_is_sent_only_when_it_changes_and_only_to_the_inbox_it_concerns(inbox, operator):
    second = await db(OperatorFactory)(inboxes=[inbox], status="offline")
    widget, _ = await visitor(inbox)
    elsewhere, _ = await visitor(await db(InboxFactory)())
    agent, _ = await operator_socket(operator)
    await widget.expect("availability", online=True)
    # A second operator coming, then the first going away: somebody is still there, nothing changes for visitors.
    other_agent, _ = await operator_socket(second)
    await agent.send({"type": "presence.set", "status": "away"})
    await other_agent.send({"type": "presence.set", "status": "online"})
    assert [f for f in await widget.drain(0.3) if f["type"] == "availability"] == []
    assert await elsewhere.nothing(0.3)
    for socket in (widget, elsewhere, agent, other_agent):
        await socket.close()


# --- Anonymous floods: limits per client address and per site key -----------------------------------------------


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC))
async def test_too_many_hellos_from_one_address_are_refused_and_the_socket_closed(inbox, settings):
    settings.WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE = 2
    flooder = an_address()
    for _ in range(2):
        widget = await widget_socket(inbox, address=flooder)
        await widget.send({"type": "hello"})
        await widget.expect("welcome")
        await widget.close()
    widget = await widget_socket(inbox, address=flooder)
    await widget.send({"type": "hello"})
    refused = await widget.error("rate_limited")
    assert refused["ref_type"] == "hello" and "try again in" in refused["detail"]
    assert await widget.closed() == 4429
    # Someone else on the same site is welcome.
    other, _ = await visitor(inbox, address=an_address())
    await other.close()


async def _two_new_visitors_write_and_a_third_is_refused(inbox):
    """From one address, a new visitor per message: two are stored, the third is `rate_limited`."""
    flooder = an_address()
    sockets = []
    for _ in range(2):
        widget, _ = await visitor(inbox, address=flooder)
        await say(widget, "Buy cheap watches")
        sockets.append(widget)
    widget, _ = await visitor(inbox, address=flooder)
    await widget.send({"type": "message.send", "client_id": client_id(), "body": "Buy cheap watches"})
    await widget.error("rate_limited")
    return sockets, widget, flooder


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC))
async def test_a_new_visitor_per_message_does_not_escape_the_limit_of_the_address(inbox, operator, settings):
    settings.VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE = 2
    sockets, widget, flooder = await _two_new_visitors_write_and_a_third_is_refused(inbox)
    sockets.append(widget)
    assert await db(Conversation.objects.filter(inbox=inbox).count)() == 2
    for socket in sockets:
        await socket.close()


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC))
async def test_hellos_are_also_bounded_per_site_key(inbox, settings):
    settings.WIDGET_HELLOS_PER_SITE_PER_MINUTE = 1
    first, _ = await visitor(inbox, address=an_address())
    widget = await widget_socket(inbox, address=an_address())
    await widget.send({"type": "hello"})
    await widget.error("rate_limited")
    assert await widget.closed() == 4429
    await first.close()


@time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC))
async def test_one_address_may_hold_only_so_many_widget_sockets(inbox, settings):
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 3
    flooder = an_address()
    sockets = [(await visitor(inbox, address=flooder))[0] for _ in range(3)]
    refused = await widget_socket(inbox, address=flooder)
    assert await refused.closed() == 4429
    # Someone else is welcome; and once the flooder closes one, it may open another.
    other, _ = await visitor(inbox, address=an_address())
    await sockets.pop().close()
    sockets.append((await visitor(inbox, address=flooder))[0])
    for socket in [*sockets, other, refused]:
        await socket.close()


async def test_sockets_of_a_server_that_died_stop_counting_within_two_minutes(inbox, settings):
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 2
    flooder = an_address()
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC)):
        # Counted by a server that was then killed: nobody ever closes them.
        for _ in range(2):
            assert await db(ratelimits.SocketSlot(flooder).open)()
        refused = await widget_socket(inbox, address=flooder)
        assert await refused.closed() == 4429
        await refused.close()
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 2, 1, tzinfo=dt.UTC)):
        widget, _ = await visitor(inbox, address=flooder)
        await widget.close()


async def test_a_socket_opened_as_the_minute_turns_counts_the_one_opened_just_before(inbox, settings):
    # The earlier socket has not yet had its turn to count itself in the new window: it must already be there.
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 1
    address = an_address()
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 59, 900000, tzinfo=dt.UTC)):
        first, _ = await visitor(inbox, address=address)
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 1, 0, 100000, tzinfo=dt.UTC)):
        refused = await widget_socket(inbox, address=address)
        assert await refused.closed() == 4429
    for socket in (first, refused):
        await socket.close()


async def test_a_socket_that_stays_open_keeps_its_place_window_after_window(inbox, settings):
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 1
    address = an_address()
    slot = ratelimits.SocketSlot(address)
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, 5, tzinfo=dt.UTC)):
        assert await db(slot.open)()
    for minute in (1, 2, 3):
        with time_machine.travel(dt.datetime(2030, 1, 1, 12, minute, 0, 500000, tzinfo=dt.UTC)):
            await db(slot.refresh)()
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 3, 30, tzinfo=dt.UTC)):
        refused = await widget_socket(inbox, address=address)
        assert await refused.closed() == 4429
        await refused.close()
        await db(slot.close)()
        widget, _ = await visitor(inbox, address=address)
        await widget.close()


# --- A contact only when the visitor needs one --------------------------------------------------------------------


async def test_a_hundred_tokenless_hellos_make_no_contact(inbox):
    address = an_address()
    for _ in range(100):
        widget = await widget_socket(inbox, address=address)
        await widget.send({"type": "hello"})
        welcome = await widget.expect("welcome")
        assert welcome["contact"]["id"] is None and welcome["visitor_token"]
        await widget.close()
    assert await db(Contact.objects.count)() == 0


async def test_the_first_message_makes_one_contact_for_all_the_visitors_tabs(inbox, operator):
    first = await widget_socket(inbox)
    await first.send({"type": "hello"})
    token = (await first.expect("welcome"))["visitor_token"]
    second, _ = await visitor(inbox, token=token)
    assert await db(Contact.objects.count)() == 0
    # Both tabs write their first message at the same instant.
    acks = await asyncio.gather(say(first, "Hello?"), say(second, "Anyone there?"))
    contact = await db(Contact.objects.get)()
    assert {ack["message"]["conversation_id"] for ack in acks} == {
        await db(lambda: Conversation.objects.get(contact=contact).pk)()
    }
    # The visitor comes back with their token: the same contact, with their conversation.
    for socket in (first, second):
        await socket.close()
    returning, welcome = await visitor(inbox, token=token)
    assert welcome["contact"]["id"] == contact.pk
    assert sorted(m["body"] for m in welcome["messages"]) == ["Anyone there?", "Hello?"]
    await returning.close()


async def test_a_tab_open_before_the_first_message_hears_of_the_conversation(inbox, operator):
    first = await widget_socket(inbox)
    await first.send({"type": "hello"})
    token = (await first.expect("welcome"))["visitor_token"]
    second, _ = await visitor(inbox, token=token)
    ack = await say(first, "Hello?")
    update = await second.conversation(id=ack["message"]["conversation_id"])
    assert update["status"] in ("queued", "active")
    for socket in (first, second):
        await socket.close()


async def test_one_address_makes_only_so_many_new_contacts_by_writing(inbox, operator, settings):
    settings.NEW_CONTACTS_PER_ADDRESS_PER_HOUR = 2
    sockets, widget, flooder = await _two_new_visitors_write_and_a_third_is_refused(inbox)
    assert await db(Contact.objects.count)() == 2
    # Those who already are contacts go on writing.
    await say(sockets[0], "Still there?")
    for socket in [*sockets, widget]:
        await socket.close()


async def test_behind_a_trusted_proxy_sockets_count_per_forwarded_client(inbox, settings):
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 1
    proxy, ann, bob = an_address(), an_address(), an_address()

    def forwarded(client):
        return [(b"x-forwarded-for", f"{an_address()}, {client}".encode())]

    # Not trusted: the header is anyone's to write, and both sockets come from the proxy. (The first is counted
    # once its hello is answered: the socket is accepted before it is counted.)
    first, _ = await visitor_behind(inbox, proxy, forwarded(ann))
    second = await widget_socket(inbox, address=proxy, headers=forwarded(bob))
    assert await second.closed() == 4429
    await first.close()
    await second.close()
    settings.TRUSTED_PROXY_COUNT = 1
    sockets = [(await visitor_behind(inbox, proxy, forwarded(client)))[0] for client in (ann, bob)]
    refused = await widget_socket(inbox, address=proxy, headers=forwarded(ann))
    assert await refused.closed() == 4429
    for socket in [*sockets, refused]:
        await socket.close()


async def visitor_behind(inbox, proxy, headers):
    socket = await widget_socket(inbox, address=proxy, headers=headers)
    await socket.send({"type": "hello"})
    return socket, await socket.expect("welcome")


async def test_while_the_shared_cache_is_unreachable_visitors_still_write(inbox, operator, settings):
    # Redis restarting: the limits counted in it fail open rather than failing every visitor's message.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.WS_MAX_SOCKETS_PER_ADDRESS = 5
    widget = await widget_socket(inbox, address=an_address())
    await widget.send({"type": "hello"})
    await widget.expect("welcome")
    ack = await say(widget, "Is anyone there?")
    assert ack["message"]["body"] == "Is anyone there?"
    await widget.close()


async def test_open_widget_sockets_refresh_their_visitors_last_seen_together(inbox, monkeypatch):
    """One statement per period for every visitor of the process (it was one per socket), and only for the
    conversations that still have a socket."""
    from chat.consumers import widget as widget_consumer
    from chat.services import conversations

    monkeypatch.setattr(conversations, "SOCKET_HEARTBEAT_SECONDS", 0.05)
    sockets = [(await visitor(inbox))[0] for _ in range(3)]
    ids = [(await say(socket, "still here"))["message"]["conversation_id"] for socket in sockets]
    await sockets[2].close()
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    await db(Conversation.objects.filter(pk__in=ids).update)(visitor_last_seen_at=old)
    statements = []
    real = widget_consumer.visitors.visitors_heartbeat
    monkeypatch.setattr(
        widget_consumer.visitors,
        "visitors_heartbeat",
        lambda **kwargs: statements.append(kwargs["conversation_ids"]) or real(**kwargs),
    )
    for _ in range(40):
        await asyncio.sleep(0.05)
        if statements:
            break
    seen = dict(
        await db(lambda: list(Conversation.objects.filter(pk__in=ids).values_list("pk", "visitor_last_seen_at")))()
    )
    assert seen[ids[0]] > old and seen[ids[1]] > old
    assert seen[ids[2]] == old  # its socket closed
    assert set(ids[:2]) <= set(statements[0]) and ids[2] not in statements[0]
    for socket in sockets[:2]:
        await socket.close()


async def test_socket_tests_hand_their_database_connections_back_to_the_pool(inbox):
    """The suite's own harness: channels' communicator turns off closing connections after each database call, so
    the worker threads' pooled connections outlived the test and the pool ran dry a few hundred tests later."""
    require_services()
    pool = connections["default"].pool

    def in_use():
        stats = pool.get_stats()
        return stats["pool_size"] - stats["pool_available"]

    before = await db(in_use)()
    for _ in range(3):
        widget = await widget_socket(inbox, site_key="no-such-key")
        assert await widget.closed() == 4403
    await asyncio.sleep(0.2)
    assert await db(in_use)() <= before
