"""A duplicated or retried task, or two workers at once, never make a second invitation or send twice."""

import threading

import pytest
from django.core import mail
from django.db import connection

from surveys.models import SurveyInvitation
from surveys.services import survey_email_send, survey_invitation_create, survey_invitations_sweep
from surveys.tasks import survey_create_invitation


def test_a_task_delivered_twice_makes_one_invitation_and_one_widget_invite(
    make_ended, django_capture_on_commit_callbacks
):
    conversation = make_ended(connected=True)
    with django_capture_on_commit_callbacks(execute=False) as sent_frames:
        first = survey_create_invitation.delay(conversation.pk).get()
        second = survey_create_invitation.delay(conversation.pk).get()

    assert first == second
    assert SurveyInvitation.objects.count() == 1
    assert len(sent_frames) == 1  # the survey.invite frame, once


def test_a_duplicate_sweep_sends_the_email_once(make_ended, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    invitation = survey_invitation_create(conversation_id=make_ended().pk)

    assert survey_email_send(invitation_id=invitation.pk) is True
    assert survey_email_send(invitation_id=invitation.pk) is False
    assert survey_invitations_sweep()["emailed"] == 0
    assert len(mail.outbox) == 1


def run_at_once(*works):
    """Runs each callable in its own thread, released together, each on its own database connection."""
    barrier = threading.Barrier(len(works))
    results, errors = [], []

    def run(work):
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_at_once_make_one_invitation(make_ended):
    conversation = make_ended(connected=True)

    def create():
        return survey_invitation_create(conversation_id=conversation.pk).pk

    results = run_at_once(create, create)

    assert SurveyInvitation.objects.count() == 1
    assert results == [SurveyInvitation.objects.get().pk] * 2


@pytest.mark.django_db(transaction=True)
def test_two_conversations_of_one_contact_ending_at_once_respect_the_cooldown(make_ended):
    first, second = make_ended(), make_ended()

    results = run_at_once(
        lambda: survey_invitation_create(conversation_id=first.pk),
        lambda: survey_invitation_create(conversation_id=second.pk),
    )

    assert SurveyInvitation.objects.count() == 1
    assert sum(result is not None for result in results) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_the_email_once(make_ended, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    survey_invitation_create(conversation_id=make_ended().pk)

    def sweep():
        return survey_invitations_sweep()["emailed"]

    results = run_at_once(sweep, sweep, sweep)

    assert sorted(results) == [0, 0, 1]
    assert len(mail.outbox) == 1
