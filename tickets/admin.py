from django.contrib import admin

from tickets.models import ReportingEvent, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "contact",
        "inbox",
        "channel_kind",
        "status",
        "priority",
        "assignee",
        "created_at",
        "first_response_at",
        "resolved_at",
        "reopen_count",
        "conversation_count",
        "first_response_breached",
        "resolution_breached",
    ]
    list_filter = [
        "status",
        "priority",
        "channel_kind",
        "inbox",
        "team",
        "assignee",
        "first_response_breached",
        "resolution_breached",
        "first_response_at_risk",
        "resolution_at_risk",
        "created_at",
    ]
    list_editable = ["status", "priority"]
    search_fields = ["id", "subject", "contact__name", "contact__email"]
    date_hierarchy = "created_at"
    list_select_related = ["contact", "inbox", "assignee"]
    raw_id_fields = ["contact", "assignee"]
    readonly_fields = [
        "created_at",
        "updated_at",
        "first_response_at",
        "first_response_seconds",
        "first_response_business_seconds",
        "resolved_at",
        "resolution_seconds",
        "resolution_business_seconds",
        "reopen_count",
        "last_reopened_at",
        "conversation_count",
        "pending_since",
        "pending_business_seconds",
        "first_response_due_at",
        "resolution_due_at",
        "first_response_at_risk",
        "first_response_breached",
        "resolution_at_risk",
        "resolution_breached",
    ]
    show_full_result_count = False


@admin.register(ReportingEvent)
class ReportingEventAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "inbox",
        "channel_kind",
        "operator",
        "event_start",
        "event_end",
        "value_seconds",
        "value_business_seconds",
    ]
    list_filter = ["name", "channel_kind", "inbox", "event_end"]
    raw_id_fields = ["ticket", "conversation", "operator"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Append-only: the reports are read from these rows.
        return False
