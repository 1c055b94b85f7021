"""The widget's socket: a visitor of a site (its key and origin), their conversation and surveys."""

from __future__ import annotations

import asyncio
import logging
import random
import time

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chat import attachment_links, realtime, selectors
from chat.consumers import recovery
from chat.consumers.protocol import (
    CLOSE_FLOODING,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    ProtocolConsumer,
    SocketSet,
    attachments_field,
    body_field,
    client_id_field,
    db,
    field,
)
from chat.models import Conversation, Inbox
from chat.services import conversations, messages, ratelimits, receipts, visitors
from chat.services.broadcast import visitor_view
from chat.services.errors import ChatError
from surveys import selectors as survey_selectors
from surveys import services as survey_services

logger = logging.getLogger(__name__)


async def _heartbeat_all(beating: SocketSet) -> None:
    """The visitors' presence of every counted socket, refreshed in one statement per period."""
    while True:
        await asyncio.sleep(conversations.SOCKET_HEARTBEAT_SECONDS)
        ids = sorted({c.counted_conversation_id for c in beating if c.counted_conversation_id is not None})
        if ids:
            try:
                await db(visitors.visitors_heartbeat)(conversation_ids=ids)
            except Exception:
                logger.exception("visitors' heartbeat failed; the next period tries again")


def _slots_refresh(slots: list) -> None:
    for slot in slots:
        slot.refresh()


async def _slot_refresh_all(counted: SocketSet) -> None:
    """The sockets counted against their address (ratelimits.SocketSlot), refreshed mid-window in one trip to a
    database thread, so that the next window holds every socket well before it turns."""
    while True:
        window = ratelimits.SOCKET_WINDOW_SECONDS
        await asyncio.sleep((window / 2 - time.time() % window) % window + random.uniform(0, window / 4))
        slots = [c.slot for c in counted if c.slot is not None]
        try:
            await db(_slots_refresh)(slots)
        except Exception:
            logger.exception("refreshing the sockets' counts failed; the next window tries again")


def _trim(times: list[float], before: float) -> None:
    """Drops the times of a socket's sliding window (oldest first) that are no later than `before`."""
    kept = 0
    while kept < len(times) and times[kept] <= before:
        kept += 1
    del times[:kept]


_beating = SocketSet(_heartbeat_all)
_slots = SocketSet(_slot_refresh_all)


class WidgetConsumer(ProtocolConsumer):
    """A visitor's widget: `hello` first (within WS_HELLO_TIMEOUT_SECONDS), then messages of their own chat."""

    handlers = {
        "hello": "on_hello",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "conversation.close": "on_close",
        "survey.answer": "on_survey_answer",
        "message.read": "on_message_read",
    }

    async def connect(self):
        self.inbox: Inbox | None = None
        # Set by hello; the contact stays None until the visitor first writes (widget loads make no rows).
        self.visitor_id = None
        self.locale = ""
        self.contact = None
        self.conversation_id: int | None = None
        self.counted_conversation_id: int | None = None
        self.joined: set[str] = set()
        self.delivered = recovery.Delivered()
        self.resumed_from: int | None = None  # the hello's last_message_id: the client has every message up to it
        # Lists, not deques: a few entries at most, and an idle socket's empty deque costs ten times an empty list.
        self.sent_at: list[float] = []
        self.refused_at: list[float] = []
        self.typing_sent: tuple[bool | None, float] = (None, 0.0)
        self.read_up_to = 0  # the newest message this socket said the visitor read: a repeat costs no statement
        self.hello_timer: asyncio.TimerHandle | None = None
        self.address = ratelimits.client_address_of_scope(self.scope)
        self.slot: ratelimits.SocketSlot | None = None
        # Accept first, so that a refusal reaches the client as a close code and not a bare HTTP 403.
        await self.accept()
        slot = ratelimits.SocketSlot(self.address)
        if not await db(slot.open)():
            await self.close(code=CLOSE_FLOODING)
            return
        self.slot = slot
        if slot.counted:
            _slots.join(self)
        site_key = self.scope["url_route"]["kwargs"]["site_key"]
        self.inbox = await db(selectors.active_inbox)(site_key)
        origin = dict(self.scope.get("headers") or []).get(b"origin", b"").decode("latin-1")
        if self.inbox is None or not selectors.origin_allowed(self.inbox, origin):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # A timer, not a task per socket: an idle visitor's socket should cost little memory (bench/chat_load.py).
        self.hello_timer = asyncio.get_running_loop().call_later(
            settings.WS_HELLO_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._hello_deadline())
        )
        recovery.watch(self)

    async def _hello_deadline(self):
        if self.visitor_id is None and self.hello_timer is not None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code):
        recovery.unwatch(self)
        _beating.discard(self)
        _slots.discard(self)
        if self.hello_timer is not None:
            self.hello_timer.cancel()
            self.hello_timer = None
        if self.slot is not None:
            await db(self.slot.close)()
            self.slot = None
        if self.counted_conversation_id is not None:
            await db(visitors.visitor_disconnected)(conversation_id=self.counted_conversation_id)
            self.counted_conversation_id = None
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.join_group(group)

    async def send_frame(self, frame: dict) -> None:
        # The messages this socket delivered: what a catch-up after a channel-layer outage need not send again.
        ids = [m["id"] for m in frame.get("messages") or []]
        if frame.get("type") in (realtime.MESSAGE_NEW, realtime.MESSAGE_ACK):
            ids.append(frame["message"]["id"])
        if frame.get("type") == realtime.WELCOME:
            self.delivered.start_at(max([*ids, self.resumed_from or 0]) or None)
        else:
            self.delivered.add(ids)
        await super().send_frame(frame)

    def _missed(self, start: int | None) -> list[dict]:
        conversation = Conversation.objects.filter(pk=self.conversation_id).first()
        if conversation is None:
            return []
        missed = selectors.visitor_messages(conversation, after_id=start)
        return [{"type": realtime.MESSAGE_NEW, "message": m} for m in missed if self.delivered.missed(m["id"])]

    async def catch_up(self, start: int | None) -> None:
        await self.rejoin()
        if self.conversation_id is None:
            return
        for frame in await db(self._missed)(start):
            await self.send_frame(frame)
        await self.conversation_refresh({})

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
        if frame["type"] != "hello" and self.visitor_id is None:
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
        visitor = visitors.visitor_token_read(inbox=self.inbox, token=token)
        if visitor is None:
            # Unknown, forged or foreign token: a new visitor, never someone else; no row until they write.
            visitor, token = visitors.visitor_token_new(inbox=self.inbox)
        conversation = selectors.open_conversation_for(visitor.contact) if visitor.contact else None
        return visitor, token, conversation

    def _welcome(self, token, conversation: Conversation | None, last_message_id):
        online, next_opening = selectors.inbox_availability(self.inbox)
        messages_ = selectors.visitor_messages(conversation, after_id=last_message_id) if conversation else []
        return {
            "type": realtime.WELCOME,
            "contact": selectors.contact_payload(self.contact),
            "conversation": visitor_view(selectors.conversation_payload(conversation, labels=False))
            if conversation
            else None,
            "messages": messages_,
            "online": online,
            "next_opening": selectors.iso(next_opening),
            "visitor_token": token,
        }

    def _pending_survey_invite(self) -> dict | None:
        """A survey still waiting for this visitor (they left before it came, or came back): shown again."""
        if self.contact is None:
            return None
        invitation = survey_selectors.pending_invitation(contact=self.contact)
        if invitation is None:
            return None
        survey_services.survey_invitation_shown_in_widget(invitation=invitation)
        return survey_selectors.survey_invite_payload(invitation)

    async def on_hello(self, frame):
        if self.visitor_id is not None:
            raise ChatError("invalid_frame", _("Hello was already said on this connection."))
        token = field(frame, "visitor_token", str, required=False)
        last_message_id = field(frame, "last_message_id", int, required=False)
        retry_after = await db(ratelimits.rate_limit_hit)(
            action=ratelimits.HELLO, address=self.address, site_key=self.inbox.site_key
        )
        if retry_after is not None:
            # A socket without a visitor has nothing to wait for: the widget reconnects later (at least 10 s on 4429).
            await self.send_error("rate_limited", ratelimits.rate_limited_detail(retry_after), frame)
            await self.close_with(CLOSE_FLOODING)
        self.resumed_from = last_message_id
        visitor, token, conversation = await db(self._hello_state)(token, last_message_id)
        self.visitor_id, self.contact, self.locale = visitor.visitor_id, visitor.contact, visitor.locale
        # Join the groups before reading the messages: one arriving in between is sent twice (the widget
        # keeps messages by id), never lost.
        await self._join(realtime.contact_visitor_group(visitor.visitor_id))
        await self._join(realtime.inbox_visitors_group(self.inbox.pk))
        if conversation is not None:
            await self._follow(conversation.pk)
        await self.send_frame(await db(self._welcome)(token, conversation, last_message_id))
        invite = await db(self._pending_survey_invite)()
        if invite is not None:
            await self.send_frame(invite)
        _beating.join(self)

    def _shared_refusal(self) -> str | None:
        """Why one more message may not go now, counted where every server process sees it: the visitor's pace
        (all their sockets), their address's or their site's; one round trip to the shared cache for all three."""
        # A new visitor for every message must not escape the visitor's pace: the address and site bound it too.
        counters = [
            visitors.visitor_pace_counter(visitor_id=self.visitor_id),
            *ratelimits.rate_limit_counters(
                action=ratelimits.MESSAGE, address=self.address, site_key=self.inbox.site_key
            ),
        ]
        over = ratelimits.first_over(counters)
        if over is None:
            return None
        if over == 0:
            return self._pace_refusal()
        return ratelimits.rate_limited_detail(ratelimits.retry_after_for(ratelimits.MESSAGE))

    @staticmethod
    def _pace_refusal() -> str:
        return _("At most %(n)s messages per %(s)s seconds; please wait a moment.") % {
            "n": settings.VISITOR_RATE_LIMIT_MESSAGES,
            "s": f"{settings.VISITOR_RATE_LIMIT_WINDOW_SECONDS:g}",
        }

    def _store(self, client_id: str, body: str, attachments: list[int]):
        """The limits, the contact (made by the first message) and the message, in one trip to a database thread:
        (message, None), or (None, why it was refused)."""
        refusal = self._shared_refusal()
        if refusal is not None:
            return None, refusal
        if self.contact is None:
            # The first message is what makes the visitor a contact (another tab of theirs may have just made it).
            try:
                self.contact = visitors.visitor_contact_get_or_create(
                    inbox=self.inbox, visitor_id=self.visitor_id, address=self.address, locale=self.locale
                )
            except ratelimits.RateLimitedError as exc:
                raise ChatError("rate_limited", ratelimits.rate_limited_detail(exc.retry_after)) from exc
        message, _created = messages.visitor_message_send(
            contact=self.contact, client_id=client_id, body=body, attachments=attachments
        )
        return message, None

    async def _refused(self, now: float, refusal: str) -> None:
        window = settings.VISITOR_RATE_LIMIT_WINDOW_SECONDS
        _trim(self.refused_at, now - window)
        self.refused_at.append(now)
        if len(self.refused_at) > settings.VISITOR_FLOOD_CLOSE_AFTER:
            await self.close_with(CLOSE_FLOODING)
        raise ChatError("rate_limited", refusal)

    async def on_message_send(self, frame):
        client_id = client_id_field(frame)
        attachments = attachments_field(frame)
        body = body_field(frame, allow_empty=bool(attachments))
        now = time.monotonic()
        window = settings.VISITOR_RATE_LIMIT_WINDOW_SECONDS
        _trim(self.sent_at, now - window)
        # This socket's own pace first: a flood from one socket costs no trip to the database thread or the cache.
        if len(self.sent_at) >= settings.VISITOR_RATE_LIMIT_MESSAGES:
            await self._refused(now, self._pace_refusal())
        message, refusal = await db(self._store)(client_id, body, attachments)
        if refusal is not None:
            await self._refused(now, refusal)
        self.sent_at.append(now)
        joined = message.conversation_id != self.conversation_id and message.conversation.status != "ended"
        if joined:
            await self._follow(message.conversation_id)
        await self.send_frame(
            {
                "type": realtime.MESSAGE_ACK,
                "client_id": client_id,
                "message": selectors.message_payload(message, audience=attachment_links.VISITOR),
            }
        )
        if joined:
            # What the conversation's group heard before this socket joined it (an instant assignment) is lost;
            # its current state follows, read after the frames already queued for this socket.
            try:
                await self.channel_layer.send(self.channel_name, {"type": "conversation.refresh"})
            except Exception:
                # The layer is down: the catch-up sends the conversation's state once it is back.
                realtime.push_failed = True

    def _conversation_state(self) -> dict | None:
        conversation = (
            Conversation.objects.select_related("contact", "assignee__operator", "team", "ticket")
            .filter(pk=self.conversation_id)
            .first()
        )
        return visitor_view(selectors.conversation_payload(conversation, labels=False)) if conversation else None

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
        await realtime.group_send_ephemeral(
            realtime.inbox_operators_group(self.inbox.pk),
            {"type": realtime.TYPING, "conversation_id": self.conversation_id, "is_typing": is_typing},
            inbox_id=self.inbox.pk,
        )

    async def on_message_read(self, frame):
        message_id = field(frame, "message_id", int)
        if self.conversation_id is None:
            raise ChatError("not_found", _("You have no open conversation."))
        if message_id <= self.read_up_to:
            return
        await db(receipts.conversation_read)(
            conversation_id=self.conversation_id, reader=receipts.VISITOR, message_id=message_id
        )
        self.read_up_to = message_id

    async def on_close(self, frame):
        if self.contact is None:
            raise ChatError("not_found", _("You have no open conversation."))
        await db(conversations.conversation_close_by_visitor)(contact=self.contact)

    def _survey_answer(self, token, answers, comment):
        if self.contact is None:
            # The service checks the owner only of a contact it is given: a visitor with none owns no survey.
            invitation = survey_selectors.survey_invitation_by_token(token=token)
            if invitation is None:
                raise ChatError("not_found", _("This survey does not exist."))
            with translation.override(invitation.language):
                raise ChatError("forbidden", _("This survey is not yours to answer."))
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
        await self.send_frame({"type": realtime.SURVEY_ANSWERED, "invitation": token, "thank_you": thank_you})
