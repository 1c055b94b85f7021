"""The mails the desk writes: an operator's reply and the acknowledgement, in HTML and text, with the inbox's
branding, in the customer's language, threaded (Message-ID, In-Reply-To, References) and answerable at the
thread's reply address."""

from __future__ import annotations

from datetime import datetime
from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mail.addresses import bounce_address, reply_address
from mail.models import MailMessage
from supportdesk.templatetags.locale_format import local_date, local_numbers


def language_for(contact, inbox) -> str:
    language = (contact.locale or inbox.language or "en").split("-")[0]
    return language if language in ("en", "fa") else "en"


def local_moment(value: datetime, inbox) -> str:
    """A moment in the inbox's time zone, in the active language's calendar and digits."""
    try:
        zone = ZoneInfo(inbox.time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    moment = timezone.localtime(value, zone)
    return f"{local_date(moment, 'DATE_FORMAT')} {local_numbers(moment.strftime('%H:%M'))} ({inbox.time_zone})"


def expected_answer_text(ticket, contact) -> str:
    """When an answer can be expected, honestly: the ticket's first-response due time (the inbox's target counted
    in its business hours), in the customer's language."""
    with translation.override(language_for(contact, ticket.inbox)):
        if ticket.first_response_due_at is None:
            return _("We have received your message and will answer as soon as we can.")
        return _("We have received your message and will answer by %(when)s.") % {
            "when": local_moment(ticket.first_response_due_at, ticket.inbox)
        }


def _address_header(values: str) -> str:
    return " ".join(f"<{value}>" for value in values.split() if value)


def _refusal_email(mail: MailMessage) -> EmailMultiAlternatives:
    """The plain-text answer to a mail that was not taken: written when it was refused, sent as it was written."""
    account = mail.inbox.mail_account
    headers = {
        "From": formataddr((account.sender_name(), account.address)),
        "Message-ID": f"<{mail.message_id}>",
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        "X-Loop": account.address,
        "Content-Language": mail.inbox.language if mail.inbox.language in ("en", "fa") else "en",
    }
    if mail.in_reply_to:
        headers["In-Reply-To"] = f"<{mail.in_reply_to}>"
        headers["References"] = f"<{mail.in_reply_to}>"
    return EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.full_text,
        from_email=bounce_address(account.address, mail.pk),
        to=[mail.to_address],
        headers=headers,
    )


def email_for(mail: MailMessage) -> EmailMultiAlternatives:
    if mail.thread_id is None:
        return _refusal_email(mail)
    thread = mail.thread
    ticket = thread.ticket
    inbox = ticket.inbox
    account = inbox.mail_account
    contact = thread.conversation.contact
    language = language_for(contact, inbox)
    message = mail.chat_message
    with translation.override(language):
        context = {
            "language": language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "brand_color": inbox.brand_color,
            "inbox_name": account.sender_name(),
            "contact_name": contact.name,
            "author_name": message.author_name if message and mail.kind == MailMessage.Kind.REPLY else "",
            "body": message.body if mail.kind == MailMessage.Kind.REPLY else expected_answer_text(ticket, contact),
            "ticket_id": ticket.pk,
            "is_ack": mail.kind == MailMessage.Kind.ACK,
        }
        text = render_to_string("mail/reply.txt", context)
        html = render_to_string("mail/reply.html", context)
    headers = {
        "From": formataddr((account.sender_name(), account.address)),
        "Reply-To": reply_address(account.address, thread.token),
        "Message-ID": f"<{mail.message_id}>",
        "Content-Language": language,
        "X-Loop": account.address,
        "X-Supportdesk-Ticket": str(ticket.pk),
    }
    if mail.in_reply_to:
        headers["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        headers["References"] = _address_header(mail.references)
    if mail.kind == MailMessage.Kind.ACK:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    email = EmailMultiAlternatives(
        subject=mail.subject,
        body=text,
        # The envelope sender: a delivery report comes back to this address and names the mail.
        from_email=bounce_address(account.address, mail.pk),
        to=[mail.to_address],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email
