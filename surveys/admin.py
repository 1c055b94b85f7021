from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    list_display = ["inbox", "is_enabled", "ask_csat", "csat_scale", "ask_ces", "ces_scale", "ask_nps", "allow_comment"]
    list_filter = ["is_enabled", "ask_csat", "ask_ces", "ask_nps"]
    fieldsets = [
        (None, {"fields": ["inbox", "is_enabled", "allow_comment"]}),
        (_("Questions"), {"fields": ["ask_csat", "csat_scale", "ask_ces", "ces_scale", "ask_nps"]}),
        (
            _("English texts"),
            {"fields": ["csat_question_en", "ces_question_en", "nps_question_en", "comment_label_en", "thank_you_en"]},
        ),
        (
            _("Persian texts"),
            {"fields": ["csat_question_fa", "ces_question_fa", "nps_question_fa", "comment_label_fa", "thank_you_fa"]},
        ),
    ]


class SurveyResponseInline(admin.StackedInline):
    model = SurveyResponse
    extra = 0
    can_delete = False
    readonly_fields = ["csat", "csat_scale", "ces", "ces_scale", "nps", "comment", "channel", "created_at"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "conversation",
        "contact",
        "inbox",
        "operator",
        "status",
        "created_at",
        "sent_at",
        "answered_at",
    ]
    list_filter = ["status", "inbox", "channel_kind", "team", "includes_nps", "created_at"]
    search_fields = ["contact__name", "contact__email", "conversation__id"]
    raw_id_fields = ["conversation", "contact", "ticket", "operator"]
    readonly_fields = [
        "token",
        "questions",
        "created_at",
        "sent_at",
        "widget_sent_at",
        "email_due_at",
        "emailed_at",
        "answered_at",
        "expires_at",
    ]
    inlines = [SurveyResponseInline]
    show_full_result_count = False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["invitation", "csat", "ces", "nps", "channel", "created_at"]
    list_filter = ["channel", "csat_scale", "ces_scale", "created_at"]
    search_fields = ["comment"]
    raw_id_fields = ["invitation"]
    readonly_fields = ["created_at"]
