"""Embedded default (in-memory channel layer): a process that is not the server still reaches its sockets."""

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.test import Client

from chat import realtime
from chat.services.messages import operator_message_send, visitor_message_send
from chat.services.visitors import visitor_session_start
from tests.chat.live import ORIGIN, LiveClient, agent_url, widget_url
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


def test_an_operator_removed_or_signed_out_by_another_process_is_so_on_the_servers_socket(as_worker_process):
    server = as_worker_process
    inbox, kept = InboxFactory(), InboxFactory()
    operator = OperatorFactory(inboxes=[inbox, kept], status="away")
    client = Client()
    client.force_login(operator.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    left_contact, _ = visitor_session_start(inbox=inbox, name="Lena")
    kept_contact, _ = visitor_session_start(inbox=kept, name="Kim")

    async def scenario():
        agent = LiveClient(agent_url(server.ws_url), origin=server.url, additional_headers={"Cookie": cookie})
        await agent.open()
        await agent.wait(lambda f: f["type"] == "welcome")
        await asyncio.to_thread(operator.inboxes.remove, inbox)
        await asyncio.sleep(0.5)  # nothing to see: her socket leaves the inbox's group
        await asyncio.to_thread(visitor_message_send, contact=left_contact, client_id=None, body="Not for her")
        await asyncio.to_thread(visitor_message_send, contact=kept_contact, client_id=None, body="Still hers")
        await agent.wait(agent.has_body("Still hers"))
        user = operator.user
        user.set_password("changed-elsewhere-3")
        await asyncio.to_thread(user.save)
        await asyncio.wait_for(agent.ws.wait_closed(), 10)
        return agent

    agent = asyncio.run(scenario())
    assert "Not for her" not in json.dumps(agent.frames)
    assert agent.ws.close_code == 4401


def _post(url, body: bytes, signature: str):
    request = Request(url, data=body, method="POST", headers={realtime.BRIDGE_SIGNATURE_HEADER: signature})
    try:
        with urlopen(request, timeout=5) as response:  # noqa: S310 — loopback test server
            return response.status
    except HTTPError as exc:
        return exc.code


def _signed_with_secret_key_only(body: bytes) -> str:
    """What an attacker who read the source makes: SECRET_KEY is the public development key when it is unset."""
    key = hashlib.sha256(b"supportdesk.realtime.bridge:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _fresh_body(group: str, frame: dict, **extra) -> bytes:
    return json.dumps(
        {"group": group, "frame": frame, "ts": time.time(), "nonce": secrets.token_hex(16), **extra}
    ).encode()


def test_the_bridge_refuses_unsigned_forged_and_stale_requests(asgi_server):
    url = asgi_server.url + realtime.BRIDGE_PATH
    body = _fresh_body("operator.1", {"type": "x"})
    assert _post(url, body, "") == 403
    assert _post(url, body, "0" * 64) == 403
    assert _post(url, body, _signed_with_secret_key_only(body)) == 403
    old = _fresh_body("operator.1", {"type": "x"}, ts=time.time() - 3600)
    assert _post(url, old, realtime.bridge_signature(old)) == 403
    assert _post(url, body, realtime.bridge_signature(body)) == 200
    with pytest.raises(HTTPError) as exc:
        urlopen(url, timeout=5)  # noqa: S310
    assert exc.value.code == 405


def test_a_message_forged_with_the_source_code_key_never_reaches_the_visitor(as_worker_process):
    server = as_worker_process
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    contact, token = visitor_session_start(inbox=inbox, name="Ann")
    message, _ = visitor_message_send(contact=contact, client_id=None, body="hi")
    group = realtime.conversation_visitor_group(message.conversation_id)
    forged = {
        "type": realtime.MESSAGE_NEW,
        "message": {"id": 10**9, "conversation_id": message.conversation_id, "sender": "operator", "body": "Forged"},
    }

    async def scenario():
        client = LiveClient(widget_url(server.ws_url, inbox.site_key), origin=ORIGIN)
        await client.open()
        await client.send({"type": "hello", "visitor_token": token})
        await client.wait(lambda f: f["type"] == "welcome")
        body = _fresh_body(group, forged)
        status = await asyncio.to_thread(
            _post, server.url + realtime.BRIDGE_PATH, body, _signed_with_secret_key_only(body)
        )
        # The worker's own post, sent after the forged one, reaches the visitor: the forged one would be before it.
        await asyncio.to_thread(
            operator_message_send,
            profile=operator,
            conversation_id=message.conversation_id,
            client_id=None,
            body="Written by a worker",
        )
        await client.wait(client.has_body("Written by a worker"), timeout=10)
        await client.close()
        return status, [m["body"] for m in client.messages.values()]

    status, bodies = asyncio.run(scenario())
    assert status == 403
    assert "Forged" not in bodies and "Written by a worker" in bodies


def test_a_replayed_bridge_post_is_refused(as_worker_process, monkeypatch):
    sent = []
    real_urlopen = realtime.urllib.request.urlopen

    def recording_urlopen(request, **kwargs):
        sent.append(request)
        return real_urlopen(request, **kwargs)

    monkeypatch.setattr(realtime.urllib.request, "urlopen", recording_urlopen)
    realtime._bridge_post("operator.1", {"type": realtime.OPERATOR_UPDATED})
    (request,) = sent
    # Exactly what went over loopback, sent again within the freshness window.
    again = Request(request.full_url, data=request.data, method="POST", headers=dict(request.header_items()))
    try:
        with urlopen(again, timeout=5) as response:  # noqa: S310 — loopback test server
            status = response.status
    except HTTPError as exc:
        status = exc.code
    assert status == 403


def test_the_bridge_key_is_this_installations_own(tmp_path, settings):
    settings.VAR_DIR = tmp_path / "one"
    settings.VAR_DIR.mkdir()
    signature = realtime.bridge_signature(b"{}")
    assert (settings.VAR_DIR / realtime.BRIDGE_SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert realtime.bridge_signature(b"{}") == signature
    settings.VAR_DIR = tmp_path / "two"
    settings.VAR_DIR.mkdir()
    assert realtime.bridge_signature(b"{}") != signature
    assert signature != _signed_with_secret_key_only(b"{}")


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
