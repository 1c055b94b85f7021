from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from chat.models import (
    CannedReply,
    Contact,
    Conversation,
    Inbox,
    Label,
    Message,
    OperatorProfile,
    PresenceInterval,
    Team,
)
from chat.services.presence import operator_status_set
from tickets.admin import BusinessHoursInline, HolidayInline, SlaTargetInline


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "hourly_cost", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "team", "language", "time_zone", "is_active"]
    list_filter = ["kind", "team", "language", "is_active"]
    search_fields = ["name", "site_key"]
    readonly_fields = ["site_key", "created_at"]
    inlines = [BusinessHoursInline, HolidayInline, SlaTargetInline]
    fieldsets = [
        (None, {"fields": ["name", "kind", "team", "is_active", "site_key", "allowed_origins", "created_at"]}),
        (_("Widget"), {"fields": ["brand_color", "position", "greeting", "language", "prechat_name", "prechat_email"]}),
        (_("Business hours"), {"fields": ["time_zone"]}),
        (
            _("Report targets"),
            {"fields": ["target_csat_percent", "target_nps", "target_fcr_percent", "target_abandonment_percent"]},
        ),
        (_("Attachments"), {"fields": ["attachment_max_bytes", "attachments_per_message", "attachment_types"]}),
    ]


@admin.register(OperatorProfile)
class OperatorProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "status", "max_chats", "hourly_cost", "last_assigned_at"]
    list_filter = ["status", "teams", "inboxes"]
    search_fields = ["display_name", "user__username", "user__email"]
    filter_horizontal = ["teams", "inboxes"]
    readonly_fields = ["status_changed_at", "last_assigned_at", "connection_count", "disconnected_at", "last_seen_at"]
    # Set by the operator on her profile page, where an upload is checked and redrawn (chat.services.avatars).
    exclude = ["avatar"]

    def save_model(self, request, obj, form, change):
        # A status set here goes through the presence service, as the inbox's does: logged, announced, and an
        # operator put online is given the waiting chats.
        status = obj.status
        if "status" in form.changed_data:
            obj.status = form.initial.get("status", OperatorProfile.Status.OFFLINE) if change else "offline"
        super().save_model(request, obj, form, change)
        if obj.status != status:
            operator_status_set(profile=obj, status=status)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "inbox", "locale", "first_seen_at", "last_seen_at", "survey_opt_out"]
    list_filter = ["inbox", "survey_opt_out", "locale"]
    search_fields = ["name", "email", "visitor_id"]
    readonly_fields = ["visitor_id", "first_seen_at", "last_seen_at"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "sender", "author_name", "body", "private", "canned_reply"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "contact",
        "inbox",
        "channel_kind",
        "status",
        "end_reason",
        "assignee",
        "team",
        "requested_at",
        "first_response_at",
        "ended_at",
        "transfer_count",
    ]
    list_filter = ["status", "end_reason", "channel_kind", "inbox", "team", "assignee", "labels", "requested_at"]
    search_fields = ["id", "contact__name", "contact__email", "messages__body"]
    date_hierarchy = "requested_at"
    # The reports' link behind an operator's transfers (supportdesk.reports.links): what she transferred away.
    REPORT_LOOKUPS = frozenset({"reporting_events__name__exact", "reporting_events__operator__in"})

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.REPORT_LOOKUPS or super().lookup_allowed(lookup, value, request)

    list_select_related = ["contact", "inbox", "assignee", "team"]
    raw_id_fields = ["contact", "ticket", "assignee"]
    readonly_fields = [
        "requested_at",
        "assigned_at",
        "first_response_at",
        "ended_at",
        "last_message_at",
        "updated_at",
        "transfer_count",
        "visitor_connection_count",
        "visitor_last_seen_at",
    ]
    inlines = [MessageInline]
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "sender", "author_name", "private", "created_at"]
    list_filter = ["sender", "private", "created_at"]
    search_fields = ["body", "author_name"]
    raw_id_fields = ["conversation", "author", "canned_reply"]
    readonly_fields = ["created_at", "client_id"]
    show_full_result_count = False


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["shortcut", "title", "body", "language", "team", "inbox"]

    def clean(self):
        data = super().clean()
        # The database constraint cannot see duplicates when team or inbox is empty (NULLs differ).
        same = CannedReply.objects.filter(
            shortcut=data.get("shortcut"), language=data.get("language"), team=data.get("team"), inbox=data.get("inbox")
        ).exclude(pk=self.instance.pk)
        if data.get("shortcut") and same.exists():
            raise forms.ValidationError(
                {"shortcut": _("This shortcut is already used in the same place and language.")}
            )
        return data


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    form = CannedReplyForm
    list_display = ["slash_shortcut", "title", "scope", "language", "use_count"]
    list_display_links = ["slash_shortcut", "title"]
    list_filter = ["language", "team", "inbox"]
    search_fields = ["shortcut", "title", "body"]
    autocomplete_fields = ["team", "inbox"]
    readonly_fields = ["use_count", "created_at"]
    fieldsets = [
        (None, {"fields": ["shortcut", "title", "body", "language"]}),
        (
            _("Who can use it"),
            {
                "fields": ["team", "inbox"],
                "description": _(
                    "A team's replies are offered to its operators in every inbox; an inbox's replies to everyone "
                    "answering in that inbox. Leave both empty to offer the reply to every operator."
                ),
            },
        ),
        (_("Use"), {"fields": ["use_count", "created_at"]}),
    ]

    @admin.display(description=_("shortcut"), ordering="shortcut")
    def slash_shortcut(self, obj):
        return f"/{obj.shortcut}"

    @admin.display(description=_("offered to"))
    def scope(self, obj):
        places = [str(place) for place in (obj.team, obj.inbox) if place is not None]
        return " · ".join(places) or _("every operator")


@admin.register(PresenceInterval)
class PresenceIntervalAdmin(admin.ModelAdmin):
    """The presence log, read-only: written by the presence service, read by the reports' online time."""

    list_display = ["operator", "status", "started_at", "ended_at"]
    list_filter = ["status"]
    date_hierarchy = "started_at"
    list_select_related = ["operator"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "colour_swatch", "inbox_or_global", "created_at"]
    list_filter = [("inbox", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "inbox__name"]
    readonly_fields = ["created_at"]
    fields = ["name", "colour", "inbox", "created_at"]
    list_select_related = ["inbox"]

    @admin.display(description=_("colour"), ordering="colour")
    def colour_swatch(self, label):
        return format_html(
            '<span style="display:inline-block;inline-size:1em;block-size:1em;border-radius:3px;'
            'background:{};vertical-align:middle"></span> {}',
            label.colour,
            label.colour,
        )

    @admin.display(description=_("inbox"), ordering="inbox__name")
    def inbox_or_global(self, label):
        return label.inbox.name if label.inbox_id else _("Global (every inbox)")
