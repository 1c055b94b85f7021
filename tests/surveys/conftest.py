"""Builders for survey tests: conversations that ended in a given way, and invitations made through the task."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chat.models import Conversation
from tests.factories import ContactFactory, ConversationFactory, InboxFactory, OperatorFactory, TicketFactory


@pytest.fixture
def inbox(db):
    return InboxFactory(name="Acme Shop")


@pytest.fixture
def operator(inbox):
    return OperatorFactory(inboxes=[inbox], display_name="Olivia")


@pytest.fixture
def contact(inbox):
    return ContactFactory(inbox=inbox, name="Vera", email="vera@example.org")


@pytest.fixture
def make_ended(inbox, operator, contact):
    """A conversation that ended now; by default answered by `operator` and resolved, visitor gone."""

    def make(*, end_reason="resolved", answered=True, connected=False, who=None, on_inbox=None):
        on_inbox = on_inbox or inbox
        who = who or contact
        now = timezone.now()
        ticket = TicketFactory(inbox=on_inbox, contact=who)
        return ConversationFactory(
            inbox=on_inbox,
            contact=who,
            ticket=ticket,
            status=Conversation.Status.ENDED,
            end_reason=end_reason,
            ended_at=now,
            assignee=operator.user,
            assigned_at=now,
            team=on_inbox.team,
            first_response_at=now if answered else None,
            visitor_connection_count=1 if connected else 0,
        )

    return make


@pytest.fixture
def in_process_layer(settings):
    """An in-memory channel layer, for tests that listen on a bare channel in place of a socket: the Redis
    pub/sub layer only takes channels of consumers running in its own event loop (each async_to_sync call
    runs its own). What these tests check is the frame the service sends, not the transport."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
