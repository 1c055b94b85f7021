"""The one module that sends realtime events. Called only from services, and only on commit.

Audiences (channel-layer groups):
- `conversation_visitor(conversation_id)`: the visitor's sockets of one conversation — never a private note.
- `contact_visitor(contact_id)`: every widget socket of one visitor (to learn that a conversation started).
- `inbox_visitors(inbox_id)`: every widget socket of an inbox, whoever the visitor: only what is the same for all of
  them and public (whether the inbox is online), never anything about a conversation or a person.
- `inbox_operators(inbox_id)`: every operator socket of an inbox (queue, assignment, status changes, and the
  messages of a conversation nobody holds yet).
- `operator(user_id)`: every socket of one operator (the messages of the conversations they hold).
A consumer in a group receives {"type": "realtime.frame", "frame": {...}} and forwards the frame as it is. A frame
about one inbox also carries `"inbox_id"` beside it: an operator socket forwards it only while that inbox is still one
of hers (a membership change may not have reached the socket yet). The control frames (OPERATOR_CONTROL_FRAMES)
go to `operator(user_id)` and are handled by her sockets, never forwarded: her inboxes changed, her session ended.

Frames for operators of an inbox are also appended to `InboxEvent`, in the same transaction as the change,
and carry its id as `event_id`: a reconnecting inbox asks for everything after the last id it saw (`sync`).

Across processes: with Redis the channel layer reaches every process. The in-memory layer (embedded
default) only reaches sockets of its own process, so a process that is not the ASGI server (a Celery
worker) hands its group sends to the server over loopback HTTP (the bridge). Each post is signed with a key of
this installation (bridge_signature: SECRET_KEY and a random secret kept in VAR_DIR), and carries its time and
a nonce; the server takes it only from loopback, fresh, and once (chat.api.realtime_bridge, security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import urllib.request
import uuid
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction

from chat.models import InboxEvent

logger = logging.getLogger(__name__)

# Event type names, in one place.
WELCOME = "welcome"
MESSAGE_NEW = "message.new"
MESSAGE_ACK = "message.ack"
MESSAGE_READ = "message.read"
TYPING = "typing"
CONVERSATION_QUEUED = "conversation.queued"
CONVERSATION_UPDATED = "conversation.updated"
OPERATOR_UPDATED = "operator.updated"
SURVEY_INVITE = "survey.invite"
SURVEY_ANSWERED = "survey.answered"
TICKET_UPDATED = "ticket.updated"
SLA_ALERT = "sla.alert"
AVAILABILITY = "availability"
ERROR = "error"
# Control frames for an operator's own sockets (never sent to a client).
OPERATOR_INBOXES_CHANGED = "operator.inboxes_changed"
OPERATOR_SESSION_CHANGED = "operator.session_changed"
OPERATOR_CONTROL_FRAMES = frozenset({OPERATOR_INBOXES_CHANGED, OPERATOR_SESSION_CHANGED})

BRIDGE_PATH = "/internal/realtime/"
BRIDGE_SIGNATURE_HEADER = "X-Supportdesk-Signature"
BRIDGE_MAX_AGE_SECONDS = 60
BRIDGE_SECRET_FILE = "realtime-bridge.key"

_server_process = False


def mark_server_process() -> None:
    """Called when the websocket routing is loaded: this process holds sockets of the in-memory layer."""
    global _server_process
    _server_process = True


def conversation_visitor_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}.visitor"


def contact_visitor_group(visitor_id: uuid.UUID) -> str:
    # By visitor id, not contact id: a visitor's tabs join it before their first message makes the contact.
    return f"visitor.{visitor_id.hex}"


def inbox_visitors_group(inbox_id: int) -> str:
    return f"inbox.{inbox_id}.visitors"


def inbox_operators_group(inbox_id: int) -> str:
    return f"inbox.{inbox_id}.operators"


def operator_group(user_id: int) -> str:
    return f"operator.{user_id}"


@lru_cache
def _installation_secret(path: Path) -> bytes:
    """A random secret made on first use, readable by this desk's user only (0600).

    Web, worker and beat of one installation share VAR_DIR, so they share it; whoever only read the source
    (where the development SECRET_KEY is, the key when SECRET_KEY is unset) does not have it. The first process
    to link its file wins, so processes starting together agree on one secret.
    """
    if not path.exists():
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_bytes().strip()


def bridge_signature(body: bytes) -> str:
    secret = _installation_secret(Path(settings.VAR_DIR) / BRIDGE_SECRET_FILE)
    key = hashlib.sha256(b"supportdesk.realtime.bridge:" + settings.SECRET_KEY.encode() + b":" + secret).digest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


# Nonces of the posts this server took, until their freshness window ends (the bridge serves the one server
# process of the in-memory layer, so its memory is the process's).
_bridge_nonces: dict[str, float] = {}


def bridge_nonce_unused(nonce: str, sent_at: float, now: float) -> bool:
    """True the first time a fresh post's nonce is seen; it is then remembered for the freshness window."""
    # Oldest first (insertion order); posts arrive in about the order they were sent, so stop at a live one.
    for seen, until in list(_bridge_nonces.items()):
        if until >= now:
            break
        del _bridge_nonces[seen]
    if nonce in _bridge_nonces:
        return False
    _bridge_nonces[nonce] = sent_at + BRIDGE_MAX_AGE_SECONDS
    return True


def _needs_bridge(layer) -> bool:
    return isinstance(layer, InMemoryChannelLayer) and not _server_process


def _envelope(frame: dict, inbox_id: int | None) -> dict:
    event = {"type": "realtime.frame", "frame": frame}
    if inbox_id is not None:
        event["inbox_id"] = inbox_id
    return event


def _bridge_post(group: str, frame: dict, inbox_id: int | None = None) -> None:
    body = json.dumps(
        {"group": group, "frame": frame, "inbox_id": inbox_id, "ts": time.time(), "nonce": secrets.token_hex(16)}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 — SITE_URL is the desk itself
        settings.SITE_URL.rstrip("/") + BRIDGE_PATH,
        data=body,
        headers={"Content-Type": "application/json", BRIDGE_SIGNATURE_HEADER: bridge_signature(body)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            response.read()
    except OSError:
        # The server is down: the clients will catch up from the database when they reconnect.
        logger.warning("realtime bridge: %s unreachable, frame for %s not pushed", settings.SITE_URL, group)


def group_send_now(group: str, frame: dict, *, inbox_id: int | None = None) -> None:
    layer = get_channel_layer()
    if _needs_bridge(layer):
        _bridge_post(group, frame, inbox_id)
        return
    async_to_sync(layer.group_send)(group, _envelope(frame, inbox_id))


async def group_send_async(group: str, frame: dict, *, inbox_id: int | None = None) -> None:
    """For the bridge, which answers its caller whether the frame went out."""
    await get_channel_layer().group_send(group, _envelope(frame, inbox_id))


async def group_send_ephemeral(group: str, frame: dict, *, inbox_id: int | None = None) -> None:
    """For frames that change nothing in the database (typing): while the channel layer is down they are dropped,
    not answered with `server_error`; nothing needs catching up, as the next one replaces them."""
    try:
        await group_send_async(group, frame, inbox_id=inbox_id)
    except Exception:
        logger.warning(
            "realtime: ephemeral frame %s for %s dropped, the channel layer is unreachable", frame.get("type"), group
        )


# Set when a push failed (the channel layer was unreachable); the sockets of this process then catch up from the
# database once the layer answers again (chat.consumers.recovery).
push_failed = False


def _push(group: str, frame: dict, inbox_id: int | None) -> None:
    """After the commit: the change is stored, so a layer that is down must not fail the caller (an operator would
    get `server_error` for a message that was sent); sockets catch up when the layer is back."""
    global push_failed
    deferred = _deferred.get()
    if deferred is not None:
        # A socket's database call (chat.consumers.protocol.db): its event loop sends them once the call returns.
        deferred.append((group, frame, inbox_id))
        return
    try:
        group_send_now(group, frame, inbox_id=inbox_id)
    except Exception:
        push_failed = True
        logger.warning("realtime: frame %s for %s not pushed; sockets will catch up", frame.get("type"), group)


# Set by a socket's database call for the thread it runs in: the pushes its commits make are collected here and
# sent from the event loop afterwards, instead of one hop back to the loop per group send (async_to_sync).
_deferred: ContextVar[list | None] = ContextVar("realtime_deferred", default=None)


def collect_pushes() -> tuple[list, object]:
    """Starts collecting the pushes of the commits made in this context (and the threads it calls into)."""
    pushes: list = []
    return pushes, _deferred.set(pushes)


def stop_collecting(token) -> None:
    _deferred.reset(token)


async def send_pushes(pushes: list) -> None:
    """The collected pushes, in the order of their commits, from the event loop."""
    global push_failed
    if not pushes:
        return
    layer = get_channel_layer()
    for group, frame, inbox_id in pushes:
        try:
            await layer.group_send(group, _envelope(frame, inbox_id))
        except Exception:
            push_failed = True
            logger.warning("realtime: frame %s for %s not pushed; sockets will catch up", frame.get("type"), group)


def _on_commit(group: str, frame: dict, *, inbox_id: int | None = None) -> None:
    transaction.on_commit(lambda: _push(group, frame, inbox_id))


def send_to_conversation_visitor(conversation_id: int, frame: dict) -> None:
    if frame.get("type") == MESSAGE_NEW and frame.get("message", {}).get("private"):
        raise ValueError("a private note never goes to a visitor")
    _on_commit(conversation_visitor_group(conversation_id), frame)


def send_to_contact_visitor(visitor_id: uuid.UUID, frame: dict) -> None:
    if frame.get("type") == MESSAGE_NEW and frame.get("message", {}).get("private"):
        raise ValueError("a private note never goes to a visitor")
    _on_commit(contact_visitor_group(visitor_id), frame)


# Every visitor of an inbox hears these: frames about the inbox itself, never about a conversation or a person.
INBOX_VISITOR_FRAMES = frozenset({AVAILABILITY})


def send_to_inbox_visitors(inbox_id: int, frame: dict) -> None:
    if frame.get("type") not in INBOX_VISITOR_FRAMES:
        raise ValueError(f"{frame.get('type')!r} is not for every visitor of an inbox")
    _on_commit(inbox_visitors_group(inbox_id), frame)


def _logged(inbox_id: int, frame: dict) -> dict:
    """Appends an operator frame to the inbox's InboxEvent log (for `sync`) in the caller's transaction; returns it
    with its `event_id`."""
    conversation_id = (
        (frame.get("conversation") or {}).get("id")
        or (frame.get("message") or {}).get("conversation_id")
        or frame.get("conversation_id")
    )
    event = InboxEvent.objects.create(
        inbox_id=inbox_id, conversation_id=conversation_id, type=frame["type"], payload=frame
    )
    return {**frame, "event_id": event.pk}


def send_to_inbox_operators(inbox_id: int, frame: dict) -> None:
    """Logged as an InboxEvent (for `sync`) in the caller's transaction, pushed on commit."""
    _on_commit(inbox_operators_group(inbox_id), _logged(inbox_id, frame), inbox_id=inbox_id)


def send_to_conversation_operators(
    *, inbox_id: int, assignee_id: int | None, frame: dict, event_id: int | None = None
) -> None:
    """A conversation's traffic: to its assignee's sockets, or to the whole inbox while nobody has it.

    Logged for the inbox like every operator frame, so `sync` replays it to whoever reconnects; `event_id` names
    the InboxEvent when the caller's own statement wrote it (a visitor's message on PostgreSQL). Sending every
    message to every operator of a busy inbox would multiply the channel layer's work by the number of operators
    for frames that only the assignee shows.
    """
    group = inbox_operators_group(inbox_id) if assignee_id is None else operator_group(assignee_id)
    logged = _logged(inbox_id, frame) if event_id is None else {**frame, "event_id": event_id}
    _on_commit(group, logged, inbox_id=inbox_id)


def send_to_operator(user_id: int, frame: dict) -> None:
    _on_commit(operator_group(user_id), frame)
