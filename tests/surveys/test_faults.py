"""Faults in process: a broker that is down when a conversation ends loses no survey, and the sweep that redoes
the work does it once."""

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from chat.models import Conversation
from chat.services.conversations import conversation_resolve
from surveys.models import SurveyInvitation
from surveys.services import survey_invitations_sweep
from surveys.tasks import survey_create_invitation
from tests.factories import ConversationFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    """What kombu raises from delay() when it cannot reach the broker after its publish retries."""

    def unreachable(*args, **kwargs):
        raise BrokerUnreachable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(survey_create_invitation, "delay", unreachable)
    monkeypatch.setattr(survey_create_invitation, "apply_async", unreachable)


def answered_conversation(inbox, operator, contact):
    now = timezone.now()
    return ConversationFactory(
        inbox=inbox,
        contact=contact,
        ticket=TicketFactory(inbox=inbox, contact=contact),
        status=Conversation.Status.ACTIVE,
        assignee=operator.user,
        assigned_at=now,
        team=inbox.team,
        first_response_at=now,
    )


def test_a_conversation_resolved_while_the_broker_is_down_is_surveyed_once_by_the_sweep(
    inbox, operator, contact, broker_down
):
    conversation = answered_conversation(inbox, operator, contact)

    resolved = conversation_resolve(profile=operator, conversation_id=conversation.pk)

    assert resolved.status == Conversation.Status.ENDED
    assert SurveyInvitation.objects.count() == 0  # the fast path never reached a worker

    survey_invitations_sweep()
    survey_invitations_sweep()

    invitation = SurveyInvitation.objects.get()
    assert invitation.conversation_id == conversation.pk
    assert invitation.operator == operator.user


def test_the_sweep_keeps_the_rules_for_what_the_broker_lost(inbox, operator, contact, broker_down):
    """Two conversations of one contact ended during the outage: the cooldown still allows one invitation."""
    first = answered_conversation(inbox, operator, contact)
    conversation_resolve(profile=operator, conversation_id=first.pk)
    second = answered_conversation(inbox, operator, contact)
    conversation_resolve(profile=operator, conversation_id=second.pk)

    survey_invitations_sweep()
    survey_invitations_sweep()

    assert list(SurveyInvitation.objects.values_list("conversation_id", flat=True)) == [first.pk]
