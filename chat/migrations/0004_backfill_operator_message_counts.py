"""Counts the public operator messages (and canned ones) of the conversations already stored."""

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_operator_messages(apps, schema_editor):
    """Fills the new counters from the messages already stored: one UPDATE."""
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    public = Message.objects.filter(conversation=OuterRef("pk"), sender="operator", private=False).order_by()

    def counted(qs):
        return Coalesce(Subquery(qs.values("conversation").annotate(n=Count("*")).values("n")), 0)

    Conversation.objects.update(
        operator_message_count=counted(public),
        canned_message_count=counted(public.filter(canned_reply__isnull=False)),
    )


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_conversation_operator_message_counts")]

    operations = [migrations.RunPython(count_operator_messages, migrations.RunPython.noop, elidable=True)]
