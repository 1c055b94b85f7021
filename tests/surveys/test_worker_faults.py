"""Real Celery workers killed with SIGKILL in the middle of survey work: the sweep redoes what was lost, once."""

from __future__ import annotations

import pytest
from django.db import transaction

from chat.models import Contact
from surveys.models import SurveyInvitation
from surveys.services import survey_conversation_ended
from surveys.tasks import sweep_invitations
from tests.processes import require_services
from tests.surveys.test_workers import succeeded, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.services]


def test_a_worker_killed_while_making_the_invitation_loses_no_survey(make_ended, celery_worker_factory):
    require_services()
    conversation = make_ended()
    # The operator resolves: the hook runs in the ending transaction, its task waits on the broker.
    with transaction.atomic():
        survey_conversation_ended(conversation=conversation)

    # The contact row is locked here, so the worker's task blocks on it, halfway through, until it is killed.
    with transaction.atomic():
        Contact.objects.select_for_update().get(pk=conversation.contact_id)
        doomed = celery_worker_factory(name="doomed")
        doomed.wait_for_output("Task surveys.create_invitation[", timeout=30)
        doomed.kill()
    assert SurveyInvitation.objects.count() == 0

    # acks_late keeps the task on the broker, but Redis gives it back only after the visibility timeout (1 h).
    worker = celery_worker_factory(name="after")
    for _ in range(2):
        sweep_invitations.delay()
    wait_for(lambda: succeeded([worker], "surveys.sweep_invitations") == 2, 30, "two sweeps")

    invitation = SurveyInvitation.objects.get()
    assert invitation.conversation_id == conversation.pk
