"""A mail that arrived, by the SMTP receiver or IMAP: refused with a reason, a bounce of a mail we sent, a
duplicate, or stored: into its ticket's thread (by reply address, or In-Reply-To / References from the same
customer) or as a new e-mail ticket. A mail is stored whole or not at all."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.filetypes import content_matches
from chat.models import ChannelKind, Contact, Conversation, Message
from chat.services import ratelimits
from chat.services.broadcast import conversation_changed, message_created
from mail.addresses import recipient_of
from mail.models import MailAccount, MailAttachment, MailMessage, MailThread, RefusedMail
from mail.parsing import ParsedMail, parse_mail
from mail.services.outbound import acknowledgement_queue, delivery_failed
from mail.services.threads import thread_for_ticket
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_reopen, ticket_set_status

logger = logging.getLogger(__name__)

MAIL_PER_SENDER = ratelimits.Action("mail", 3600, "MAIL_PER_SENDER_PER_HOUR", "MAIL_PER_ACCOUNT_PER_HOUR")


@dataclass
class Outcome:
    """What became of a mail, and the SMTP answer that says so (the receiver sends it; IMAP logs it)."""

    result: str  # stored, duplicate, bounce, refused, deferred
    code: int
    text: str
    ticket_id: int | None = None
    mail_id: int | None = None

    @property
    def smtp(self) -> str:
        return f"{self.code} {self.text}"


def account_for(address: str) -> MailAccount | None:
    return (
        MailAccount.objects.select_related("inbox")
        .filter(address=recipient_of(address).base, inbox__is_active=True)
        .first()
    )


def recipient_known(address: str) -> bool:
    return account_for(address) is not None


def _refuse(
    reason: str, code: int, text: str, *, raw: bytes, account=None, sender="", recipient="", parsed=None, result=None
):
    RefusedMail.objects.create(
        inbox=account.inbox if account else None,
        reason=reason,
        sender=sender[:320],
        recipient=recipient[:320],
        message_id=(parsed.message_id if parsed else "")[:998],
        subject=(parsed.subject if parsed else "")[:300],
        size=len(raw),
        detail=text,
    )
    logger.info("mail refused (%s) from %s to %s: %s", reason, sender, recipient, text)
    return Outcome(result or ("deferred" if code < 500 else "refused"), code, text)


def mail_receive(raw: bytes, *, recipients: list[str], envelope_from: str | None = None) -> Outcome:
    """Takes one mail for `recipients` (the envelope's, or the mailbox's address for IMAP). Never raises for
    the mail's content: every outcome is an SMTP answer."""
    sender = (envelope_from or "").strip("<> ").lower()
    limit = settings.MAIL_MAX_BYTES
    accounts = [(address, account_for(address)) for address in recipients]
    known = [(address, account) for address, account in accounts if account is not None]
    if not known:
        return _refuse(
            RefusedMail.Reason.UNKNOWN_RECIPIENT,
            550,
            "5.1.1 No such mailbox here",
            raw=raw,
            sender=sender,
            recipient=", ".join(recipients),
        )
    address, account = known[0]
    if len(raw) > limit:
        return _refuse(
            RefusedMail.Reason.TOO_LARGE,
            552,
            f"5.3.4 Message too big: this desk takes mail up to {limit // (1024 * 1024)} MB",
            raw=raw,
            account=account,
            sender=sender,
            recipient=address,
        )
    try:
        parsed = parse_mail(raw, envelope_from=envelope_from)
    except Exception as exc:  # noqa: BLE001 — the parser on hostile input: refused, never a crash of the receiver
        logger.warning("unreadable mail from %s", sender, exc_info=True)
        return _refuse(
            RefusedMail.Reason.MALFORMED,
            550,
            f"5.6.0 The message could not be read ({type(exc).__name__})",
            raw=raw,
            account=account,
            sender=sender,
            recipient=address,
        )
    customer = parsed.from_address or sender
    recipient = recipient_of(address)
    if recipient.bounce_mail_id is not None or parsed.bounce is not None:
        return _bounce_received(parsed, account, recipient.bounce_mail_id)
    if account.address in parsed.x_loop:
        return _refuse(
            RefusedMail.Reason.LOOP,
            250,
            "2.6.0 Accepted and dropped: this mail has already passed through this desk",
            result="refused",
            raw=raw,
            account=account,
            sender=customer,
            recipient=address,
            parsed=parsed,
        )
    if not customer or "@" not in customer:
        return _refuse(
            RefusedMail.Reason.MALFORMED,
            550,
            "5.1.7 The message names no sender to answer",
            raw=raw,
            account=account,
            sender=sender,
            recipient=address,
            parsed=parsed,
        )
    if MailMessage.objects.filter(
        inbox=account.inbox, direction=MailMessage.Direction.IN, message_id=parsed.message_id
    ).exists():
        return Outcome("duplicate", 250, "2.0.0 Already received")
    over = ratelimits.rate_limit_hit(action=MAIL_PER_SENDER, address=customer, site_key=account.address)
    if over is not None:
        return _refuse(
            RefusedMail.Reason.RATE_LIMITED,
            451,
            f"4.7.1 Too many messages from {customer}; try again in {over} seconds",
            raw=raw,
            account=account,
            sender=customer,
            recipient=address,
            parsed=parsed,
        )
    thread = _thread_for(parsed, account, recipient.token, customer)
    try:
        return _store(raw, parsed, account, thread, customer)
    except IntegrityError:
        # The same mail, delivered twice at the same moment: the other delivery stored it.
        if MailMessage.objects.filter(
            inbox=account.inbox, direction=MailMessage.Direction.IN, message_id=parsed.message_id
        ).exists():
            return Outcome("duplicate", 250, "2.0.0 Already received")
        raise


def _thread_for(parsed: ParsedMail, account: MailAccount, token: str, customer: str) -> MailThread | None:
    """The reply address's token is the customer's own (unguessable, only ever sent to them). A Message-ID is
    not a secret: threading by In-Reply-To / References needs the ticket's customer as the sender too."""
    threads = MailThread.objects.select_related("ticket", "conversation__contact").filter(ticket__inbox=account.inbox)
    if token:
        thread = threads.filter(token=token).first()
        if thread is not None:
            return thread
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if not ids:
        return None
    for mail in MailMessage.objects.filter(
        inbox=account.inbox, message_id__in=ids, thread__isnull=False
    ).select_related("thread__ticket", "thread__conversation__contact"):
        if mail.thread.conversation.contact.email.lower() == customer:
            return mail.thread
    return None


def _save_file(field_name: str, content: bytes, filename: str) -> str:
    return default_storage.save(f"mail/{field_name}/{timezone.now():%Y/%m}/{filename}", ContentFile(content))


def _allowed_attachment(content_type: str, content: bytes) -> str | None:
    """None if the attachment is kept, else why not."""
    if len(content) > settings.MAIL_ATTACHMENT_MAX_BYTES:
        return _("larger than %(mb)s MB") % {"mb": settings.MAIL_ATTACHMENT_MAX_BYTES // (1024 * 1024)}
    if content_type not in settings.MAIL_ATTACHMENT_TYPES:
        return _("files of type %(type)s are not kept") % {"type": content_type}
    if not content_matches(content_type, content):
        return _("its content is not a %(type)s file") % {"type": content_type}
    return None


def _body_for_inbox(parsed: ParsedMail, refused_attachments: list[str]) -> str:
    body = parsed.shown or parsed.text or _("(no text)")
    body = body[: settings.MAIL_SHOWN_MAX_CHARS]
    if refused_attachments:
        body += "\n\n" + "\n".join(refused_attachments)
    return body


@transaction.atomic
def _store(raw: bytes, parsed: ParsedMail, account: MailAccount, thread: MailThread | None, customer: str) -> Outcome:
    now = timezone.now()
    inbox = account.inbox
    saved_files: list[str] = []
    try:
        kept, refused_notes = [], []
        for attachment in parsed.attachments:
            why = _allowed_attachment(attachment.content_type, attachment.content)
            if why is None:
                kept.append(attachment)
            else:
                refused_notes.append(
                    _("[Attachment “%(name)s” was not kept: %(why)s.]") % {"name": attachment.filename, "why": why}
                )
        body = _body_for_inbox(parsed, refused_notes)
        new_ticket = thread is None
        if new_ticket:
            contact = _contact_for(inbox, customer, parsed.from_name, parsed.language, now)
            thread = _thread_open(inbox, contact, parsed.subject, now)
        conversation = thread.conversation
        message = Message.objects.create(
            conversation=conversation,
            sender=Message.Sender.VISITOR,
            author_name=parsed.from_name or conversation.contact.name or customer,
            body=body,
            created_at=now,
        )
        raw_name = _save_file("raw", raw, f"{message.pk}.eml")
        saved_files.append(raw_name)
        mail = MailMessage.objects.create(
            thread=thread,
            inbox=inbox,
            chat_message=message,
            direction=MailMessage.Direction.IN,
            kind=MailMessage.Kind.AUTO if parsed.automatic else MailMessage.Kind.CUSTOMER,
            status=MailMessage.Status.RECEIVED,
            message_id=parsed.message_id,
            in_reply_to=" ".join(parsed.in_reply_to)[:998],
            references=" ".join(parsed.references),
            from_address=customer[:320],
            to_address=account.address,
            subject=parsed.subject,
            html=parsed.html,
            full_text=parsed.text,
            raw=raw_name,
            size=len(raw),
        )
        for attachment in kept:
            name = _save_file("attachments", attachment.content, attachment.filename)
            saved_files.append(name)
            MailAttachment.objects.create(
                mail=mail,
                file=name,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.content),
            )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, updated_at=now)
        conversation.last_message_at = now
        ticket = thread.ticket
        if not new_ticket and not parsed.automatic:
            _customer_wrote_again(ticket, conversation, now)
        message_created(message)
        if new_ticket:
            conversation_changed(conversation)
            if not parsed.automatic:
                acknowledgement_queue(thread=thread, in_reply_to=mail)
    except BaseException:
        transaction.set_rollback(True)
        for name in saved_files:
            default_storage.delete(name)
        raise
    return Outcome("stored", 250, f"2.0.0 Received as ticket #{ticket.pk}", ticket_id=ticket.pk, mail_id=mail.pk)


def _customer_wrote_again(ticket: Ticket, conversation: Conversation, now: datetime) -> None:
    """metrics.md: the customer's reply reopens a resolved ticket (a reopen, so not first-contact resolved) and
    ends a pending one's wait."""
    if ticket.status == Ticket.Status.RESOLVED:
        ticket_reopen(ticket=ticket, at=now, conversation=conversation)
    elif ticket.status == Ticket.Status.PENDING:
        ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, at=now)


def _contact_for(inbox, email: str, name: str, language: str, now: datetime) -> Contact:
    contact = (
        Contact.objects.select_for_update().filter(inbox=inbox, email__iexact=email).order_by("first_seen_at").first()
    )
    if contact is None:
        return Contact.objects.create(inbox=inbox, email=email, name=name, locale=language, last_seen_at=now)
    changed = ["last_seen_at"]
    contact.last_seen_at = now
    if name and not contact.name:
        contact.name = name
        changed.append("name")
    if language and not contact.locale:
        contact.locale = language
        changed.append("locale")
    contact.save(update_fields=changed)
    return contact


def _thread_open(inbox, contact: Contact, subject: str, now: datetime) -> MailThread:
    """A new e-mail ticket: its conversation holds the thread. Mail is not live chat: the conversation is ended
    from the start (no queue, no operator capacity, no live-chat figure counts it) and the ticket carries its
    state (open, pending, resolved)."""
    ticket = ticket_create(inbox=inbox, contact=contact, channel_kind=ChannelKind.EMAIL, subject=subject, at=now)
    return thread_for_ticket(ticket=ticket, contact=contact, channel_kind=ChannelKind.EMAIL, subject=subject, at=now)


def _bounce_received(parsed: ParsedMail, account: MailAccount, mail_id: int | None) -> Outcome:
    """A delivery report about a mail we sent: that mail is marked failed, with the report's reason, for the
    operator to see. Never answered, never stored as the customer's message."""
    query = (
        Q(pk=mail_id)
        if mail_id is not None
        else Q(message_id=(parsed.bounce.original_message_id if parsed.bounce else ""))
    )
    mail = MailMessage.objects.filter(query, inbox=account.inbox, direction=MailMessage.Direction.OUT).first()
    if mail is None:
        logger.info("a delivery report about no mail of ours (%s)", parsed.message_id)
        return Outcome("bounce", 250, "2.0.0 Delivery report received")
    reason = parsed.bounce.reason() if parsed.bounce else (parsed.shown or parsed.subject)[:500]
    delivery_failed(mail_id=mail.pk, reason=_("Bounced: %(reason)s") % {"reason": reason})
    ticket_id = mail.thread.ticket_id if mail.thread_id else None
    return Outcome("bounce", 250, "2.0.0 Delivery report received", ticket_id=ticket_id, mail_id=mail.pk)
