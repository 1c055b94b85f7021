"""Celery tasks: thin, take ids, call services. The beat sweep makes the database, not the broker, the truth."""

from celery import shared_task
from django.db import OperationalError

from surveys import services


@shared_task(
    name="surveys.create_invitation",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def survey_create_invitation(conversation_id: int) -> int | None:
    """Creates the conversation's one survey invitation (idempotent: a duplicate delivery finds it made)."""
    invitation = services.survey_invitation_create(conversation_id=conversation_id)
    return invitation.pk if invitation is not None else None


@shared_task(name="surveys.sweep_invitations")
def sweep_invitations() -> dict[str, int]:
    """Beat job: expires old invitations and e-mails those due and unanswered, each exactly once."""
    return services.survey_invitations_sweep()
