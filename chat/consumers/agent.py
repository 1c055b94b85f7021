"""The inbox's socket: an operator's presence, claims, replies, notes, transfers, resolutions and sync."""

from __future__ import annotations

import asyncio
import random
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain
from django.utils.translation import gettext as _

from chat import realtime, selectors
from chat.consumers import recovery
from chat.consumers.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    NOTE_MAX_CHARS,
    SYNC_MAX_EVENTS,
    ProtocolConsumer,
    SocketClosed,
    attachments_field,
    body_field,
    client_id_field,
    db,
    field,
)
from chat.inbox_selectors import operator_for_user, operator_session_valid, session_user
from chat.models import MAIL_KINDS, Conversation, OperatorProfile
from chat.services import assignment, conversations, labels, messages, presence, receipts
from chat.services.access import session_digest
from chat.services.errors import ChatError


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def desk_origin_allowed(scope) -> bool:
    """The page that opens the socket is one of the desk's own: SITE_URL's origin, a CSRF trusted origin (Django's
    `https://*.example.com` form included), or the host the socket was opened on, with its scheme.

    The session cookie is sent by every page of the same site (another port, a sibling subdomain), so without this
    such a page would act as the logged-in operator. Browsers always send Origin on a websocket handshake: a socket
    without one is refused too.
    """
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    if not origin or origin == "null":
        return False
    scheme, netloc = _origin(origin)
    if (scheme, netloc) == _origin(settings.SITE_URL):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted_scheme, trusted_netloc = _origin(trusted)
        if scheme == trusted_scheme and (
            netloc == trusted_netloc or (trusted_netloc.startswith("*") and is_same_domain(netloc, trusted_netloc[1:]))
        ):
            return True
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    own_scheme = "https" if scope.get("scheme") == "wss" else "http"
    domain, _port = split_domain_port(host)
    return bool(domain) and netloc == host and scheme == own_scheme and validate_host(domain, settings.ALLOWED_HOSTS)


class AgentConsumer(ProtocolConsumer):
    """An operator's inbox: a staff user with an operator profile, authenticated by the Django session."""

    handlers = {
        "presence.set": "on_presence_set",
        "conversation.claim": "on_claim",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "conversation.transfer": "on_transfer",
        "conversation.resolve": "on_resolve",
        "conversation.history": "on_history",
        "conversation.labels": "on_labels",
        "sync": "on_sync",
        "message.read": "on_message_read",
    }

    async def connect(self):
        self.profile: OperatorProfile | None = None
        self.joined: set[str] = set()
        self.inbox_ids: set[int] = set()
        # The heartbeat and a membership notice may both recompute the groups: one at a time, or the one that read
        # the older membership could apply it last.
        self.following = asyncio.Lock()
        self.session_key: str | None = None
        self.ended = False
        self.delivered = recovery.Delivered()
        self.heartbeat: asyncio.Task | None = None
        self.beating: asyncio.Future | None = None
        self.typing_sent: dict[int, tuple[bool, float]] = {}
        # Accept first, so that a refusal reaches the client as a close code and not a bare HTTP 403.
        await self.accept()
        if not desk_origin_allowed(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        user = await db(session_user)(self.scope["session"])
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Who may use the inbox is decided as for the inbox page.
        profile = await db(operator_for_user)(user=user)
        if profile is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session_key = self.scope["session"].session_key
        self.profile = await db(presence.operator_connected)(profile=profile)
        self.heartbeat = asyncio.ensure_future(self._heartbeat())
        # Her own group first: a membership change committed while her inboxes are read is still heard.
        await self.join_group(realtime.operator_group(profile.user_id))
        await self._follow_inboxes()
        await self.send_frame(await db(selectors.operator_welcome)(self.profile))
        recovery.watch(self)

    async def send_frame(self, frame: dict) -> None:
        # The inbox events this socket delivered: what a catch-up after a channel-layer outage need not send again.
        if frame.get("type") == realtime.WELCOME:
            self.delivered.start_at(frame.get("last_event_id"))
        elif isinstance(frame.get("event_id"), int):
            self.delivered.add((frame["event_id"],))
        await super().send_frame(frame)

    async def catch_up(self, start: int | None) -> None:
        await self.rejoin()
        for event in await db(self._sync_frames)(start):
            if not isinstance(event.get("event_id"), int) or self.delivered.missed(event["event_id"]):
                await self.send_frame(event)

    async def _follow_inboxes(self) -> None:
        """Joins the groups of her inboxes as they are now, and leaves those of inboxes she no longer belongs to."""
        async with self.following:
            self.inbox_ids = set(await db(selectors.operator_inbox_ids)(self.profile))
            wanted = {realtime.operator_group(self.profile.user_id)} | {
                realtime.inbox_operators_group(i) for i in self.inbox_ids
            }
            for group in wanted - self.joined:
                await self.join_group(group)
            for group in self.joined - wanted:
                self.joined.discard(group)
                await self.channel_layer.group_discard(group, self.channel_name)

    async def realtime_frame(self, event):
        frame = event["frame"]
        if self.ended:
            return
        if frame.get("type") == realtime.OPERATOR_INBOXES_CHANGED:
            await self._follow_inboxes()
            return
        if frame.get("type") == realtime.OPERATOR_SESSION_CHANGED:
            ended = frame.get("ended_session")
            if ended is None:
                await self._check_session()
            elif ended == session_digest(self.session_key or ""):
                await self._end_session()
            return
        # A frame of an inbox she has just left may already be queued for this socket: never forwarded.
        if event.get("inbox_id") is not None and event["inbox_id"] not in self.inbox_ids:
            return
        await self.send_frame(frame)

    async def _heartbeat(self):
        # Spread over the period, as the visitors' are; the count itself is kept by connect and disconnect.
        await asyncio.sleep(random.uniform(0, conversations.SOCKET_HEARTBEAT_SECONDS))
        while True:
            # Shielded from the cancel in disconnect, which waits for it: a heartbeat still running in its thread
            # must not land after the disconnect and count a closed socket again.
            self.beating = asyncio.ensure_future(db(presence.operator_heartbeat)(profile=self.profile))
            await asyncio.shield(self.beating)
            # Also catches a session or membership change that sent no signal (a bulk update, an expiry).
            if not await self._check_session():
                return
            await self._follow_inboxes()
            await asyncio.sleep(conversations.SOCKET_HEARTBEAT_SECONDS)

    async def disconnect(self, code):
        recovery.unwatch(self)
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.beating is not None:
            await asyncio.gather(self.beating, return_exceptions=True)
        if self.profile is not None:
            await db(presence.operator_disconnected)(profile=self.profile)
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _end_session(self) -> None:
        """Her session ended (logout, deactivation, new password): the socket closes and refuses what follows."""
        if not self.ended:
            self.ended = True
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _check_session(self) -> bool:
        if not self.ended and await db(operator_session_valid)(
            user_id=self.profile.user_id, session_key=self.session_key
        ):
            return True
        await self._end_session()
        return False

    async def before_frame(self, frame: dict) -> None:
        if self.profile is None:
            await self.close_with(CLOSE_UNAUTHENTICATED)
        if self.ended:
            raise SocketClosed
        # Every frame but typing (ephemeral, and many) is checked against the session as it is now: a change
        # whose control frame is still on its way, or that sent none, must not let a reply through.
        if frame["type"] != "typing" and not await self._check_session():
            raise SocketClosed

    async def on_presence_set(self, frame):
        status = field(frame, "status", str)
        if status not in (OperatorProfile.Status.ONLINE, OperatorProfile.Status.AWAY):
            raise ChatError("invalid_frame", _("Status is “online” or “away”."))
        self.profile = await db(presence.operator_status_set)(profile=self.profile, status=status)

    async def on_claim(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        await db(assignment.conversation_claim)(profile=self.profile, conversation_id=conversation_id)

    async def on_message_send(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        client_id = client_id_field(frame)
        attachments = attachments_field(frame)
        body = body_field(frame, allow_empty=bool(attachments))
        private = field(frame, "private", bool, required=False) or False
        canned_reply_id = field(frame, "canned_reply_id", int, required=False)
        message, _created = await db(messages.operator_message_send)(
            profile=self.profile,
            conversation_id=conversation_id,
            client_id=client_id,
            body=body,
            private=private,
            canned_reply_id=canned_reply_id,
            attachments=attachments,
        )
        await self.send_frame(
            {"type": realtime.MESSAGE_ACK, "client_id": client_id, "message": selectors.message_payload(message)}
        )

    async def on_typing(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        is_typing = field(frame, "is_typing", bool)
        last_state, last_at = self.typing_sent.get(conversation_id, (None, 0.0))
        now = time.monotonic()
        if is_typing and last_state is True and now - last_at < settings.TYPING_THROTTLE_SECONDS:
            return
        conversation = await db(selectors.conversation_for_operator)(
            profile=self.profile, conversation_id=conversation_id, lock=False
        )
        if conversation.channel_kind in MAIL_KINDS:
            return  # a mail's customer is not watching the thread
        if conversation.status == Conversation.Status.ENDED:
            raise ChatError("closed", _("This conversation has ended."))
        self.typing_sent[conversation_id] = (is_typing, now)
        await realtime.group_send_ephemeral(
            realtime.conversation_visitor_group(conversation_id),
            {"type": realtime.TYPING, "is_typing": is_typing, "name": self.profile.display_name},
        )

    def _read(self, conversation_id: int, message_id: int) -> None:
        selectors.conversation_for_operator(profile=self.profile, conversation_id=conversation_id, lock=False)
        receipts.conversation_read(conversation_id=conversation_id, reader=receipts.OPERATOR, message_id=message_id)

    async def on_message_read(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        message_id = field(frame, "message_id", int)
        await db(self._read)(conversation_id, message_id)

    async def on_transfer(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        to_operator_id = field(frame, "to_operator_id", int, required=False)
        to_team_id = field(frame, "to_team_id", int, required=False)
        note = field(frame, "note", str, required=False) or ""
        if len(note) > NOTE_MAX_CHARS:
            raise ChatError("too_large", _("A note is at most %(n)s characters long.") % {"n": NOTE_MAX_CHARS})
        await db(assignment.conversation_transfer)(
            profile=self.profile,
            conversation_id=conversation_id,
            to_operator_id=to_operator_id,
            to_team_id=to_team_id,
            note=note,
        )

    async def on_resolve(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        await db(conversations.conversation_resolve)(profile=self.profile, conversation_id=conversation_id)

    async def on_labels(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        label_ids = frame.get("labels")
        if not isinstance(label_ids, list) or not all(
            isinstance(pk, int) and not isinstance(pk, bool) for pk in label_ids
        ):
            raise ChatError("invalid_frame", _("The field “labels” must be a list of label ids."))
        await db(labels.conversation_labels_set)(
            profile=self.profile, conversation_id=conversation_id, label_ids=label_ids
        )

    def _history(self, conversation_id: int) -> dict:
        conversation = selectors.conversation_for_operator(
            profile=self.profile, conversation_id=conversation_id, lock=False
        )
        return {
            "type": "conversation.history",
            "conversation": selectors.conversation_payload(conversation),
            "messages": selectors.conversation_messages(conversation),
            "contact_conversations": selectors.contact_history(conversation),
        }

    async def on_history(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        await self.send_frame(await db(self._history)(conversation_id))

    def _sync_frames(self, last_event_id: int | None) -> list[dict]:
        self.profile.refresh_from_db()
        if last_event_id is not None:
            inbox_ids = selectors.operator_inbox_ids(self.profile)
            events = selectors.inbox_events_after(inbox_ids, last_event_id, SYNC_MAX_EVENTS)
            if len(events) <= SYNC_MAX_EVENTS:
                last = events[-1]["event_id"] if events else last_event_id
                return [*events, {"type": "sync.done", "last_event_id": last}]
        # Too far behind (or no position given): the whole state, as after connecting.
        return [selectors.operator_welcome(self.profile)]

    async def on_sync(self, frame):
        last_event_id = field(frame, "last_event_id", int, required=False)
        for event in await db(self._sync_frames)(last_event_id):
            await self.send_frame(event)
