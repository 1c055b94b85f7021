"""The wait before abandonment runs from the request to the moment the visitor left (metrics.md), not to the moment
the sweep noticed they were gone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chat.models import Conversation
from chat.services.conversations import conversation_abandon_if_gone
from rollups import selectors as rollups
from tests.factories import ConversationFactory, InboxFactory
from tickets.selectors.filters import MetricFilter

REQUESTED = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
LEFT = REQUESTED + timedelta(seconds=45)


@pytest.mark.django_db
def test_a_chat_abandoned_by_the_sweep_waited_until_the_visitor_left(settings):
    inbox = InboxFactory()
    conversation = ConversationFactory(
        inbox=inbox,
        requested_at=REQUESTED,
        status=Conversation.Status.QUEUED,
        visitor_connection_count=0,
        visitor_last_seen_at=LEFT,
    )
    noticed = LEFT + timedelta(seconds=settings.ABANDONMENT_GRACE_SECONDS + 40)
    with time_machine.travel(noticed, tick=False):
        assert conversation_abandon_if_gone(conversation_id=conversation.pk, now=noticed)
        day = MetricFilter(start=datetime(2026, 5, 4, tzinfo=UTC), end=datetime(2026, 5, 5, tzinfo=UTC))
        parts = rollups.conversation_metrics(filters=day)[None]
    assert parts["outcomes"]["abandoned"] == 1
    assert parts["outcomes"]["mean_wait_before_abandonment"] == pytest.approx(45.0)
    assert parts["wait"]["wall"]["mean"] == pytest.approx(45.0)
    conversation.refresh_from_db()
    assert conversation.ended_at == noticed
    assert conversation.reporting_events.get(name="conversation_abandoned").value_seconds == pytest.approx(45.0)
