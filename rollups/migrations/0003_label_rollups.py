"""Per-label rollups: the label a row's figures carry (the per-label breakdown's sources), and the triggers on the
labels of conversations, and on a labelled conversation's move to another ticket, that mark the days they change
(rollups.triggers.LINKS, frozen here).

The days rolled up before this migration have no per-label rows: it marks the whole history stale (one RollupMark
from the first conversation to now), so the next refresh (beat, or `manage.py rollups refresh`) rebuilds them.
"""

from django.db import migrations, models

from rollups import triggers

TABLES = {
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
    "chat_conversation_ticket": {
        "table": "chat_conversation",
        "spans": [
            "SELECT t.created_at, t.created_at FROM tickets_ticket t WHERE t.id = {row}.ticket_id "
            "AND EXISTS (SELECT 1 FROM chat_conversationlabel l WHERE l.conversation_id = {row}.id)",
        ],
        "columns": ["ticket_id"],
    },
}


def install(apps, schema_editor):
    triggers.install(schema_editor, TABLES)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor, TABLES)


def mark_history_stale(apps, schema_editor):
    from django.db.models import Min
    from django.utils import timezone

    first = apps.get_model("chat", "Conversation").objects.aggregate(first=Min("requested_at"))["first"]
    if first is not None:
        apps.get_model("rollups", "RollupMark").objects.create(since=first, until=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("rollups", "0002_mark_triggers"),
        ("chat", "0012_labels"),
    ]

    operations = [
        migrations.AddField(model_name="rollup", name="label_id", field=models.IntegerField(null=True, verbose_name="label")),
        migrations.RunPython(install, uninstall),
        migrations.RunPython(mark_history_stale, migrations.RunPython.noop),
    ]
