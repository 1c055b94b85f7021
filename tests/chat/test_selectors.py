"""Reads of the chat app that the inbox's welcome is built from."""

import pytest

from chat.models import ChannelKind, Conversation
from chat.selectors import operator_welcome
from tests.factories import ConversationFactory, InboxFactory, OperatorFactory


@pytest.mark.django_db
def test_the_welcome_counts_each_active_chat_once_for_an_operator_in_several_inboxes():
    web, api = InboxFactory(kind=ChannelKind.WEB_WIDGET), InboxFactory(kind=ChannelKind.API)
    operator = OperatorFactory(inboxes=[web, api])
    ConversationFactory(inbox=web, assignee=operator.user, status=Conversation.Status.ACTIVE)
    welcome = operator_welcome(operator)
    assert [o["active_chats"] for o in welcome["operators"] if o["id"] == operator.user_id] == [1]
