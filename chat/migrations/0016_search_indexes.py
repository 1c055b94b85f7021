"""Conversation search: full-text indexes of messages and trigram indexes of contacts (chat/search_index.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from chat import search_index

    search_index.create(schema_editor.connection)


def drop(apps, schema_editor):
    from chat import search_index

    search_index.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0015_attachments"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
