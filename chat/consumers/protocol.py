"""The websocket protocol shared by the widget's and the inbox's sockets (protocol.md, docs/protocol.md).

Frames are parsed here (raw text, so malformed JSON is an `error` frame and not a crash), checked for
shape, and handed to a service; realtime frames from the channel layer are forwarded unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import realtime
from chat.services.errors import ChatError

logger = logging.getLogger(__name__)


def db(fn):
    """ORM work off the event loop, in a pool of threads (each with its own database connection).

    Channels' default runs every database call of a process in one thread, so one process can wait on
    only one query at a time; chat services are each one transaction with no thread-local state, and a
    socket handles its frames one after another, so each visitor's messages stay in order.

    The realtime frames the call's commits push are sent from the event loop once it returns (before the caller
    answers its own client), not from the thread: one hop per call instead of one more per group send.
    """
    in_thread = database_sync_to_async(fn, thread_sensitive=False)

    async def call(*args, **kwargs):
        # The thread runs in a copy of this context, so it appends to this list; sent even when the call raised
        # after a commit.
        pushes, token = realtime.collect_pushes()
        try:
            return await in_thread(*args, **kwargs)
        finally:
            realtime.stop_collecting(token)
            await realtime.send_pushes(pushes)

    return call


class SocketSet:
    """Open sockets of this process that one task per event loop serves together (one statement or probe for all
    of them, rather than one task per socket): `join` registers a socket and starts the task on first use."""

    def __init__(self, task):
        self.task = task  # a coroutine function of this SocketSet
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.running: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}

    def join(self, consumer, *args) -> None:
        self.sockets.add(consumer)
        loop = asyncio.get_running_loop()
        if loop not in self.running or self.running[loop].done():
            self.running[loop] = loop.create_task(self.task(self, *args))

    def discard(self, consumer) -> None:
        self.sockets.discard(consumer)

    def __iter__(self):
        return iter(list(self.sockets))


CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOODING = 4429
CLIENT_ID_MAX_CHARS = 64
NOTE_MAX_CHARS = 4000
SYNC_MAX_EVENTS = 500


class SocketClosed(Exception):
    """The consumer closed the socket while handling a frame: nothing more to send."""


FIELD_KINDS = {
    int: gettext_lazy("an integer"),
    str: gettext_lazy("a string"),
    bool: gettext_lazy("true or false"),
    dict: gettext_lazy("an object"),
}


def field(frame: dict, name: str, kind: type, *, required: bool = True):
    value = frame.get(name)
    if value is None:
        if required:
            raise ChatError("invalid_frame", _("The field “%(field)s” is required.") % {"field": name})
        return None
    valid = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not valid:
        raise ChatError(
            "invalid_frame", _("The field “%(field)s” must be %(kind)s.") % {"field": name, "kind": FIELD_KINDS[kind]}
        )
    return value


def client_id_field(frame: dict) -> str:
    client_id = field(frame, "client_id", str)
    if not 1 <= len(client_id) <= CLIENT_ID_MAX_CHARS:
        raise ChatError(
            "invalid_frame", _("client_id must be 1 to %(n)s characters long.") % {"n": CLIENT_ID_MAX_CHARS}
        )
    return client_id


ATTACHMENTS_MAX_IDS = 50


def attachments_field(frame: dict) -> list[int]:
    """The optional `attachments` of a `message.send`: ids of the sender's uploads."""
    ids = frame.get("attachments") or []
    if (
        not isinstance(ids, list)
        or len(ids) > ATTACHMENTS_MAX_IDS
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise ChatError("invalid_frame", _("The field “attachments” must be a list of upload ids."))
    return ids


def body_field(frame: dict, limit: int | None = None, *, allow_empty: bool = False) -> str:
    """`allow_empty`: a message that carries attachments needs no text (its body may also be missing)."""
    if allow_empty and frame.get("body") is None:
        return ""
    body = field(frame, "body", str)
    limit = limit or settings.MESSAGE_MAX_CHARS
    if not body.strip() and not allow_empty:
        raise ChatError("invalid_frame", _("The message is empty."))
    if len(body) > limit:
        raise ChatError("too_large", _("A message is at most %(n)s characters long.") % {"n": limit})
    return body


class ProtocolConsumer(AsyncWebsocketConsumer):
    """One JSON object per frame, dispatched on its `type`; refusals are `error` frames."""

    handlers: dict[str, str] = {}

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, detail: str, frame: dict | None = None) -> None:
        error = {"type": realtime.ERROR, "code": code, "detail": str(detail)}
        if frame is not None:
            error["ref_type"] = frame.get("type") if isinstance(frame.get("type"), str) else None
            if isinstance(frame.get("client_id"), str):
                error["client_id"] = frame["client_id"]
        await self.send_frame(error)

    async def join_group(self, group: str) -> None:
        """Joins `group`, or, when the channel layer is down, leaves it to the catch-up once the layer is back:
        the frame being handled was stored, so it must not turn into `server_error`."""
        self.joined.add(group)
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            realtime.push_failed = True
            logger.warning("channel layer unreachable: %s joins %s when it is back", self.channel_name, group)

    async def rejoin(self) -> None:
        """After an outage of the channel layer: a Redis that restarted empty has forgotten the groups."""
        for group in list(self.joined):
            await self.channel_layer.group_add(group, self.channel_name)

    async def catch_up(self, start: int | None) -> None:
        """The channel layer is back: send what this socket missed while it was down, after `start` (recovery.py)."""

    async def close_with(self, code: int) -> None:
        await self.close(code=code)
        raise SocketClosed

    async def receive(self, text_data=None, bytes_data=None):
        raw = text_data if text_data is not None else bytes_data
        size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw or b"")
        if size > settings.WS_MAX_FRAME_BYTES:
            await self.send_error(
                "too_large", _("A frame is at most %(n)s bytes long.") % {"n": settings.WS_MAX_FRAME_BYTES}
            )
            return
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            await self.send_error("invalid_frame", _("A frame is one JSON object."))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("invalid_frame", _("A frame is a JSON object with a “type”."))
            return
        handler = self.handlers.get(frame["type"])
        if handler is None:
            await self.send_error("unknown_type", _("Unknown frame type."), frame)
            return
        try:
            await self.before_frame(frame)
            await getattr(self, handler)(frame)
        except SocketClosed:
            return
        except ChatError as exc:
            await self.send_error(exc.code, exc.detail, frame)
        except Exception:
            logger.exception("frame %s failed", frame.get("type"))
            await self.send_error("server_error", _("Something went wrong on our side; please try again."), frame)

    async def before_frame(self, frame: dict) -> None:
        """Checks every frame must pass (authentication)."""

    async def dispatch(self, message):
        # Channels hops to its database thread before every handler to close stale connections. Here
        # every database call goes through `db`, which does that itself in the thread it runs in; the
        # extra hop per frame (per realtime frame too) only queued behind real queries under load.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def realtime_frame(self, event):
        await self.send_frame(event["frame"])
