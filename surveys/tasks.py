from celery import shared_task


@shared_task(name="surveys.create_invitation")
def survey_create_invitation(conversation_id: int) -> None:
    """Creates the conversation's one survey invitation (surveys issue)."""
