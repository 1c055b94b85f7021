"""Inboxes (channels), operators, contacts, conversations, messages and canned replies."""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_site_key() -> str:
    return secrets.token_urlsafe(16)


def validate_origin(value: str) -> None:
    if not (value.startswith("http://") or value.startswith("https://")) or value.rstrip("/") != value:
        raise ValidationError(_("An origin looks like https://example.com, without a trailing slash."))


class ChannelKind(models.TextChoices):
    WEB_WIDGET = "web_widget", _("Web widget (live chat)")
    OFFLINE_FORM = "offline_form", _("Offline form")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")


# Offline messages and e-mail: answered by mail from the inbox (mail.services), never live.
MAIL_KINDS = (ChannelKind.OFFLINE_FORM, ChannelKind.EMAIL)


def hourly_cost_field(help_text) -> models.DecimalField:
    """What an hour online costs: the reports' cost per conversation (metrics.md, operators' time and cost)."""
    return models.DecimalField(
        _("hourly cost"), max_digits=10, decimal_places=2, null=True, blank=True, help_text=help_text
    )


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    hourly_cost = hourly_cost_field(
        _("What an hour online of one of its operators costs, for the cost per conversation in the reports.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Inbox(models.Model):
    class Position(models.TextChoices):
        RIGHT = "right", _("Right")
        LEFT = "left", _("Left")

    class Language(models.TextChoices):
        EN = "en", "English"
        FA = "fa", "فارسی"

    class FieldRule(models.TextChoices):
        OFF = "off", _("Not asked")
        OPTIONAL = "optional", _("Optional")
        REQUIRED = "required", _("Required")

    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices, default=ChannelKind.WEB_WIDGET)
    name = models.CharField(_("name"), max_length=100)
    site_key = models.CharField(_("site key"), max_length=64, unique=True, default=new_site_key)
    allowed_origins = models.JSONField(
        _("allowed origins"),
        default=list,
        blank=True,
        help_text=_('Origins allowed to embed the widget, e.g. ["https://shop.example.com"].'),
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="inboxes", null=True, blank=True
    )
    # Branding
    brand_color = models.CharField(_("brand colour"), max_length=7, default="#1f6feb")
    position = models.CharField(_("position"), max_length=5, choices=Position.choices, default=Position.RIGHT)
    greeting = models.CharField(_("greeting"), max_length=300, blank=True, default="")
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.EN)
    prechat_name = models.CharField(
        _("pre-chat name field"), max_length=10, choices=FieldRule.choices, default=FieldRule.OPTIONAL
    )
    prechat_email = models.CharField(
        _("pre-chat e-mail field"), max_length=10, choices=FieldRule.choices, default=FieldRule.OPTIONAL
    )
    # Business hours live in tickets.BusinessHoursInterval / Holiday; this is their time zone.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Report targets (metrics.md); empty means the deployment default from settings.
    target_csat_percent = models.FloatField(_("CSAT target (%)"), null=True, blank=True)
    target_nps = models.FloatField(_("NPS target"), null=True, blank=True)
    target_fcr_percent = models.FloatField(_("FCR target (%)"), null=True, blank=True)
    target_abandonment_percent = models.FloatField(_("abandonment target (%)"), null=True, blank=True)
    # Attachments (docs/security.md); empty means the deployment default from settings.
    attachment_max_bytes = models.PositiveIntegerField(_("largest attachment (bytes)"), null=True, blank=True)
    attachments_per_message = models.PositiveSmallIntegerField(_("attachments per message"), null=True, blank=True)
    attachment_types = models.JSONField(
        _("attachment types"),
        default=list,
        blank=True,
        help_text=_('Types of file taken, checked by their content, e.g. ["image/png", "application/pdf"].'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChannelKind.values), name="inbox_kind_valid"),
            models.CheckConstraint(condition=Q(position__in=["left", "right"]), name="inbox_position_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.allowed_origins, list):
            raise ValidationError({"allowed_origins": _("Enter a list of origins.")})
        for origin in self.allowed_origins:
            try:
                validate_origin(str(origin))
            except ValidationError as exc:
                raise ValidationError({"allowed_origins": exc.messages}) from exc
        self._clean_attachment_types()

    def _clean_attachment_types(self) -> None:
        from chat.filetypes import KNOWN_TYPES

        types = self.attachment_types
        if not isinstance(types, list) or any(t not in KNOWN_TYPES for t in types):
            raise ValidationError(
                {"attachment_types": _("Enter a list of these types: %(types)s.") % {"types": ", ".join(KNOWN_TYPES)}}
            )

    def attachment_limits(self) -> tuple[int, int, list[str]]:
        """(bytes per file, files per message, types taken): the inbox's own, else the deployment's."""
        return (
            self.attachment_max_bytes or settings.ATTACHMENT_MAX_BYTES,
            self.attachments_per_message or settings.ATTACHMENTS_PER_MESSAGE,
            list(self.attachment_types or settings.ATTACHMENT_TYPES),
        )

    def target(self, name: str) -> float:
        """The inbox's target for a report figure, or the deployment default."""
        value = getattr(self, f"target_{name}")
        return value if value is not None else getattr(settings, f"TARGET_{name.upper()}")


class OperatorProfile(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="operator"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), related_name="operators", blank=True)
    inboxes = models.ManyToManyField(Inbox, verbose_name=_("inboxes"), related_name="operators", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OFFLINE)
    max_chats = models.PositiveSmallIntegerField(_("maximum concurrent chats"), default=3)
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    # Live sockets across all server processes, and when the last one closed.
    connection_count = models.IntegerField(_("open connections"), default=0)
    disconnected_at = models.DateTimeField(_("disconnected at"), null=True, blank=True)
    # Refreshed by every open inbox socket: a count that stops being refreshed belongs to a server that died.
    last_seen_at = models.DateTimeField(_("last seen with the inbox open"), null=True, blank=True)
    hourly_cost = hourly_cost_field(_("What an hour online costs, for the cost per conversation; empty: the team's."))
    # A square PNG made by chat.services.avatars, named by its content's hash: avatars/<user id>/<hash>.png.
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True, default="")

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["online", "away", "offline"]), name="operator_status_valid"),
            models.CheckConstraint(condition=Q(max_chats__gte=1), name="operator_max_chats_positive"),
        ]
        indexes = [models.Index(fields=["status"], name="operator_status_idx")]

    def __str__(self) -> str:
        return self.display_name

    def effective_hourly_cost(self):
        """The operator's own hourly cost, else the highest of their teams' (None when neither is set). Reads
        `teams`: prefetch it for many operators."""
        if self.hourly_cost is not None:
            return self.hourly_cost
        return max((t.hourly_cost for t in self.teams.all() if t.hourly_cost is not None), default=None)


class PresenceInterval(models.Model):
    """One stretch of an operator's status, online or away (offline is the absence of one): the log the reports
    read online time from (metrics.md, operators' time). Written by chat.services.presence.operator_status_set
    in the transaction that changes the status; the open stretch has no end."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.CASCADE, related_name="+"
    )
    STATUSES = [(s.value, s.label) for s in (OperatorProfile.Status.ONLINE, OperatorProfile.Status.AWAY)]

    status = models.CharField(_("status"), max_length=10, choices=STATUSES)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("presence log entry")
        verbose_name_plural = _("presence log entries")
        constraints = [
            models.UniqueConstraint(
                fields=["operator"], condition=Q(ended_at__isnull=True), name="presence_one_open_interval"
            ),
            models.CheckConstraint(condition=Q(status__in=["online", "away"]), name="presence_status_valid"),
        ]
        indexes = [models.Index(fields=["started_at"], name="presence_started_idx")]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


class Contact(models.Model):
    """A website visitor, anonymous until the pre-chat form; bound to one inbox's site."""

    inbox = models.ForeignKey(Inbox, verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="contacts")
    visitor_id = models.UUIDField(_("visitor id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120, blank=True, default="")
    email = models.EmailField(_("e-mail"), blank=True, default="")
    locale = models.CharField(_("locale"), max_length=16, blank=True, default="")
    last_page_url = models.URLField(_("last page"), max_length=2000, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    survey_opt_out = models.BooleanField(_("opted out of surveys"), default=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["inbox", "email"], name="contact_inbox_email_idx"),
            # The purge of visitors whose tokens have all expired reads the oldest last visits.
            models.Index(fields=["last_seen_at"], name="contact_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or _("Visitor %(id)s") % {"id": self.pk}


class Conversation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class EndReason(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        CLOSED_BY_VISITOR = "closed_by_visitor", _("Closed by visitor")
        VISITOR_LEFT = "visitor_left", _("Visitor left")
        ABANDONED = "abandoned", _("Abandoned")
        MISSED = "missed", _("Missed")

    inbox = models.ForeignKey(Inbox, verbose_name=_("inbox"), on_delete=models.PROTECT, related_name="conversations")
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="conversations"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        related_name="conversations",
        null=True,
        blank=True,
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True, default="")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        null=True,
        blank=True,
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.SET_NULL, related_name="conversations", null=True, blank=True
    )
    transfer_count = models.PositiveIntegerField(_("transfers"), default=0)
    # Public operator messages and those sent from a saved reply, counted by the service that creates the
    # message (one F() increment) so that the canned reply share is read without scanning messages.
    operator_message_count = models.PositiveIntegerField(_("operator messages"), default=0)
    canned_message_count = models.PositiveIntegerField(_("canned replies"), default=0)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # When the visitor of an abandoned chat left: they closed it, or the disconnect that began the grace period
    # (the sweep ends it later). Its wait before abandonment runs until then (metrics.md).
    visitor_left_at = models.DateTimeField(_("visitor left at"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    # Visitor presence across all server processes: open sockets and when the last one closed.
    visitor_connection_count = models.IntegerField(_("visitor connections"), default=0)
    visitor_last_seen_at = models.DateTimeField(_("visitor last seen"), default=timezone.now)
    # Read receipts: the newest message each side has seen (the visitor with the widget open and visible, an
    # operator with the thread open), and when. Only ever move forward (chat/services/receipts.py).
    visitor_read_message_id = models.BigIntegerField(_("read by the visitor up to"), null=True, blank=True)
    visitor_read_at = models.DateTimeField(_("read by the visitor at"), null=True, blank=True)
    operator_read_message_id = models.BigIntegerField(_("read by an operator up to"), null=True, blank=True)
    operator_read_at = models.DateTimeField(_("read by an operator at"), null=True, blank=True)
    labels = models.ManyToManyField(
        "Label", verbose_name=_("labels"), through="ConversationLabel", related_name="conversations", blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "active", "ended"]), name="conversation_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="ended") & ~Q(end_reason="") & Q(ended_at__isnull=False))
                | (~Q(status="ended") & Q(end_reason="")),
                name="conversation_end_reason_iff_ended",
            ),
            models.CheckConstraint(
                condition=Q(
                    end_reason__in=["", "resolved", "closed_by_visitor", "visitor_left", "abandoned", "missed"]
                ),
                name="conversation_end_reason_valid",
            ),
            models.CheckConstraint(condition=Q(channel_kind__in=ChannelKind.values), name="conversation_kind_valid"),
            # A contact has at most one open conversation per inbox.
            models.UniqueConstraint(
                fields=["contact"], condition=~Q(status="ended"), name="conversation_one_open_per_contact"
            ),
        ]
        indexes = [
            models.Index(fields=["inbox", "status", "requested_at"], name="conv_inbox_status_req_idx"),
            models.Index(fields=["status", "requested_at"], name="conv_status_requested_idx"),
            models.Index(fields=["requested_at"], name="conv_requested_idx"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status_idx"),
            models.Index(fields=["ended_at"], name="conv_ended_idx"),
            # The reports read a period's live conversations from this alone (index-only scans): breakdown keys,
            # outcomes, wait time and the message counters.
            models.Index(
                fields=["requested_at"],
                include=[
                    "inbox",
                    "channel_kind",
                    "team",
                    "assignee",
                    "first_response_at",
                    "end_reason",
                    "ended_at",
                    "transfer_count",
                    "operator_message_count",
                    "canned_message_count",
                ],
                # Written as OR, not IN: PostgreSQL cannot prove that a query's `IN (...)` implies a partial
                # index's `IN (...)` (its array is coerced from varchar), and never used the index.
                condition=Q(channel_kind="web_widget") | Q(channel_kind="api"),
                name="conv_live_requested_cover_idx",
            ),
        ]

    def __str__(self) -> str:
        return _("Conversation %(id)s") % {"id": self.pk}


class Message(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.CharField(_("sender"), max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        related_name="messages",
        null=True,
        blank=True,
    )
    author_name = models.CharField(_("author name"), max_length=120, blank=True, default="")
    # Plain text, escaped wherever it is rendered.
    body = models.TextField(_("body"))
    private = models.BooleanField(_("private note"), default=False)
    canned_reply = models.ForeignKey(
        "chat.CannedReply",
        verbose_name=_("canned reply"),
        on_delete=models.SET_NULL,
        related_name="messages",
        null=True,
        blank=True,
    )
    client_id = models.CharField(_("client id"), max_length=64, null=True, blank=True)
    # Read before the attachments, so that a text message costs no query for them.
    has_attachments = models.BooleanField(_("has attachments"), default=False, db_default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "client_id"], name="message_unique_client_id"),
            models.CheckConstraint(
                condition=Q(sender__in=["visitor", "operator", "system"]), name="message_sender_valid"
            ),
            # Only operators write private notes; the desk writes lines for operators only (a transfer).
            models.CheckConstraint(
                condition=Q(private=False) | Q(sender__in=["operator", "system"]), name="message_private_by_desk"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conv_id_idx"),
            # The canned reply share per operator (the message's author): an index-only read of public
            # operator messages, without the message bodies.
            models.Index(
                fields=["conversation"],
                include=["author", "canned_reply"],
                condition=Q(sender="operator", private=False),
                name="message_operator_public_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class CannedReply(models.Model):
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="canned_replies", null=True, blank=True
    )
    inbox = models.ForeignKey(
        Inbox, verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="canned_replies", null=True, blank=True
    )
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    language = models.CharField(_("language"), max_length=5, choices=Inbox.Language.choices, default="en")
    use_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["shortcut"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "inbox", "shortcut", "language"], name="canned_reply_unique_shortcut"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} — {self.title}"


validate_colour = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", _("A colour is written #rrggbb, e.g. #1f6feb."))


class Label(models.Model):
    """A tag operators put on conversations: one inbox's, or global (no inbox: usable in every inbox)."""

    name = models.CharField(_("name"), max_length=50)
    colour = models.CharField(_("colour"), max_length=7, default="#6e7781", validators=[validate_colour])
    inbox = models.ForeignKey(
        Inbox,
        verbose_name=_("inbox"),
        on_delete=models.CASCADE,
        related_name="labels",
        null=True,
        blank=True,
        help_text=_("Empty: a global label, usable in every inbox."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        constraints = [
            # NULL inboxes never clash in a plain unique constraint: the globals need one of their own.
            models.UniqueConstraint(
                Lower("name"),
                "inbox",
                condition=Q(inbox__isnull=False),
                name="label_unique_name_per_inbox",
                violation_error_message=_("This inbox already has a label with this name."),
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(inbox__isnull=True),
                name="label_unique_global_name",
                violation_error_message=_("There is already a global label with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConversationLabel(models.Model):
    """A label on a conversation: who put it there, and when."""

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="label_links"
    )
    label = models.ForeignKey(Label, verbose_name=_("label"), on_delete=models.CASCADE, related_name="links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["label__name"]
        verbose_name = _("conversation label")
        verbose_name_plural = _("conversation labels")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "label"], name="conversation_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.label_id}"


class InboxEvent(models.Model):
    """Append-only log of what operators were sent, so a reconnecting inbox can `sync` what it missed."""

    inbox = models.ForeignKey(Inbox, verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="events")
    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="events", null=True
    )
    type = models.CharField(_("type"), max_length=40)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("inbox event")
        verbose_name_plural = _("inbox events")
        indexes = [models.Index(fields=["inbox", "id"], name="inboxevent_inbox_id_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


def attachment_storage():
    from django.core.files.storage import storages

    return storages["attachments"]


class Attachment(models.Model):
    """A file a visitor or an operator uploaded: unsent (no message yet), then part of one message. Its type is
    the one its content shows; an image is kept re-encoded, without its EXIF. Served only at signed addresses."""

    inbox = models.ForeignKey(Inbox, verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="attachments")
    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        related_name="attachments",
        null=True,
        blank=True,
    )
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments", null=True, blank=True
    )
    # Who uploaded it: a visitor (the id in their token; they may have no contact yet) or an operator.
    visitor_id = models.UUIDField(_("visitor id"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        related_name="attachments",
        null=True,
        blank=True,
    )
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    file = models.FileField(_("file"), storage=attachment_storage, upload_to="files/%Y/%m/", max_length=300)
    thumbnail = models.FileField(
        _("thumbnail"), storage=attachment_storage, upload_to="thumbnails/%Y/%m/", max_length=300, blank=True
    )
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            # The unsent uploads of one visitor (their count is bounded) and the purge of old unsent ones.
            models.Index(fields=["visitor_id"], condition=Q(message__isnull=True), name="attachment_unsent_idx"),
            models.Index(fields=["created_at"], condition=Q(message__isnull=True), name="attachment_unsent_age_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}
