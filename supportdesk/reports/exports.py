"""CSV exports, streamed: each table of the dashboard, and one row per conversation of the selection.

Numbers are raw (seconds, percentages 0–100, empty when nothing was measured) so that a spreadsheet can
compute with them; the header names the unit. Text is never read as a formula (_text, security.md).
"""

from __future__ import annotations

import csv

from django.db.models import F
from django.http import StreamingHttpResponse

from chat.models import Attachment, Conversation
from supportdesk.reports import figures
from supportdesk.reports.query import ReportQuery
from tickets.selectors.filters import CONVERSATION, apply_filter

CHUNK_SIZE = 2000
UNIT_SUFFIX = {"seconds": "_s", "percent": "_pct", "count": "", "score": "", "cost": ""}
FIGURE_COLUMNS = [(f.key, f"{f.key}{UNIT_SUFFIX[f.unit]}") for f in figures.FIGURES]
COUNT_COLUMNS = [(k, k) for k in figures.COUNTS]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 3)
    return value


# A text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP, "CSV
# injection"): a visitor's survey comment `=HYPERLINK(...)` would run on the manager's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: object) -> object:
    """A text cell that a spreadsheet would evaluate, quoted with a leading `'`; numbers (even -25.0) stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _response(rows, filename: str) -> StreamingHttpResponse:
    """Every CSV the desk writes goes through here."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([_text(v) for v in row]) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp(query: ReportQuery) -> str:
    return f"{query.first_day.isoformat()}_{query.last_day.isoformat()}"


def _figure_header() -> list[str]:
    return [name for _key, name in FIGURE_COLUMNS + COUNT_COLUMNS]


def _figure_values(row: dict) -> list:
    return [_cell(row.get(key)) for key, _name in FIGURE_COLUMNS + COUNT_COLUMNS]


def summary_csv(query: ReportQuery) -> StreamingHttpResponse:
    def rows():
        yield ["period", "start", "end", *_figure_header()]
        with figures.report_session():
            summaries = [
                (name, q, figures.summary(q)) for name, q in (("current", query), ("previous", query.previous()))
            ]
        for name, q, summary in summaries:
            yield [name, q.first_day.isoformat(), q.last_day.isoformat(), *_figure_values(summary)]

    return _response(rows(), f"report-summary_{_stamp(query)}.csv")


def breakdown_csv(query: ReportQuery, *, by: str) -> StreamingHttpResponse:
    def rows():
        yield [by, "label", *_figure_header()]
        with figures.report_session():
            table = figures.breakdown(query, by=by)
        for row in table:
            yield [_cell(row["key"]), row["label"], *_figure_values(row)]

    return _response(rows(), f"report-{by}_{_stamp(query)}.csv")


LABEL_COLUMNS = [(f.key, f"{f.key}{UNIT_SUFFIX[f.unit]}") for f in figures.LABEL_FIGURES] + [
    ("answered", "answered"),
    ("frt_count", "frt_count"),
    ("csat_satisfied", "csat_satisfied"),
]


def label_csv(query: ReportQuery) -> StreamingHttpResponse:
    """The per-label table (label empty: no label). A conversation with two labels is in both rows: the rows do not
    add up to the summary."""

    def rows():
        yield ["label_id", "label", *(name for _key, name in LABEL_COLUMNS)]
        with figures.report_session():
            table = figures.label_breakdown(query)
        for row in table:
            yield [_cell(row["key"]), row["label"], *(_cell(row.get(key)) for key, _name in LABEL_COLUMNS)]

    return _response(rows(), f"report-label_{_stamp(query)}.csv")


def timeseries_csv(query: ReportQuery) -> StreamingHttpResponse:
    columns = ["day", "requested", "frt_median", "csat", "abandonment"]

    def rows():
        yield ["day", "requested", "frt_median_s", "csat_pct", "abandonment_pct"]
        with figures.report_session():
            series = figures.timeseries(query)
        for row in series:
            yield [_cell(row[c]) for c in columns]

    return _response(rows(), f"report-timeseries_{_stamp(query)}.csv")


CONVERSATION_COLUMNS = [
    ("conversation_id", "pk"),
    ("requested_at", "requested_at"),
    ("inbox", "inbox__name"),
    ("channel_kind", "channel_kind"),
    ("team", "team__name"),
    ("operator", "assignee__username"),
    ("status", "status"),
    ("end_reason", "end_reason"),
    ("assigned_at", "assigned_at"),
    ("first_response_at", "first_response_at"),
    ("ended_at", "ended_at"),
    ("transfers", "transfer_count"),
    ("ticket_id", "ticket_id"),
    ("ticket_status", "ticket__status"),
    ("ticket_first_response_s", "ticket__first_response_seconds"),
    ("ticket_first_response_business_s", "ticket__first_response_business_seconds"),
    ("ticket_resolution_s", "ticket__resolution_seconds"),
    ("ticket_resolution_business_s", "ticket__resolution_business_seconds"),
    ("ticket_reopened", "ticket__reopen_count"),
    ("survey_status", "survey_invitation__status"),
    ("csat", "survey_invitation__response__csat"),
    ("csat_scale", "survey_invitation__response__csat_scale"),
    ("ces", "survey_invitation__response__ces"),
    ("ces_scale", "survey_invitation__response__ces_scale"),
    ("nps", "survey_invitation__response__nps"),
    ("survey_comment", "survey_invitation__response__comment"),
]


def conversations_csv(query: ReportQuery) -> StreamingHttpResponse:
    """One row per conversation requested in the period (every channel kind), with its timings, outcome and
    survey answers; `wait_s` is the first reply (or the abandonment) − the request, as metrics.md has it."""
    qs = apply_filter(Conversation.objects.all(), figures.ticket_filter(query), CONVERSATION, "requested_at").order_by(
        F("requested_at").asc(), "pk"
    )
    fields = [f for _name, f in CONVERSATION_COLUMNS]
    index = {f: i for i, f in enumerate(fields)}

    def rows():
        # The files sent in a conversation are named with their sizes; the files themselves are not in the export.
        yield [name for name, _f in CONVERSATION_COLUMNS] + ["wait_s", "attachments_not_included"]
        for chunk in _chunks(qs.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)):
            files = _attachments_of([values[index["pk"]] for values in chunk])
            for values in chunk:
                requested, first, ended = (
                    values[index["requested_at"]],
                    values[index["first_response_at"]],
                    values[index["ended_at"]],
                )
                until = first or (ended if values[index["end_reason"]] == Conversation.EndReason.ABANDONED else None)
                wait = (until - requested).total_seconds() if until else None
                yield [_csv_value(v) for v in values] + [_cell(wait), _cell(files.get(values[index["pk"]], ""))]

    return _response(rows(), f"conversations_{_stamp(query)}.csv")


def _chunks(iterator):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) == CHUNK_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _attachments_of(conversation_ids: list[int]) -> dict[int, str]:
    """ "name (N bytes); …" of the files sent in each conversation (notes' files included), oldest first."""
    listed: dict[int, list[str]] = {}
    rows = (
        Attachment.objects.filter(conversation_id__in=conversation_ids, message__isnull=False)
        .order_by("id")
        .values_list("conversation_id", "name", "size")
    )
    for conversation_id, name, size in rows:
        listed.setdefault(conversation_id, []).append(f"{name} ({size} bytes)")
    return {key: "; ".join(names) for key, names in listed.items()}


def _csv_value(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return _cell(value)
