from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from chat.admin_filters import label_filter
from chat.models import Conversation
from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from surveys.selectors import survey_result_payload
from tickets.models import Ticket


class SurveyTemplateForm(forms.ModelForm):
    # The admin supplies the model and fields (Meta) when it builds the form.
    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("ask_csat") or cleaned.get("ask_ces") or cleaned.get("ask_nps")):
            raise forms.ValidationError(
                _("Choose at least one question, or untick “send surveys” to stop surveying this inbox.")
            )
        return cleaned


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    form = SurveyTemplateForm
    list_display = ["inbox", "is_enabled", "ask_csat", "csat_scale", "ask_ces", "ces_scale", "ask_nps", "allow_comment"]
    list_filter = ["is_enabled", "ask_csat", "ask_ces", "ask_nps"]
    fieldsets = [
        (
            None,
            {
                "fields": ["inbox", "is_enabled", "allow_comment"],
                "description": _(
                    "An inbox without a survey template asks CSAT on 1–5 with an optional comment. A contact is "
                    "asked at most once per survey cooldown, never after opting out."
                ),
            },
        ),
        (
            _("Questions"),
            {
                "fields": ["ask_csat", "csat_scale", "ask_ces", "ces_scale", "ask_nps"],
                "description": _(
                    "NPS is a relationship question: it is added to a post-chat survey at most once per contact "
                    "per NPS interval (NPS_INTERVAL_SECONDS). Higher scores always mean better."
                ),
            },
        ),
        (
            _("English texts"),
            {"fields": ["csat_question_en", "ces_question_en", "nps_question_en", "comment_label_en", "thank_you_en"]},
        ),
        (
            _("Persian texts"),
            {"fields": ["csat_question_fa", "ces_question_fa", "nps_question_fa", "comment_label_fa", "thank_you_fa"]},
        ),
    ]


def survey_answers_html(invitation: SurveyInvitation) -> str:
    """The answers beside their questions, for the admin pages of an invitation, a conversation and a ticket."""
    result = survey_result_payload(invitation)
    if not result["answers"]:
        return format_html("<em>{}</em>", invitation.get_status_display())
    scores = format_html_join(
        "",
        "<li>{}: <strong>{}</strong> / {}</li>",
        ((answer["question"], answer["score"], answer["max"]) for answer in result["answers"]),
    )
    comment = format_html("<p>“{}”</p>", result["comment"]) if result["comment"] else ""
    return format_html("<ul style='margin:0;padding-inline-start:1.2em'>{}</ul>{}", scores, comment)


class SurveyResponseInline(admin.StackedInline):
    model = SurveyResponse
    extra = 0
    can_delete = False
    readonly_fields = ["csat", "csat_scale", "ces", "ces_scale", "nps", "comment", "channel", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "conversation",
        "contact",
        "inbox",
        "operator",
        "status",
        "includes_nps",
        "created_at",
        "sent_at",
        "answered_at",
    ]
    list_filter = [
        "status",
        "inbox",
        "channel_kind",
        "team",
        "includes_nps",
        "language",
        label_filter("conversation"),
        "created_at",
    ]
    search_fields = ["contact__name", "contact__email", "conversation__id"]
    raw_id_fields = ["conversation", "contact", "ticket", "operator"]
    readonly_fields = [
        "answers",
        "token",
        "questions",
        "language",
        "comment_label",
        "thank_you",
        "created_at",
        "sent_at",
        "widget_sent_at",
        "email_due_at",
        "email_claimed_at",
        "emailed_at",
        "answered_at",
        "expires_at",
    ]
    inlines = [SurveyResponseInline]
    show_full_result_count = False

    @admin.display(description=_("answers"))
    def answers(self, obj):
        return survey_answers_html(obj)


class _SurveyResultInline(admin.TabularInline):
    """Read-only: the survey sent after a conversation and its answer, where managers look at the work."""

    model = SurveyInvitation
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("survey")
    verbose_name_plural = _("surveys")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("response", "operator")

    @admin.display(description=_("answers"))
    def answers(self, obj):
        return survey_answers_html(obj)

    @admin.display(description=_("answered in"))
    def answered_in(self, obj):
        response = getattr(obj, "response", None)
        return response.get_channel_display() if response is not None else "—"


class ConversationSurveyInline(_SurveyResultInline):
    fk_name = "conversation"
    fields = readonly_fields = ["status", "operator", "sent_at", "answered_at", "answered_in", "answers"]


class TicketSurveyInline(_SurveyResultInline):
    fk_name = "ticket"
    fields = readonly_fields = ["conversation", "status", "operator", "answered_at", "answered_in", "answers"]


def _show_results_on(model, inline) -> None:
    # The conversation and ticket admins belong to chat and tickets; the survey results are this app's to add.
    if admin.site.is_registered(model):
        model_admin = admin.site.get_model_admin(model)
        model_admin.inlines = [*model_admin.inlines, inline]


_show_results_on(Conversation, ConversationSurveyInline)
_show_results_on(Ticket, TicketSurveyInline)
