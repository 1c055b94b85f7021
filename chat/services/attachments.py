"""Attachments: an upload checked and stored (unsent), then sent as part of one message by its uploader.

The type kept is the one the content shows (chat.filetypes); an image is re-encoded from its pixels at once, so
that no EXIF (a place, a camera) survives even before its thumbnail is made by a task.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import BytesIO
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from chat import filetypes
from chat.models import Attachment, Inbox, Message
from chat.services.avatars import MAX_SOURCE_PIXELS
from chat.services.errors import ChatError

NAME_MAX_CHARS = 255
PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# What a name's extension claims; a file whose content is another type is refused as disguised.
CLAIMED_BY_EXTENSION = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    **filetypes.ZIP_BY_EXTENSION,
}


class AttachmentRefused(ValueError):
    """The upload is not taken; `code` says which limit (too_large, unsupported_type, too_many), the message why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _clean_name(name: str) -> str:
    # Only the last part of a path, without control characters: it is shown and used as the download's name.
    base = PurePath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "file"
    if len(base) > NAME_MAX_CHARS:
        stem, suffix = PurePath(base).stem, PurePath(base).suffix[:20]
        base = stem[: NAME_MAX_CHARS - len(suffix)] + suffix
    return base


def _reencoded(data: bytes, content_type: str) -> tuple[bytes, int, int]:
    """The image drawn anew from its pixels, turned upright, without EXIF or other metadata; (bytes, width, height)."""
    refused = AttachmentRefused("unsupported_type", _("This image is damaged or too large to open."))
    try:
        with Image.open(BytesIO(data)) as probe:
            width, height = probe.size
            found = probe.format
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise refused from exc
    if found != PIL_FORMATS[content_type] or width * height > MAX_SOURCE_PIXELS:
        raise refused
    try:
        with Image.open(BytesIO(data)) as image:
            out = BytesIO()
            if content_type == "image/gif":
                # Every frame of an animation; GIF carries no EXIF.
                image.save(out, format="GIF", save_all=True)
            else:
                upright = ImageOps.exif_transpose(image)
                if content_type == "image/jpeg" and upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                upright.save(out, format=PIL_FORMATS[content_type], **({"quality": 90} if found == "JPEG" else {}))
                width, height = upright.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise refused from exc
    return out.getvalue(), width, height


def attachment_upload(*, inbox: Inbox, upload, visitor_id=None, user=None) -> Attachment:
    """Stores an upload of a visitor (`visitor_id`) or an operator (`user`) for `inbox`, unsent; refused (nothing
    stored) when too large, of a type the inbox does not take by its content, or one unsent upload too many."""
    max_bytes, _per_message, types = inbox.attachment_limits()
    too_large = AttachmentRefused(
        "too_large", _("The file is larger than %(size)s.") % {"size": filesizeformat(max_bytes)}
    )
    if upload.size is not None and upload.size > max_bytes:
        raise too_large
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    if not data:
        raise AttachmentRefused("unsupported_type", _("The file is empty."))
    name = _clean_name(getattr(upload, "name", "") or "file")
    content_type = filetypes.detect_content_type(data, name)
    claimed = CLAIMED_BY_EXTENSION.get(PurePath(name).suffix.lower())
    if content_type is None or content_type not in types or (claimed is not None and claimed != content_type):
        raise AttachmentRefused(
            "unsupported_type", _("Files of this type are not taken here (it was checked by its content).")
        )
    pending = Attachment.objects.filter(message__isnull=True)
    pending = pending.filter(visitor_id=visitor_id) if visitor_id is not None else pending.filter(uploaded_by=user)
    if pending.count() >= settings.ATTACHMENTS_PENDING_MAX:
        raise AttachmentRefused("too_many", _("Send or remove the files you have attached before adding more."))
    width = height = None
    if content_type in filetypes.IMAGE_TYPES:
        data, width, height = _reencoded(data, content_type)
    attachment = Attachment(
        inbox=inbox,
        visitor_id=visitor_id,
        uploaded_by=user,
        name=name,
        content_type=content_type,
        size=len(data),
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    # A name of the storage's own: the visitor's name is only shown, never a path.
    extension = PurePath(name).suffix.lower()[:10]
    attachment.file.save(f"{hashlib.sha256(data).hexdigest()[:32]}{extension}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            attachment.save()
            if width is not None:
                from chat.tasks import attachment_thumbnail

                # robust: a broker that is down costs the thumbnail (the image stands in for it), not the upload.
                transaction.on_commit(lambda: attachment_thumbnail.delay(attachment.pk), robust=True)
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def attachments_for_send(*, ids: list[int], inbox_id: int, visitor_id=None, user=None) -> list[Attachment]:
    """The uploads named by a `message.send`, locked: each must be the sender's, unsent, of this inbox (else
    `forbidden` or `not_found`; `conflict` when already sent), at most the inbox's count per message."""
    if not ids:
        return []
    inbox = Inbox.objects.get(pk=inbox_id)
    _max_bytes, per_message, _types = inbox.attachment_limits()
    if len(set(ids)) > per_message:
        raise ChatError("too_large", _("A message has at most %(n)s attachments.") % {"n": per_message})
    found = {a.pk: a for a in Attachment.objects.select_for_update().filter(pk__in=set(ids))}
    ordered = []
    for attachment_id in dict.fromkeys(ids):
        attachment = found.get(attachment_id)
        if attachment is None:
            raise ChatError("not_found", _("There is no such attachment."))
        mine = attachment.visitor_id == visitor_id if visitor_id is not None else attachment.uploaded_by_id == user.pk
        if not mine or attachment.inbox_id != inbox_id:
            raise ChatError("forbidden", _("This attachment is not yours to send."))
        if attachment.message_id is not None:
            raise ChatError("conflict", _("This attachment was already sent."))
        ordered.append(attachment)
    return ordered


def attachments_attach(*, attachments: list[Attachment], message: Message) -> None:
    """Makes the uploads part of `message` (in the message's transaction)."""
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(
        message=message, conversation_id=message.conversation_id
    )
    for attachment in attachments:
        attachment.message, attachment.conversation_id = message, message.conversation_id
    message._prefetched_objects_cache = {"attachments": list(attachments)}


def attachment_thumbnail_make(*, attachment_id: int) -> bool:
    """The image's thumbnail (its long side ATTACHMENT_THUMBNAIL_PIXELS, no metadata); False when there is
    nothing to do (not an image, gone, done already)."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or not attachment.is_image or attachment.thumbnail:
        return False
    with attachment.file.open("rb") as file, Image.open(file) as image:
        image.thumbnail((settings.ATTACHMENT_THUMBNAIL_PIXELS,) * 2, Image.Resampling.LANCZOS)
        opaque = image.mode in ("RGB", "L") or attachment.content_type == "image/jpeg"
        out = BytesIO()
        if opaque:
            image.convert("RGB").save(out, format="JPEG", quality=85)
        else:
            image.convert("RGBA").save(out, format="PNG", optimize=True)
    extension = ".jpg" if opaque else ".png"
    attachment.thumbnail.save(f"{attachment.sha256[:32]}{extension}", ContentFile(out.getvalue()), save=False)
    Attachment.objects.filter(pk=attachment.pk).update(thumbnail=attachment.thumbnail.name)
    return True


def attachment_purge_unsent() -> int:
    """Deletes uploads never sent with a message within ATTACHMENT_UNSENT_MAX_AGE_SECONDS, files included."""
    before = timezone.now() - timedelta(seconds=settings.ATTACHMENT_UNSENT_MAX_AGE_SECONDS)
    count = 0
    for attachment in Attachment.objects.filter(message__isnull=True, created_at__lt=before).iterator():
        for field in (attachment.file, attachment.thumbnail):
            if field:
                field.delete(save=False)
        attachment.delete()
        count += 1
    return count
