"""Embedded default (in-memory channel layer): a process that is not the server still reaches its sockets."""

import asyncio
import json
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.conf import settings

from chat import realtime
from chat.services.messages import operator_message_send, visitor_message_send
from chat.services.visitors import visitor_session_start
from tests.chat.live import ORIGIN, LiveClient, widget_url
from tests.factories import InboxFactory, OperatorFactory

pytestmark = pytest.mark.slow


@pytest.fixture
def as_worker_process(monkeypatch, asgi_server):
    """This test process plays a Celery worker: no sockets of its own, the server at SITE_URL."""
    if settings.REDIS_URL:
        pytest.skip("with Redis the channel layer itself crosses processes")
    monkeypatch.setattr(realtime, "_server_process", False)
    monkeypatch.setattr(settings, "SITE_URL", asgi_server.url)
    return asgi_server


def test_a_reply_written_by_another_process_reaches_the_visitor_through_the_server(as_worker_process):
    server = as_worker_process
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    contact, token = visitor_session_start(inbox=inbox, name="Ann")
    message, _ = visitor_message_send(contact=contact, client_id=None, body="hi")

    async def scenario():
        client = LiveClient(widget_url(server.ws_url, inbox.site_key), origin=ORIGIN)
        await client.open()
        await client.send({"type": "hello", "visitor_token": token})
        await client.wait(lambda f: f["type"] == "welcome")
        await asyncio.to_thread(
            operator_message_send,
            profile=operator,
            conversation_id=message.conversation_id,
            client_id=None,
            body="Written by a worker",
        )
        got = await client.wait(client.has_body("Written by a worker"), timeout=10)
        await client.close()
        return got

    assert asyncio.run(scenario())["message"]["sender"] == "operator"


def _post(url, body: bytes, signature: str):
    request = Request(url, data=body, method="POST", headers={realtime.BRIDGE_SIGNATURE_HEADER: signature})
    try:
        with urlopen(request, timeout=5) as response:  # noqa: S310 — loopback test server
            return response.status
    except HTTPError as exc:
        return exc.code


def test_the_bridge_refuses_unsigned_forged_and_replayed_requests(asgi_server):
    url = asgi_server.url + realtime.BRIDGE_PATH
    body = json.dumps({"group": "operator.1", "frame": {"type": "x"}, "ts": time.time()}).encode()
    assert _post(url, body, "") == 403
    assert _post(url, body, "0" * 64) == 403
    old = json.dumps({"group": "operator.1", "frame": {"type": "x"}, "ts": time.time() - 3600}).encode()
    assert _post(url, old, realtime.bridge_signature(old)) == 403
    assert _post(url, body, realtime.bridge_signature(body)) == 200
    with pytest.raises(HTTPError) as exc:
        urlopen(url, timeout=5)  # noqa: S310
    assert exc.value.code == 405


def test_a_sweep_in_a_real_worker_process_reaches_the_visitors_socket(asgi_server, celery_worker_factory):
    """Whatever the channel layer: the sweep runs in a Celery worker, the visitor is on daphne."""
    from chat.tasks import chat_sweep

    inbox = InboxFactory()  # nobody online: the waiting conversation will be missed
    worker = celery_worker_factory(SITE_URL=asgi_server.url)

    async def scenario():
        client = LiveClient(widget_url(asgi_server.ws_url, inbox.site_key), origin=ORIGIN)
        await client.open()
        await client.send({"type": "hello"})
        await client.wait(lambda f: f["type"] == "welcome")
        await client.say("Anyone there?")
        await asyncio.to_thread(chat_sweep.delay)
        ended = await client.wait(
            lambda f: f["type"] == "conversation.updated" and f["conversation"]["status"] == "ended", timeout=30
        )
        notice = await client.wait(lambda f: f["type"] == "message.new" and f["message"]["sender"] == "system")
        await client.close()
        return ended, notice

    ended, notice = asyncio.run(scenario())
    assert ended["conversation"]["end_reason"] == "missed", worker.output()[-2000:]
    assert notice["message"]["body"]
