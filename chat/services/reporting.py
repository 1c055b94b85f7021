"""A conversation's reporting event, written beside its state change: its inbox, channel, ticket and team are the
conversation's own."""

from __future__ import annotations

from datetime import datetime

from chat.models import Conversation
from tickets.models import ReportingEvent
from tickets.services import reporting_event_record


def conversation_event_record(
    *, conversation: Conversation, name: str, start: datetime, end: datetime, operator=None
) -> ReportingEvent:
    return reporting_event_record(
        name=name,
        inbox=conversation.inbox,
        channel_kind=conversation.channel_kind,
        start=start,
        end=end,
        ticket=conversation.ticket,
        conversation=conversation,
        operator=operator,
        team=conversation.team,
    )
