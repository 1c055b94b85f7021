"""A daphne process on a Redis of its own that stops for a few seconds mid-chat (and comes back empty, as a
Redis without persistence does): every message either side wrote is acknowledged, typing is not refused, and
each open socket gets every message of the other, once, without reconnecting."""

import asyncio
import time

import pytest

from chat.models import Message
from tests.chat.live import ORIGIN, LiveClient, agent_url, widget_url
from tests.chat.test_multiprocess import session_cookie
from tests.factories import InboxFactory, OperatorFactory
from tests.processes import ManagedProcess, free_port, require_services

pytestmark = [pytest.mark.slow, pytest.mark.services]


class PrivateRedis(ManagedProcess):
    """A redis-server of the test's own, on a free port, without persistence: stopped and started at will."""

    def __init__(self, log_dir):
        self.port = free_port()
        super().__init__(
            f"redis-{self.port}",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            {"PATH": "/usr/bin:/bin:/usr/local/bin"},
            log_dir,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        ready = self.output().count("Ready to accept connections")
        super().start()
        deadline = time.monotonic() + 20
        while self.output().count("Ready to accept connections") <= ready:
            assert time.monotonic() < deadline, self.output()[-2000:]
            time.sleep(0.05)


@pytest.fixture
def private_redis(log_dir):
    redis = PrivateRedis(log_dir)
    redis.start()
    yield redis
    redis.stop()


def test_a_redis_restart_mid_chat_loses_no_message_and_refuses_none(asgi_server_factory, private_redis):
    require_services()
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox], status="offline")
    cookie = session_cookie(operator.user)
    server = asgi_server_factory(REDIS_URL=private_redis.url)

    async def scenario():
        agent = LiveClient(agent_url(server.ws_url), origin=server.url, additional_headers={"Cookie": cookie})
        await agent.open()
        await agent.wait(lambda f: f["type"] == "welcome")
        widget = LiveClient(widget_url(server.ws_url, inbox.site_key), origin=ORIGIN)
        await widget.open()
        await widget.send({"type": "hello"})
        await widget.wait(lambda f: f["type"] == "welcome")
        conversation_id = (await widget.say("Hello?"))["conversation_id"]
        await agent.wait(agent.has_body("Hello?"))
        await agent.say("Hi, how can I help?", conversation_id=conversation_id)
        await widget.wait(widget.has_body("Hi, how can I help?"))

        # Redis stops for 4 seconds while both keep writing (and typing).
        private_redis.stop()
        from_operator = ["Let me check.", "One moment, please."]
        from_visitor = ["Is it in stock?", "I need it by Friday."]
        for mine, theirs in zip(from_operator, from_visitor, strict=True):
            await agent.send({"type": "typing", "conversation_id": conversation_id, "is_typing": True})
            await agent.say(mine, conversation_id=conversation_id)
            await widget.send({"type": "typing", "is_typing": True})
            await widget.say(theirs)
        await asyncio.sleep(4)
        private_redis.start()
        from_operator.append("Found it: it ships today.")
        await agent.say(from_operator[-1], conversation_id=conversation_id)
        from_visitor.append("Great, thanks!")
        await widget.say(from_visitor[-1])

        for body in from_operator:
            await widget.wait(widget.has_body(body), timeout=20)
        for body in from_visitor:
            await agent.wait(agent.has_body(body), timeout=20)
        errors = [f for f in agent.frames + widget.frames if f["type"] == "error"]
        still_open = all(client._reader is not None and not client._reader.done() for client in (widget, agent))
        await widget.close()
        await agent.close()
        return widget, agent, errors, still_open

    widget, agent, errors, still_open = asyncio.run(scenario())
    assert errors == []
    assert still_open
    stored = list(Message.objects.filter(conversation__inbox=inbox).order_by("id").values_list("id", flat=True))
    assert len(stored) == 8
    # Lost: none, on either side. Duplicated: no row twice, and no message delivered twice to an open socket.
    assert sorted(widget.messages) == stored
    assert sorted(agent.messages) == stored
    for client in (widget, agent):
        assert [id for id, times in client.deliveries.items() if times > 1] == []
