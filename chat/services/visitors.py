"""Visitors: signed tokens bound to an inbox's site, sessions, presence of their sockets, offline messages."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from chat.models import ChannelKind, Contact, Conversation, Inbox
from chat.services import ratelimits
from surveys.models import SurveyInvitation
from tickets.models import Ticket
from tickets.services import ticket_create

VISITOR_TOKEN_SALT = "chat.visitor-token"


@dataclass(frozen=True)
class Visitor:
    """Whom a valid token names: a visitor id, and its contact once the visitor did something that needs one."""

    visitor_id: uuid.UUID
    contact: Contact | None
    locale: str = ""


def _token(*, site_key: str, visitor_id: uuid.UUID, locale: str = "") -> str:
    data = {"v": visitor_id.hex, "k": site_key}
    if locale:
        # Kept in the token until the contact exists, which then takes it.
        data["l"] = locale[:16]
    return signing.dumps(data, salt=VISITOR_TOKEN_SALT)


def visitor_token_make(*, contact: Contact) -> str:
    return _token(site_key=contact.inbox.site_key, visitor_id=contact.visitor_id)


def visitor_token_new(*, inbox: Inbox) -> tuple[Visitor, str]:
    """A new visitor: only a signed id, no row (one is made when they write or fill in a form)."""
    visitor = Visitor(visitor_id=uuid.uuid4(), contact=None)
    return visitor, _token(site_key=inbox.site_key, visitor_id=visitor.visitor_id)


def visitor_token_read(*, inbox: Inbox, token) -> Visitor | None:
    """The visitor a token names, only if it was signed by this desk for this inbox's site."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_TOKEN_SALT, max_age=settings.VISITOR_TOKEN_MAX_AGE_DAYS * 86400)
        visitor_id = uuid.UUID(hex=data["v"])
        locale = str(data.get("l") or "")
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
    if data.get("k") != inbox.site_key:
        return None
    contact = Contact.objects.select_related("inbox").filter(visitor_id=visitor_id, inbox=inbox).first()
    return Visitor(visitor_id=visitor_id, contact=contact, locale=locale)


def visitor_token_contact(*, inbox: Inbox, token) -> Contact | None:
    """The contact a token names, only if it was signed by this desk for this inbox's site and the contact exists."""
    visitor = visitor_token_read(inbox=inbox, token=token)
    return visitor.contact if visitor else None


def visitor_contact_get_or_create(
    *,
    inbox: Inbox,
    visitor_id: uuid.UUID,
    address: str | None = None,
    locale: str = "",
    name: str = "",
    email: str = "",
    page_url: str = "",
) -> Contact:
    """The visitor's contact, made the first time they need one (race-safe: two tabs writing at once make one).

    A new contact from `address` counts against NEW_CONTACTS_PER_*; past them, RateLimitedError and no row.
    """
    contact = Contact.objects.select_related("inbox").filter(visitor_id=visitor_id, inbox=inbox).first()
    if contact is None:
        if address is not None:
            ratelimits.rate_limit_check(action=ratelimits.NEW_CONTACT, address=address, site_key=inbox.site_key)
        fresh = Contact(inbox=inbox, visitor_id=visitor_id)
        _clean_profile(fresh, name=name, email=email, locale=locale, page_url=page_url)
        defaults = {f: getattr(fresh, f) for f in ("name", "email", "locale", "last_page_url")}
        # get_or_create retries the read when another process inserted the same visitor id first.
        contact, _created = Contact.objects.get_or_create(visitor_id=visitor_id, inbox=inbox, defaults=defaults)
    return contact


def _clean_profile(contact: Contact, *, name: str = "", email: str = "", locale: str = "", page_url: str = "") -> list:
    changed = []
    for field, value, limit in (
        ("name", name, 120),
        ("email", email, 254),
        ("locale", locale, 16),
        ("last_page_url", page_url, 2000),
    ):
        value = (value or "").strip()[:limit]
        if value and getattr(contact, field) != value:
            setattr(contact, field, value)
            changed.append(field)
    return changed


@transaction.atomic
def visitor_session_start(
    *,
    inbox: Inbox,
    visitor_token=None,
    address: str | None = None,
    name: str = "",
    email: str = "",
    locale: str = "",
    page_url: str = "",
) -> tuple[Contact | None, str]:
    """Resumes the visitor a valid token names, else makes a new one (never someone else's).

    A visitor who only opened the widget gets a token and no row: the contact is made by the pre-chat form (a
    name or an e-mail here), the first message or the offline form. Until then a locale rides in the token.
    """
    visitor = visitor_token_read(inbox=inbox, token=visitor_token)
    if visitor is None:
        visitor, _token_ = visitor_token_new(inbox=inbox)
    contact = visitor.contact
    if contact is None:
        if not (name or "").strip() and not (email or "").strip():
            return None, _token(site_key=inbox.site_key, visitor_id=visitor.visitor_id, locale=locale or visitor.locale)
        contact = visitor_contact_get_or_create(
            inbox=inbox,
            visitor_id=visitor.visitor_id,
            address=address,
            locale=locale or visitor.locale,
            name=name,
            email=email,
            page_url=page_url,
        )
    changed = _clean_profile(contact, name=name, email=email, locale=locale, page_url=page_url)
    contact.last_seen_at = timezone.now()
    contact.save(update_fields=[*changed, "last_seen_at"])
    return contact, visitor_token_make(contact=contact)


def visitor_contact_for_token(*, inbox: Inbox, visitor_token, address: str | None = None) -> tuple[Contact, str]:
    """The contact of the visitor a token names, made if they have none yet; a new visitor for an invalid token."""
    visitor = visitor_token_read(inbox=inbox, token=visitor_token)
    if visitor is None:
        visitor, _token_ = visitor_token_new(inbox=inbox)
    contact = visitor.contact or visitor_contact_get_or_create(
        inbox=inbox, visitor_id=visitor.visitor_id, address=address, locale=visitor.locale
    )
    return contact, visitor_token_make(contact=contact)


@transaction.atomic
def offline_message_create(*, inbox: Inbox, contact: Contact, name: str, email: str, body: str):
    """A message left while nobody is available: an offline-message ticket whose thread operators answer by mail
    from the inbox (mail.services), acknowledged at once with when an answer can be expected.

    The message is held by the thread's conversation, of kind `offline_form`: never live, so it is ended from the
    start (as `missed`: nobody was there to answer) and records no `conversation_requested` event; live chat
    rates do not count it.
    """
    from mail.services.threads import thread_open

    changed = _clean_profile(contact, name=name, email=email)
    if changed:
        contact.save(update_fields=changed)
    now = timezone.now()
    subject = " ".join(body.split())[:200]
    ticket = ticket_create(inbox=inbox, contact=contact, channel_kind=ChannelKind.OFFLINE_FORM, subject=subject, at=now)
    thread_open(ticket=ticket, contact=contact, channel_kind=ChannelKind.OFFLINE_FORM, body=body, at=now)
    return ticket


def visitor_connected(*, conversation_id: int) -> None:
    Conversation.objects.filter(pk=conversation_id).update(
        visitor_connection_count=F("visitor_connection_count") + 1, visitor_last_seen_at=timezone.now()
    )


def visitor_disconnected(*, conversation_id: int) -> None:
    Conversation.objects.filter(pk=conversation_id).update(
        visitor_connection_count=F("visitor_connection_count") - 1, visitor_last_seen_at=timezone.now()
    )


def visitors_heartbeat(*, conversation_ids: list[int], batch: int = 1000) -> None:
    """Live sockets say their visitors are still there, so a crashed server's stale count does not keep a visitor
    forever: one statement for up to `batch` conversations (a server process beats for all its sockets at once)."""
    now = timezone.now()
    for start in range(0, len(conversation_ids), batch):
        Conversation.objects.filter(pk__in=conversation_ids[start : start + batch]).update(visitor_last_seen_at=now)


def visitor_pace_counter(*, visitor_id: uuid.UUID) -> ratelimits.Counter:
    """The counter of this visitor's messages shared by all their sockets, in every server process.

    Tabs opened side by side do not multiply the allowance: VISITOR_RATE_LIMIT_MESSAGES per window are counted per
    visitor in the cache (Redis in production, where the increment is atomic). The window is fixed; each socket's
    own sliding window (the consumer's) keeps the pace inside it.
    """
    window = settings.VISITOR_RATE_LIMIT_WINDOW_SECONDS
    key = f"chat:rate:{visitor_id.hex}:{int(time.time() // window)}"
    return ratelimits.Counter(key, math.ceil(window) + 1, settings.VISITOR_RATE_LIMIT_MESSAGES)


def visitor_purge_unreachable(*, now=None, batch: int = 5000) -> int:
    """Deletes visitors nobody can reach again and nothing refers to; returns how many.

    A contact is made when a visitor first writes or fills in a form (opening the widget makes none). One whose
    last visit is older than the token's lifetime (VISITOR_TOKEN_MAX_AGE_DAYS) can never be resumed: every token
    it was given has expired. If it also never wrote (no conversation, ticket or survey invitation) and has no
    operator notes, it is only a name or an e-mail kept for nothing. Deleted in batches, each its own
    transaction, so that a large backlog does not hold locks.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.VISITOR_TOKEN_MAX_AGE_DAYS)
    unreachable = Contact.objects.filter(last_seen_at__lt=cutoff, notes="").filter(
        ~Exists(Conversation.objects.filter(contact=OuterRef("pk"))),
        ~Exists(Ticket.objects.filter(contact=OuterRef("pk"))),
        ~Exists(SurveyInvitation.objects.filter(contact=OuterRef("pk"))),
    )
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(unreachable.values_list("pk", flat=True)[:batch])
            if ids:
                Contact.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
