"""The database triggers that mark the days a change makes stale (RollupMark), on PostgreSQL and SQLite.

A trigger sees every write, whichever code made it (a service, a bulk `update()`, the admin, a migration), and
writes its mark in the same transaction, so a committed change always leaves its mark. An update fires only when a
column a figure reads changed: a visitor's message or heartbeat changes none and writes no mark.

Each table lists the spans its figures are placed by (from, until; until None: an instant) and the columns read.
Migrations install a frozen copy of this list (`install(schema_editor, TABLES)`): change it with a new migration.
"""

from __future__ import annotations

TABLES = {
    "tickets_ticket": {
        "spans": [("created_at", None), ("resolved_at", None)],
        "columns": [
            "inbox_id", "channel_kind", "status", "team_id", "first_responder_id", "resolved_by_id", "created_at",
            "first_response_at", "first_response_seconds", "first_response_business_seconds", "resolved_at",
            "resolution_seconds", "resolution_business_seconds", "reopen_count", "conversation_count",
            "min_reopen_gap_seconds", "next_ticket_at", "first_response_due_at", "resolution_due_at",
        ],
    },
    "chat_conversation": {
        "spans": [("requested_at", "ended_at")],
        "columns": [
            "inbox_id", "channel_kind", "team_id", "assignee_id", "requested_at", "assigned_at", "first_response_at",
            "ended_at", "visitor_left_at", "end_reason", "transfer_count", "operator_message_count",
            "canned_message_count",
        ],
    },
    "surveys_surveyinvitation": {
        "spans": [("sent_at", None)],
        "columns": ["inbox_id", "channel_kind", "team_id", "operator_id", "status", "sent_at"],
    },
    "surveys_surveyresponse": {
        "spans": [("created_at", None)],
        "columns": ["invitation_id", "csat", "csat_scale", "ces", "ces_scale", "nps", "created_at"],
    },
    "chat_presenceinterval": {
        "spans": [("started_at", "ended_at")],
        "columns": ["operator_id", "status", "started_at", "ended_at"],
    },
}  # fmt: skip

MARKS = "rollups_rollupmark"

# Tables whose rows place no figure themselves but change which rows count where: a label put on or taken off a
# conversation moves its conversation (requested), its ticket (created: FRT) and its survey answer between the rows
# of the per-label breakdown. Each lists the spans as queries of the rows it touches, `{row}` standing for OLD or
# NEW; an update marks when a listed column changed.
LINKS = {
    "chat_conversationlabel": {
        "spans": [
            "SELECT c.requested_at, c.requested_at FROM chat_conversation c "
            "WHERE c.id = {row}.conversation_id AND c.requested_at IS NOT NULL",
            "SELECT t.created_at, t.created_at FROM tickets_ticket t JOIN chat_conversation c ON c.ticket_id = t.id "
            "WHERE c.id = {row}.conversation_id",
            "SELECT r.created_at, r.created_at FROM surveys_surveyresponse r "
            "JOIN surveys_surveyinvitation i ON i.id = r.invitation_id WHERE i.conversation_id = {row}.conversation_id",
        ],
        "columns": ["conversation_id", "label_id"],
    },
    # A labelled conversation moved to another ticket (a follow-up) takes its labels from one ticket to the other.
    "chat_conversation_ticket": {
        "table": "chat_conversation",
        "spans": [
            "SELECT t.created_at, t.created_at FROM tickets_ticket t WHERE t.id = {row}.ticket_id "
            "AND EXISTS (SELECT 1 FROM chat_conversationlabel l WHERE l.conversation_id = {row}.id)",
        ],
        "columns": ["ticket_id"],
    },
}


def _values(row: str, since: str, until: str | None) -> tuple[str, str, str]:
    start = f"{row}.{since}"
    end = f"COALESCE({row}.{until}, {start})" if until else start
    return start, end, f"{start} IS NOT NULL"


def _inserts(row: str, spans, *, sqlite: bool) -> str:
    if spans and isinstance(spans[0], str):
        # A link table's spans: queries of the rows it touches (LINKS).
        return "\n".join(f"INSERT INTO {MARKS} (since, until) {span.format(row=row)};" for span in spans)
    out = []
    for since, until in spans:
        start, end, present = _values(row, since, until)
        if sqlite:
            out.append(f"INSERT INTO {MARKS} (since, until) SELECT {start}, {end} WHERE {present};")
        else:
            out.append(f"IF {present} THEN INSERT INTO {MARKS} (since, until) VALUES ({start}, {end}); END IF;")
    return "\n".join(out)


def _changed(columns, *, sqlite: bool) -> str:
    differs = "IS NOT" if sqlite else "IS DISTINCT FROM"
    return " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in columns)


def _names(key: str, spec: dict) -> tuple[str, str]:
    """(trigger name, table): a spec keyed by its table, or by a name of its own with the table in "table" (a
    second set of triggers on a table that has one)."""
    return f"rollups_mark_{key}", spec.get("table", key)


def postgresql_sql(key: str, spec: dict) -> list[str]:
    name, table = _names(key, spec)
    old, new = _inserts("OLD", spec["spans"], sqlite=False), _inserts("NEW", spec["spans"], sqlite=False)
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
IF TG_OP <> 'INSERT' THEN
{old}
END IF;
IF TG_OP <> 'DELETE' THEN
{new}
END IF;
RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {name}_write ON {table}",
        f"CREATE TRIGGER {name}_write AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
        f"DROP TRIGGER IF EXISTS {name}_update ON {table}",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN ({_changed(spec['columns'], sqlite=False)}) EXECUTE FUNCTION {name}()",
    ]


def sqlite_sql(key: str, spec: dict) -> list[str]:
    name, table = _names(key, spec)
    old, new = _inserts("OLD", spec["spans"], sqlite=True), _inserts("NEW", spec["spans"], sqlite=True)
    statements = []
    for suffix, event, body, when in (
        ("insert", "INSERT", new, ""),
        ("delete", "DELETE", old, ""),
        ("update", "UPDATE", old + "\n" + new, f" WHEN {_changed(spec['columns'], sqlite=True)}"),
    ):
        statements.append(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
        statements.append(f"CREATE TRIGGER {name}_{suffix} AFTER {event} ON {table}{when} BEGIN\n{body}\nEND")
    return statements


def install(schema_editor, tables: dict) -> None:
    sqlite = schema_editor.connection.vendor == "sqlite"
    for table, spec in tables.items():
        for statement in (sqlite_sql if sqlite else postgresql_sql)(table, spec):
            schema_editor.execute(statement)


def uninstall(schema_editor, tables: dict) -> None:
    sqlite = schema_editor.connection.vendor == "sqlite"
    for key, spec in tables.items():
        name, table = _names(key, spec)
        if sqlite:
            for suffix in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_write ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_update ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
