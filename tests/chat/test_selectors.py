"""Reads of the chat app that the inbox's welcome is built from."""

import pytest

from chat.models import ChannelKind, Conversation, Message
from chat.selectors import operator_welcome
from tests.factories import ConversationFactory, InboxFactory, MessageFactory, OperatorFactory


@pytest.mark.django_db
def test_the_welcome_counts_each_active_chat_once_for_an_operator_in_several_inboxes():
    web, api = InboxFactory(kind=ChannelKind.WEB_WIDGET), InboxFactory(kind=ChannelKind.API)
    operator = OperatorFactory(inboxes=[web, api])
    ConversationFactory(inbox=web, assignee=operator.user, status=Conversation.Status.ACTIVE)
    welcome = operator_welcome(operator)
    assert [o["active_chats"] for o in welcome["operators"] if o["id"] == operator.user_id] == [1]


@pytest.mark.django_db
def test_the_welcome_reads_the_last_public_message_of_all_her_chats_at_once(django_assert_max_num_queries):
    """The welcome of a reconnecting operator read each chat's last message with a query of its own."""
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])

    def chats(n):
        for i in range(n):
            conversation = ConversationFactory(inbox=inbox, assignee=operator.user, status=Conversation.Status.ACTIVE)
            MessageFactory(conversation=conversation, body=f"question {i}")
            MessageFactory(conversation=conversation, body=f"note {i}", private=True, sender=Message.Sender.OPERATOR)
        ConversationFactory(inbox=inbox, status=Conversation.Status.QUEUED)  # waiting, nothing written yet

    chats(2)
    with django_assert_max_num_queries(30) as few:
        operator_welcome(operator)
    chats(8)
    with django_assert_max_num_queries(len(few)):
        welcome = operator_welcome(operator)
    assert sorted(c["last_message"]["body"] for c in welcome["conversations"]) == sorted(
        [f"question {i}" for i in range(2)] + [f"question {i}" for i in range(8)]
    )
    assert [c["last_message"] for c in welcome["queue"]] == [None, None]
