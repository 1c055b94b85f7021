"""The database itself keeps the invariants, whatever code writes to it."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Conversation
from tests.factories import ConversationFactory, MessageFactory, SurveyInvitationFactory


@pytest.mark.django_db
def test_a_client_id_is_stored_once_per_conversation():
    message = MessageFactory(client_id="abc")
    MessageFactory(conversation=ConversationFactory(), client_id="abc")  # another conversation: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(conversation=message.conversation, client_id="abc")


@pytest.mark.django_db
def test_one_invitation_per_conversation():
    invitation = SurveyInvitationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyInvitationFactory(conversation=invitation.conversation)


@pytest.mark.django_db
def test_status_values_and_end_reasons_are_checked():
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(status="lost")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Ended without a reason.
        Conversation.objects.filter(pk=conversation.pk).update(status="ended", ended_at=timezone.now())
    Conversation.objects.filter(pk=conversation.pk).update(
        status="ended", end_reason="resolved", ended_at=timezone.now()
    )


@pytest.mark.django_db
def test_a_private_note_is_written_by_an_operator_only():
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(sender="visitor", private=True)


@pytest.mark.django_db
def test_a_contact_has_one_open_conversation_at_a_time():
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversationFactory(contact=conversation.contact, inbox=conversation.inbox)
