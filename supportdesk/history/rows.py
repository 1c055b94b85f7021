"""Rows built as tuples, with reserved primary keys, written with COPY (PostgreSQL) or executemany."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models

from chat.models import Contact, Conversation, Message
from supportdesk.history.world import BATCH_STORIES, EPOCH
from surveys.models import SurveyInvitation, SurveyResponse
from tickets.models import ReportingEvent, Ticket


class Table:
    """Columns of one model's table: those the generator writes, plus defaults for any others."""

    def __init__(self, model: type[models.Model], columns: list[str]):
        self.model = model
        self.name = model._meta.db_table
        by_column = {f.column: f for f in model._meta.concrete_fields}
        missing = [c for c in columns if c not in by_column]
        if missing:
            raise ImproperlyConfigured(f"{self.name} has no column {missing}")
        self.fields = [by_column[c] for c in columns]
        self.extra: list = []  # per row: callables or constants for columns the generator does not know
        for column, f in by_column.items():
            if column in columns:
                continue
            if f.has_default():
                if callable(f.default) and f.unique:
                    self.extra.append(f.default)
                else:
                    self.extra.append(_Const(f.get_default()))
            elif f.null:
                self.extra.append(_Const(None))
            else:
                raise ImproperlyConfigured(f"history: {self.name}.{column} needs a value")
            self.fields.append(f)
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []

    def add(self, row: tuple) -> None:
        if self.extra:
            row = row + tuple(p() for p in self.extra)
        self.rows.append(row)


class _Const:
    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


class Ids:
    """Reserves primary keys in blocks, so rows can reference each other before they are written."""

    def __init__(self, model: type[models.Model]):
        self.table = model._meta.db_table
        self.next = 0
        self.end = 0

    def reserve(self, count: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
                    [self.table, self.table, count - 1],
                )
                self.end = cursor.fetchone()[0] + 1
            else:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')  # noqa: S608 — our table
                self.end = max(cursor.fetchone()[0] + 1, self.end) + count
        self.next = self.end - count

    def take(self) -> int:
        if self.next >= self.end:
            self.reserve(BATCH_STORIES * 8)
        value = self.next
        self.next += 1
        return value


def _write(table: Table) -> None:
    if not table.rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(f'"{c}"' for c in table.columns)
            json_columns = [i for i, f in enumerate(table.fields) if isinstance(f, models.JSONField)]
            with cursor.cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in table.rows:
                    if json_columns:
                        row = list(row)
                        for i in json_columns:
                            row[i] = None if row[i] is None else json.dumps(row[i])
                    copy.write_row(row)
        else:
            preps = [f.get_db_prep_save if _needs_prep(f) else None for f in table.fields]
            rows = [[p(v, connection) if p else v for p, v in zip(preps, row, strict=True)] for row in table.rows]
            placeholders = ", ".join(["%s"] * len(table.columns))
            columns = ", ".join(f'"{c}"' for c in table.columns)
            cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({placeholders})', rows)  # noqa: S608
    table.rows = []


def _needs_prep(f: models.Field) -> bool:
    return isinstance(f, models.DateTimeField | models.UUIDField | models.JSONField | models.DecimalField)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else EPOCH + timedelta(seconds=ts)


def history_tables() -> dict[str, Table]:
    """The tables a history writes, in the order that keeps foreign keys satisfied."""
    return {
        "contact": Table(
            Contact,
            [
                "id",
                "inbox_id",
                "visitor_id",
                "name",
                "email",
                "locale",
                "last_page_url",
                "notes",
                "survey_opt_out",
                "first_seen_at",
                "last_seen_at",
            ],
        ),
        "ticket": Table(
            Ticket,
            [
                "id",
                "inbox_id",
                "channel_kind",
                "contact_id",
                "subject",
                "status",
                "priority",
                "assignee_id",
                "team_id",
                "first_responder_id",
                "resolved_by_id",
                "created_at",
                "first_response_at",
                "first_response_seconds",
                "first_response_business_seconds",
                "resolved_at",
                "resolution_seconds",
                "resolution_business_seconds",
                "reopen_count",
                "last_reopened_at",
                "conversation_count",
                "min_reopen_gap_seconds",
                "pending_since",
                "pending_business_seconds",
                "first_response_due_at",
                "resolution_due_at",
                "first_response_at_risk_at",
                "resolution_at_risk_at",
                "first_response_at_risk",
                "first_response_breached",
                "resolution_at_risk",
                "resolution_breached",
                "updated_at",
            ],
        ),
        "conversation": Table(
            Conversation,
            [
                "id",
                "inbox_id",
                "channel_kind",
                "contact_id",
                "ticket_id",
                "status",
                "end_reason",
                "assignee_id",
                "team_id",
                "transfer_count",
                "operator_message_count",
                "canned_message_count",
                "requested_at",
                "assigned_at",
                "first_response_at",
                "ended_at",
                "last_message_at",
                "visitor_connection_count",
                "visitor_last_seen_at",
                "updated_at",
            ],
        ),
        "message": Table(
            Message,
            [
                "id",
                "conversation_id",
                "sender",
                "author_id",
                "author_name",
                "body",
                "private",
                "canned_reply_id",
                "client_id",
                "created_at",
            ],
        ),
        "event": Table(
            ReportingEvent,
            [
                "id",
                "name",
                "inbox_id",
                "channel_kind",
                "ticket_id",
                "conversation_id",
                "operator_id",
                "team_id",
                "event_start",
                "event_end",
                "value_seconds",
                "value_business_seconds",
                "created_at",
            ],
        ),
        "invitation": Table(
            SurveyInvitation,
            [
                "id",
                "conversation_id",
                "contact_id",
                "ticket_id",
                "inbox_id",
                "channel_kind",
                "operator_id",
                "team_id",
                "token",
                "questions",
                "language",
                "comment_label",
                "thank_you",
                "includes_nps",
                "status",
                "created_at",
                "sent_at",
                "widget_sent_at",
                "email_due_at",
                "emailed_at",
                "answered_at",
                "expires_at",
            ],
        ),
        "response": Table(
            SurveyResponse,
            [
                "id",
                "invitation_id",
                "csat",
                "csat_scale",
                "ces",
                "ces_scale",
                "nps",
                "comment",
                "channel",
                "created_at",
            ],
        ),
    }
