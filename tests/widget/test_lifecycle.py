"""Waiting in the queue, being answered, ending the chat, and starting a new one."""

import pytest
from django.utils import timezone

from chat.models import Conversation
from tests.factories import ConversationFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_queue_then_operator_then_visitor_ends_and_starts_a_new_conversation(
    asgi_server, host_site, widget_inbox, operator, operator_socket, visitor
):
    # Reza is online but already at his one-chat limit: the visitor waits in the queue.
    operator.max_chats = 1
    operator.save()
    ConversationFactory(inbox=widget_inbox, status="active", assignee=operator.user, assigned_at=timezone.now())
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hello, anyone?")

    # Waiting: the visitor sees their place in the queue and the expected wait.
    page.q(".sd-queue", has_text="You're number 1 in the queue.").wait_for()
    assert page.q(".sd-subtitle").text_content() == "Waiting for an operator…"
    queue_text = page.q(".sd-queue").text_content()
    assert "Expected wait: about" in queue_text or "shortly" in queue_text

    conversation = agent.take_conversation()
    assert conversation["contact"]["name"] == "Sara"
    page.q(".sd-subtitle", has_text="You're chatting with Reza").wait_for()
    assert page.q(".sd-queue").is_hidden()
    agent.send(
        {"type": "message.send", "conversation_id": conversation["id"], "client_id": "op-1", "body": "Hi, I'm here."}
    )
    page.bubbles("operator").filter(has_text="Hi, I'm here.").wait_for()

    page.get_by_role("button", name="End chat").click()
    page.q(".sd-ended", has_text="This conversation has ended.").wait_for()
    assert page.q(".sd-compose-input").is_hidden()
    assert page.get_by_role("button", name="End chat").is_hidden()
    ended = Conversation.objects.get(pk=conversation["id"])
    assert (ended.status, ended.end_reason) == ("ended", "closed_by_visitor")

    page.get_by_role("button", name="Start a new conversation").click()
    assert page.bubbles().count() == 0
    page.write("One more question")
    page.q(".sd-queue", has_text="number 1").wait_for()
    assert Conversation.objects.filter(contact=ended.contact).count() == 2
    assert Conversation.objects.filter(contact=ended.contact).exclude(pk=ended.pk).get().messages.get().body == (
        "One more question"
    )
