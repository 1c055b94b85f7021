"""Tickets, business hours, SLA targets and the append-only reporting events."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelKind


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending (waiting on the customer)")
        RESOLVED = "resolved", _("Resolved")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    inbox = models.ForeignKey("chat.Inbox", verbose_name=_("inbox"), on_delete=models.PROTECT, related_name="tickets")
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
    contact = models.ForeignKey(
        "chat.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="tickets"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        related_name="tickets",
        null=True,
        blank=True,
    )
    team = models.ForeignKey(
        "chat.Team", verbose_name=_("team"), on_delete=models.SET_NULL, related_name="tickets", null=True, blank=True
    )
    # Per-operator attribution (metrics.md): FRT counts for who sent the first response, resolution time and FCR
    # for who resolved the ticket (its last resolution), whoever holds it now.
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first responder"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_response_seconds = models.FloatField(_("first response time (s)"), null=True, blank=True)
    first_response_business_seconds = models.FloatField(_("first response time, business (s)"), null=True, blank=True)
    # The last resolution: a reopened and resolved-again ticket counts once, with its last resolution.
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_seconds = models.FloatField(_("resolution time (s)"), null=True, blank=True)
    resolution_business_seconds = models.FloatField(_("resolution time, business (s)"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    last_reopened_at = models.DateTimeField(_("last reopened at"), null=True, blank=True)
    conversation_count = models.PositiveIntegerField(_("conversations"), default=0)
    # First contact resolution, kept when it happens so that the FCR report is one indexed scan:
    # the shortest resolved -> reopened gap (rule 2), and the first ticket the same contact opened on the same
    # inbox after the last resolution (rule 3). metrics.md's window is applied when reading.
    min_reopen_gap_seconds = models.FloatField(_("shortest reopen gap (s)"), null=True, blank=True)
    next_ticket_at = models.DateTimeField(_("contact's next ticket at"), null=True, blank=True)
    # Business time during which the resolution clock was stopped: pending (waiting on the customer), and
    # resolved before a reopen. The resolution due time is pushed by it.
    pending_since = models.DateTimeField(_("pending since"), null=True, blank=True)
    pending_business_seconds = models.FloatField(_("pending time, business (s)"), default=0)
    # SLA, in business time. The *_at_risk_at instants are when SLA_AT_RISK_RATIO of the target is spent,
    # so that the beat sweep is a plain indexed comparison.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_at_risk_at = models.DateTimeField(_("first response at risk from"), null=True, blank=True)
    resolution_at_risk_at = models.DateTimeField(_("resolution at risk from"), null=True, blank=True)
    first_response_at_risk = models.BooleanField(_("first response at risk"), default=False)
    first_response_breached = models.BooleanField(_("first response breached"), default=False)
    resolution_at_risk = models.BooleanField(_("resolution at risk"), default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "pending", "resolved"]), name="ticket_status_valid"),
            models.CheckConstraint(
                condition=Q(priority__in=["low", "normal", "high", "urgent"]), name="ticket_priority_valid"
            ),
            models.CheckConstraint(condition=Q(channel_kind__in=ChannelKind.values), name="ticket_kind_valid"),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False), name="ticket_resolved_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            models.Index(fields=["resolved_at"], name="ticket_resolved_idx"),
            models.Index(fields=["inbox", "created_at"], name="ticket_inbox_created_idx"),
            models.Index(fields=["contact", "inbox", "created_at"], name="ticket_contact_inbox_idx"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_status_frdue_idx"),
            models.Index(fields=["assignee", "created_at"], name="ticket_assignee_created_idx"),
            # The reports read a period's tickets from these alone (index-only scans): every breakdown key and
            # measured value of tickets created (FRT, first-response SLA, counts; per first responder) and of
            # tickets resolved (resolution time, resolution SLA, FCR; per resolver).
            models.Index(
                fields=["created_at"],
                include=[
                    "inbox",
                    "channel_kind",
                    "team",
                    "first_responder",
                    "status",
                    "reopen_count",
                    "first_response_at",
                    "first_response_due_at",
                    "first_response_seconds",
                    "first_response_business_seconds",
                ],
                name="ticket_created_cover_idx",
            ),
            models.Index(
                fields=["resolved_at"],
                include=[
                    "inbox",
                    "channel_kind",
                    "team",
                    "resolved_by",
                    "resolution_seconds",
                    "resolution_business_seconds",
                    "resolution_due_at",
                    "conversation_count",
                    "min_reopen_gap_seconds",
                    "next_ticket_at",
                ],
                condition=Q(status="resolved"),
                name="ticket_resolved_cover_idx",
            ),
            # The SLA sweep reads only tickets whose flag is still to be raised.
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(first_response_at__isnull=True, first_response_breached=False),
                name="ticket_fr_breach_todo_idx",
            ),
            models.Index(
                fields=["first_response_at_risk_at"],
                condition=Q(first_response_at__isnull=True, first_response_at_risk=False),
                name="ticket_fr_risk_todo_idx",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(status="open", resolution_breached=False),
                name="ticket_res_breach_todo_idx",
            ),
            models.Index(
                fields=["resolution_at_risk_at"],
                condition=Q(status="open", resolution_at_risk=False),
                name="ticket_res_risk_todo_idx",
            ),
        ]

    def __str__(self) -> str:
        return _("Ticket #%(id)s") % {"id": self.pk}


class BreachedTicket(Ticket):
    """The admin's "Breached tickets" list: tickets whose first response or resolution missed its target."""

    class Meta:
        proxy = True
        verbose_name = _("breached ticket")
        verbose_name_plural = _("breached tickets")


class ReportingEvent(models.Model):
    """Append-only: every timing in the reports is read from these rows or from ticket columns."""

    class Name(models.TextChoices):
        CONVERSATION_REQUESTED = "conversation_requested", _("Conversation requested")
        CONVERSATION_ASSIGNED = "conversation_assigned", _("Conversation assigned")
        CONVERSATION_TRANSFERRED = "conversation_transferred", _("Conversation transferred")
        FIRST_RESPONSE = "first_response", _("First response")
        CONVERSATION_RESOLVED = "conversation_resolved", _("Conversation resolved")
        CONVERSATION_CLOSED = "conversation_closed", _("Conversation closed by visitor")
        CONVERSATION_VISITOR_LEFT = "conversation_visitor_left", _("Visitor left")
        CONVERSATION_ABANDONED = "conversation_abandoned", _("Conversation abandoned")
        CONVERSATION_MISSED = "conversation_missed", _("Conversation missed")
        TICKET_CREATED = "ticket_created", _("Ticket created")
        TICKET_RESOLVED = "ticket_resolved", _("Ticket resolved")
        TICKET_REOPENED = "ticket_reopened", _("Ticket reopened")

    name = models.CharField(_("name"), max_length=40, choices=Name.choices)
    inbox = models.ForeignKey("chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="+")
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    conversation = models.ForeignKey(
        "chat.Conversation",
        verbose_name=_("conversation"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reporting_events",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "chat.Team", verbose_name=_("team"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event_start = models.DateTimeField(_("start"))
    event_end = models.DateTimeField(_("end"))
    value_seconds = models.FloatField(_("value (s)"))
    value_business_seconds = models.FloatField(_("value, business (s)"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-event_end"]
        verbose_name = _("reporting event")
        verbose_name_plural = _("reporting events")
        constraints = [
            models.CheckConstraint(condition=Q(value_seconds__gte=0), name="event_value_nonnegative"),
            models.CheckConstraint(
                condition=Q(value_business_seconds__gte=0)
                & Q(value_business_seconds__lte=models.F("value_seconds") + 0.001),
                name="event_business_within_wall",
            ),
        ]
        indexes = [
            models.Index(fields=["name", "event_end"], name="event_name_end_idx"),
            models.Index(fields=["inbox", "name", "event_end"], name="event_inbox_name_end_idx"),
            models.Index(fields=["operator", "name", "event_end"], name="event_operator_name_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.value_seconds:.0f}s"


class BusinessHoursInterval(models.Model):
    """One opening interval of an inbox's weekly schedule, in the inbox's time zone.

    An interval whose end is not after its start runs overnight into the next day.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    inbox = models.ForeignKey(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="business_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        ordering = ["inbox", "weekday", "opens_at"]
        verbose_name = _("business hours interval")
        verbose_name_plural = _("business hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="bh_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if self.opens_at is not None and self.opens_at == self.closes_at and self.opens_at != time(0):
            raise ValidationError(
                _("An interval cannot open and close at the same time (use 00:00–00:00 for all day).")
            )


class Holiday(models.Model):
    inbox = models.ForeignKey("chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["inbox", "date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["inbox", "date"], name="holiday_unique_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaTarget(models.Model):
    """An inbox's service targets for one channel kind, in business seconds."""

    inbox = models.ForeignKey(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="sla_targets"
    )
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
    first_response_seconds = models.PositiveIntegerField(_("first response target (s)"))
    resolution_seconds = models.PositiveIntegerField(_("resolution target (s)"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [models.UniqueConstraint(fields=["inbox", "channel_kind"], name="sla_target_unique")]

    def __str__(self) -> str:
        return f"{self.inbox} / {self.get_channel_kind_display()}"
