"""The search indexes of conversations (docs/inbox.md, Search), made per database.

PostgreSQL: a GIN index on `to_tsvector('simple', body)` of messages (the `simple` configuration: no stemming, so
Persian and every other language are indexed word for word), and trigram indexes (pg_trgm) on the contacts' names
and e-mails for Django's `icontains` (which compares `UPPER(...)`).

SQLite: an FTS5 table over the messages' bodies (external content: it stores the index, not the text), kept by
triggers. Django rebuilds a table it alters on SQLite, which drops that table's triggers, so `post_migrate` makes
them again when they are missing and then rebuilds the index from the messages.
"""

from __future__ import annotations

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS message_body_fts_idx ON chat_message USING gin (to_tsvector('simple', body))",
    "CREATE INDEX IF NOT EXISTS contact_name_trgm_idx ON chat_contact USING gin (upper(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contact_email_trgm_idx ON chat_contact USING gin (upper(email) gin_trgm_ops)",
]
POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS message_body_fts_idx",
    "DROP INDEX IF EXISTS contact_name_trgm_idx",
    "DROP INDEX IF EXISTS contact_email_trgm_idx",
]

FTS_TABLE = "chat_message_fts"
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "body, content='chat_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = {
    "chat_message_fts_insert": f"""CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, new.body); END""",
    "chat_message_fts_delete": f"""CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.id, old.body); END""",
    "chat_message_fts_update": f"""CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF body ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO {FTS_TABLE}(rowid, body) VALUES (new.id, new.body); END""",
}


def create(connection) -> None:
    """Makes what is missing of the indexes on this connection's database (a no-op when all is there)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRESQL:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_TABLE)
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chat_message'")
            present = {row[0] for row in cursor.fetchall()}
            missing = [sql for name, sql in SQLITE_TRIGGERS.items() if name not in present]
            for statement in missing:
                cursor.execute(statement)
            if missing:
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def drop(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRESQL_DROP:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def ensure_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: remakes the SQLite triggers that a later migration's rebuild of chat_message dropped (once the
    search migration has made the index; before it, there is nothing to keep)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite" or FTS_TABLE not in connection.introspection.table_names():
        return
    create(connection)
