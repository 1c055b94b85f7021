"""Survey templates, invitations (one per conversation) and responses."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelKind


class CsatScale(models.TextChoices):
    STARS_1_5 = "1-5", _("1–5 (stars)")
    ZERO_10 = "0-10", _("0–10")


class CesScale(models.TextChoices):
    ONE_7 = "1-7", _("1–7")
    ONE_5 = "1-5", _("1–5")
    ZERO_10 = "0-10", _("0–10")
    ZERO_3 = "0-3", _("0–3")
    ZERO_5 = "0-5", _("0–5")


class SurveyTemplate(models.Model):
    inbox = models.OneToOneField(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="survey_template"
    )
    is_enabled = models.BooleanField(_("send surveys"), default=True)
    ask_csat = models.BooleanField(_("ask CSAT"), default=True)
    csat_scale = models.CharField(_("CSAT scale"), max_length=5, choices=CsatScale.choices, default=CsatScale.STARS_1_5)
    ask_ces = models.BooleanField(_("ask CES"), default=False)
    ces_scale = models.CharField(_("CES scale"), max_length=5, choices=CesScale.choices, default=CesScale.ONE_7)
    ask_nps = models.BooleanField(_("ask NPS when due"), default=False)
    allow_comment = models.BooleanField(_("optional comment"), default=True)
    csat_question_en = models.CharField(
        _("CSAT question (English)"), max_length=300, default="How satisfied are you with the help you got?"
    )
    csat_question_fa = models.CharField(
        _("CSAT question (Persian)"), max_length=300, default="چقدر از کمکی که دریافت کردید راضی هستید؟"
    )
    ces_question_en = models.CharField(
        _("CES question (English)"), max_length=300, default="How easy was it to get your issue handled?"
    )
    ces_question_fa = models.CharField(
        _("CES question (Persian)"), max_length=300, default="رسیدگی به مشکل شما چقدر آسان بود؟"
    )
    nps_question_en = models.CharField(
        _("NPS question (English)"),
        max_length=300,
        default="How likely are you to recommend us to a friend or colleague?",
    )
    nps_question_fa = models.CharField(
        _("NPS question (Persian)"),
        max_length=300,
        default="چقدر احتمال دارد ما را به یک دوست یا همکار پیشنهاد کنید؟",
    )
    comment_label_en = models.CharField(
        _("comment label (English)"), max_length=200, default="Anything else? (optional)"
    )
    comment_label_fa = models.CharField(
        _("comment label (Persian)"), max_length=200, default="نکته دیگری دارید؟ (اختیاری)"
    )
    thank_you_en = models.CharField(
        _("thank-you text (English)"), max_length=300, default="Thank you for your feedback!"
    )
    thank_you_fa = models.CharField(_("thank-you text (Persian)"), max_length=300, default="از بازخورد شما سپاسگزاریم!")

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        constraints = [
            models.CheckConstraint(condition=Q(csat_scale__in=CsatScale.values), name="template_csat_scale_valid"),
            models.CheckConstraint(condition=Q(ces_scale__in=CesScale.values), name="template_ces_scale_valid"),
        ]

    def __str__(self) -> str:
        return _("Survey of %(inbox)s") % {"inbox": self.inbox}


class SurveyObligation(models.Model):
    """A conversation that must be surveyed (or found not to be), written in the transaction that ended it.

    The on-commit task is only the fast path: a broker that was down or a worker that died leaves the row
    unsettled, and the beat sweep settles it. Settled in the same transaction that makes the invitation (or
    decides the rules give none), so it is done once.
    """

    conversation = models.OneToOneField(
        "chat.Conversation", verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="survey_obligation"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey due")
        verbose_name_plural = _("surveys due")
        indexes = [
            models.Index(fields=["created_at"], condition=Q(settled_at__isnull=True), name="survey_unsettled_idx"),
        ]

    def __str__(self) -> str:
        return _("Survey due for %(conversation)s") % {"conversation": self.conversation_id}


class SurveyInvitation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")
        EXPIRED = "expired", _("Expired")

    conversation = models.OneToOneField(
        "chat.Conversation", verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="survey_invitation"
    )
    contact = models.ForeignKey(
        "chat.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
    )
    # Snapshot at sending time: the answer counts for these, not for whoever holds the conversation later.
    inbox = models.ForeignKey(
        "chat.Inbox", verbose_name=_("inbox"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    channel_kind = models.CharField(_("channel kind"), max_length=20, choices=ChannelKind.choices)
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
    token = models.CharField(_("token"), max_length=64, unique=True)
    # Snapshot of what was asked, in the contact's language: [{key, scale, min, max, text, low_label, high_label}].
    questions = models.JSONField(_("questions"), default=list)
    language = models.CharField(_("language"), max_length=5, default="en")
    comment_label = models.CharField(_("comment label"), max_length=200, blank=True, default="")
    thank_you = models.CharField(_("thank-you text"), max_length=300, blank=True, default="")
    includes_nps = models.BooleanField(_("includes NPS"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    widget_sent_at = models.DateTimeField(_("shown in widget at"), null=True, blank=True)
    email_due_at = models.DateTimeField(_("e-mail due at"), null=True, blank=True)
    # Taken by a sweep sending the e-mail; a claim older than SURVEY_EMAIL_LEASE_SECONDS (its worker died) is
    # taken again. emailed_at is set only once the e-mail is out.
    email_claimed_at = models.DateTimeField(_("e-mail claimed at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "sent", "answered", "expired"]), name="invitation_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "email_due_at"], name="invitation_status_due_idx"),
            models.Index(fields=["contact", "created_at"], name="invitation_contact_idx"),
            models.Index(fields=["sent_at"], name="invitation_sent_idx"),
            # The response rate of a period, per breakdown key, from this index alone (index-only scan).
            models.Index(
                fields=["sent_at"],
                include=["id", "inbox", "channel_kind", "team", "operator", "status"],
                condition=Q(sent_at__isnull=False),
                name="invitation_sent_cover_idx",
            ),
        ]

    def __str__(self) -> str:
        return _("Survey invitation %(id)s") % {"id": self.pk}


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(
        SurveyInvitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="response"
    )
    csat = models.SmallIntegerField(_("CSAT"), null=True, blank=True)
    csat_scale = models.CharField(_("CSAT scale"), max_length=5, choices=CsatScale.choices, blank=True, default="")
    ces = models.SmallIntegerField(_("CES"), null=True, blank=True)
    ces_scale = models.CharField(_("CES scale"), max_length=5, choices=CesScale.choices, blank=True, default="")
    nps = models.SmallIntegerField(_("NPS"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, default="")
    channel = models.CharField(
        _("answered in"), max_length=10, choices=[("widget", _("Widget")), ("email", _("E-mail link"))]
    )
    created_at = models.DateTimeField(_("answered at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | (Q(nps__gte=0) & Q(nps__lte=10)), name="response_nps_range"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | (Q(csat__gte=0) & Q(csat__lte=10)), name="response_csat_range"
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | (Q(ces__gte=0) & Q(ces__lte=10)), name="response_ces_range"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="response_created_idx")]

    def __str__(self) -> str:
        return _("Response to %(inv)s") % {"inv": self.invitation}
