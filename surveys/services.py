"""Survey writes."""

from __future__ import annotations

from django.db import transaction


def survey_conversation_ended(*, conversation) -> None:
    """Called by chat services in the transaction that ends a conversation: the invitation is made on commit."""
    from surveys.tasks import survey_create_invitation

    conversation_id = conversation.pk
    transaction.on_commit(lambda: survey_create_invitation.delay(conversation_id))
