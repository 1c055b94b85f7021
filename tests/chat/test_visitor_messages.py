"""A visitor's message into their open conversation: stored once, logged for sync, pushed after its commit.

On PostgreSQL it is one statement (chat.services.messages._visitor_message_in_one_statement); elsewhere, and for a
first message or a resend, a transaction of three. Both must leave the same rows and push the same frames.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import realtime
from chat.models import Conversation, InboxEvent, Message
from chat.selectors import message_payload
from chat.services.messages import visitor_message_send
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def send(contact, client_id, body):
    pushes, token = realtime.collect_pushes()
    try:
        message, created = visitor_message_send(contact=contact, client_id=client_id, body=body)
    finally:
        realtime.stop_collecting(token)
    return message, created, pushes


@pytest.fixture
def chatting(inbox):
    contact = ContactFactory(inbox=inbox, name="Maryam")
    first, created, _ = send(contact, "c-1", "Hello?")
    assert created
    return contact, Conversation.objects.get(pk=first.conversation_id)


def test_a_message_into_an_open_conversation_is_stored_logged_and_pushed_once(chatting):
    contact, conversation = chatting
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now() - dt.timedelta(hours=1))
    message, created, pushes = send(contact, "c-2", "My order has not come")

    assert created
    stored = Message.objects.get(pk=message.pk)
    assert (stored.conversation_id, stored.body, stored.client_id) == (conversation.pk, "My order has not come", "c-2")
    assert (stored.sender, stored.author_name, stored.private) == ("visitor", "Maryam", False)
    assert message_payload(message) == message_payload(stored)
    conversation.refresh_from_db()
    assert conversation.last_message_at == stored.created_at == conversation.visitor_last_seen_at

    event = InboxEvent.objects.filter(conversation=conversation).latest("pk")
    expected = {"type": "message.new", "message": message_payload(stored)}
    assert (event.inbox_id, event.type, event.payload) == (conversation.inbox_id, "message.new", expected)
    assert pushes == [
        (
            realtime.inbox_operators_group(conversation.inbox_id),
            {**expected, "event_id": event.pk},
            conversation.inbox_id,
        ),
        (realtime.conversation_visitor_group(conversation.pk), expected, None),
    ]


def test_a_resend_is_answered_with_the_stored_message_and_changes_nothing(chatting):
    contact, conversation = chatting
    message, _, _ = send(contact, "c-2", "Once")
    before = Conversation.objects.get(pk=conversation.pk).last_message_at
    events = InboxEvent.objects.count()

    again, created, pushes = send(contact, "c-2", "Once")

    assert (again.pk, created, pushes) == (message.pk, False, [])
    assert Message.objects.filter(client_id="c-2").count() == 1
    assert InboxEvent.objects.count() == events
    assert Conversation.objects.get(pk=conversation.pk).last_message_at == before


def test_after_the_conversation_ended_the_next_message_requests_a_new_one(chatting):
    contact, conversation = chatting
    Conversation.objects.filter(pk=conversation.pk).update(
        status="ended", end_reason="resolved", ended_at=timezone.now()
    )
    message, created, _ = send(contact, "c-3", "One more thing")
    assert created
    assert message.conversation_id != conversation.pk
    assert Conversation.objects.get(pk=message.conversation_id).status != "ended"
    assert not Message.objects.filter(conversation=conversation, client_id="c-3").exists()


def test_on_postgresql_a_message_into_an_open_conversation_is_one_statement(chatting):
    if connection.vendor != "postgresql":
        pytest.skip("the single statement is PostgreSQL's; SQLite has no writable common table expressions")
    contact, _conversation = chatting
    with CaptureQueriesContext(connection) as queries:
        _message, created, _ = send(contact, "c-2", "Quick")
    assert created
    assert len(queries) == 1, [q["sql"] for q in queries]
