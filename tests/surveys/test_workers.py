"""Real Celery processes on Redis: the e-mail goes after the (shortened) delay, found by a real beat, once;
two workers given the same task twice make one invitation and send one e-mail."""

from __future__ import annotations

import re
import sys
import time
from datetime import timedelta
from email import message_from_string
from email.message import Message
from pathlib import Path

import pytest
from django.db import transaction

from surveys.links import survey_link_unsign
from surveys.models import SurveyInvitation
from surveys.services import survey_conversation_ended
from surveys.tasks import survey_create_invitation, sweep_invitations
from tests.processes import ManagedProcess, child_env, require_services

pytestmark = [pytest.mark.slow, pytest.mark.services]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def mails(directory: Path) -> list[Message]:
    """The messages the file-based e-mail backend wrote (one file per connection, messages split by dashes)."""
    found = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                found.append(message_from_string(chunk.strip()))
    return found


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def succeeded(workers, task_name: str) -> int:
    pattern = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] succeeded in ")
    return sum(len(pattern.findall(worker.output())) for worker in workers)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


def test_a_real_worker_and_beat_email_the_survey_after_the_delay(
    make_ended, celery_worker_factory, mail_dir, tmp_path, log_dir
):
    require_services()
    delay = 4
    celery_worker_factory(
        SURVEY_EMAIL_DELAY_SECONDS=str(delay),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        SITE_URL="https://desk.example.com",
    )
    beat = ManagedProcess(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "supportdesk",
            "beat",
            "-l",
            "INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--pidfile=",
        ],
        child_env(SWEEP_INTERVAL_SECONDS="0.5"),
        log_dir,
    )
    beat.start()
    try:
        wait_for(lambda: "surveys.sweep_invitations" in beat.output(), 30, "beat to send its first sweep")
        conversation = make_ended()
        # What chat services do when the operator resolves: the hook runs in the ending transaction.
        with transaction.atomic():
            survey_conversation_ended(conversation=conversation)

        invitation = wait_for(
            lambda: SurveyInvitation.objects.filter(conversation=conversation).first(), 20, "the invitation"
        )
        assert invitation.email_due_at == invitation.created_at + timedelta(seconds=delay)
        # Sweeps run every half second, but nothing is sent before the delay.
        time.sleep(delay - 1.5)
        invitation.refresh_from_db()
        assert invitation.emailed_at is None
        assert mails(mail_dir) == []

        sent = wait_for(lambda: mails(mail_dir), 30, "the survey e-mail")
        # The worker records the sending right after the mail is written: the file can be seen a moment before.
        invitation = wait_for(
            lambda: SurveyInvitation.objects.filter(pk=invitation.pk, emailed_at__isnull=False).first(),
            10,
            "the sending recorded",
        )
        assert (invitation.emailed_at - invitation.created_at).total_seconds() >= delay
        time.sleep(1.5)  # a few more sweeps: still one e-mail
        assert len(mails(mail_dir)) == 1
    except AssertionError:
        print(f"----- beat log -----\n{beat.output()[-4000:]}")
        raise
    finally:
        beat.stop()

    message = sent[0]
    assert message["To"] == "vera@example.org"
    assert message["Subject"] == "How did we do? A quick question from Acme Shop"
    link = next(
        line for line in text_part(message).splitlines() if line.startswith("https://desk.example.com/surveys/")
    )
    assert survey_link_unsign(link.split("/")[4]) == invitation.token
    assert any(part.get_content_type() == "text/html" for part in message.walk())


def test_two_workers_given_the_same_tasks_twice_make_one_invitation_and_one_email(
    make_ended, celery_worker_factory, mail_dir
):
    require_services()
    env = {
        "SURVEY_EMAIL_DELAY_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    workers = [celery_worker_factory(name="one", **env), celery_worker_factory(name="two", **env)]
    conversation = make_ended()

    for _ in range(2):
        survey_create_invitation.delay(conversation.pk)
    wait_for(lambda: succeeded(workers, "surveys.create_invitation") == 2, 30, "both deliveries of the task")
    for _ in range(4):
        sweep_invitations.delay()
    wait_for(lambda: succeeded(workers, "surveys.sweep_invitations") == 4, 30, "four sweeps")

    assert SurveyInvitation.objects.filter(conversation=conversation).count() == 1
    assert len(mails(mail_dir)) == 1
