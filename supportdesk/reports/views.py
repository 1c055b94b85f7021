"""The admin report pages: the dashboard (cards, charts, tables) and the CSV exports."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supportdesk.reports import charts, exports, figures, formatting
from supportdesk.reports.links import changelist_url
from supportdesk.reports.query import ReportForm, ReportQuery, default_query
from supportdesk.templatetags.locale_format import local_date, local_numbers

PERMISSION = "supportdesk.view_reports"
# Lazy: each request reads the titles in its own language, not in the one active when this module was imported.
TABLES = [
    ("inbox", gettext_lazy("Per inbox (channel)")),
    ("channel_kind", gettext_lazy("Per channel kind")),
    ("team", gettext_lazy("Per team")),
    ("operator", gettext_lazy("Per operator")),
    ("label", gettext_lazy("Per label")),
]
LABEL_NOTE = gettext_lazy(
    "A conversation with two labels counts in both rows: the rows do not add up to the total. A ticket carries the "
    "labels of all its conversations; a survey answer those of its conversation."
)
# Columns of the breakdown tables: every card figure.
TABLE_FIGURES = figures.FIGURES


def refused(form: ReportForm) -> HttpResponse:
    """400, one line per refused parameter with its reason: for the tables and exports, which links and scripts
    read (the dashboard shows the reasons beside its fields instead)."""
    lines = [f"{field}: {message}" for field, messages in form.errors.items() for message in messages]
    return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")


def read_query(request) -> tuple[ReportForm, ReportQuery]:
    """The selection from the query string; an invalid one keeps the form's errors and shows the default."""
    form = ReportForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.report_query()
    if not form.is_bound:
        form = ReportForm(initial={"period": "30d"})
    return form, default_query()


def _cell(figure: figures.Figure, value, targets: dict, query: ReportQuery, by=None, key=None) -> dict:
    return {
        "figure": figure,
        "value": value,
        "text": formatting.value(figure.unit, value, key=figure.key),
        "status": figures.target_status(figure, value, targets),
        "url": changelist_url(figure.source, query, by=by, key=key),
    }


def heatmap_title() -> str:
    """The heat map's hours are the desk's (TIME_ZONE), named so that nobody reads them as their own."""
    return _("Requests by weekday and hour (%(zone)s)") % {"zone": timezone.get_current_timezone_name()}


def dashboard_context(query: ReportQuery) -> dict:
    """Cards (with the previous period), charts and heat map; the tables load beside it (table_context)."""
    previous_query = query.previous()
    current = figures.summary(query)
    previous = figures.summary(previous_query)
    targets = figures.targets_for(query)
    cards = []
    for figure in figures.FIGURES:
        cell = _cell(figure, current[figure.key], targets, query)
        target = targets.get(figure.target) if figure.target else None
        prev = previous[figure.key]
        diff = None if cell["value"] is None or prev is None else cell["value"] - prev
        better = None
        if diff and figure.better:
            better = (diff > 0) == (figure.better == "higher")
        cards.append(
            {
                **cell,
                "target": target,
                "target_text": formatting.value(figure.unit, target, key=figure.key) if target is not None else "",
                "previous_text": formatting.value(figure.unit, prev, key=figure.key),
                "delta": formatting.delta(figure.unit, cell["value"], prev),
                "better": better,
                "extra": _card_extra(figure.key, current),
            }
        )
    series = figures.timeseries(query)
    grid = figures.heatmap(query)
    labels = [local_date(date.fromisoformat(row["day"]), "m-d") for row in series]
    weekdays = [str(WEEKDAYS_ABBR[i]) for i in range(7)]
    percent = lambda v: formatting.value("percent", v)  # noqa: E731
    count = lambda v: formatting.value("count", round(v))  # noqa: E731
    bands = current["frt_distribution"]
    chart_svgs = [
        (
            _("First responses by time to answer"),
            charts.bar_chart(
                _("First responses by time to answer"),
                [row["band"] for row in bands],
                [row["share"] or 0 for row in bands],
                percent,
                every_label=True,
                max_value=100,
            ),
        ),
        (
            _("Requests per day"),
            charts.bar_chart(_("Requests per day"), labels, [row["requested"] for row in series], count),
        ),
        (
            _("FRT median per day"),
            charts.line_chart(
                _("FRT median per day"), labels, [row["frt_median"] for row in series], formatting.duration
            ),
        ),
        (
            _("CSAT per day (dashed: target)"),
            charts.line_chart(
                _("CSAT per day"),
                labels,
                [row["csat"] for row in series],
                percent,
                target=targets["csat_percent"],
                max_value=100,
            ),
        ),
        (
            _("Abandonment rate per day (dashed: target)"),
            charts.line_chart(
                _("Abandonment rate per day"),
                labels,
                [row["abandonment"] for row in series],
                percent,
                target=targets["abandonment_percent"],
            ),
        ),
    ]
    return {
        "query": query,
        "previous_query": previous_query,
        "cards": cards,
        "charts": chart_svgs,
        "heatmap_title": heatmap_title(),
        "heatmap": charts.heatmap(heatmap_title(), grid, weekdays),
        "series": series,
        "grid": grid,
        "tables": [{"by": by, "title": title} for by, title in TABLES],
        "querystring": query.querystring(),
        "report_data": {
            "summary": current,
            "previous": previous,
            "targets": targets,
            "series": series,
            "heatmap": grid,
        },
    }


def table_context(query: ReportQuery, by: str) -> dict:
    """One breakdown table: every figure per inbox, channel kind, team or operator, each linked."""
    rows = []
    columns = figures.LABEL_FIGURES if by == "label" else TABLE_FIGURES
    table = figures.label_breakdown(query) if by == "label" else figures.breakdown(query, by=by)
    for row in table:
        rows.append(
            {
                "label": row["label"],
                "cells": [_cell(f, row[f.key], row["targets"], query, by=by, key=row["key"]) for f in columns],
            }
        )
    return {
        "by": by,
        "title": dict(TABLES)[by],
        "rows": rows,
        "table_figures": columns,
        "note": LABEL_NOTE if by == "label" else "",
        "querystring": query.querystring(),
    }


def _card_extra(key: str, row: dict) -> str:
    if key == "fcr":
        return _("%(n)s resolved tickets still inside the FCR window") % {
            "n": formatting.value("count", row["fcr_awaiting"])
        }
    if key == "abandonment":
        return _("%(n)s abandoned of %(m)s requested") % {
            "n": formatting.value("count", row["abandoned"]),
            "m": formatting.value("count", row["requested"]),
        }
    if key == "response_rate":
        return _("%(n)s answers to %(m)s invitations") % {
            "n": formatting.value("count", row["survey_responses"]),
            "m": formatting.value("count", row["surveys_sent"]),
        }
    if key in ("csat_mean", "ces_mean") and row[key] is None and row[f"{key}_by_scale"]:
        # Means on different scales are not averaged together: one per scale.
        return " · ".join(
            _("%(mean)s on %(scale)s") % {"mean": formatting.value("score", mean), "scale": local_numbers(scale)}
            for scale, mean in sorted(row[f"{key}_by_scale"].items())
        )
    return ""


def dashboard(request, site):
    form, query = read_query(request)
    with figures.report_session() as reading:
        context = {
            **site.each_context(request),
            "title": _("Reports"),
            "form": form,
            "as_of": reading.as_of,
            **dashboard_context(query),
        }
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


def table(request, site, by: str):
    if by not in dict(TABLES):
        raise Http404
    form, query = read_query(request)
    if form.errors:
        return refused(form)
    with figures.report_session():
        context = table_context(query, by)
    return TemplateResponse(request, "admin/reports/table.html", context)


def export(request, site, table: str):
    form, query = read_query(request)
    if form.errors:
        return refused(form)
    if table == "conversations":
        return exports.conversations_csv(query)
    if table == "summary":
        return exports.summary_csv(query)
    if table == "timeseries":
        return exports.timeseries_csv(query)
    if table == "label":
        return exports.label_csv(query)
    if table in dict(TABLES):
        return exports.breakdown_csv(query, by=table)
    raise Http404


def report_urls(site) -> list:
    """URL patterns the admin site mounts under /admin/reports/ (staff with the reports permission only)."""

    def guard(view):
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(PERMISSION):
                raise PermissionDenied
            return view(request, site, *args, **kwargs)

        return site.admin_view(wrapped)

    return [
        path("reports/", guard(dashboard), name="reports-dashboard"),
        path("reports/table/<slug:by>/", guard(table), name="reports-table"),
        path("reports/export/<slug:table>.csv", guard(export), name="reports-export"),
    ]
