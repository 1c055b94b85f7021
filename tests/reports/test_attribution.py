"""Per-operator attribution after a transfer, with the chat as operators run it (metrics.md: one rule per figure).

Olga takes the chat and answers first, transfers it to Omar, who answers and resolves it. The conversation (and
its wait) counts for Omar, who held it when it ended; the first response for Olga, who sent it; the resolution
for Omar, who resolved the ticket.
"""

import pytest

from chat.models import Conversation
from chat.services.assignment import conversation_transfer
from chat.services.conversations import conversation_resolve
from chat.services.messages import operator_message_send, visitor_message_send
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
    assert {key: (row["requested"], row["answered"]) for key, row in outcomes.items()} == {omar.user_id: (1, 1)}
