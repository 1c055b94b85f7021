"""The addresses of a mail account: its own (support@example.com), a thread's reply address
(support+<token>@example.com, the token unguessable) and a sent mail's bounce address
(support+b-<id>-<signature>@example.com: the envelope sender, so that a delivery report names the mail)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings


def _split(address: str) -> tuple[str, str]:
    local, _at, domain = address.strip().lower().rpartition("@")
    return local, domain


def reply_address(account_address: str, token: str) -> str:
    local, domain = _split(account_address)
    return f"{local}+{token}@{domain}"


def _signature(mail_id: int) -> str:
    key = hashlib.sha256(f"mail-bounce:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, str(mail_id).encode(), hashlib.sha256).hexdigest()[:12]


def bounce_address(account_address: str, mail_id: int) -> str:
    local, domain = _split(account_address)
    return f"{local}+b-{mail_id}-{_signature(mail_id)}@{domain}"


@dataclass(frozen=True)
class Recipient:
    base: str  # the account's address
    token: str = ""  # a thread's reply token, as written (checked against the database by the caller)
    bounce_mail_id: int | None = None  # a sent mail whose bounce address this is, its signature verified


def recipient_of(address: str) -> Recipient:
    """What an address we received mail for names; a bounce address whose signature is wrong names nothing more
    than its account."""
    local, domain = _split(address)
    base_local, plus, tag = local.partition("+")
    base = f"{base_local}@{domain}"
    if not plus:
        return Recipient(base=base)
    if tag.startswith("b-"):
        _b, _dash, rest = tag.partition("-")
        mail_id, _dash, signature = rest.partition("-")
        if mail_id.isdigit() and hmac.compare_digest(signature, _signature(int(mail_id))):
            return Recipient(base=base, bounce_mail_id=int(mail_id))
        return Recipient(base=base)
    return Recipient(base=base, token=tag)
