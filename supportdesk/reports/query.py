"""The selection a report covers: a period (preset or custom) and filters, read from the query string."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelKind, Inbox, OperatorProfile, Team
from supportdesk.templatetags.locale_format import local_date

PRESETS = [
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("custom", _("Custom range")),
]
DEFAULT_PRESET = "30d"
# Bounds of `start` and `end` (security.md, "Report parameters"): no desk has conversations before EARLIEST_DAY
# or more than LATEST_DAYS_AHEAD days ahead, and a range lasts fewer than MAX_DAYS days (its medians' cost
# grows with it, reports.md "Speed"). They also keep every date the reports derive (the day after the end, the
# previous period) inside what Python's dates hold: 9999-12-31 or 0001-01-01 raised OverflowError, a 500.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAYS_AHEAD = 366
MAX_DAYS = 731


@dataclass(frozen=True)
class ReportQuery:
    """Period [start, end) in the deployment's time zone, plus filters (empty tuples select all)."""

    start: datetime
    end: datetime
    preset: str = DEFAULT_PRESET
    inbox_ids: tuple[int, ...] = ()
    channel_kinds: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    operator_ids: tuple[int, ...] = ()

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> date:
        """The last day inside the period (the end is exclusive)."""
        return timezone.localtime(self.end - timedelta(microseconds=1)).date()

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    def previous(self) -> ReportQuery:
        """The period of the same length just before this one, with the same filters.

        A form's period starts on EARLIEST_DAY or later and lasts at most MAX_DAYS, so this one starts after 1997.
        """
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start, preset="custom")

    def params(self, **override) -> dict[str, object]:
        """Query string parameters that select this report (for links, exports and the API)."""
        params: dict[str, object] = {"period": self.preset}
        if self.preset == "custom":
            params["start"] = self.first_day.isoformat()
            params["end"] = self.last_day.isoformat()
        for name, values in (
            ("inbox", self.inbox_ids),
            ("channel_kind", self.channel_kinds),
            ("team", self.team_ids),
            ("operator", self.operator_ids),
        ):
            if values:
                params[name] = list(values)
        params.update(override)
        return params

    def querystring(self, **override) -> str:
        return urlencode(self.params(**override), doseq=True)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """First and last day (inclusive) of a preset; a period that is still running ends today."""
    if preset == "today":
        return today, today
    if preset in ("7d", "30d", "90d"):
        return today - timedelta(days=int(preset[:-1]) - 1), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(preset)


class ReportForm(forms.Form):
    """The period picker and filters of the dashboard; the API takes the same parameters."""

    period = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    inbox = forms.ModelMultipleChoiceField(label=_("Inbox"), queryset=Inbox.objects.order_by("name"), required=False)
    channel_kind = forms.MultipleChoiceField(label=_("Channel kind"), choices=ChannelKind.choices, required=False)
    team = forms.ModelMultipleChoiceField(label=_("Team"), queryset=Team.objects.order_by("name"), required=False)
    operator = forms.ModelMultipleChoiceField(
        label=_("Operator"),
        queryset=OperatorProfile.objects.order_by("display_name"),
        to_field_name="user_id",
        required=False,
    )

    def _bounded(self, day: date | None) -> date | None:
        if day is None:
            return day
        if day < EARLIEST_DAY:
            raise forms.ValidationError(
                _("Reports begin on %(day)s: choose that day or a later one.") % {"day": local_date(EARLIEST_DAY)}
            )
        latest = timezone.localdate() + timedelta(days=LATEST_DAYS_AHEAD)
        if day > latest:
            raise forms.ValidationError(
                _("Choose a day at most a year from today (%(day)s at the latest).") % {"day": local_date(latest)}
            )
        return day

    def clean_start(self) -> date | None:
        return self._bounded(self.cleaned_data.get("start"))

    def clean_end(self) -> date | None:
        return self._bounded(self.cleaned_data.get("end"))

    def clean(self):
        data = super().clean()
        period = data.get("period") or DEFAULT_PRESET
        data["period"] = period
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            # A day already refused has its reason; "choose a day" beside it would say less.
            if start is None and "start" not in self.errors:
                self.add_error("start", _("Choose the first day of the range."))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("Choose the last day of the range."))
            if start and end:
                if end < start:
                    self.add_error("end", _("The last day cannot be before the first day."))
                elif (end - start).days >= MAX_DAYS:
                    self.add_error("end", _("A range covers at most two years."))
        return data

    def report_query(self, today: date | None = None) -> ReportQuery:
        """The selection; call after is_valid()."""
        data = self.cleaned_data
        period = data["period"]
        if period == "custom":
            first, last = data["start"], data["end"]
        else:
            first, last = preset_period(period, today or timezone.localdate())
        return ReportQuery(
            start=_midnight(first),
            end=_midnight(last + timedelta(days=1)),
            preset=period,
            inbox_ids=tuple(sorted(i.pk for i in data.get("inbox") or ())),
            channel_kinds=tuple(sorted(data.get("channel_kind") or ())),
            team_ids=tuple(sorted(t.pk for t in data.get("team") or ())),
            operator_ids=tuple(sorted(o.user_id for o in data.get("operator") or ())),
        )


def default_query(today: date | None = None) -> ReportQuery:
    first, last = preset_period(DEFAULT_PRESET, today or timezone.localdate())
    return ReportQuery(start=_midnight(first), end=_midnight(last + timedelta(days=1)))
