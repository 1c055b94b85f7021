"""Events that arrive after their day closed land in the day metrics.md places them on, once the refresh has run."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from rollups import selectors as rollups
from rollups.services import refresh
from surveys.models import SurveyInvitation
from tests.factories import ConversationFactory, SurveyInvitationFactory, SurveyResponseFactory, TicketFactory
from tickets.models import Ticket
from tickets.selectors.filters import MetricFilter

pytestmark = pytest.mark.django_db
MONDAY, WEDNESDAY = date(2026, 6, 1), date(2026, 6, 3)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


WEEK = MetricFilter(start=at(MONDAY, 0), end=at(MONDAY, 0) + timedelta(days=7))


def test_a_first_response_two_days_later_counts_on_the_day_the_ticket_was_created():
    with time_machine.travel(at(MONDAY, 12), tick=False):
        ticket = TicketFactory(created_at=at(MONDAY, 10))
        refresh()
        assert rollups.ticket_created_metrics(filters=WEEK, by="day")[MONDAY]["frt"]["count"] == 0
    with time_machine.travel(at(WEDNESDAY, 12), tick=False):
        Ticket.objects.filter(pk=ticket.pk).update(first_response_at=at(WEDNESDAY, 10), first_response_seconds=172800.0)
        per_day = rollups.ticket_created_metrics(filters=WEEK, by="day")
    assert per_day[MONDAY]["frt"]["count"] == 1
    assert per_day[MONDAY]["frt"]["wall"]["mean"] == 172800.0
    assert WEDNESDAY not in per_day


def test_a_reopen_after_the_day_closed_takes_the_resolution_out_of_its_day():
    with time_machine.travel(at(MONDAY, 12), tick=False):
        ticket = TicketFactory(created_at=at(MONDAY, 9), status=Ticket.Status.RESOLVED, resolved_at=at(MONDAY, 11))
        assert rollups.ticket_resolved_metrics(filters=WEEK, by="day")[MONDAY]["fcr"]["resolved"] == 1
    with time_machine.travel(at(WEDNESDAY, 12), tick=False):
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN, reopen_count=1)
        assert rollups.ticket_resolved_metrics(filters=WEEK, by="day") == {}


def test_a_survey_answer_after_the_sending_day_counts_its_invitation_answered_on_the_sending_day():
    with time_machine.travel(at(MONDAY, 12), tick=False):
        conversation = ConversationFactory(requested_at=at(MONDAY, 9))
        invitation = SurveyInvitationFactory(
            conversation=conversation, sent_at=at(MONDAY, 10), status=SurveyInvitation.Status.SENT
        )
        assert rollups.survey_metrics(filters=WEEK, by="day")[MONDAY]["response_rate"]["answered"] == 0
    with time_machine.travel(at(WEDNESDAY, 12), tick=False):
        SurveyResponseFactory(invitation=invitation, csat=5, csat_scale="1-5", created_at=at(WEDNESDAY, 11))
        SurveyInvitation.objects.filter(pk=invitation.pk).update(status=SurveyInvitation.Status.ANSWERED)
        per_day = rollups.survey_metrics(filters=WEEK, by="day")
    assert per_day[MONDAY]["response_rate"] == {"sent": 1, "answered": 1, "rate": 1.0}
    assert per_day[MONDAY]["csat"]["responses"] == 0
    assert per_day[WEDNESDAY]["csat"]["responses"] == 1
