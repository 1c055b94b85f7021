"""Mail out: an operator's reply to an offline message or e-mail ticket, and the acknowledgement of a new one.

Each is a MailMessage row written in the transaction of the message it sends (queued), with its Message-ID
made then and kept for every attempt, so that a mail client shows a mail sent twice after a crash as one. A
task sends it once it has claimed the row (a lease, as for survey e-mails); a failure is retried with backoff
by the task and by the beat sweep, and after MAIL_MAX_ATTEMPTS (or a permanent refusal) it is failed with the
reason, which the operator sees on the message.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import realtime
from chat.models import Message
from chat.services import ratelimits
from chat.services.errors import ChatError
from mail.models import MailAccount, MailMessage, MailThread

logger = logging.getLogger(__name__)

MESSAGE_DELIVERY = "message.delivery"
# One automatic answer per sender an hour (and a ceiling per account): no loop with another auto-responder.
ACKS_PER_SENDER = ratelimits.Action("mail-ack", 3600, "MAIL_ACKS_PER_SENDER_PER_HOUR", "MAIL_ACKS_PER_ACCOUNT_PER_HOUR")


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def account_of(inbox_id: int) -> MailAccount | None:
    return MailAccount.objects.select_related("inbox").filter(inbox_id=inbox_id).first()


def _references(thread: MailThread) -> tuple[str, str]:
    """(In-Reply-To, References) for the next mail of a thread: the last one received, and every mail of the
    thread in order (capped, as mail clients do, to the first and the latest ones)."""
    mails = list(thread.mails.exclude(message_id="").order_by("id").values_list("message_id", "direction"))
    received = [mid for mid, direction in mails if direction == MailMessage.Direction.IN]
    ids = [mid for mid, _direction in mails]
    if len(ids) > 20:
        ids = [ids[0], *ids[-19:]]
    return (received[-1] if received else (ids[-1] if ids else "")), " ".join(ids)


def _queue(*, thread: MailThread, message: Message, kind: str, subject: str) -> MailMessage:
    account = account_of(thread.ticket.inbox_id)
    if account is None:
        raise ChatError(
            "unavailable", _("This inbox has no e-mail address yet: a manager sets one in the admin (Mail accounts).")
        )
    contact = thread.conversation.contact
    if not contact.email:
        raise ChatError("invalid_frame", _("This customer left no e-mail address, so a reply cannot reach them."))
    in_reply_to, references = _references(thread)
    now = timezone.now()
    mail = MailMessage.objects.create(
        thread=thread,
        inbox_id=thread.ticket.inbox_id,
        chat_message=message,
        direction=MailMessage.Direction.OUT,
        kind=kind,
        status=MailMessage.Status.QUEUED,
        message_id=make_msgid(domain=_domain(account.address)).strip("<>"),
        in_reply_to=in_reply_to,
        references=references,
        from_address=account.address,
        to_address=contact.email,
        subject=subject[:300],
        next_attempt_at=now,
        created_at=now,
    )
    _deliver_after_commit(mail)
    return mail


def _deliver_after_commit(mail: MailMessage) -> None:
    from mail.tasks import mail_deliver

    # The task is the fast path; with the broker down the sweep sends it (the row is already committed).
    transaction.on_commit(lambda: mail_deliver.delay(mail.pk), robust=True)


def refusal_queue(*, account: MailAccount, to: str, subject: str, body: str, in_reply_to: str = "") -> MailMessage:
    """The answer to a mail that was not taken (too large to read): no ticket, no thread; written in the caller's
    transaction with the record of the refusal, sent by a task (or the sweep) once, retried like every mail."""
    now = timezone.now()
    mail = MailMessage.objects.create(
        thread=None,
        inbox_id=account.inbox_id,
        direction=MailMessage.Direction.OUT,
        kind=MailMessage.Kind.REFUSAL,
        status=MailMessage.Status.QUEUED,
        message_id=make_msgid(domain=_domain(account.address)).strip("<>"),
        in_reply_to=in_reply_to,
        references=in_reply_to,
        from_address=account.address,
        to_address=to,
        subject=subject[:300],
        full_text=body,
        next_attempt_at=now,
        created_at=now,
    )
    _deliver_after_commit(mail)
    return mail


def _subject(thread: MailThread) -> str:
    subject = thread.subject or _("Your message")
    if not subject.lower().startswith(("re:", "aw:", "پاسخ:")):
        subject = f"Re: {subject}"
    return f"{subject} [#{thread.ticket_id}]"


def reply_queue(*, message: Message) -> MailMessage | None:
    """Called by the chat service in the transaction of an operator's public reply in a mail conversation."""
    thread = (
        MailThread.objects.select_related("ticket", "conversation__contact")
        .filter(conversation_id=message.conversation_id)
        .first()
    )
    if thread is None:
        # An offline message kept before the desk answered them by mail (or imported): its thread starts now.
        conversation = message.conversation
        if conversation.ticket_id is None:
            raise ChatError("not_found", _("This conversation has no ticket."))
        thread = MailThread.objects.create(
            ticket=conversation.ticket, conversation=conversation, subject=conversation.ticket.subject
        )
    return _queue(thread=thread, message=message, kind=MailMessage.Kind.REPLY, subject=_subject(thread))


def acknowledgement_queue(*, thread: MailThread, in_reply_to: MailMessage | None = None) -> MailMessage | None:
    """The automatic answer to a new offline message or e-mail ticket: it says when a reply can be expected. Off
    for an inbox that says so, for an account-less inbox, and once a sender had one this hour (no loops with
    another auto-responder)."""
    from mail.emails import expected_answer_text

    account = account_of(thread.ticket.inbox_id)
    contact = thread.conversation.contact
    if account is None or not account.acknowledge or not contact.email:
        return None
    if ratelimits.rate_limit_hit(action=ACKS_PER_SENDER, address=contact.email.lower(), site_key=account.address):
        return None
    # Stored once, so written in the inbox's language (its operators'); the quoted answer is the customer's.
    with translation.override(thread.ticket.inbox.language or "en"):
        body = _("Automatic reply sent: %(text)s") % {"text": expected_answer_text(thread.ticket, contact)}
    notice = Message.objects.create(conversation=thread.conversation, sender=Message.Sender.SYSTEM, body=body)
    return _queue(thread=thread, message=notice, kind=MailMessage.Kind.ACK, subject=_subject(thread))


def _announce(mail: MailMessage) -> None:
    if mail.chat_message_id is None:
        return
    conversation = mail.thread.conversation
    realtime.send_to_conversation_operators(
        inbox_id=conversation.inbox_id,
        assignee_id=conversation.assignee_id,
        frame={
            "type": MESSAGE_DELIVERY,
            "conversation_id": conversation.pk,
            "message_id": mail.chat_message_id,
            "delivery": delivery_payload(mail),
        },
    )


def delivery_payload(mail: MailMessage) -> dict:
    return {
        "status": mail.status,
        "reason": mail.failure_reason,
        "attempts": mail.attempts,
        "sent_at": mail.sent_at.isoformat() if mail.sent_at else None,
    }


def _lease_start(now):
    return now - timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)


def _due(now) -> Q:
    return Q(
        Q(claimed_at__isnull=True) | Q(claimed_at__lte=_lease_start(now)),
        direction=MailMessage.Direction.OUT,
        status=MailMessage.Status.QUEUED,
        next_attempt_at__lte=now,
    )


def _backoff(attempts: int) -> float:
    return min(settings.MAIL_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1)), 3600.0)


PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _permanent(exc: Exception) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _m in exc.recipients.values()]
        return bool(codes) and all(500 <= c < 600 for c in codes)
    return isinstance(code, int) and 500 <= code < 600


def mail_deliver(*, mail_id: int) -> str:
    """Sends one queued mail if it is due and no other worker holds it; what became of it."""
    from mail.emails import email_for

    now = timezone.now()
    claimed = MailMessage.objects.filter(_due(now), pk=mail_id).update(claimed_at=now)
    if not claimed:
        return "not_due"
    mail = MailMessage.objects.select_related(
        "inbox__mail_account", "thread__ticket__inbox", "thread__conversation__contact", "chat_message"
    ).get(pk=mail_id)
    ours = MailMessage.objects.filter(pk=mail_id, claimed_at=now)
    try:
        email_for(mail).send()
    except Exception as exc:  # noqa: BLE001 — any failure of the mail server is recorded and retried
        attempts = mail.attempts + 1
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        if _permanent(exc) or attempts >= settings.MAIL_MAX_ATTEMPTS:
            ours.update(status=MailMessage.Status.FAILED, attempts=attempts, failure_reason=reason, claimed_at=None)
            result = "failed"
        else:
            delay = _backoff(attempts)
            ours.update(
                attempts=attempts,
                failure_reason=reason,
                claimed_at=None,
                next_attempt_at=now + timedelta(seconds=delay),
            )
            from mail.tasks import mail_deliver as task

            try:
                task.apply_async((mail_id,), countdown=delay)
            except Exception:  # noqa: BLE001 — the sweep retries it
                logger.warning("could not schedule the retry of mail %s", mail_id, exc_info=True)
            result = "retry"
        logger.warning("mail %s: %s (%s)", mail_id, result, reason)
    else:
        ours.update(
            status=MailMessage.Status.SENT,
            attempts=mail.attempts + 1,
            sent_at=timezone.now(),
            claimed_at=None,
            failure_reason="",
        )
        result = "sent"
    with transaction.atomic():
        mail.refresh_from_db()
        _announce(mail)
    return result


def delivery_failed(*, mail_id: int, reason: str) -> None:
    """A bounce came back for a mail we sent."""
    with transaction.atomic():
        mail = MailMessage.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None:
            return
        mail.status = MailMessage.Status.FAILED
        mail.failure_reason = reason[:1000]
        mail.save(update_fields=["status", "failure_reason"])
        _announce(mail)


def mail_sweep(*, batch_size: int = 100) -> int:
    """Sends what is due and no task sent: the broker was down, or a worker died holding it (its lease ran out)."""
    due = MailMessage.objects.filter(_due(timezone.now())).order_by("next_attempt_at").values_list("pk", flat=True)
    return sum(mail_deliver(mail_id=pk) == "sent" for pk in list(due[:batch_size]))
