"""Writes of the supportdesk app: the API tokens tools read the reports with."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from supportdesk.models import ApiToken

TOKEN_PREFIX = "sd_"
# A token's last use is written at most this often: a tool polling every second must not write every second.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_hash(raw: str) -> str:
    # The token is 256 random bits: a plain SHA-256 cannot be reversed or guessed, and it is looked up by it.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, token: ApiToken) -> str:
    """Saves a new token (its user and name set) and returns the token itself, which is stored nowhere."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.prefix, token.key_hash = raw[:10], api_token_hash(raw)
    token.save()
    return raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_user(*, raw: str):
    """The active user a live token belongs to, or None; notes its use."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
