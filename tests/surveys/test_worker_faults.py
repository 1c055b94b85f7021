"""Real Celery workers killed with SIGKILL in the middle of survey work: the sweep redoes what was lost, once."""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.message import Message

import pytest
from django.db import transaction

from chat.models import Contact
from surveys.models import SurveyInvitation
from surveys.services import survey_conversation_ended, survey_invitation_create
from surveys.tasks import sweep_invitations
from tests.factories import ContactFactory
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


class Relay:
    """A local SMTP relay that keeps what it accepts (a message is accepted by the 250 after its DATA). Told to,
    it stops answering on the n-th message — before accepting it ("data") or after, on QUIT ("quit") — as a
    hung relay would, so that the test can kill the sending worker at that point."""

    def __init__(self, hold: str, at: int):
        self.hold, self.at = hold, at
        self.accepted: list[Message] = []
        self.held, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        relay = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self):
                self.reply("220 relay.test ESMTP")
                accepted_here = False
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        with relay.lock:
                            number = len(relay.accepted) + 1
                            holding = number == relay.at and not relay.held.is_set()
                            if not (holding and relay.hold == "data"):
                                relay.accepted.append(message_from_bytes(data))
                                accepted_here = True
                        if holding and relay.hold == "data":
                            relay.held.set()
                            relay.release.wait(30)
                            return
                        self.reply("250 Queued")
                        self.holding_quit = holding
                    elif verb == b"QUIT":
                        if accepted_here and getattr(self, "holding_quit", False):
                            relay.held.set()
                            relay.release.wait(30)
                            return
                        self.reply("221 Bye")
                        return
                    elif verb in (b"EHLO", b"HELO"):
                        self.reply("250 relay.test")
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("hold", "copies_of_the_held_one"),
    [
        ("data", 1),  # killed before the relay accepted it: sent again after the lease, once
        ("quit", 2),  # killed after the relay accepted it: sent again, a duplicate with the same Message-ID
    ],
)
def test_a_worker_killed_during_the_email_sweep_leaves_no_invitation_marked_sent_without_an_email(
    inbox, make_ended, celery_worker_factory, settings, hold, copies_of_the_held_one
):
    require_services()
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    count, lease = 40, 3
    invitations = [
        survey_invitation_create(
            conversation_id=make_ended(who=ContactFactory(inbox=inbox, email=f"c{i}@example.org")).pk
        )
        for i in range(count)
    ]
    relay = Relay(hold=hold, at=15)
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(relay.port),
        "SURVEY_EMAIL_LEASE_SECONDS": str(lease),
    }
    try:
        doomed = celery_worker_factory(name="doomed", **env)
        sweep_invitations.delay()
        assert relay.held.wait(60), "the sweep never reached the held message"
        doomed.kill()
        relay.release.set()
        marked_unsent = sent_without_email(invitations, relay)

        time.sleep(lease + 0.5)
        worker = celery_worker_factory(name="after", **env)
        for _ in range(2):
            sweep_invitations.delay()
        wait_for(lambda: succeeded([worker], "surveys.sweep_invitations") == 2, 60, "two sweeps")
    finally:
        relay.close()

    copies = Counter(message["To"] for message in relay.accepted)
    duplicated = sorted(address for address, n in copies.items() if n > 1)
    print(f"hold={hold}: marked sent without an e-mail after the kill: {marked_unsent}; duplicated: {duplicated}")
    assert sent_without_email(invitations, relay) == []
    assert sorted(copies.values()) == [1] * (count - 1) + [copies_of_the_held_one]
    for address in copies:
        ids = {message["Message-ID"] for message in relay.accepted if message["To"] == address}
        assert len(ids) == 1 and None not in ids, f"copies to {address} are not recognisable as one e-mail: {ids}"


def sent_without_email(invitations, relay: Relay) -> list[str]:
    received = {message["To"] for message in relay.accepted}
    marked = SurveyInvitation.objects.filter(pk__in=[i.pk for i in invitations], emailed_at__isnull=False)
    return sorted(i.contact.email for i in marked.select_related("contact") if i.contact.email not in received)
