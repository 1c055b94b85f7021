"""IMAP polling against a real dovecot (.ci/dovecot): mail put into the mailbox by IMAP APPEND becomes tickets and
is moved out; a crash between storing and moving stores nothing twice; a too-large mail is refused from its
headers and answered; a deferred mail stays; one account's broken server does not stop the others.

Each test has folders of its own on the test user's mailbox (sd-<random>/...), deleted after it. The server is
IMAP_TEST_HOST:IMAP_TEST_PORT (default 127.0.0.1:1143, what `.ci/dovecot` starts); without one the tests that need
it skip, and fail under REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

import mail.imap as imap_module
from chat.models import ChannelKind
from mail.addresses import bounce_address
from mail.admin import MailAccountForm
from mail.imap import folders_of, mailbox_recipients, poll_account, poll_all
from mail.models import MailAccount, MailMessage, MailThread, RefusedMail
from mail.secrets import SecretError, decrypt_password, encrypt_password, imap_password
from mail.services import outbound
from tests.factories import InboxFactory
from tests.mail.mails import customer_mail
from tests.processes import free_port, require
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

IMAP_HOST = os.environ.get("IMAP_TEST_HOST", "127.0.0.1")
IMAP_PORT = int(os.environ.get("IMAP_TEST_PORT", "1143"))
IMAP_USER = os.environ.get("IMAP_TEST_USER", "desk@example.test")
IMAP_PASSWORD = os.environ.get("IMAP_TEST_PASSWORD", "desk-password")
PASSWORD_VARIABLE = "SUPPORTDESK_TEST_IMAP_PASSWORD"
ADDRESS = "desk@example.test"


def _imap_answers() -> bool:
    try:
        with socket.create_connection((IMAP_HOST, IMAP_PORT), timeout=3) as conn:
            conn.settimeout(3)
            return conn.recv(64).startswith(b"* OK")
    except OSError:
        return False


def crlf(raw: bytes) -> bytes:
    """A mail as it travels and as an IMAP server stores it: CRLF line ends."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def a_mail(**kwargs) -> bytes:
    kwargs.setdefault("to", ADDRESS)
    kwargs.setdefault("sender", f"Ali Rezaei <ali-{uuid.uuid4().hex[:8]}@customer.test>")
    return crlf(customer_mail(**kwargs))


class Mailbox:
    """The test's own folders on the test user's mailbox, and what is in them (read without marking anything)."""

    def __init__(self):
        self.box = MailBoxUnencrypted(IMAP_HOST, IMAP_PORT, timeout=10).login(
            IMAP_USER, IMAP_PASSWORD, initial_folder=None
        )
        self.folders = folders_of(self.box)
        self.root = f"sd-{uuid.uuid4().hex[:12]}"
        self.source = self.root
        self.processed = f"{self.root}/Processed"
        self.refused = f"{self.root}/Refused"
        self.box.folder.create(self.name(self.source))

    def name(self, folder: str) -> str:
        return self.folders.server_name(folder)

    def append(self, raw: bytes, folder: str | None = None) -> None:
        self.box.append(raw, self.name(folder or self.source))

    def raws(self, folder: str | None = None) -> list[bytes]:
        name = self.name(folder or self.source)
        if not self.box.folder.exists(name):
            return []
        self.box.folder.set(name, readonly=True)
        return [self._raw(uid) for uid in self.box.uids("ALL")]

    def _raw(self, uid: str) -> bytes:
        _typ, data = self.box.client.uid("FETCH", uid, "(BODY.PEEK[])")
        return next(part[1] for part in data if isinstance(part, tuple))

    def close(self) -> None:
        self.box.folder.unset()
        names = sorted((f.name for f in self.box.folder.list("", f"{self.name(self.root)}*")), key=len, reverse=True)
        for name in names:
            try:
                self.box.folder.delete(name)
            except Exception:  # noqa: BLE001, S110 — a \Noselect parent that is already gone
                pass
        self.box.logout()


@pytest.fixture
def mailbox(db):
    require("services", _imap_answers(), f"no IMAP server answers at {IMAP_HOST}:{IMAP_PORT} (start .ci/dovecot)")
    box = Mailbox()
    yield box
    box.close()


def make_account(mailbox: Mailbox, *, address: str = ADDRESS, **fields) -> MailAccount:
    values = {
        "imap_host": IMAP_HOST,
        "imap_port": IMAP_PORT,
        "imap_security": MailAccount.ImapSecurity.NONE,
        "imap_username": IMAP_USER,
        "imap_password_env": PASSWORD_VARIABLE,
        "imap_folder": mailbox.source,
        "imap_processed_folder": mailbox.processed,
        **fields,
    }
    inbox = InboxFactory(kind=ChannelKind.EMAIL, name=f"Help desk {address}")
    return MailAccount.objects.create(inbox=inbox, address=address, **values)


@pytest.fixture
def account(mailbox, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, IMAP_PASSWORD)
    return make_account(mailbox)


def test_a_new_mail_becomes_an_email_ticket_and_is_moved_to_the_processed_folder(mailbox, account):
    raw = a_mail(subject="Where is my parcel?")
    mailbox.append(raw)

    result = poll_all()

    assert (result["accounts"], result["errors"], result["stored"]) == (1, 0, 1)
    mail = MailMessage.objects.get(direction=MailMessage.Direction.IN)
    ticket = Ticket.objects.get()
    assert ticket.channel_kind == ChannelKind.EMAIL and ticket.inbox == account.inbox
    assert ticket.subject == "Where is my parcel?" and mail.thread.ticket == ticket
    # The exact bytes the server holds, not a re-serialisation.
    assert mail.raw.read() == raw and mail.size == len(raw)
    assert mailbox.raws() == [] and mailbox.raws(mailbox.processed) == [raw]
    account.refresh_from_db()
    assert account.imap_last_polled_at is not None and account.imap_last_error == ""

    # The next poll finds nothing and stores nothing.
    again = poll_all()
    assert (again["seen"], again["stored"], again["errors"]) == (0, 0, 0)
    assert MailMessage.objects.filter(direction=MailMessage.Direction.IN).count() == 1 and Ticket.objects.count() == 1


def test_a_reply_to_the_thread_s_plus_address_joins_its_ticket(mailbox, account):
    mailbox.append(a_mail(sender="Ali <ali@customer.test>", subject="Broken lamp"))
    poll_all()
    thread = MailThread.objects.get()
    # A reply with no In-Reply-To (a new mail to the reply address), the account's plain address first.
    mailbox.append(
        a_mail(
            sender="Ali <ali@customer.test>",
            to=f"Shop <{ADDRESS}>",
            subject="Photos of the lamp",
            headers={"Cc": f"desk+{thread.token}@example.test"},
        )
    )

    result = poll_all()

    assert result["stored"] == 1
    assert Ticket.objects.count() == 1
    assert thread.mails.filter(direction=MailMessage.Direction.IN).count() == 2
    assert len(mailbox.raws(mailbox.processed)) == 2


def test_the_recipients_are_the_account_s_own_addresses_else_its_address(mailbox, account):
    headers = imap_module._headers(
        b"Delivered-To: other@example.test\r\nTo: Someone <someone@example.org>, DESK+abc@Example.test\r\n"
        b"Cc: desk@example.test\r\nX-Original-To: desk@example.test\r\n\r\n"
    )
    assert mailbox_recipients(headers, account) == ["desk+abc@example.test", "desk@example.test"]
    assert mailbox_recipients(imap_module._headers(b"To: list@example.org\r\n\r\n"), account) == [ADDRESS]


def test_a_crash_between_storing_and_moving_stores_the_mail_once_and_moves_it_later(mailbox, account, monkeypatch):
    raw = a_mail()
    mailbox.append(raw)
    move = imap_module._move
    calls = []

    def dies_before_the_first_move(box, uid, folder):
        calls.append(uid)
        if len(calls) == 1:
            raise RuntimeError("the worker died")
        return move(box, uid, folder)

    monkeypatch.setattr(imap_module, "_move", dies_before_the_first_move)

    first = poll_account(account)

    assert first["stored"] == 1 and "the worker died" in first["error"]
    assert MailMessage.objects.filter(direction=MailMessage.Direction.IN).count() == 1
    assert mailbox.raws() == [raw]  # still in the folder
    account.refresh_from_db()
    assert "the worker died" in account.imap_last_error

    second = poll_account(account)

    assert (second["duplicate"], second["stored"]) == (1, 0) and "error" not in second
    assert MailMessage.objects.filter(direction=MailMessage.Direction.IN).count() == 1 and Ticket.objects.count() == 1
    assert mailbox.raws() == [] and mailbox.raws(mailbox.processed) == [raw]
    account.refresh_from_db()
    assert account.imap_last_error == ""


def _spy_downloads(monkeypatch) -> list[str]:
    downloaded: list[str] = []
    fetch_raw = imap_module._fetch_raw

    def spy(box, uid):
        downloaded.append(uid)
        return fetch_raw(box, uid)

    monkeypatch.setattr(imap_module, "_fetch_raw", spy)
    return downloaded


def test_a_too_large_mail_is_refused_from_its_headers_and_the_sender_is_told(
    mailbox, account, settings, monkeypatch, mailoutbox
):
    settings.MAIL_MAX_BYTES = 2000
    raw = a_mail(sender="Ali <ali@customer.test>", subject="Scans of my invoice", body="x" * 5000)
    mailbox.append(raw)
    downloaded = _spy_downloads(monkeypatch)

    result = poll_all()

    assert (result["too_large"], result["stored"], result["errors"]) == (1, 0, 0)
    assert downloaded == []
    refused = RefusedMail.objects.get()
    assert refused.reason == RefusedMail.Reason.TOO_LARGE and refused.inbox == account.inbox
    assert (refused.sender, refused.recipient, refused.subject) == ("ali@customer.test", ADDRESS, "Scans of my invoice")
    assert refused.size == len(raw) and refused.message_id
    assert "told" in refused.detail
    assert mailbox.raws() == [] and mailbox.raws(mailbox.refused) == [raw]
    assert not Ticket.objects.exists() and not MailThread.objects.exists()
    # The answer is a queued mail written with the record, sent by the task after the commit (or the sweep).
    [queued] = MailMessage.objects.all()
    assert (queued.kind, queued.direction, queued.thread) == (MailMessage.Kind.REFUSAL, MailMessage.Direction.OUT, None)
    assert queued.status == MailMessage.Status.QUEUED and mailoutbox == []
    assert outbound.mail_sweep() == 1
    queued.refresh_from_db()
    assert queued.status == MailMessage.Status.SENT and queued.attempts == 1
    [answer] = mailoutbox
    assert answer.to == ["ali@customer.test"] and answer.extra_headers["From"].endswith(f"<{ADDRESS}>")
    assert answer.from_email == bounce_address(ADDRESS, queued.pk)
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert answer.extra_headers["In-Reply-To"] == f"<{refused.message_id}>"
    assert "Scans of my invoice" in answer.subject
    assert answer.content_subtype == "plain" and not getattr(answer, "alternatives", None)
    assert filesizeformat(2000) in answer.body and filesizeformat(len(raw)) in answer.body
    assert "too large" in answer.subject.lower() or "largest" in answer.body


def test_a_too_large_automatic_mail_is_refused_without_an_answer(mailbox, account, settings, mailoutbox):
    settings.MAIL_MAX_BYTES = 2000
    raw = a_mail(body="y" * 5000, headers={"Auto-Submitted": "auto-generated"})
    mailbox.append(raw)

    result = poll_all()

    assert result["too_large"] == 1
    assert RefusedMail.objects.get().reason == RefusedMail.Reason.TOO_LARGE
    assert "automatic" in RefusedMail.objects.get().detail
    assert mailoutbox == []
    assert mailbox.raws(mailbox.refused) == [raw]


def test_a_too_large_mail_read_again_after_a_crash_is_recorded_and_answered_once(
    mailbox, account, settings, monkeypatch, mailoutbox
):
    settings.MAIL_MAX_BYTES = 2000
    mailbox.append(a_mail(body="z" * 5000))
    move = imap_module._move
    calls = []

    def dies_before_the_first_move(box, uid, folder):
        calls.append(uid)
        if len(calls) == 1:
            raise RuntimeError("the worker died")
        return move(box, uid, folder)

    monkeypatch.setattr(imap_module, "_move", dies_before_the_first_move)

    assert "error" in poll_account(account)
    assert "error" not in poll_account(account)
    outbound.mail_sweep()

    assert RefusedMail.objects.count() == 1 and len(mailoutbox) == 1
    assert mailbox.raws() == [] and len(mailbox.raws(mailbox.refused)) == 1


def test_the_answer_to_a_too_large_mail_is_retried_when_the_mail_server_fails(
    mailbox, account, settings, monkeypatch, mailoutbox
):
    settings.MAIL_MAX_BYTES = 2000
    mailbox.append(a_mail(sender="ali@customer.test", body="z" * 5000))
    poll_all()
    [queued] = MailMessage.objects.filter(kind=MailMessage.Kind.REFUSAL)

    def refused(self, *args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refused)
        assert outbound.mail_deliver(mail_id=queued.pk) == "retry"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, mailoutbox) == (MailMessage.Status.QUEUED, 1, [])
    assert "the mail server is down" in queued.failure_reason

    queued.next_attempt_at = timezone.now()
    queued.save(update_fields=["next_attempt_at"])
    assert outbound.mail_sweep() == 1 and outbound.mail_sweep() == 0
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ali@customer.test"]


def test_a_deferred_mail_stays_in_the_folder_and_is_taken_later(mailbox, account, settings):
    settings.MAIL_PER_SENDER_PER_HOUR = 1
    first, second = a_mail(sender="ali@customer.test"), a_mail(sender="ali@customer.test", subject="And again")
    mailbox.append(first)
    mailbox.append(second)

    result = poll_all()

    assert (result["stored"], result["deferred"], result["errors"]) == (1, 1, 0)
    assert mailbox.raws() == [second] and mailbox.raws(mailbox.processed) == [first]
    assert RefusedMail.objects.get().reason == RefusedMail.Reason.RATE_LIMITED
    # The next poll does not read it again at once (the sender's limit is per hour) ...
    assert poll_all()["seen"] == 0
    assert mailbox.raws() == [second] and RefusedMail.objects.count() == 1

    # ... a later one does, and takes it once the sender may write again.
    settings.MAIL_PER_SENDER_PER_HOUR = 0
    with time_machine.travel(timezone.now() + timedelta(seconds=imap_module.DEFER_SECONDS + 1), tick=True):
        later = poll_all()
    assert (later["stored"], later["deferred"]) == (1, 0)
    assert mailbox.raws() == [] and len(mailbox.raws(mailbox.processed)) == 2
    assert MailMessage.objects.filter(direction=MailMessage.Direction.IN).count() == 2


def test_an_unreadable_mail_is_moved_to_the_refused_folder(mailbox, account):
    raw = crlf(b"From: nobody\nTo: desk@example.test\nSubject: who am I\n\nno sender address at all\n")
    mailbox.append(raw)

    result = poll_all()

    assert result["refused"] == 1
    assert RefusedMail.objects.get().reason == RefusedMail.Reason.MALFORMED
    assert mailbox.raws() == [] and mailbox.raws(mailbox.refused) == [raw]


def test_a_mail_that_looped_through_this_desk_is_moved_to_the_refused_folder(mailbox, account):
    raw = a_mail(headers={"X-Loop": ADDRESS})
    mailbox.append(raw)

    result = poll_all()

    assert (result["refused"], result["deferred"], result["stored"]) == (1, 0, 0)
    assert RefusedMail.objects.get().reason == RefusedMail.Reason.LOOP
    assert mailbox.raws() == [] and mailbox.raws(mailbox.refused) == [raw]


def test_a_mail_whose_receipt_raises_stays_for_the_next_poll(mailbox, account, monkeypatch):
    raw = a_mail()
    mailbox.append(raw)

    def broken(raw, **kwargs):
        raise RuntimeError("database gone")

    receive = imap_module.mail_receive
    monkeypatch.setattr(imap_module, "mail_receive", broken)
    result = poll_account(account)

    assert result["failed"] == 1 and "database gone" in result["error"]
    assert mailbox.raws() == [raw]
    monkeypatch.setattr(imap_module, "mail_receive", receive)
    assert poll_account(account)["stored"] == 1


def test_an_unreachable_server_is_recorded_and_does_not_stop_the_other_accounts(mailbox, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, IMAP_PASSWORD)
    broken = make_account(mailbox, address="broken@example.test", imap_port=free_port())  # polled first
    account = make_account(mailbox)
    mailbox.append(a_mail())

    result = poll_all()

    assert (result["accounts"], result["errors"], result["stored"]) == (2, 1, 1)
    broken.refresh_from_db()
    account.refresh_from_db()
    assert "connecting to" in broken.imap_last_error and "Connection refused" in broken.imap_last_error
    assert broken.imap_last_polled_at is not None
    assert account.imap_last_error == ""


def test_a_wrong_password_is_recorded(mailbox, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "not-the-password")
    account = make_account(mailbox)

    result = poll_account(account)

    assert "logging in" in result["error"]
    account.refresh_from_db()
    assert "logging in" in account.imap_last_error and "not-the-password" not in account.imap_last_error


def test_the_password_can_be_stored_encrypted(mailbox, monkeypatch):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    account = make_account(mailbox, imap_password_env="", imap_password_encrypted=encrypt_password(IMAP_PASSWORD))
    stored = MailAccount.objects.values_list("imap_password_encrypted", flat=True).get(pk=account.pk)
    assert IMAP_PASSWORD not in stored and imap_password(account) == IMAP_PASSWORD
    mailbox.append(a_mail())

    assert poll_account(account)["stored"] == 1


# --- Passwords, without a server ---------------------------------------------------------------------------------


def test_a_password_round_trips_and_is_not_stored_in_the_clear(settings):
    token = encrypt_password("pässwörd-1")
    assert "pässwörd" not in token and token != encrypt_password("pässwörd-1")  # a fresh IV every time
    assert decrypt_password(token) == "pässwörd-1"
    # Setting MAIL_SECRET_KEY later: passwords stored under SECRET_KEY's key still decrypt, new ones use it.
    settings.MAIL_SECRET_KEY = Fernet.generate_key().decode()
    assert decrypt_password(token) == "pässwörd-1"
    newer = encrypt_password("second")
    settings.MAIL_SECRET_KEY = ""
    with pytest.raises(SecretError):
        decrypt_password(newer)
    settings.MAIL_SECRET_KEY = "not a key"
    with pytest.raises(SecretError):
        encrypt_password("x")


def test_the_environment_variable_wins_over_the_stored_password(monkeypatch):
    account = MailAccount(imap_password_env="SD_IMAP_TEST_SECRET", imap_password_encrypted=encrypt_password("stored"))
    monkeypatch.setenv("SD_IMAP_TEST_SECRET", "from-the-environment")
    assert imap_password(account) == "from-the-environment"
    monkeypatch.delenv("SD_IMAP_TEST_SECRET")
    with pytest.raises(SecretError, match="SD_IMAP_TEST_SECRET"):
        imap_password(account)
    account.imap_password_env = ""
    assert imap_password(account) == "stored"
    account.imap_password_encrypted = ""
    with pytest.raises(SecretError):
        imap_password(account)


# --- The admin ---------------------------------------------------------------------------------------------------


def _form_data(inbox, **overrides):
    data = {
        "inbox": inbox.pk,
        "address": "help@shop.test",
        "display_name": "",
        "acknowledge": "on",
        "imap_host": "imap.shop.test",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_username": "help@shop.test",
        "imap_password": "s3cret-password",
        "imap_password_env": "",
        "imap_folder": "INBOX",
        "imap_processed_folder": "Supportdesk/Processed",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_admin_form_stores_the_password_encrypted_and_keeps_it_when_left_empty():
    inbox = InboxFactory(kind=ChannelKind.EMAIL)
    form = MailAccountForm(data=_form_data(inbox))
    assert form.is_valid(), form.errors
    account = form.save()
    assert account.imap_password_encrypted and "s3cret" not in account.imap_password_encrypted
    assert imap_password(account) == "s3cret-password"
    assert "s3cret" not in MailAccountForm(instance=account).as_p()  # write-only

    kept = MailAccountForm(data=_form_data(inbox, imap_password="", imap_username="other"), instance=account)
    assert kept.is_valid(), kept.errors
    assert imap_password(kept.save()) == "s3cret-password"

    cleared = MailAccountForm(
        data=_form_data(inbox, imap_password="", imap_password_env="SHOP_IMAP_PASSWORD", clear_imap_password="on"),
        instance=account,
    )
    assert cleared.is_valid(), cleared.errors
    assert cleared.save().imap_password_encrypted == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"imap_password": ""}, "imap_password"),
        ({"imap_username": ""}, "imap_username"),
        ({"imap_security": "none"}, "imap_security"),
        ({"imap_password_env": "SHOP_PASSWORD"}, "imap_password"),
        ({"imap_password": "", "imap_password_env": "1-bad name"}, "imap_password_env"),
        ({"imap_processed_folder": "inbox"}, "imap_processed_folder"),
        ({"imap_port": "70000"}, "imap_port"),
    ],
)
def test_the_admin_form_refuses_incomplete_imap_settings(overrides, field):
    inbox = InboxFactory(kind=ChannelKind.EMAIL)
    form = MailAccountForm(data=_form_data(inbox, **overrides))
    assert not form.is_valid()
    assert field in form.errors


def test_the_admin_form_takes_an_account_without_imap_and_plain_imap_on_loopback():
    inbox = InboxFactory(kind=ChannelKind.EMAIL)
    bare = _form_data(inbox, imap_host="", imap_port="", imap_username="", imap_password="")
    assert MailAccountForm(data=bare).is_valid()
    loopback = _form_data(InboxFactory(kind=ChannelKind.EMAIL), address="b@shop.test", imap_host="127.0.0.1")
    loopback["imap_security"] = "none"
    assert MailAccountForm(data=loopback).is_valid()


def test_poll_now_in_the_admin_reads_the_mailbox(mailbox, account, admin_client):
    mailbox.append(a_mail())
    response = admin_client.post(
        "/admin/mail/mailaccount/",
        {"action": "poll_now", "_selected_action": [account.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 stored" in response.content.decode()
    assert MailMessage.objects.filter(direction=MailMessage.Direction.IN).count() == 1


def test_the_admin_pages_of_mail_open(admin_client, mailbox, account):
    mailbox.append(a_mail())
    poll_all()
    mail = MailMessage.objects.filter(direction=MailMessage.Direction.IN).get()
    RefusedMail.objects.create(inbox=account.inbox, reason=RefusedMail.Reason.TOO_LARGE, sender="x@customer.test")
    for url in (
        f"/admin/mail/mailaccount/{account.pk}/change/",
        "/admin/mail/mailaccount/",
        "/admin/mail/mailmessage/?direction__exact=in",
        f"/admin/mail/mailmessage/{mail.pk}/change/",
        "/admin/mail/refusedmail/?reason__exact=too_large&q=customer",
    ):
        assert admin_client.get(url).status_code == 200, url
    page = admin_client.get(f"/admin/mail/mailaccount/{account.pk}/change/").content.decode()
    assert IMAP_PASSWORD not in page and PASSWORD_VARIABLE in page
