"""The inbox's socket: an operator's presence, claims, replies, notes, transfers, resolutions and sync."""

from __future__ import annotations

import asyncio
import random
import time

from channels.auth import get_user
from django.conf import settings
from django.utils.translation import gettext as _

from chat import realtime, selectors
from chat.consumers import recovery
from chat.consumers.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    NOTE_MAX_CHARS,
    SYNC_MAX_EVENTS,
    ProtocolConsumer,
    body_field,
    client_id_field,
    db,
    field,
)
from chat.inbox_selectors import operator_for_user
from chat.models import Conversation, OperatorProfile
from chat.services import assignment, conversations, messages, presence
from chat.services.errors import ChatError


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
        self.last_event_id: int | None = None
        self.heartbeat: asyncio.Task | None = None
        self.beating: asyncio.Future | None = None
        self.typing_sent: dict[int, tuple[bool, float]] = {}
        await self.accept()
        user = await get_user(self.scope)
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Who may use the inbox is decided as for the inbox page.
        profile = await db(operator_for_user)(user=user)
        if profile is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.profile = await db(presence.operator_connected)(profile=profile)
        self.heartbeat = asyncio.ensure_future(self._heartbeat())
        for group in [
            realtime.operator_group(profile.user_id),
            *(realtime.inbox_operators_group(i) for i in await db(selectors.operator_inbox_ids)(profile)),
        ]:
            await self.join_group(group)
        await self.send_frame(await db(selectors.operator_welcome)(self.profile))
        recovery.watch(self)

    async def send_frame(self, frame: dict) -> None:
        # The last inbox event this socket delivered: where a catch-up after a channel-layer outage starts.
        seen = frame.get("event_id") or frame.get("last_event_id")
        if isinstance(seen, int):
            self.last_event_id = max(seen, self.last_event_id or 0)
        await super().send_frame(frame)

    async def catch_up(self) -> None:
        await self.rejoin()
        await self.on_sync({"last_event_id": self.last_event_id})

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
        recovery.unwatch(self)
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
