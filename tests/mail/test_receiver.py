"""The SMTP receiver as rundesk and docker-compose start it (`manage.py mailreceiver`), spoken to by smtplib as a
sending mail server would."""

from __future__ import annotations

import smtplib

import pytest

from chat.models import ChannelKind
from mail.models import MailAccount, MailMessage
from tests.factories import InboxFactory
from tests.mail.mails import customer_mail
from tickets.models import Ticket

ADDRESS = "desk@receiver.test"


@pytest.fixture
def receiver(mail_receiver_factory):
    MailAccount.objects.create(inbox=InboxFactory(kind=ChannelKind.EMAIL), address=ADDRESS)
    return mail_receiver_factory(MAIL_MAX_BYTES=str(2 * 1024 * 1024))


def _client(receiver) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=30)
    client.ehlo("mx.customer.test")
    return client


def test_a_mail_is_answered_after_it_is_stored(receiver):
    with _client(receiver) as client:
        assert client.has_extn("size") and int(client.esmtp_features["size"]) == 2 * 1024 * 1024
        refused = client.sendmail("ali@customer.test", [ADDRESS], customer_mail(to=ADDRESS))
    assert refused == {}
    ticket = Ticket.objects.get()
    assert ticket.channel_kind == "email" and ticket.contact.email == "ali@customer.test"
    assert MailMessage.objects.filter(direction="in").count() == 1


def test_an_unknown_recipient_is_refused_at_rcpt(receiver):
    with _client(receiver) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ali@customer.test", ["nobody@receiver.test"], customer_mail(to="nobody@receiver.test"))
    assert refused.value.recipients["nobody@receiver.test"][0] == 550
    assert not Ticket.objects.exists()


def test_a_mail_over_the_limit_is_refused_with_552_and_nothing_is_stored(receiver):
    big = customer_mail(to=ADDRESS, attachments=[("scan.pdf", "application/pdf", b"%PDF-" + b"x" * 3 * 1024 * 1024)])
    # A server that reads SIZE in EHLO is refused at MAIL FROM …
    with _client(receiver) as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        client.sendmail("ali@customer.test", [ADDRESS], big)
    assert refused.value.smtp_code == 552
    # … one that sends it anyway, after the data.
    with _client(receiver) as client:
        client.mail("ali@customer.test")
        client.rcpt(ADDRESS)
        code, text = client.data(big)
    assert code == 552, text
    assert not Ticket.objects.exists() and not MailMessage.objects.exists()


def test_the_same_mail_delivered_twice_is_stored_once(receiver):
    raw = customer_mail(to=ADDRESS)
    for _ in range(2):
        with _client(receiver) as client:
            assert client.sendmail("ali@customer.test", [ADDRESS], raw) == {}
    assert MailMessage.objects.filter(direction="in").count() == 1


def test_a_30_mb_mail_is_refused_by_the_default_limit(mail_receiver_factory):
    MailAccount.objects.create(inbox=InboxFactory(kind=ChannelKind.EMAIL), address=ADDRESS)
    receiver = mail_receiver_factory()
    scan = b"%PDF-" + bytes(range(256)) * (30 * 1024 * 1024 // 256)
    big = customer_mail(to=ADDRESS, attachments=[("scan.pdf", "application/pdf", scan)])
    assert len(big) > 30 * 1024 * 1024
    with _client(receiver) as client:
        client.mail("ali@customer.test")
        client.rcpt(ADDRESS)
        code, text = client.data(big)
    assert code == 552, text
    assert not Ticket.objects.exists() and not MailMessage.objects.exists()
    # The receiver is still there for the next mail.
    with _client(receiver) as client:
        assert client.sendmail("ali@customer.test", [ADDRESS], customer_mail(to=ADDRESS)) == {}
    assert Ticket.objects.count() == 1
