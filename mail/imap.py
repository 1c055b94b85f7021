"""Mail in by IMAP: a beat job (mail.poll_imap) reads each active inbox's mailbox and hands every mail to
`mail_receive`, as the SMTP receiver does, then moves it out of the folder it was read from.

For each mail, oldest first, at most BATCH a poll:

- its size is read first (RFC822.SIZE). Over MAIL_MAX_BYTES it is not downloaded: its headers are, a RefusedMail
  (too large) is recorded, the sender is told in a plain-text answer (never an automatic mail, at most one an hour
  per sender), and the mail is moved to the refused folder;
- else its exact bytes (BODY.PEEK[]: as stored, not re-serialised, and not marked read) go to `mail_receive`, for
  the mailbox's own addresses among Delivered-To, X-Original-To, To and Cc (a reply to a thread's plus-address
  threads), else the account's address. Stored, duplicate or a delivery report: moved to the processed folder;
  refused: moved to the refused folder; deferred (a 4xx: the sender's hourly limit) or an exception: left where
  it is, for a poll DEFER_SECONDS later (deferred) or the next one (exception).

A mail is moved only after `mail_receive` has committed it. A process that dies in between leaves it in the
folder; the next poll reads it again, the Message-ID dedupe answers "duplicate", and it is moved then. Folders are
named with "/" in the admin and translated to the server's hierarchy delimiter and personal namespace (dovecot's
maildir "Supportdesk.Processed", Courier's "INBOX.Supportdesk.Processed"); missing ones are created. The refused
folder is "Refused" beside the processed folder (Supportdesk/Refused).
"""

from __future__ import annotations

import logging
import re
import ssl
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage as ParsedHeaders
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from imap_tools import BaseMailBox, MailBox, MailboxFolderCreateError, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxCopyError, MailboxDeleteError, MailboxFetchError, MailboxMoveError
from imap_tools.utils import check_command_status, encode_folder

from chat.services import ratelimits
from mail.addresses import recipient_of
from mail.models import MailAccount, RefusedMail
from mail.parsing import clean_header, is_automatic, message_ids
from mail.secrets import imap_password
from mail.services.inbound import Outcome, mail_receive
from mail.services.outbound import refusal_queue

logger = logging.getLogger(__name__)

BATCH = 200  # mails looked at per account and poll; the rest wait for the next poll
TIMEOUT_SECONDS = 30.0  # connecting, and each answer of the server
DEFER_SECONDS = 300  # a deferred mail (the sender's hourly limit) is tried again after this, not at every poll
LOCK_SECONDS = 15 * 60  # one poll of an account at a time (beat may start the next before a long one ends)
REFUSED_FOLDER = "Refused"
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
COUNTS = ("seen", "stored", "duplicate", "bounce", "refused", "too_large", "deferred", "failed", "backlog")
# The answer to a too-large mail is an automatic reply: at most one per sender an hour, as the acknowledgement.
TOO_LARGE_ANSWER = ratelimits.Action(
    "mail-too-large", 3600, "MAIL_ACKS_PER_SENDER_PER_HOUR", "MAIL_ACKS_PER_ACCOUNT_PER_HOUR"
)


class PollError(Exception):
    """A poll that could not run, with the step it failed at, in words for the admin's "last IMAP error"."""


# --- The session -----------------------------------------------------------------------------------------------


def _connect(account: MailAccount) -> BaseMailBox:
    host = account.imap_host.strip()
    security = account.imap_security
    port = account.imap_port or (993 if security == MailAccount.ImapSecurity.SSL else 143)
    # The certificate is verified: imaplib's own default context (ssl._create_stdlib_context) does not.
    if security == MailAccount.ImapSecurity.SSL:
        return MailBox(host, port, timeout=TIMEOUT_SECONDS, ssl_context=ssl.create_default_context())
    if security == MailAccount.ImapSecurity.STARTTLS:
        return MailBoxStartTls(host, port, timeout=TIMEOUT_SECONDS, ssl_context=ssl.create_default_context())
    return MailBoxUnencrypted(host, port, timeout=TIMEOUT_SECONDS)


def _login(mailbox: BaseMailBox, account: MailAccount) -> None:
    password = imap_password(account)
    username = account.imap_username
    if (username + password).isascii():
        mailbox.login(username, password, initial_folder=None)
    else:
        mailbox.login_utf8(username, password, initial_folder=None)  # LOGIN is ASCII only; AUTHENTICATE PLAIN
    # imaplib keeps the capabilities of the greeting; a server names more (MOVE, UIDPLUS) once logged in.
    typ, data = mailbox.client.capability()
    if typ == "OK" and data and data[-1]:
        mailbox.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


@dataclass(frozen=True)
class Folders:
    """How the server names folders: its personal namespace's prefix and its hierarchy delimiter."""

    prefix: str = ""
    delimiter: str = "/"

    def server_name(self, name: str) -> str:
        """A folder as the admin writes it (levels separated by "/") as this server names it."""
        name = name.strip().strip("/") or "INBOX"
        if name.upper() == "INBOX":
            return "INBOX"
        if self.delimiter and self.delimiter != "/":
            name = name.replace("/", self.delimiter)
        if self.prefix and not name.startswith(self.prefix) and not name.upper().startswith(f"INBOX{self.delimiter}"):
            name = f"{self.prefix}{name}"
        return name

    def sibling(self, server_name: str, name: str) -> str:
        parent, delimiter, _leaf = server_name.rpartition(self.delimiter) if self.delimiter else ("", "", "")
        return f"{parent}{delimiter}{name}" if delimiter else self.server_name(name)


_NAMESPACE = re.compile(rb'^\(\("((?:[^"\\]|\\.)*)" (?:"((?:[^"\\]|\\.)*)"|NIL)\)')
_LIST_DELIMITER = re.compile(rb'\) (?:"((?:[^"\\]|\\.)*)"|NIL) ')


def _unquote(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace").replace('\\"', '"').replace("\\\\", "\\")


def folders_of(mailbox: BaseMailBox) -> Folders:
    client = mailbox.client
    if "NAMESPACE" in client.capabilities:
        typ, data = client.namespace()
        match = _NAMESPACE.match(data[0] or b"") if typ == "OK" and data else None
        if match:
            return Folders(prefix=_unquote(match.group(1)), delimiter=_unquote(match.group(2)))
    typ, data = client.list('""', '""')
    match = _LIST_DELIMITER.search(data[0] or b"") if typ == "OK" and data and isinstance(data[0], bytes) else None
    return Folders(delimiter=_unquote(match.group(1)) if match else "/")


def _ensure_folder(mailbox: BaseMailBox, name: str) -> None:
    if mailbox.folder.exists(name):
        return
    try:
        mailbox.folder.create(name)
    except MailboxFolderCreateError:
        if not mailbox.folder.exists(name):  # another poller made it in between
            raise
    try:
        mailbox.folder.subscribe(name, True)  # so that mail clients show it
    except Exception:  # noqa: BLE001 — subscribing is a courtesy
        logger.info("could not subscribe to IMAP folder %s", name, exc_info=True)


def _uids(mailbox: BaseMailBox) -> list[str]:
    typ, data = mailbox.client.uid("SEARCH", "UNDELETED")
    check_command_status((typ, data), MailboxFetchError)
    return sorted((uid.decode() for uid in (data[0] or b"").split()), key=int)


_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def _sizes(mailbox: BaseMailBox, uids: list[str]) -> dict[str, int]:
    if not uids:
        return {}
    typ, data = mailbox.client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    check_command_status((typ, data), MailboxFetchError)
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        uid, size = _UID.search(line or b""), _SIZE.search(line or b"")
        if uid and size:
            sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _fetch(mailbox: BaseMailBox, uid: str, item: str) -> bytes | None:
    """One message's BODY.PEEK[...] as the server sends it; None if it is gone (moved by someone else)."""
    typ, data = mailbox.client.uid("FETCH", uid, f"({item})")
    check_command_status((typ, data), MailboxFetchError)
    for part in data:
        if isinstance(part, tuple) and len(part) == 2 and b"BODY[" in part[0]:
            return part[1]
    return None


def _fetch_raw(mailbox: BaseMailBox, uid: str) -> bytes | None:
    return _fetch(mailbox, uid, "BODY.PEEK[]")


def _fetch_headers(mailbox: BaseMailBox, uid: str) -> bytes | None:
    return _fetch(mailbox, uid, "BODY.PEEK[HEADER]")


def _move(mailbox: BaseMailBox, uid: str, folder: str) -> None:
    client = mailbox.client
    if "MOVE" in client.capabilities:
        check_command_status(client.uid("MOVE", uid, encode_folder(folder)), MailboxMoveError)
        return
    check_command_status(client.uid("COPY", uid, encode_folder(folder)), MailboxCopyError)
    check_command_status(client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), MailboxDeleteError)
    if "UIDPLUS" in client.capabilities:
        check_command_status(client.uid("EXPUNGE", uid), MailboxDeleteError)
    else:
        check_command_status(client.expunge(), MailboxDeleteError)


# --- One mail ----------------------------------------------------------------------------------------------------


def _headers(raw: bytes) -> ParsedHeaders:
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)


def mailbox_recipients(headers: ParsedHeaders, account: MailAccount) -> list[str]:
    """The account's addresses the mail was sent to, plus-addresses (a thread's, a bounce's) first; else the
    account's own address (a Bcc, a forward from another address)."""
    own = account.address.strip().lower()
    found: list[str] = []
    try:
        for header in RECIPIENT_HEADERS:
            values = [clean_header(value) for value in headers.get_all(header) or []]
            for _name, address in getaddresses(values):
                address = address.strip().lower()
                if "@" in address and address not in found and recipient_of(address).base == own:
                    found.append(address)
    except Exception:  # noqa: BLE001 — headers as a stranger wrote them: the account's address will do
        logger.info("unreadable recipient headers for %s", own, exc_info=True)
    found.sort(key=lambda address: "+" not in address.partition("@")[0])
    return found or [own]


def _destination(outcome: Outcome) -> str:
    """processed, refused or keep (left in the folder for a later poll)."""
    if outcome.result in ("stored", "duplicate", "bounce"):
        return "processed"
    if outcome.result == "refused" or outcome.code >= 500:
        return "refused"
    if 400 <= outcome.code < 500:
        return "keep"
    return "refused"  # accepted and dropped (a mail loop): not stored, not to be read again


def _answer_too_large(account: MailAccount, subject: str, size: int, limit: int) -> tuple[str, str]:
    """The title and text of the answer, in the inbox's language."""
    inbox = account.inbox
    with translation.override(inbox.language if inbox.language in ("en", "fa") else "en"):
        values = {
            "desk": account.sender_name(),
            "address": account.address,
            "subject": subject or _("(no subject)"),
            "size": filesizeformat(size),
            "limit": filesizeformat(limit),
        }
        title = _("Not delivered, too large: %(subject)s") % values
        body = (
            _(
                "Hello,\n\n"
                "Your message to %(address)s was not delivered to %(desk)s: it is %(size)s, and the largest message we "
                "can accept is %(limit)s.\n\n"
                "Subject: %(subject)s\n\n"
                "Please send it again with smaller attachments, or with links to the files instead, and we will answer "
                "as soon as we can.\n\n"
                "This is an automatic message.\n"
            )
            % values
        )
    return title, body


def _refuse_too_large(mailbox: BaseMailBox, uid: str, size: int, account: MailAccount) -> bool:
    """Recorded and answered from its headers only; the mail itself is never downloaded. False if it is gone."""
    limit = settings.MAIL_MAX_BYTES
    header_bytes = _fetch_headers(mailbox, uid)
    if header_bytes is None:
        return False
    headers = _headers(header_bytes)
    sender = parseaddr(clean_header(headers.get("From")))[1].strip().lower()
    # Return-Path is the envelope sender the delivering server recorded: "<>" for a delivery report.
    envelope = clean_header(headers.get("Return-Path")).strip("<> ").lower() if "Return-Path" in headers else None
    ids = message_ids(clean_header(headers.get("Message-ID")))
    message_id = ids[0][:998] if ids else ""
    subject = clean_header(headers.get("Subject"))[:300]
    recipient = mailbox_recipients(headers, account)[0]
    if (
        message_id
        and RefusedMail.objects.filter(
            inbox=account.inbox, reason=RefusedMail.Reason.TOO_LARGE, message_id=message_id
        ).exists()
    ):
        return True  # recorded (and answered) by a poll that died before it moved the mail
    answer_to = envelope or sender
    answer = None
    if is_automatic(headers, sender, envelope):
        note = "Not answered: an automatic mail."
    elif not answer_to or "@" not in answer_to:
        note = "Not answered: the mail names no sender."
    elif recipient_of(answer_to).base == account.address.lower():
        note = "Not answered: the mail is from this desk's own address."
    elif ratelimits.rate_limit_hit(action=TOO_LARGE_ANSWER, address=answer_to, site_key=account.address):
        note = f"Not answered: {answer_to} was answered within the hour."
    else:
        answer = _answer_too_large(account, subject, size, limit)
        note = f"The sender was told ({answer_to})."
    with transaction.atomic():
        # The record and the answer together: a poll that dies after this commit finds the record and sends
        # nothing more; the answer is a queued mail, sent by a task or the sweep once, retried if the server fails.
        RefusedMail.objects.create(
            inbox=account.inbox,
            reason=RefusedMail.Reason.TOO_LARGE,
            sender=(sender or answer_to)[:320],
            recipient=recipient[:320],
            message_id=message_id,
            subject=subject,
            size=size,
            detail=f"5.3.4 Message too big: {size} bytes, this desk takes mail up to {limit} bytes (read by IMAP, "
            f"not downloaded). {note}",
        )
        if answer is not None:
            refusal_queue(account=account, to=answer_to, subject=answer[0], body=answer[1], in_reply_to=message_id)
    logger.info("IMAP mail too large (%s bytes) from %s to %s: %s", size, sender, account.address, note)
    return True


# --- Deferred mails are not read again at every poll -----------------------------------------------------------


def _deferred_key(account: MailAccount, uidvalidity: str) -> str:
    return f"mail:imap:deferred:{account.pk}:{uidvalidity}"


def _deferred(account: MailAccount, uidvalidity: str) -> dict[str, float]:
    now = time.time()
    try:
        kept = cache.get(_deferred_key(account, uidvalidity)) or {}
    except Exception:  # noqa: BLE001 — without the cache every mail is simply tried again
        return {}
    return {uid: until for uid, until in kept.items() if until > now}


def _remember_deferred(account: MailAccount, uidvalidity: str, deferred: dict[str, float]) -> None:
    try:
        cache.set(_deferred_key(account, uidvalidity), deferred, timeout=DEFER_SECONDS + 60)
    except Exception:  # noqa: BLE001
        logger.info("could not remember deferred IMAP mails", exc_info=True)


# --- A poll -------------------------------------------------------------------------------------------------------


def _poll(account: MailAccount, counts: Counter, failures: list[str]) -> None:
    where = f"{account.imap_host}:{account.imap_port or ''}".rstrip(":")
    step = _("connecting to %(where)s") % {"where": where}
    mailbox = None
    try:
        mailbox = _connect(account)
        step = _("logging in as %(user)s") % {"user": account.imap_username}
        _login(mailbox, account)
        folders = folders_of(mailbox)
        source = folders.server_name(account.imap_folder)
        processed = folders.server_name(account.imap_processed_folder or "Supportdesk/Processed")
        refused = folders.sibling(processed, REFUSED_FOLDER)
        step = _("creating the folders %(folders)s") % {"folders": f"{processed}, {refused}"}
        for folder in (processed, refused):
            _ensure_folder(mailbox, folder)
        step = _("opening the folder %(folder)s") % {"folder": source}
        mailbox.folder.set(source)
        uidvalidity = (mailbox.client.response("UIDVALIDITY")[1] or [b"0"])[0]
        uidvalidity = uidvalidity.decode() if isinstance(uidvalidity, bytes) else str(uidvalidity or "0")
        step = _("reading the folder %(folder)s") % {"folder": source}
        deferred = _deferred(account, uidvalidity)
        waiting = [uid for uid in _uids(mailbox) if uid not in deferred]
        batch = waiting[:BATCH]
        counts["backlog"] += len(waiting) - len(batch)
        sizes = _sizes(mailbox, batch)
        limit = settings.MAIL_MAX_BYTES
        for uid in batch:
            size = sizes.get(uid)
            if size is None:
                continue  # gone since the search
            counts["seen"] += 1
            step = _("taking the mail with UID %(uid)s from %(folder)s") % {"uid": uid, "folder": source}
            if size > limit:
                if _refuse_too_large(mailbox, uid, size, account):
                    counts["too_large"] += 1
                    _move(mailbox, uid, refused)
                continue
            raw = _fetch_raw(mailbox, uid)
            if raw is None:
                continue
            try:
                recipients = mailbox_recipients(_headers(raw), account)
                outcome = mail_receive(raw, recipients=recipients, envelope_from=None)
            except Exception as exc:  # noqa: BLE001 — one mail's fault: left in place, the others go on
                logger.exception("IMAP mail %s of %s could not be taken; left in %s", uid, account.address, source)
                counts["failed"] += 1
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            destination = _destination(outcome)
            logger.info("IMAP mail %s of %s: %s (%s)", uid, account.address, outcome.smtp, destination)
            if destination == "keep":
                counts["deferred"] += 1
                deferred[uid] = time.time() + DEFER_SECONDS
                _remember_deferred(account, uidvalidity, deferred)
                continue
            counts[outcome.result if destination == "processed" else "refused"] += 1
            _move(mailbox, uid, processed if destination == "processed" else refused)
    except Exception as exc:
        raise PollError(
            _("IMAP poll failed while %(step)s: %(error)s") % {"step": step, "error": f"{type(exc).__name__}: {exc}"}
        ) from exc
    finally:
        if mailbox is not None:
            try:
                mailbox.logout()
            except Exception:  # noqa: BLE001, S110 — a connection that is already gone
                pass


def _lock(key: str, token: str) -> bool:
    try:
        return cache.add(key, token, timeout=LOCK_SECONDS)
    except Exception:  # noqa: BLE001 — without the shared cache, polling twice at once is still safe (dedupe)
        logger.warning("shared cache unreachable: polling without the lock", exc_info=True)
        return True


def _unlock(key: str, token: str) -> None:
    try:
        if cache.get(key) == token:
            cache.delete(key)
    except Exception:  # noqa: BLE001
        logger.info("could not release the IMAP poll lock %s", key, exc_info=True)


def poll_account(account: MailAccount) -> dict:
    """Reads one account's mailbox; returns the counts (and "error" if the poll failed), and records the time and
    the error (or none) on the account. Never raises for the server or the mail."""
    counts: Counter = Counter({name: 0 for name in COUNTS})
    if not account.inbox.is_active:
        # mail_receive knows no address of an inactive inbox: every mail would be refused as unknown.
        return {**counts, "error": _("The inbox %(inbox)s is not active.") % {"inbox": account.inbox}}
    key, token = f"mail:imap:poll:{account.pk}", uuid.uuid4().hex
    if not _lock(key, token):
        logger.info("IMAP mailbox of %s is being polled already", account.address)
        return {**counts, "skipped": 1}
    failures: list[str] = []
    error = ""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _poll(account, counts, failures)
    except PollError as exc:
        logger.warning("%s (%s)", exc, account.address, exc_info=exc.__cause__)
        error = str(exc)
    finally:
        _unlock(key, token)
    if not error and failures:
        error = _("%(count)s mail(s) could not be taken and were left in the folder for the next poll: %(error)s") % {
            "count": len(failures),
            "error": failures[-1],
        }
    now = timezone.now()
    MailAccount.objects.filter(pk=account.pk).update(imap_last_polled_at=now, imap_last_error=error[:2000])
    account.imap_last_polled_at, account.imap_last_error = now, error[:2000]
    result = dict(counts)
    if error:
        result["error"] = error
    return result


def poll_all() -> dict:
    """Every active inbox's mailbox, one after another; one account's failure never stops the others."""
    accounts = list(
        MailAccount.objects.select_related("inbox").filter(inbox__is_active=True).exclude(imap_host="").order_by("pk")
    )
    totals: Counter = Counter({name: 0 for name in COUNTS})
    by_account: dict[str, dict] = {}
    errors = 0
    for account in accounts:
        try:
            counts = poll_account(account)
        except Exception as exc:  # noqa: BLE001 — e.g. the database, while recording: the next account still runs
            logger.exception("IMAP poll of %s failed", account.address)
            counts = {"error": f"{type(exc).__name__}: {exc}"}
        errors += bool(counts.get("error"))
        totals.update({name: value for name, value in counts.items() if name in COUNTS})
        by_account[account.address] = counts
    return {"accounts": len(accounts), "errors": errors, **totals, "by_account": by_account}
