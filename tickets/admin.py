"""Admin for tickets (status and priority change through services), breached tickets, reporting events, and the
inbox inlines for business hours, holidays and SLA targets (validated here)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.admin_filters import label_filter
from tickets.models import BreachedTicket, BusinessHoursInterval, Holiday, ReportingEvent, SlaTarget, Ticket
from tickets.services import ticket_set_priority, ticket_set_status

# A ticket whose first response or resolution missed its target.
BREACHED = Q(first_response_breached=True) | Q(resolution_breached=True)
MINUTES_A_DAY = 24 * 60
MINUTES_A_WEEK = 7 * MINUTES_A_DAY


def _week_span(weekday: int, opens, closes) -> tuple[int, int]:
    start = weekday * MINUTES_A_DAY + opens.hour * 60 + opens.minute
    length = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
    if length <= 0:
        length += MINUTES_A_DAY  # overnight (or 00:00–00:00, all day)
    return start, start + length


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # On the weekly circle: compare b shifted by a week either way too (Sunday night runs into Monday).
    return any(a[0] < b[1] + shift and b[0] + shift < a[1] for shift in (-MINUTES_A_WEEK, 0, MINUTES_A_WEEK))


class BusinessHoursFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        time_zone = getattr(self.instance, "time_zone", "") or "UTC"
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                _("“%(zone)s” is not a time zone; use a name such as Europe/Berlin or Asia/Tehran."),
                params={"zone": time_zone},
            ) from exc
        spans = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("opens_at") is None or data.get("closes_at") is None:
                continue
            span = _week_span(data["weekday"], data["opens_at"], data["closes_at"])
            for other_form, other in spans:
                if _overlap(span, other):
                    raise ValidationError(
                        _("The intervals “%(first)s” and “%(second)s” overlap."),
                        params={"first": other_form.instance, "second": form.instance},
                    )
            spans.append((form, span))


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHoursInterval
    formset = BusinessHoursFormSet
    extra = 0
    verbose_name_plural = _("business hours (an interval that closes at or before its opening runs overnight)")


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class SlaTargetFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            for field in ("first_response_seconds", "resolution_seconds"):
                if data.get(field) == 0:
                    form.add_error(field, _("A target is at least one second."))


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    formset = SlaTargetFormSet
    extra = 0


class SlaStateFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("breached", _("Breached")), ("at_risk", _("At risk")), ("on_track", _("On track"))]

    def queryset(self, request, queryset):
        at_risk = Q(first_response_at_risk=True) | Q(resolution_at_risk=True)
        if self.value() == "breached":
            return queryset.filter(BREACHED)
        if self.value() == "at_risk":
            return queryset.filter(at_risk).exclude(BREACHED)
        if self.value() == "on_track":
            return queryset.exclude(BREACHED | at_risk)
        return queryset


def _apply(modeladmin, request, queryset, change):
    done = 0
    for ticket in queryset.order_by("pk"):
        change(ticket)
        done += 1
    message = ngettext("%(n)d ticket changed.", "%(n)d tickets changed.", done) % {"n": done}
    modeladmin.message_user(request, message, messages.SUCCESS)


def _status_action(status: str, label):
    def action(modeladmin, request, queryset):
        _apply(
            modeladmin, request, queryset, lambda t: ticket_set_status(ticket=t, status=status, operator=request.user)
        )

    action.__name__ = f"mark_{status}"
    return admin.action(description=label)(action)


def _priority_action(priority: str, label):
    def action(modeladmin, request, queryset):
        _apply(modeladmin, request, queryset, lambda t: ticket_set_priority(ticket=t, priority=priority))

    action.__name__ = f"priority_{priority}"
    return admin.action(description=label)(action)


TICKET_ACTIONS = [
    _status_action(Ticket.Status.OPEN, _("Mark selected tickets open")),
    _status_action(Ticket.Status.PENDING, _("Mark selected tickets pending (waiting on the customer)")),
    _status_action(Ticket.Status.RESOLVED, _("Mark selected tickets resolved")),
    _priority_action(Ticket.Priority.LOW, _("Set priority: low")),
    _priority_action(Ticket.Priority.NORMAL, _("Set priority: normal")),
    _priority_action(Ticket.Priority.HIGH, _("Set priority: high")),
    _priority_action(Ticket.Priority.URGENT, _("Set priority: urgent")),
]


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
        "first_response_due_at",
        "resolved_at",
        "resolution_due_at",
        "reopen_count",
        "conversation_count",
        "first_response_breached",
        "resolution_breached",
    ]
    list_filter = [
        SlaStateFilter,
        "status",
        "priority",
        "channel_kind",
        "inbox",
        "team",
        "assignee",
        "first_response_breached",
        "resolution_breached",
        label_filter("conversations"),
        "created_at",
    ]
    actions = TICKET_ACTIONS
    search_fields = ["id", "subject", "contact__name", "contact__email"]
    date_hierarchy = "created_at"
    list_select_related = ["contact", "inbox", "assignee"]
    raw_id_fields = ["contact", "assignee"]
    fields = [
        "subject",
        "status",
        "priority",
        "assignee",
        "team",
        "inbox",
        "channel_kind",
        "contact",
        "created_at",
        "first_response_at",
        "first_responder",
        "first_response_seconds",
        "first_response_business_seconds",
        "first_response_due_at",
        "first_response_at_risk",
        "first_response_breached",
        "resolved_at",
        "resolved_by",
        "resolution_seconds",
        "resolution_business_seconds",
        "resolution_due_at",
        "resolution_at_risk",
        "resolution_breached",
        "reopen_count",
        "last_reopened_at",
        "conversation_count",
        "pending_since",
        "pending_business_seconds",
        "updated_at",
    ]
    readonly_fields = [f for f in fields if f not in {"subject", "status", "priority", "assignee", "team"}]
    show_full_result_count = False

    def has_add_permission(self, request):
        # Tickets are created by conversations, offline messages and e-mails (tickets.services.ticket_create).
        return False

    def save_model(self, request, obj, form, change):
        """Status and priority go through the services (events, pending clock, realtime); the rest is plain."""
        stored = Ticket.objects.get(pk=obj.pk)
        status, priority = obj.status, obj.priority
        obj.status, obj.priority = stored.status, stored.priority
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            obj = ticket_set_status(ticket=obj, status=status, operator=request.user)
        if "priority" in form.changed_data:
            obj = ticket_set_priority(ticket=obj, priority=priority)
        form.instance = obj


@admin.register(BreachedTicket)
class BreachedTicketAdmin(TicketAdmin):
    """Tickets whose first response or resolution missed its target."""

    list_filter = ["first_response_breached", "resolution_breached", "status", "priority", "channel_kind", "inbox"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(BREACHED)


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
