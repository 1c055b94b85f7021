"""Per-operator attribution after a transfer, with the chat as operators run it (metrics.md: one rule per figure).

Olga takes the chat and answers first, transfers it to Omar, who answers and resolves it. The conversation (and
its wait) counts for Omar, who held it when it ended; the first response for Olga, who sent it; the resolution
for Omar, who resolved the ticket.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from chat.models import Conversation
from chat.services.assignment import conversation_transfer
from chat.services.conversations import conversation_resolve
from chat.services.messages import operator_message_send, visitor_message_send
from supportdesk.reports.links import changelist_url
from supportdesk.reports.query import ReportQuery
from tests.factories import ContactFactory, InboxFactory, OperatorFactory
from tickets.selectors import conversation_outcomes, first_response_time, resolution_time
from tickets.selectors.filters import MetricFilter

pytestmark = pytest.mark.django_db


def _per_operator(selector):
    return {row["key"]: row for row in selector(filters=MetricFilter(), by="operator")}


def test_after_a_transfer_each_figure_counts_for_its_own_operator():
    inbox = InboxFactory()
    olga = OperatorFactory(display_name="Olga", inboxes=[inbox])
    omar = OperatorFactory(display_name="Omar", inboxes=[inbox], status="away")
    message, _ = visitor_message_send(contact=ContactFactory(inbox=inbox), client_id=None, body="My order is late")
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.assignee_id == olga.user_id
    operator_message_send(profile=olga, conversation_id=conversation.pk, client_id=None, body="Let me look.")
    conversation_transfer(profile=olga, conversation_id=conversation.pk, to_operator_id=omar.user_id)
    operator_message_send(profile=omar, conversation_id=conversation.pk, client_id=None, body="It ships today.")
    conversation_resolve(profile=omar, conversation_id=conversation.pk)

    frt = _per_operator(first_response_time)
    assert {key: row["count"] for key, row in frt.items()} == {olga.user_id: 1}
    resolution = _per_operator(resolution_time)
    assert {key: row["count"] for key, row in resolution.items()} == {omar.user_id: 1}
    outcomes = _per_operator(conversation_outcomes)
    # Olga's row holds only what she transferred away (the transfer rate's numerator).
    assert {key: (row["requested"], row["answered"], row["transferred"]) for key, row in outcomes.items()} == {
        olga.user_id: (0, 0, 1),
        omar.user_id: (1, 1, 0),
    }


def test_the_transfer_rate_per_operator_counts_what_each_transferred_away_over_what_each_answered():
    """metrics.md: transfer rate per operator = conversations the operator transferred away ÷ conversations the
    operator answered. Olga answers two chats and hands one to Omar; Omar answers his own and the one he got."""
    inbox = InboxFactory()
    olga = OperatorFactory(display_name="Olga", inboxes=[inbox], max_chats=5)
    omar = OperatorFactory(display_name="Omar", inboxes=[inbox], status="away", max_chats=5)

    def chat(profile, body):
        message, _ = visitor_message_send(contact=ContactFactory(inbox=inbox), client_id=None, body=body)
        conversation = Conversation.objects.get(pk=message.conversation_id)
        assert conversation.assignee_id == profile.user_id
        operator_message_send(profile=profile, conversation_id=conversation.pk, client_id=None, body="Hello!")
        return conversation

    handed_over = chat(olga, "Where is my refund?")
    kept = chat(olga, "Do you ship to Oslo?")
    conversation_transfer(profile=olga, conversation_id=handed_over.pk, to_operator_id=omar.user_id)
    operator_message_send(profile=omar, conversation_id=handed_over.pk, client_id=None, body="Refunded today.")
    for conversation in (handed_over, kept):
        holder = omar if conversation is handed_over else olga
        conversation_resolve(profile=holder, conversation_id=conversation.pk)

    outcomes = _per_operator(conversation_outcomes)
    rows = {key: (row["answered"], row["transferred"], row["transfer_rate"]) for key, row in outcomes.items()}
    assert rows == {olga.user_id: (1, 1, 1.0), omar.user_id: (1, 0, 0.0)}
    # The whole desk: answered conversations with at least one transfer ÷ answered conversations.
    total = conversation_outcomes(filters=MetricFilter())
    assert (total["answered"], total["transferred"], total["transfer_rate"]) == (2, 1, 0.5)
    # One operator selected: her row still counts what she transferred away (now held by someone else).
    only_olga = {
        row["key"]: row
        for row in conversation_outcomes(filters=MetricFilter(operator_ids=(olga.user_id,)), by="operator")
    }
    assert only_olga[olga.user_id]["transferred"] == 1

    # The number links to the conversations behind it: the one she handed on, which Omar holds.
    superuser = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    client = Client()
    client.force_login(superuser)
    now = timezone.now()
    query = ReportQuery(start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1), preset="custom")
    page = client.get(changelist_url("transferred", query, by="operator", key=olga.user_id))
    assert page.status_code == 200
    assert [c.pk for c in page.context["cl"].result_list] == [handed_over.pk]
    page = client.get(changelist_url("transferred", query, by="operator", key=omar.user_id))
    assert list(page.context["cl"].result_list) == []
