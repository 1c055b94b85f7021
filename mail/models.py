"""The e-mail channel: a mailbox per inbox, one thread per offline message or e-mail ticket, and every mail that
came in or went out, beside the chat message that shows it in the inbox."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_thread_token() -> str:
    # 128 bits in lowercase letters and digits: an address's local part survives any mail server's case folding.
    return secrets.token_hex(16)


class MailAccount(models.Model):
    """An inbox's address: where its replies come from, where customers write to, and optionally an IMAP
    mailbox polled for mail sent there."""

    class ImapSecurity(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (loopback only)")

    inbox = models.OneToOneField(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="mail_account"
    )
    address = models.EmailField(
        _("address"),
        unique=True,
        help_text=_(
            "Customers write to this address and replies come from it, e.g. support@example.com. Point its MX at "
            "the desk's SMTP receiver, forward it there, or poll its mailbox by IMAP below."
        ),
    )
    display_name = models.CharField(
        _("sender name"), max_length=100, blank=True, default="", help_text=_("Empty: the inbox's name.")
    )
    acknowledge = models.BooleanField(
        _("acknowledge new messages"),
        default=True,
        help_text=_(
            "Answer a new offline message or e-mail at once with when a reply can be expected (never an automatic "
            "mail)."
        ),
    )
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True, default="")
    imap_port = models.PositiveIntegerField(_("IMAP port"), null=True, blank=True, help_text=_("Empty: 993 or 143."))
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_username = models.CharField(_("IMAP user"), max_length=255, blank=True, default="")
    imap_password_encrypted = models.TextField(_("IMAP password (encrypted)"), blank=True, default="", editable=False)
    imap_password_env = models.CharField(
        _("IMAP password variable"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The name of an environment variable holding the password, instead of storing it here."),
    )
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    imap_processed_folder = models.CharField(
        _("folder for processed mail"), max_length=255, default="Supportdesk/Processed"
    )
    imap_last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    imap_last_error = models.TextField(_("last IMAP error"), blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["address"]
        verbose_name = _("mail account")
        verbose_name_plural = _("mail accounts")

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        self.address = (self.address or "").strip().lower()
        if "+" in self.address.split("@")[0]:
            raise ValidationError({"address": _("The address may not contain “+”: the desk adds it for replies.")})
        if self.imap_host and not self.imap_username:
            raise ValidationError({"imap_username": _("IMAP polling needs a user.")})

    @property
    def uses_imap(self) -> bool:
        return bool(self.imap_host)

    def sender_name(self) -> str:
        return self.display_name or self.inbox.name


class MailThread(models.Model):
    """An offline message or e-mail ticket's mail: the conversation that holds its messages in the inbox, and the
    unguessable token of its reply address (local+token@domain)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="mail_thread"
    )
    conversation = models.OneToOneField(
        "chat.Conversation", verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="mail_thread"
    )
    token = models.CharField(_("reply token"), max_length=40, unique=True, default=new_thread_token, editable=False)
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("mail thread")
        verbose_name_plural = _("mail threads")

    def __str__(self) -> str:
        return self.subject or str(self.ticket)


class MailMessage(models.Model):
    """One mail in or out. Out: queued in the transaction of the reply, sent by a task (or the sweep), once."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        REPLY = "reply", _("Operator's reply")
        ACK = "ack", _("Acknowledgement")
        AUTO = "auto", _("Automatic mail from the customer's side")
        REFUSAL = "refusal", _("Answer to a refused mail")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # None only for a refusal: the answer to a mail that was not taken (too large to read), with no ticket.
    thread = models.ForeignKey(
        MailThread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="mails", null=True, blank=True
    )
    inbox = models.ForeignKey("chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="+")
    chat_message = models.OneToOneField(
        "chat.Message", verbose_name=_("message"), on_delete=models.CASCADE, related_name="mail", null=True
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # The Message-ID header, without angle brackets: ours is made before the first attempt and kept for retries.
    message_id = models.CharField(_("Message-ID"), max_length=998)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=998, blank=True, default="")
    references = models.TextField(_("References"), blank=True, default="")
    from_address = models.CharField(_("from"), max_length=320, blank=True, default="")
    to_address = models.CharField(_("to"), max_length=320, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    # Received: the sanitised HTML part (nh3), if any, and the whole mail as it arrived. A refusal: its text.
    html = models.TextField(_("HTML (sanitised)"), blank=True, default="")
    full_text = models.TextField(_("full text"), blank=True, default="")
    raw = models.FileField(_("original"), upload_to="mail/raw/%Y/%m/", blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # Sent: attempts, the next one's time, a worker's claim (its lease), and the last error.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failure_reason = models.TextField(_("failure"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("mail")
        verbose_name_plural = _("mails")
        constraints = [
            # A second delivery of one mail (a retrying server, IMAP after a crash) stores nothing.
            models.UniqueConstraint(
                fields=["inbox", "message_id"], condition=Q(direction="in"), name="mail_in_unique_message_id"
            ),
            models.UniqueConstraint(fields=["message_id"], condition=Q(direction="out"), name="mail_out_unique_id"),
            models.CheckConstraint(condition=Q(direction__in=["in", "out"]), name="mail_direction_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="mail_status_next_idx"),
            models.Index(fields=["message_id"], name="mail_message_id_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id


class MailAttachment(models.Model):
    mail = models.ForeignKey(MailMessage, verbose_name=_("mail"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="mail/attachments/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class RefusedMail(models.Model):
    """A mail the desk did not store, and why: what a manager reads when a customer says they wrote."""

    class Reason(models.TextChoices):
        TOO_LARGE = "too_large", _("Too large")
        UNKNOWN_RECIPIENT = "unknown_recipient", _("Unknown recipient")
        RATE_LIMITED = "rate_limited", _("Too many mails from the sender")
        LOOP = "loop", _("Mail loop")
        MALFORMED = "malformed", _("Unreadable")

    inbox = models.ForeignKey(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    sender = models.CharField(_("sender"), max_length=320, blank=True, default="")
    recipient = models.CharField(_("recipient"), max_length=320, blank=True, default="")
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=300, blank=True, default="")
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    detail = models.TextField(_("detail"), blank=True, default="")
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refused mail")
        verbose_name_plural = _("refused mails")

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.sender}"
