"""IMAP passwords: kept encrypted in the database (Fernet: AES with an HMAC), or read from an environment variable
the account names, so that a database dump or backup never holds one in the clear.

The key is MAIL_SECRET_KEY (a Fernet key, `Fernet.generate_key()`; several, comma-separated, to rotate: the first
encrypts, any decrypts), else one derived from SECRET_KEY. A password stored under the derived key still decrypts
after MAIL_SECRET_KEY is set; one stored under a key that is gone does not, and must be entered again."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretError(Exception):
    """An IMAP password that cannot be had: said in words a manager can act on (it is shown as the last error)."""


def _derived_key() -> bytes:
    digest = hashlib.sha256(f"supportdesk.mail.imap-password:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _configured_keys() -> list[bytes]:
    return [key.strip().encode() for key in (settings.MAIL_SECRET_KEY or "").split(",") if key.strip()]


def _fernet() -> MultiFernet:
    try:
        keys = [Fernet(key) for key in _configured_keys()]
    except ValueError as exc:
        raise SecretError(
            "MAIL_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes, as Fernet.generate_key() makes)"
        ) from exc
    derived = Fernet(_derived_key())
    # The first key encrypts; every key decrypts, the derived one last (passwords stored before MAIL_SECRET_KEY).
    return MultiFernet([*keys, derived])


def encrypt_password(plain: str) -> str:
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_password(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretError(
            "The stored IMAP password cannot be decrypted (was SECRET_KEY or MAIL_SECRET_KEY changed?): enter it "
            "again in the admin"
        ) from exc


def imap_password(account) -> str:
    """The password to log in with: the environment variable the account names, else the stored one."""
    if account.imap_password_env:
        value = os.environ.get(account.imap_password_env)
        if value is None:
            raise SecretError(f"The environment variable {account.imap_password_env} is not set in this process")
        return value
    if account.imap_password_encrypted:
        return decrypt_password(account.imap_password_encrypted)
    raise SecretError("No IMAP password: enter one in the admin, or name an environment variable that holds it")
