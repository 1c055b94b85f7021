"""An operator's profile: her display name and her avatar.

An upload is kept only as a PNG drawn anew from its pixels, never as the bytes that came: whatever else the file
held (EXIF with a place or a camera, comments, a second image) is left behind, and what is served is known to be
a small image.
"""

from __future__ import annotations

import hashlib
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from chat.faces import avatar_storage_name
from chat.models import OperatorProfile

AVATAR_PIXELS = 128
ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP"}
# Pixels decoded from one upload at most: 2 MB of PNG can unpack to gigabytes (a "decompression bomb").
MAX_SOURCE_PIXELS = 40_000_000


class AvatarRefused(ValueError):
    """The upload is not an image the desk takes; the message says why, for the operator."""


def avatar_thumbnail(upload) -> bytes:
    """The square PNG of AVATAR_PIXELS made from an uploaded PNG, JPEG or WebP (checked by content, not by name)."""
    limit = settings.AVATAR_MAX_BYTES
    too_large = AvatarRefused(_("The image is larger than %(size)s.") % {"size": filesizeformat(limit)})
    if upload.size is not None and upload.size > limit:
        raise too_large
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large
    not_an_image = AvatarRefused(_("This file is not an image, or it is damaged."))
    try:
        with Image.open(BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise not_an_image from exc
    if kind not in ACCEPTED_FORMATS:
        raise AvatarRefused(_("Upload a PNG, JPEG or WebP image."))
    if width * height > MAX_SOURCE_PIXELS:
        raise AvatarRefused(_("The image has too many pixels; upload a smaller one."))
    try:
        with Image.open(BytesIO(data)) as image:
            # Turned as the camera meant before its EXIF is dropped.
            upright = ImageOps.exif_transpose(image).convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise not_an_image from exc
    square = ImageOps.fit(upright, (AVATAR_PIXELS, AVATAR_PIXELS), Image.Resampling.LANCZOS)
    out = BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


def operator_profile_update(
    *, profile: OperatorProfile, display_name: str, avatar_png: bytes | None = None, remove_avatar: bool = False
) -> OperatorProfile:
    """Sets her display name and, given `avatar_png` (from avatar_thumbnail), her avatar; `remove_avatar` takes it
    away. The file of the avatar she had is deleted once the change is committed, so its address stops working."""
    storage = profile.avatar.storage
    old_name = profile.avatar.name or ""
    with transaction.atomic():
        profile.display_name = display_name
        if avatar_png is not None:
            name = avatar_storage_name(user_id=profile.user_id, digest=hashlib.sha256(avatar_png).hexdigest()[:32])
            # The same picture again has the same name: keep the file rather than let the storage rename a copy.
            if not storage.exists(name):
                name = storage.save(name, ContentFile(avatar_png))
            profile.avatar.name = name
        elif remove_avatar:
            profile.avatar.name = ""
        profile.save(update_fields=["display_name", "avatar"])
        if old_name and old_name != profile.avatar.name:
            transaction.on_commit(lambda: storage.delete(old_name))
    return profile
