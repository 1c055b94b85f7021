"""Occupancy, concurrency and cost per conversation (metrics.md, operators' time and cost), worked out by hand.

Monday 2 November 2026 (UTC). Sara is online 9:00–11:00, Omar 9:00–10:00.
  chat A: assigned to Sara 9:00, she transfers it to Omar 9:20, Omar ends it 9:40.
  chat B: Sara holds it 9:10–10:30 (assigned, no transfer), answered.
  chat C: Sara holds it 10:45–11:30: only its first 15 min are while she is online.
Sara held ≥ 1 chat 9:00–10:30 and 10:45–11:00 of her 120 min online: occupancy 105 / 120 = 87.5 %. Chats × time
while online: A 20 + B 80 + C 15 = 115 min: concurrency 115 / 120 = 0.96. Omar held A 9:20–9:40 of his 60 min:
occupancy 33.3 %, concurrency 0.33.
Sara costs 30 an hour (her own), Omar 20 (his team's): the desk's cost 2 h × 30 + 1 h × 20 = 80 for 3 chats answered.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from chat.models import Conversation, PresenceInterval
from supportdesk.reports import figures
from supportdesk.reports.query import ReportForm
from tests.factories import ConversationFactory, InboxFactory, OperatorFactory, ReportingEventFactory, TeamFactory
from tickets.models import ReportingEvent

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=UTC)


def _event(conversation, name, when, operator):
    ReportingEventFactory(
        name=name,
        inbox=conversation.inbox,
        channel_kind=conversation.channel_kind,
        conversation=conversation,
        operator=operator,
        event_start=when,
        event_end=when,
        value_seconds=0,
        value_business_seconds=0,
    )


def _chat(inbox, assignee, assigned, ended, first_response):
    return ConversationFactory(
        inbox=inbox,
        assignee=assignee,
        requested_at=assigned,
        assigned_at=assigned,
        first_response_at=first_response,
        ended_at=ended,
        status=Conversation.Status.ENDED,
        end_reason=Conversation.EndReason.RESOLVED,
    )


def test_occupancy_concurrency_and_cost_per_conversation():
    team = TeamFactory(name="Back", hourly_cost=Decimal("20"))
    inbox = InboxFactory(team=team)
    sara = OperatorFactory(display_name="Sara", inboxes=[inbox], hourly_cost=Decimal("30"))
    omar = OperatorFactory(display_name="Omar", inboxes=[inbox], teams=[team])
    for profile, until in ((sara, at(11)), (omar, at(10))):
        PresenceInterval.objects.create(operator=profile.user, status="online", started_at=at(9), ended_at=until)
    a = _chat(inbox, omar.user, at(9), at(9, 40), at(9, 1))
    _event(a, ReportingEvent.Name.CONVERSATION_ASSIGNED, at(9), sara.user)
    _event(a, ReportingEvent.Name.CONVERSATION_TRANSFERRED, at(9, 20), sara.user)
    _chat(inbox, sara.user, at(9, 10), at(10, 30), at(9, 11))
    _chat(inbox, sara.user, at(10, 45), at(11, 30), at(10, 46))

    form = ReportForm({"period": "custom", "start": "2026-11-02", "end": "2026-11-02"})
    assert form.is_valid()
    with time_machine.travel(at(18), tick=False), figures.report_session():
        rows = {row["label"]: row for row in figures.breakdown(form.report_query(), by="operator")}
        summary = figures.summary(form.report_query())
    assert rows["Sara"]["online_seconds"] == 7200
    assert rows["Sara"]["occupancy"] == 87.5
    assert rows["Sara"]["rates"]["occupancy"] == {"numerator": 105 * 60, "denominator": 7200}
    assert rows["Sara"]["concurrency"] == round(115 / 120, 2)
    assert rows["Omar"]["occupancy"] == pytest.approx(33.33, abs=0.01)
    assert rows["Omar"]["concurrency"] == round(20 / 60, 2)
    # Sara answered B and C (A ended with Omar): 60 ÷ 2; Omar 20 ÷ 1.
    assert rows["Sara"]["cost_per_conversation"] == 30.0
    assert rows["Omar"]["cost_per_conversation"] == 20.0
    assert summary["cost_per_conversation"] == round(80 / 3, 2)


def test_the_cost_is_hidden_when_no_hourly_cost_is_set():
    inbox = InboxFactory()
    sara = OperatorFactory(display_name="Sara", inboxes=[inbox])
    PresenceInterval.objects.create(operator=sara.user, status="online", started_at=at(9), ended_at=at(10))
    _chat(inbox, sara.user, at(9), at(9, 30), at(9, 1))
    form = ReportForm({"period": "custom", "start": "2026-11-02", "end": "2026-11-02"})
    assert form.is_valid()
    with time_machine.travel(at(18), tick=False):
        summary = figures.summary(form.report_query())
    assert summary["online_seconds"] == 3600 and summary["occupancy"] == 50.0
    assert summary["cost_per_conversation"] is None
