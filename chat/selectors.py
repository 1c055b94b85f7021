"""Chat reads: the frame shapes C and M of protocol.md (built here and nowhere else), queues, availability."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import attachment_links
from chat.faces import contact_face, operator_face
from chat.models import MAIL_KINDS, Contact, Conversation, Inbox, InboxEvent, Label, Message, OperatorProfile, Team
from chat.services.errors import ChatError
from chat.snapshots import same_row, snapshot
from tickets.business_hours import schedule_for
from tickets.models import Ticket
from tickets.payloads import ticket_payload

PREVIEW_CHARS = 140
# The Tickets list of the inbox shows at most this many offline messages and e-mail tickets (the oldest first).
MAIL_TICKETS_LISTED = 500
# Recent conversations whose handling time estimates the wait, and the guess when there is no history.
HANDLING_SAMPLE = 20
DEFAULT_HANDLING_SECONDS = 300.0


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def operator_name(user) -> str:
    if user is None:
        return ""
    profile = getattr(user, "operator", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


def author_payload(message: Message) -> dict | None:
    """The face of an operator's message: {"id", "initials", "colour", "avatar_url"}; None for other senders."""
    if message.sender != Message.Sender.OPERATOR or message.author_id is None:
        return None
    author = message.author
    return {"id": author.pk, **operator_face(author, name=message.author_name or operator_name(author))}


def assignee_payload(user) -> dict | None:
    if user is None:
        return None
    name = operator_name(user)
    return {"id": user.pk, "name": name, **operator_face(user, name=name)}


def message_payload(message: Message, *, audience: str = attachment_links.OPERATORS) -> dict:
    """`audience`: whose signed addresses the attachments get (the visitor's, or the inbox's operators')."""
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "sender": message.sender,
        "author_name": message.author_name,
        "author": author_payload(message),
        "body": message.body,
        "private": message.private,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
        "canned_reply_id": message.canned_reply_id,
        "attachments": attachment_links.message_attachments(message, audience=audience),
    }


def queue_position(conversation: Conversation) -> int | None:
    """1 for the next conversation to be assigned in its inbox; None when not waiting."""
    if conversation.status != Conversation.Status.QUEUED:
        return None
    ahead = Conversation.objects.filter(
        Q(requested_at__lt=conversation.requested_at)
        | Q(requested_at=conversation.requested_at, pk__lt=conversation.pk),
        inbox_id=conversation.inbox_id,
        status=Conversation.Status.QUEUED,
    ).count()
    return ahead + 1


def recent_handling_seconds(inbox_id: int) -> float:
    """Mean time an operator held one of the inbox's recent answered conversations."""
    rows = (
        Conversation.objects.filter(
            inbox_id=inbox_id, status=Conversation.Status.ENDED, assigned_at__isnull=False, ended_at__isnull=False
        )
        .order_by("-ended_at")
        .values_list("assigned_at", "ended_at")[:HANDLING_SAMPLE]
    )
    durations = [(end - start).total_seconds() for start, end in rows if end >= start]
    return sum(durations) / len(durations) if durations else DEFAULT_HANDLING_SECONDS


def inbox_pace(inbox_id: int) -> tuple[float, int]:
    """(recent handling seconds, the inbox's online operators' chat slots): what a wait is estimated from."""
    online = OperatorProfile.objects.filter(inboxes=inbox_id, status=OperatorProfile.Status.ONLINE)
    return recent_handling_seconds(inbox_id), online.count() or 1


def _wait_seconds(position: int, pace: tuple[float, int]) -> int:
    """Position × recent handling time, shared by the online operators' chat slots."""
    handling, slots = pace
    return int(math.ceil(position * handling / slots))


def _waiting(conversation: Conversation) -> tuple[int | None, int | None]:
    position = queue_position(conversation)
    if position is None:
        return None, None
    return position, _wait_seconds(position, inbox_pace(conversation.inbox_id))


_UNREAD = object()


def label_payload(label: Label) -> dict:
    return {"id": label.pk, "name": label.name, "colour": label.colour}


def labels_usable_in(inbox_ids) -> QuerySet[Label]:
    """The labels an operator may put on a conversation of these inboxes: theirs, and the global ones."""
    return Label.objects.filter(Q(inbox_id__in=list(inbox_ids)) | Q(inbox__isnull=True))


def available_labels(inbox_ids) -> list[dict]:
    """The labels of her inboxes and the global ones (`inbox_id` null), by name: what the inbox's picker offers."""
    return [{**label_payload(label), "inbox_id": label.inbox_id} for label in labels_usable_in(inbox_ids)]


def conversation_payload(
    conversation: Conversation,
    *,
    waiting: tuple[int | None, int | None] | None = None,
    last=_UNREAD,
    labels: bool = True,
) -> dict:
    """Frame shape C. `waiting` (queue position, estimated wait) and `last` (its last public message, or None) are
    given by a caller that read them for many conversations at once; `labels` (read from the prefetch when there is
    one) is left out for the visitor, who never sees them."""
    position, wait = waiting or _waiting(conversation)
    if last is _UNREAD:
        last = conversation.messages.filter(private=False).order_by("-id").first()
    assignee = conversation.assignee
    return {
        "id": conversation.pk,
        "inbox_id": conversation.inbox_id,
        "ticket_id": conversation.ticket_id,
        "status": conversation.status,
        "end_reason": conversation.end_reason,
        "contact": {
            "id": conversation.contact_id,
            "name": conversation.contact.name,
            **contact_face(conversation.contact),
        },
        "assignee": assignee_payload(assignee),
        "queue_position": position,
        "estimated_wait_seconds": wait,
        "created_at": iso(conversation.requested_at),
        "requested_at": iso(conversation.requested_at),
        "assigned_at": iso(conversation.assigned_at),
        "first_response_at": iso(conversation.first_response_at),
        "ended_at": iso(conversation.ended_at),
        "channel_kind": conversation.channel_kind,
        # An offline message or e-mail ticket: answered by mail, its state the ticket's (docs/email.md).
        "mail": conversation.channel_kind in MAIL_KINDS,
        "transfer_count": conversation.transfer_count,
        "team": {"id": conversation.team_id, "name": conversation.team.name} if conversation.team_id else None,
        "last_message": {
            "id": last.pk,
            "sender": last.sender,
            "body": last.body[:PREVIEW_CHARS],
            "created_at": iso(last.created_at),
        }
        if last
        else None,
        "ticket": ticket_payload(conversation.ticket) if conversation.ticket_id else None,
        # Read receipts (message.read): the newest message each side has seen, and when.
        "visitor_read_message_id": conversation.visitor_read_message_id,
        "visitor_read_at": iso(conversation.visitor_read_at),
        "operator_read_message_id": conversation.operator_read_message_id,
        "operator_read_at": iso(conversation.operator_read_at),
        **({"labels": [label_payload(label) for label in conversation.labels.all()]} if labels else {}),
    }


def contact_payload(contact: Contact | None) -> dict:
    """The visitor's contact; a visitor who has not written yet has none (`id` null, nothing known)."""
    if contact is None:
        return {"id": None, "name": "", "email": ""}
    return {"id": contact.pk, "name": contact.name, "email": contact.email}


def open_conversation_for(contact: Contact) -> Conversation | None:
    return (
        Conversation.objects.select_related("contact", "assignee__operator", "team", "ticket")
        .filter(contact=contact)
        .exclude(status=Conversation.Status.ENDED)
        .first()
    )


def visitor_messages(conversation: Conversation, *, after_id: int | None) -> list[dict]:
    """The public messages of a conversation after `after_id` (all when None), oldest first."""
    messages = conversation.messages.filter(private=False).select_related("author__operator")
    if after_id is not None:
        messages = messages.filter(pk__gt=after_id)
    return [
        message_payload(m, audience=attachment_links.VISITOR)
        for m in attachment_links.attachments_prefetch(messages.order_by("id"))
    ]


def conversation_messages(conversation: Conversation) -> list[dict]:
    """Every message, private notes included (operators only)."""
    messages = conversation.messages.select_related("author__operator").order_by("id")
    return [message_payload(m) for m in attachment_links.attachments_prefetch(messages)]


def online_operator_count(inbox: Inbox) -> int:
    return OperatorProfile.objects.filter(inboxes=inbox, status=OperatorProfile.Status.ONLINE).count()


def inbox_online(inbox: Inbox) -> bool:
    """`inbox_availability`'s online alone: the operators are counted first, the schedule read only if one is on."""
    return online_operator_count(inbox) > 0 and inbox_schedule(inbox).is_open(timezone.now())


def inbox_availability(inbox: Inbox, at: datetime | None = None) -> tuple[bool, datetime | None]:
    """(online, next opening): online means inside business hours with an operator online; the next
    opening is given only outside business hours."""
    at = at or timezone.now()
    schedule = inbox_schedule(inbox)
    is_open = schedule.is_open(at)
    return is_open and online_operator_count(inbox) > 0, None if is_open else schedule.next_opening(at)


def inbox_schedule(inbox: Inbox):
    """The inbox's business hours and holidays (chat.snapshots: at most a moment old)."""
    return snapshot(("schedule", inbox.pk), lambda: schedule_for(inbox))


def active_inbox(site_key: str) -> Inbox | None:
    """The active inbox of a site key (chat.snapshots: at most a moment old)."""
    return snapshot(
        ("inbox", site_key), lambda: Inbox.objects.filter(site_key=site_key, is_active=True).first(), same=same_row
    )


def _origin_among(allowed_origins, origin: str) -> bool:
    origin = (origin or "").strip().rstrip("/").lower()
    if not origin:
        return False
    allowed = {str(o).rstrip("/").lower() for o in allowed_origins or []}
    site = urlsplit(settings.SITE_URL)
    allowed.add(f"{site.scheme}://{site.netloc}".lower())
    return origin in allowed


def origin_allowed(inbox: Inbox, origin: str) -> bool:
    """The page embedding the widget is one of the inbox's allowed origins (or the desk itself)."""
    return _origin_among(inbox.allowed_origins, origin)


def origin_allowed_by_any_inbox(origin: str) -> bool:
    """Some active inbox allows this origin: the CORS answer for the widget's HTTP API, whose preflight names
    no inbox (each view then checks the one its request names)."""
    every = snapshot(
        ("origins",),
        lambda: [inbox.allowed_origins for inbox in Inbox.objects.filter(is_active=True).only("allowed_origins")],
    )
    return any(_origin_among(allowed, origin) for allowed in every)


def widget_config(inbox: Inbox) -> dict:
    from surveys.models import SurveyTemplate

    online, next_opening = inbox_availability(inbox)
    template = snapshot(("survey", inbox.pk), lambda: SurveyTemplate.objects.filter(inbox=inbox).first())
    return {
        "inbox_id": inbox.pk,
        "name": inbox.name,
        "brand_color": inbox.brand_color,
        "position": inbox.position,
        "greeting": inbox.greeting,
        "locale": inbox.language,
        "direction": "rtl" if inbox.language == "fa" else "ltr",
        "online": online,
        "next_opening": iso(next_opening),
        "prechat": {"name": inbox.prechat_name, "email": inbox.prechat_email},
        "survey": {
            "enabled": template.is_enabled if template else True,
            "csat": template.ask_csat if template else True,
            "csat_scale": template.csat_scale if template else "1-5",
            "ces": template.ask_ces if template else False,
            "allow_comment": template.allow_comment if template else True,
        },
        "limits": _widget_limits(inbox),
    }


def _widget_limits(inbox: Inbox) -> dict:
    max_bytes, per_message, types = inbox.attachment_limits()
    return {
        "message_max_chars": settings.MESSAGE_MAX_CHARS,
        "attachment_max_bytes": max_bytes,
        "attachments_per_message": per_message,
        "attachment_types": types,
    }


def operator_active_chats(user_id: int) -> int:
    return Conversation.objects.filter(assignee_id=user_id, status=Conversation.Status.ACTIVE).count()


def operator_payload(profile: OperatorProfile) -> dict:
    return {
        "id": profile.user_id,
        "name": profile.display_name,
        "status": profile.status,
        "active_chats": operator_active_chats(profile.user_id),
        "max_chats": profile.max_chats,
        "inbox_ids": list(profile.inboxes.values_list("pk", flat=True)),
    }


def operator_inbox_ids(profile: OperatorProfile) -> list[int]:
    """The active inboxes she belongs to: what her socket hears, shows and replays (as the inbox page shows)."""
    return list(profile.inboxes.filter(is_active=True).values_list("pk", flat=True))


def last_public_messages(conversation_ids: list[int]) -> dict[int, Message]:
    """The last public message of each conversation, in one query (a welcome used to ask once per conversation)."""
    if not conversation_ids:
        return {}
    last_ids = (
        Message.objects.filter(conversation_id__in=conversation_ids, private=False)
        .values("conversation_id")
        .annotate(last_id=Max("id"))
        .values_list("last_id", flat=True)
    )
    return {m.conversation_id: m for m in Message.objects.filter(pk__in=list(last_ids))}


def conversation_payloads(conversations) -> list[dict]:
    """Frame shape C for many conversations with a fixed number of queries, however many they are: their last
    public messages, and the queue positions and paces of the waiting ones, are read for all at once."""
    conversations = _with_related(conversations)
    queued_inboxes = {c.inbox_id for c in conversations if c.status == Conversation.Status.QUEUED}
    waiting = Conversation.objects.filter(inbox_id__in=queued_inboxes, status=Conversation.Status.QUEUED)
    positions = (
        _queue_positions(waiting.order_by("requested_at", "pk").values_list("pk", "inbox_id")) if queued_inboxes else {}
    )
    return _payloads(conversations, positions)


def inbox_queue(inbox_ids: list[int]) -> list[dict]:
    """The waiting conversations, oldest first: the list is the queue, so it gives the positions itself."""
    queued = _with_related(
        Conversation.objects.filter(inbox_id__in=inbox_ids, status=Conversation.Status.QUEUED).order_by(
            "requested_at", "pk"
        )
    )
    return _payloads(queued, _queue_positions((c.pk, c.inbox_id) for c in queued))


def _with_related(conversations) -> list[Conversation]:
    if isinstance(conversations, QuerySet):
        conversations = conversations.select_related(
            "contact", "assignee__operator", "team", "ticket"
        ).prefetch_related("labels")
    return list(conversations)


def _queue_positions(waiting_in_order) -> dict[int, int]:
    """{conversation id: its place in its inbox's queue} from (id, inbox id) pairs, oldest first."""
    positions: dict[int, int] = {}
    ahead: dict[int, int] = {}
    for pk, inbox_id in waiting_in_order:
        positions[pk] = ahead[inbox_id] = ahead.get(inbox_id, 0) + 1
    return positions


def _payloads(conversations: list[Conversation], positions: dict[int, int]) -> list[dict]:
    last = last_public_messages([c.pk for c in conversations])
    paces = {inbox_id: inbox_pace(inbox_id) for inbox_id in {c.inbox_id for c in conversations if c.pk in positions}}
    payloads = []
    for conversation in conversations:
        position = positions.get(conversation.pk) if conversation.status == Conversation.Status.QUEUED else None
        waiting = (position, _wait_seconds(position, paces[conversation.inbox_id])) if position else (None, None)
        payloads.append(conversation_payload(conversation, waiting=waiting, last=last.get(conversation.pk)))
    return payloads


def last_inbox_event_id(inbox_ids: list[int]) -> int:
    return InboxEvent.objects.filter(inbox_id__in=inbox_ids).order_by("-pk").values_list("pk", flat=True).first() or 0


def operator_welcome(profile: OperatorProfile) -> dict:
    inbox_ids = operator_inbox_ids(profile)
    # Read before the state, so that a change between the two is replayed by `sync`, not lost.
    last_event_id = last_inbox_event_id(inbox_ids)
    mine = Conversation.objects.filter(assignee_id=profile.user_id, status=Conversation.Status.ACTIVE).order_by(
        "requested_at"
    )
    operators = (
        OperatorProfile.objects.filter(inboxes__in=inbox_ids)
        .distinct()
        .annotate(
            # Distinct: the join through shared inboxes repeats each conversation once per inbox.
            active_chats=Count(
                "user__assigned_conversations",
                filter=Q(user__assigned_conversations__status=Conversation.Status.ACTIVE),
                distinct=True,
            )
        )
        .order_by("display_name")
    )
    return {
        "type": "welcome",
        "operator": operator_payload(profile),
        "queue": inbox_queue(inbox_ids),
        "conversations": conversation_payloads(mine),
        "tickets": conversation_payloads(mail_tickets_open(inbox_ids)),
        "operators": [
            {
                "id": o.user_id,
                "name": o.display_name,
                "status": o.status,
                "active_chats": o.active_chats,
                "max_chats": o.max_chats,
            }
            for o in operators
        ],
        "teams": [{"id": t.pk, "name": t.name} for t in Team.objects.filter(inboxes__in=inbox_ids).distinct()],
        "labels": available_labels(inbox_ids),
        "last_event_id": last_event_id,
    }


def mail_tickets_open(inbox_ids: list[int]):
    """The offline messages and e-mail tickets still to answer or waiting on the customer (open, pending), oldest
    first: the inbox's Tickets list."""
    return Conversation.objects.filter(
        inbox_id__in=inbox_ids,
        channel_kind__in=MAIL_KINDS,
        ticket__status__in=[Ticket.Status.OPEN, Ticket.Status.PENDING],
    ).order_by("requested_at", "pk")[:MAIL_TICKETS_LISTED]


def inbox_events_after(inbox_ids: list[int], last_event_id: int, limit: int) -> list[dict]:
    events = InboxEvent.objects.filter(inbox_id__in=inbox_ids, pk__gt=last_event_id).order_by("pk")[: limit + 1]
    return [{**e.payload, "event_id": e.pk} for e in events]


def contact_history(conversation: Conversation) -> list[dict]:
    """The contact's earlier conversations on the same inbox, newest first."""
    return conversation_payloads(
        Conversation.objects.filter(contact_id=conversation.contact_id, inbox_id=conversation.inbox_id)
        .exclude(pk=conversation.pk)
        .order_by("-requested_at")[:20]
    )


def conversation_for_update(conversation_id: int, condition: Q | None = None) -> Conversation | None:
    """The conversation, locked; with `condition`, only if it still meets it once locked (FOR UPDATE evaluates the
    WHERE again on a row it had to wait for)."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("inbox", "contact", "ticket")
        .filter(condition or Q(), pk=conversation_id)
        .first()
    )


def conversation_for_operator(*, profile: OperatorProfile, conversation_id: int, lock: bool) -> Conversation:
    """The conversation if the operator belongs to its inbox (checked on every frame); `lock` for a change."""
    if lock:
        conversation = conversation_for_update(conversation_id)
    else:
        conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise ChatError("not_found", _("There is no such conversation."))
    if not profile.inboxes.filter(pk=conversation.inbox_id).exists():
        raise ChatError("forbidden", _("You are not an operator of this conversation's inbox."))
    return conversation
