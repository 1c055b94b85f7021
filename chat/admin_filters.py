"""An admin list filter by the labels of a row's conversation(s), exact for "no label" too: the lists behind the
reports' per-label breakdown (supportdesk.reports.links), beside the labels a manager picks in the sidebar."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from chat.models import Label

NO_LABEL = "none"


def label_filter(path: str) -> type[admin.SimpleListFilter]:
    """A filter "label" (a label id, or "none": no conversation of the row carries a label) over `path`, the
    conversation(s) of the listed model ("conversations" for tickets, "conversation" for survey invitations)."""

    class LabelFilter(admin.SimpleListFilter):
        title = _("label")
        parameter_name = "label"

        def lookups(self, request, model_admin):
            return [
                (NO_LABEL, _("No label")),
                *((str(pk), name) for pk, name in Label.objects.values_list("pk", "name")),
            ]

        def queryset(self, request, queryset):
            value = self.value()
            if not value:
                return queryset
            if value == NO_LABEL:
                return queryset.exclude(**{f"{path}__label_links__isnull": False})
            if not value.isdigit():
                return queryset.none()
            return queryset.filter(**{f"{path}__label_links__label_id": int(value)}).distinct()

    return LabelFilter
