"""The per-conversation counters the reports read (canned reply share) follow every operator message."""

import pytest

from chat.models import Conversation
from chat.services.messages import operator_message_send
from tests.factories import CannedReplyFactory, ConversationFactory, InboxFactory, OperatorFactory


@pytest.mark.django_db
def test_public_replies_and_canned_ones_are_counted_private_notes_are_not():
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    conversation = ConversationFactory(inbox=inbox, status="active", assignee=operator.user)
    canned = CannedReplyFactory(team=inbox.team)

    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id="a", body="Hello")
    operator_message_send(
        profile=operator, conversation_id=conversation.pk, client_id="b", body=canned.body, canned_reply_id=canned.pk
    )
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id="c", body="note", private=True)
    # A resend of a stored client_id changes nothing.
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id="a", body="Hello")

    conversation = Conversation.objects.get(pk=conversation.pk)
    assert (conversation.operator_message_count, conversation.canned_message_count) == (2, 1)
