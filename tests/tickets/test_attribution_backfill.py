"""The migration that adds a ticket's first responder and resolver fills them in from the reporting events: on a
generated history (where reopened tickets are resolved by another operator) it gives what the history knows."""

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command

from tickets.models import Ticket

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("tickets.migrations.0005_ticket_first_responder_resolved_by")


def test_the_backfill_finds_who_answered_first_and_who_resolved_last():
    call_command("seed_demo", "--history", "600", stdout=io.StringIO(), stderr=io.StringIO())
    known = list(Ticket.objects.order_by("pk").values_list("pk", "first_responder_id", "resolved_by_id"))
    assert any(first != last for _, first, last in known if first and last)  # the case that matters is there
    Ticket.objects.update(first_responder=None, resolved_by=None)
    backfill.attribute_from_events(apps, None)
    assert list(Ticket.objects.order_by("pk").values_list("pk", "first_responder_id", "resolved_by_id")) == known
