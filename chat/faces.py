"""Faces: an operator's avatar or initials on a colour, a contact's initials on a colour (the `face` fields of
protocol.md's shapes). Reads only; the avatar is written by chat.services.avatars."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from django.conf import settings
from django.urls import reverse

# Colours that white initials read well on (contrast at least 4.5:1), picked by id so a face keeps its colour.
PALETTE = ("#1f6feb", "#8250df", "#bf3989", "#cf222e", "#9a6700", "#1a7f37", "#0a7480", "#57606a")
AVATAR_NAME = re.compile(r"^avatars/(?P<user_id>\d+)/(?P<digest>[0-9a-f]{32})\.png$")


def colour_for(key: int | None) -> str:
    return PALETTE[(key or 0) % len(PALETTE)]


def initials(name: str) -> str:
    """Up to two letters: the first of the first and of the last word ("Sara Ahmadi" → "SA"); "?" without a name."""
    words = [w for w in re.split(r"[\s._-]+", name or "") if w and w[0].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def avatar_digest(profile) -> str | None:
    """The content hash in the name of the operator's current avatar, or None when she has none."""
    match = AVATAR_NAME.match(profile.avatar.name or "") if profile is not None else None
    return match["digest"] if match and int(match["user_id"]) == profile.user_id else None


def avatar_url(profile) -> str | None:
    """Absolute (the widget runs on other sites' pages); a new avatar has a new address, an old one stops working."""
    digest = avatar_digest(profile)
    if digest is None:
        return None
    return settings.SITE_URL.rstrip("/") + reverse("operator-avatar", args=[profile.user_id, digest])


def avatar_storage_name(*, user_id: int, digest: str) -> str:
    return str(PurePosixPath("avatars", str(user_id), f"{digest}.png"))


def operator_face(user, *, name: str) -> dict:
    """{"initials", "colour", "avatar_url"} of an operator, `name` being the name she is shown under."""
    profile = getattr(user, "operator", None)
    return {"initials": initials(name), "colour": colour_for(user.pk), "avatar_url": avatar_url(profile)}


def contact_face(contact) -> dict:
    return {"initials": initials(contact.name or contact.email.split("@")[0]), "colour": colour_for(contact.pk)}
