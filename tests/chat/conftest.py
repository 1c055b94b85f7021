"""Chat test helpers: websocket clients for the widget and the agent inbox, over the real ASGI routing."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from chat.routing import websocket_application
from chat.services.visitors import visitor_session_start
from tests.factories import InboxFactory, OperatorFactory

ORIGIN = "http://site.test"
_ids = itertools.count(1)


class Socket:
    """A websocket client speaking JSON frames, with helpers that state what the user would see."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.closed_code: int | None = None

    async def connect(self) -> None:
        connected, _ = await self.communicator.connect()
        assert connected

    async def send(self, frame) -> None:
        if isinstance(frame, dict):
            frame = json.dumps(frame)
        await self.communicator.send_to(text_data=frame)

    async def recv(self, timeout: float = 3) -> dict:
        message = await self.communicator.receive_output(timeout)
        if message["type"] == "websocket.close":
            self.closed_code = message.get("code")
            raise AssertionError(f"socket closed with {self.closed_code}")
        return json.loads(message["text"])

    async def expect(self, type_: str, timeout: float = 3, **match) -> dict:
        """The next frame of this type (skipping others), whose fields equal `match`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def conversation(self, timeout: float = 3, **match) -> dict:
        """The next `conversation.updated` whose conversation has the given fields."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.expect("conversation.updated", max(0.01, deadline - loop.time()))
            if all(frame["conversation"].get(k) == v for k, v in match.items()):
                return frame["conversation"]

    async def error(self, code: str, timeout: float = 3) -> dict:
        frame = await self.expect("error", timeout)
        assert frame["code"] == code, frame
        return frame

    async def closed(self, timeout: float = 3) -> int:
        while True:
            message = await self.communicator.receive_output(timeout)
            if message["type"] == "websocket.close":
                return message.get("code")

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def drain(self, timeout: float = 0.2) -> list[dict]:
        frames = []
        while not await self.communicator.receive_nothing(timeout):
            frames.append(await self.recv())
        return frames

    async def close(self) -> None:
        await self.communicator.disconnect()


async def widget_socket(
    inbox, origin: str = ORIGIN, site_key: str | None = None, address: str | None = None, headers=()
) -> Socket:
    communicator = WebsocketCommunicator(
        websocket_application,
        f"/ws/widget/{site_key or inbox.site_key}/",
        headers=([(b"origin", origin.encode())] if origin else []) + list(headers),
    )
    if address is not None:
        # The peer as daphne gives it (the communicator leaves it out).
        communicator.scope["client"] = [address, 40000]
    socket = Socket(communicator)
    await socket.connect()
    return socket


async def visitor(inbox, token: str | None = None, last_message_id: int | None = None, address: str | None = None):
    """A visitor who opened the widget: (socket, welcome frame)."""
    if token is None:
        _contact, token = await database_sync_to_async(visitor_session_start)(inbox=inbox)
    socket = await widget_socket(inbox, address=address)
    hello = {"type": "hello", "visitor_token": token}
    if last_message_id is not None:
        hello["last_message_id"] = last_message_id
    await socket.send(hello)
    welcome = await socket.expect("welcome")
    socket.token = token
    return socket, welcome


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def desk_origin() -> str:
    """The origin of SITE_URL: the desk's own pages, where the inbox is opened."""
    site = urlsplit(settings.SITE_URL)
    return f"{site.scheme}://{site.netloc}"


async def agent_socket(user=None, *, cookie: str | None = None, origin: str | None = "", host: str | None = None):
    """The inbox's socket, opened from the desk's own page unless `origin` names another (None: no Origin)."""
    if user is not None and cookie is None:
        cookie = await database_sync_to_async(_session_cookie)(user)
    headers = [(b"origin", (desk_origin() if origin == "" else origin).encode())] if origin is not None else []
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if host is not None:
        headers.append((b"host", host.encode()))
    communicator = WebsocketCommunicator(websocket_application, "/ws/agent/", headers=headers)
    socket = Socket(communicator)
    await socket.connect()
    return socket


async def operator_socket(profile, **options):
    socket = await agent_socket(profile.user, **options)
    welcome = await socket.expect("welcome")
    return socket, welcome


def an_address() -> str:
    """A client address of its own: the rate counters live in the shared cache, which outlives a test run."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def client_id() -> str:
    return f"c-{next(_ids)}"


async def say(socket: Socket, body: str, **extra) -> dict:
    """Sends a message and returns its acknowledgement."""
    cid = extra.pop("client_id", None) or client_id()
    await socket.send({"type": "message.send", "client_id": cid, "body": body, **extra})
    return await socket.expect("message.ack", client_id=cid)


@pytest.fixture
def inbox(transactional_db):
    return InboxFactory()


@pytest.fixture
def operator(inbox):
    return OperatorFactory(inboxes=[inbox], status="offline")
