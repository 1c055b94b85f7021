"""The inbox's reads of mail: a thread's messages carry their mail; originals and attachments only for the inbox's
operators."""

from __future__ import annotations

import pytest
from django.test import Client

from mail.models import MailAttachment, MailMessage, MailThread
from mail.services.inbound import mail_receive
from tests.factories import InboxFactory, OperatorFactory
from tests.mail.mails import ADDRESS, customer_mail

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


@pytest.fixture
def received(account):
    raw = customer_mail(
        html="<p>Hi <script>alert(1)</script><b>team</b></p>", attachments=[("photo.png", "image/png", PNG)]
    )
    outcome = mail_receive(raw, recipients=[ADDRESS], envelope_from="ali@customer.test")
    return MailMessage.objects.get(pk=outcome.mail_id)


def _client(profile) -> Client:
    client = Client()
    client.force_login(profile.user)
    return client


def test_the_thread_s_messages_carry_their_mail(received, operator):
    thread = MailThread.objects.get()
    data = _client(operator).get(f"/inbox/conversations/{thread.conversation_id}/").json()
    assert data["conversation"]["mail"] is True
    customer = next(m for m in data["messages"] if m["sender"] == "visitor")
    assert customer["mail"]["kind"] == "customer" and customer["mail"]["delivery"] is None
    assert customer["mail"]["original_url"] == f"/inbox/mail/{received.pk}/"
    [attachment] = customer["mail"]["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("photo.png", len(PNG))
    ack = next(m for m in data["messages"] if m["sender"] == "system")
    assert ack["mail"]["kind"] == "ack" and ack["mail"]["delivery"]["status"] in ("queued", "sent")


def test_the_original_and_attachments_are_served_to_the_inbox_s_operators_only(received, operator):
    client = _client(operator)
    page = client.get(f"/inbox/mail/{received.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<b>team</b>" in html and "<script>alert" not in html
    assert "sandbox" in page["Content-Security-Policy"]
    raw = client.get(f"/inbox/mail/{received.pk}/?raw=1")
    assert b"".join(raw.streaming_content) == received.raw.open("rb").read()
    attachment = MailAttachment.objects.get()
    download = client.get(f"/inbox/mail/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["X-Content-Type-Options"] == "nosniff" and "attachment" in download["Content-Disposition"]

    outsider = _client(OperatorFactory(inboxes=[InboxFactory()]))
    assert outsider.get(f"/inbox/mail/{received.pk}/").status_code == 404
    assert outsider.get(f"/inbox/mail/attachments/{attachment.pk}/").status_code == 404
    anonymous = Client().get(f"/inbox/mail/attachments/{attachment.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
