"""The per-label rollups' triggers: installed as rollups.triggers.LINKS has them, and writing their marks."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest

from chat.models import ConversationLabel
from rollups import triggers
from rollups.models import RollupMark
from tests.factories import ConversationFactory, LabelFactory, TicketFactory

REQUESTED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CREATED = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)


def test_the_migration_installs_the_links_the_triggers_module_lists():
    migration = importlib.import_module("rollups.migrations.0003_label_rollups")
    assert migration.TABLES == triggers.LINKS


@pytest.mark.django_db
def test_a_label_put_on_taken_off_or_moved_with_its_conversation_marks_the_days_it_changes():
    ticket = TicketFactory(created_at=CREATED)
    conversation = ConversationFactory(ticket=ticket, inbox=ticket.inbox, requested_at=REQUESTED)
    RollupMark.objects.all().delete()

    link = ConversationLabel.objects.create(conversation=conversation, label=LabelFactory())
    assert set(RollupMark.objects.values_list("since", "until")) == {(REQUESTED, REQUESTED), (CREATED, CREATED)}
    RollupMark.objects.all().delete()
    link.delete()
    assert set(RollupMark.objects.values_list("since", "until")) == {(REQUESTED, REQUESTED), (CREATED, CREATED)}

    # Without a label, moving the conversation to another ticket changes no ticket's labels: no mark from it.
    other = TicketFactory(inbox=ticket.inbox, created_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC))
    RollupMark.objects.all().delete()
    type(conversation).objects.filter(pk=conversation.pk).update(ticket=other)
    assert not RollupMark.objects.exists()
    ConversationLabel.objects.create(conversation=conversation, label=LabelFactory())
    RollupMark.objects.all().delete()
    type(conversation).objects.filter(pk=conversation.pk).update(ticket=ticket)
    assert set(RollupMark.objects.values_list("since", "until")) == {(CREATED, CREATED), (other.created_at,) * 2}
