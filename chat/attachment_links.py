"""Signed, expiring addresses of attachments, and the attachments of a message payload (protocol.md).

An address names one attachment, one audience and whether it is the thumbnail, signed with a timestamp: nothing in
it can be guessed or changed, and it stops working after ATTACHMENT_URL_MAX_AGE_SECONDS. The visitor's audience is
the address itself (the widget's images load on another site, without the desk's cookies): it serves only an
attachment of a public message, or the visitor's own upload. The operators' audience also needs the session of an
operator of the attachment's inbox. Each payload built gets fresh addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from chat.models import Attachment, Message

VISITOR = "v"
OPERATORS = "o"
SALT = "chat.attachment-url"


@dataclass(frozen=True)
class Grant:
    attachment_id: int
    audience: str
    thumbnail: bool


def attachment_url(attachment: Attachment, *, audience: str, thumbnail: bool = False) -> str:
    token = signing.TimestampSigner(salt=SALT).sign_object({"a": attachment.pk, "u": audience, "t": int(thumbnail)})
    return settings.SITE_URL.rstrip("/") + reverse("attachment", args=[token])


def grant_read(token: str) -> Grant | None:
    """What a signed address grants, or None when it is forged, altered or expired."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=settings.ATTACHMENT_URL_MAX_AGE_SECONDS)
        grant = Grant(attachment_id=int(data["a"]), audience=str(data["u"]), thumbnail=bool(data["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return grant if grant.audience in (VISITOR, OPERATORS) else None


def attachment_payload(attachment: Attachment, *, audience: str) -> dict:
    url = attachment_url(attachment, audience=audience)
    # Until the thumbnail task has run, an image's own address stands in for it.
    thumbnail_url = (
        (attachment_url(attachment, audience=audience, thumbnail=True) if attachment.thumbnail else url)
        if attachment.is_image
        else None
    )
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "width": attachment.width,
        "height": attachment.height,
    }


def message_attachments(message: Message, *, audience: str) -> list[dict]:
    if not message.has_attachments:
        return []
    known = getattr(message, "_prefetched_objects_cache", {}).get("attachments")
    attachments = known if known is not None else message.attachments.order_by("id")
    return [attachment_payload(a, audience=audience) for a in attachments]


def attachments_prefetch(messages) -> list[Message]:
    """`messages` as a list, with their attachments read in one query (none when no message has any)."""
    messages = list(messages)
    ids = [m.pk for m in messages if m.has_attachments]
    if ids:
        by_message: dict[int, list[Attachment]] = {}
        for attachment in Attachment.objects.filter(message_id__in=ids).order_by("id"):
            by_message.setdefault(attachment.message_id, []).append(attachment)
        for message in messages:
            if message.has_attachments:
                message._prefetched_objects_cache = {"attachments": by_message.get(message.pk, [])}
    return messages
