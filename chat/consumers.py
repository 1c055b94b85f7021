"""Websocket consumers: thin transport over chat.services (protocol.md, docs/protocol.md).

Frames are parsed here (raw text, so malformed JSON is an `error` frame and not a crash), checked for
shape, and handed to a service; realtime frames from the channel layer are forwarded unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import realtime, selectors
from chat.models import Conversation, Inbox, OperatorProfile
from chat.services import assignment, conversations, messages, presence, visitors
from chat.services.broadcast import visitor_view
from chat.services.errors import ChatError
from surveys import selectors as survey_selectors
from surveys import services as survey_services

logger = logging.getLogger(__name__)


def db(fn):
    """ORM work off the event loop, in a pool of threads (each with its own database connection).

    Channels' default runs every database call of a process in one thread, so one process can wait on
    only one query at a time; chat services are each one transaction with no thread-local state, and a
    socket handles its frames one after another, so each visitor's messages stay in order.
    """
    return database_sync_to_async(fn, thread_sensitive=False)


CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOODING = 4429
CLIENT_ID_MAX_CHARS = 64
NOTE_MAX_CHARS = 4000
SYNC_MAX_EVENTS = 500


class _Closed(Exception):
    """The consumer closed the socket while handling a frame: nothing more to send."""


_KINDS = {
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
            "invalid_frame", _("The field “%(field)s” must be %(kind)s.") % {"field": name, "kind": _KINDS[kind]}
        )
    return value


def client_id_field(frame: dict) -> str:
    client_id = field(frame, "client_id", str)
    if not 1 <= len(client_id) <= CLIENT_ID_MAX_CHARS:
        raise ChatError(
            "invalid_frame", _("client_id must be 1 to %(n)s characters long.") % {"n": CLIENT_ID_MAX_CHARS}
        )
    return client_id


def body_field(frame: dict, limit: int | None = None) -> str:
    body = field(frame, "body", str)
    limit = limit or settings.MESSAGE_MAX_CHARS
    if not body.strip():
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

    async def close_with(self, code: int) -> None:
        await self.close(code=code)
        raise _Closed

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
        except _Closed:
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


class WidgetConsumer(ProtocolConsumer):
    """A visitor's widget: `hello` first (within WS_HELLO_TIMEOUT_SECONDS), then messages of their own chat."""

    handlers = {
        "hello": "on_hello",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "conversation.close": "on_close",
        "survey.answer": "on_survey_answer",
    }

    async def connect(self):
        self.inbox: Inbox | None = None
        self.contact = None
        self.conversation_id: int | None = None
        self.counted_conversation_id: int | None = None
        self.joined: set[str] = set()
        self.sent_at: deque[float] = deque()
        self.refused_at: deque[float] = deque()
        self.typing_sent: tuple[bool | None, float] = (None, 0.0)
        self.tasks: list[asyncio.Task] = []
        # Accept first, so that a refusal reaches the client as a close code and not a bare HTTP 403.
        await self.accept()
        site_key = self.scope["url_route"]["kwargs"]["site_key"]
        self.inbox = await db(Inbox.objects.filter(site_key=site_key, is_active=True).first)()
        origin = dict(self.scope.get("headers") or []).get(b"origin", b"").decode("latin-1")
        if self.inbox is None or not selectors.origin_allowed(self.inbox, origin):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.tasks.append(asyncio.ensure_future(self._hello_deadline()))

    async def _hello_deadline(self):
        await asyncio.sleep(settings.WS_HELLO_TIMEOUT_SECONDS)
        if self.contact is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _heartbeat(self):
        # Spread over the period: sockets opened together must not all write in the same instant.
        await asyncio.sleep(random.uniform(0, conversations.SOCKET_HEARTBEAT_SECONDS))
        while True:
            if self.counted_conversation_id is not None:
                await db(visitors.visitor_heartbeat)(conversation_id=self.counted_conversation_id)
            await asyncio.sleep(conversations.SOCKET_HEARTBEAT_SECONDS)

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        if self.counted_conversation_id is not None:
            await db(visitors.visitor_disconnected)(conversation_id=self.counted_conversation_id)
            self.counted_conversation_id = None
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            self.joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def _follow(self, conversation_id: int) -> None:
        """This socket now belongs to `conversation_id`: hear its frames and count as its visitor's presence."""
        await self._join(realtime.conversation_visitor_group(conversation_id))
        self.conversation_id = conversation_id
        if self.counted_conversation_id != conversation_id:
            previous, self.counted_conversation_id = self.counted_conversation_id, conversation_id
            if previous is not None:
                await db(visitors.visitor_disconnected)(conversation_id=previous)
            await db(visitors.visitor_connected)(conversation_id=conversation_id)

    async def before_frame(self, frame: dict) -> None:
        if frame["type"] != "hello" and self.contact is None:
            raise ChatError("forbidden", _("Say hello first."))
        named = frame.get("conversation_id")
        if named is not None and named != self.conversation_id:
            raise ChatError("forbidden", _("That is not your conversation."))

    async def realtime_frame(self, event):
        frame = event["frame"]
        if frame.get("type") == realtime.CONVERSATION_UPDATED:
            conversation = frame.get("conversation") or {}
            if conversation.get("id") != self.conversation_id and conversation.get("status") != "ended":
                await self._follow(conversation["id"])
        await self.send_frame(frame)

    def _hello_state(self, token, last_message_id):
        contact = visitors.visitor_token_contact(inbox=self.inbox, token=token)
        if contact is None:
            # Unknown, forged or foreign token: a new visitor, never someone else.
            contact, token = visitors.visitor_session_start(inbox=self.inbox)
        conversation = selectors.open_conversation_for(contact)
        return contact, token, conversation

    def _welcome(self, token, conversation: Conversation | None, last_message_id):
        online, next_opening = selectors.inbox_availability(self.inbox)
        messages_ = selectors.visitor_messages(conversation, after_id=last_message_id) if conversation else []
        return {
            "type": realtime.WELCOME,
            "contact": selectors.contact_payload(self.contact),
            "conversation": visitor_view(selectors.conversation_payload(conversation)) if conversation else None,
            "messages": messages_,
            "online": online,
            "next_opening": selectors.iso(next_opening),
            "visitor_token": token,
        }

    def _pending_survey_invite(self) -> dict | None:
        """A survey still waiting for this visitor (they left before it came, or came back): shown again."""
        invitation = survey_selectors.pending_invitation(contact=self.contact)
        if invitation is None:
            return None
        survey_services.survey_invitation_shown_in_widget(invitation=invitation)
        return survey_selectors.survey_invite_payload(invitation)

    async def on_hello(self, frame):
        if self.contact is not None:
            raise ChatError("invalid_frame", _("Hello was already said on this connection."))
        token = frame.get("visitor_token")
        if token is not None and not isinstance(token, str):
            raise ChatError(
                "invalid_frame",
                _("The field “%(field)s” must be %(kind)s.") % {"field": "visitor_token", "kind": _KINDS[str]},
            )
        last_message_id = field(frame, "last_message_id", int, required=False)
        contact, token, conversation = await db(self._hello_state)(token, last_message_id)
        self.contact = contact
        # Join the groups before reading the messages: one arriving in between is sent twice (the widget
        # keeps messages by id), never lost.
        await self._join(realtime.contact_visitor_group(contact.pk))
        if conversation is not None:
            await self._follow(conversation.pk)
        await self.send_frame(await db(self._welcome)(token, conversation, last_message_id))
        invite = await db(self._pending_survey_invite)()
        if invite is not None:
            await self.send_frame(invite)
        self.tasks.append(asyncio.ensure_future(self._heartbeat()))

    async def _check_rate(self) -> None:
        now = time.monotonic()
        window = settings.VISITOR_RATE_LIMIT_WINDOW_SECONDS
        while self.sent_at and self.sent_at[0] <= now - window:
            self.sent_at.popleft()
        if len(self.sent_at) < settings.VISITOR_RATE_LIMIT_MESSAGES and await db(visitors.visitor_send_allowed)(
            visitor_id=self.contact.visitor_id
        ):
            self.sent_at.append(now)
            return
        while self.refused_at and self.refused_at[0] <= now - window:
            self.refused_at.popleft()
        self.refused_at.append(now)
        if len(self.refused_at) > settings.VISITOR_FLOOD_CLOSE_AFTER:
            await self.close_with(CLOSE_FLOODING)
        raise ChatError(
            "rate_limited",
            _("At most %(n)s messages per %(s)s seconds; please wait a moment.")
            % {"n": settings.VISITOR_RATE_LIMIT_MESSAGES, "s": f"{window:g}"},
        )

    async def on_message_send(self, frame):
        client_id = client_id_field(frame)
        body = body_field(frame)
        await self._check_rate()
        message, _created = await db(messages.visitor_message_send)(
            contact=self.contact, client_id=client_id, body=body
        )
        joined = message.conversation_id != self.conversation_id and message.conversation.status != "ended"
        if joined:
            await self._follow(message.conversation_id)
        await self.send_frame(
            {"type": realtime.MESSAGE_ACK, "client_id": client_id, "message": selectors.message_payload(message)}
        )
        if joined:
            # What the conversation's group heard before this socket joined it (an instant assignment) is lost;
            # its current state follows, read after the frames already queued for this socket.
            await self.channel_layer.send(self.channel_name, {"type": "conversation.refresh"})

    def _conversation_state(self) -> dict | None:
        conversation = (
            Conversation.objects.select_related("contact", "assignee__operator", "team", "ticket")
            .filter(pk=self.conversation_id)
            .first()
        )
        return visitor_view(selectors.conversation_payload(conversation)) if conversation else None

    async def conversation_refresh(self, event):
        state = await db(self._conversation_state)()
        if state is not None:
            await self.send_frame({"type": realtime.CONVERSATION_UPDATED, "conversation": state})

    async def on_typing(self, frame):
        is_typing = field(frame, "is_typing", bool)
        if self.conversation_id is None:
            return
        last_state, last_at = self.typing_sent
        now = time.monotonic()
        if is_typing and last_state is True and now - last_at < settings.TYPING_THROTTLE_SECONDS:
            return
        self.typing_sent = (is_typing, now)
        await realtime.group_send_async(
            realtime.inbox_operators_group(self.inbox.pk),
            {"type": realtime.TYPING, "conversation_id": self.conversation_id, "is_typing": is_typing},
        )

    async def on_close(self, frame):
        await db(conversations.conversation_close_by_visitor)(contact=self.contact)

    def _survey_answer(self, token, answers, comment):
        try:
            response = survey_services.survey_answer(
                token=token, contact=self.contact, answers=answers, comment=comment, channel="widget"
            )
        except survey_services.SurveyError as exc:
            # The surveys service names the protocol code (conflict when answered, closed when expired…).
            raise ChatError(exc.code, "; ".join(exc.messages)) from exc
        return response.invitation.thank_you

    async def on_survey_answer(self, frame):
        token = field(frame, "invitation", str)
        answers = field(frame, "answers", dict)
        comment = field(frame, "comment", str, required=False) or ""
        thank_you = await db(self._survey_answer)(token, answers, comment)
        # Also to this socket directly: a returning visitor's socket is not in the ended conversation's group.
        await self.send_frame({"type": "survey.answered", "invitation": token, "thank_you": thank_you})


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
        "sync": "on_sync",
    }

    async def connect(self):
        self.profile: OperatorProfile | None = None
        self.joined: set[str] = set()
        self.heartbeat: asyncio.Task | None = None
        self.beating: asyncio.Future | None = None
        self.typing_sent: dict[int, tuple[bool, float]] = {}
        await self.accept()
        user = await get_user(self.scope)
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        profile = await db(OperatorProfile.objects.select_related("user").filter(user=user).first)()
        if profile is None or not (user.is_staff and user.is_active):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.profile = await db(presence.operator_connected)(profile=profile)
        self.heartbeat = asyncio.ensure_future(self._heartbeat())
        for group in [
            realtime.operator_group(profile.user_id),
            *(realtime.inbox_operators_group(i) for i in await db(selectors.operator_inbox_ids)(profile)),
        ]:
            self.joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_frame(await db(selectors.operator_welcome)(self.profile))

    async def _heartbeat(self):
        # Spread over the period, as the visitors' are; the count itself is kept by connect and disconnect.
        await asyncio.sleep(random.uniform(0, conversations.SOCKET_HEARTBEAT_SECONDS))
        while True:
            # Shielded from the cancel in disconnect, which waits for it: a heartbeat still running in its thread
            # must not land after the disconnect and count a closed socket again.
            self.beating = asyncio.ensure_future(db(presence.operator_heartbeat)(profile=self.profile))
            await asyncio.shield(self.beating)
            await asyncio.sleep(conversations.SOCKET_HEARTBEAT_SECONDS)

    async def disconnect(self, code):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.beating is not None:
            await asyncio.gather(self.beating, return_exceptions=True)
        if self.profile is not None:
            await db(presence.operator_disconnected)(profile=self.profile)
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def before_frame(self, frame: dict) -> None:
        if self.profile is None:
            await self.close_with(CLOSE_UNAUTHENTICATED)

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
        body = body_field(frame)
        private = field(frame, "private", bool, required=False) or False
        canned_reply_id = field(frame, "canned_reply_id", int, required=False)
        message, _created = await db(messages.operator_message_send)(
            profile=self.profile,
            conversation_id=conversation_id,
            client_id=client_id,
            body=body,
            private=private,
            canned_reply_id=canned_reply_id,
        )
        await self.send_frame(
            {"type": realtime.MESSAGE_ACK, "client_id": client_id, "message": selectors.message_payload(message)}
        )

    def _open_conversation_of_mine(self, conversation_id: int) -> Conversation:
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            raise ChatError("not_found", _("There is no such conversation."))
        if not self.profile.inboxes.filter(pk=conversation.inbox_id).exists():
            raise ChatError("forbidden", _("You are not an operator of this conversation's inbox."))
        return conversation

    async def on_typing(self, frame):
        conversation_id = field(frame, "conversation_id", int)
        is_typing = field(frame, "is_typing", bool)
        last_state, last_at = self.typing_sent.get(conversation_id, (None, 0.0))
        now = time.monotonic()
        if is_typing and last_state is True and now - last_at < settings.TYPING_THROTTLE_SECONDS:
            return
        conversation = await db(self._open_conversation_of_mine)(conversation_id)
        if conversation.status == Conversation.Status.ENDED:
            raise ChatError("closed", _("This conversation has ended."))
        self.typing_sent[conversation_id] = (is_typing, now)
        await realtime.group_send_async(
            realtime.conversation_visitor_group(conversation_id),
            {"type": realtime.TYPING, "is_typing": is_typing, "name": self.profile.display_name},
        )

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

    def _history(self, conversation_id: int) -> dict:
        conversation = self._open_conversation_of_mine(conversation_id)
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
