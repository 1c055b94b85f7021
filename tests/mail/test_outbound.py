"""Mail out, over a real SMTP session to a server on loopback: an operator's reply and the acknowledgement, threaded,
sent once, retried with backoff, failed with the reason."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.utils import timezone

from chat.models import Message
from chat.services.errors import ChatError
from chat.services.messages import operator_message_send
from chat.services.visitors import offline_message_create
from mail.addresses import recipient_of
from mail.models import MailAccount, MailMessage, MailThread
from mail.services import outbound
from mail.services.inbound import mail_receive
from tests.factories import ContactFactory, InboxFactory, OperatorFactory
from tests.mail.mails import ADDRESS, customer_mail

pytestmark = pytest.mark.django_db


def _parsed(envelope):
    return message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)


def _reply(operator, conversation_id, body="Your parcel left the depot this morning.", client_id="c1"):
    message, _created = operator_message_send(
        profile=operator, conversation_id=conversation_id, client_id=client_id, body=body
    )
    return message


def test_a_reply_goes_out_threaded_from_the_inbox_s_address(
    account, operator, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    thread = MailThread.objects.get(ticket_id=outcome.ticket_id)
    received = MailMessage.objects.get(direction="in")
    smtp_sink.wait(1)  # the acknowledgement
    with django_capture_on_commit_callbacks(execute=True):
        message = _reply(operator, thread.conversation_id)
    envelopes = smtp_sink.wait(2)
    assert len(envelopes) == 2
    ack, reply = (_parsed(e) for e in envelopes)
    assert ack["Auto-Submitted"] == "auto-replied" and "answer by" in ack.get_body(("plain",)).get_content()
    sent = MailMessage.objects.get(chat_message=message)
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    assert reply["Message-ID"] == f"<{sent.message_id}>"
    assert reply["In-Reply-To"] == f"<{received.message_id}>"
    assert received.message_id in reply["References"]
    assert reply["From"].addresses[0].addr_spec == ADDRESS
    reply_to = reply["Reply-To"].addresses[0].addr_spec
    assert recipient_of(reply_to).token == thread.token
    assert reply["To"].addresses[0].addr_spec == "ali@customer.test"
    assert reply["Subject"] == f"Re: My order has not arrived [#{thread.ticket_id}]"
    assert "Your parcel left the depot" in reply.get_body(("plain",)).get_content()
    html = reply.get_body(("html",)).get_content()
    assert "Your parcel left the depot" in html and account.inbox.brand_color in html
    # The envelope sender is the mail's bounce address: a delivery report names the mail.
    assert recipient_of(envelopes[1].mail_from).bounce_mail_id == sent.pk
    # The customer answers the reply: it threads into the same ticket.
    answer = customer_mail(body="Thanks!", in_reply_to=sent.message_id)
    assert mail_receive(answer, recipients=[reply_to], envelope_from="ali@customer.test").ticket_id == thread.ticket_id


def test_a_reply_to_an_offline_message_is_sent_in_the_customer_s_language(
    smtp_sink, django_capture_on_commit_callbacks
):
    inbox = InboxFactory(language="fa")
    MailAccount.objects.create(inbox=inbox, address="support@shop.test")
    operator = OperatorFactory(inboxes=[inbox])
    contact = ContactFactory(inbox=inbox, email="", locale="fa")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = offline_message_create(
            inbox=inbox, contact=contact, name="زهرا", email="zahra@customer.test", body="سفارشم نرسیده"
        )
    ack = _parsed(smtp_sink.wait(1)[0])
    assert ack["Content-Language"] == "fa"
    assert 'dir="rtl"' in ack.get_body(("html",)).get_content()
    conversation = MailThread.objects.get(ticket=ticket).conversation
    with django_capture_on_commit_callbacks(execute=True):
        _reply(operator, conversation.pk, body="فردا می‌رسد")
    reply = _parsed(smtp_sink.wait(2)[1])
    text = reply.get_body(("plain",)).get_content()
    assert "فردا می‌رسد" in text and "زهرا" in text


def test_a_private_note_sends_nothing_and_a_resend_sends_once(
    account, operator, smtp_sink, django_capture_on_commit_callbacks
):
    outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    conversation_id = MailThread.objects.get(ticket_id=outcome.ticket_id).conversation_id
    MailMessage.objects.filter(kind="ack").delete()
    with django_capture_on_commit_callbacks(execute=True):
        operator_message_send(
            profile=operator, conversation_id=conversation_id, client_id="n", body="VIP", private=True
        )
        _reply(operator, conversation_id, client_id="same")
        _reply(operator, conversation_id, client_id="same")
    # The task delivered twice (a broker redelivery) finds the mail sent.
    mail = MailMessage.objects.get(direction="out")
    assert outbound.mail_deliver(mail_id=mail.pk) == "not_due"
    assert len(smtp_sink.wait(1, timeout=2)) == 1


def test_a_mail_server_that_is_down_is_retried_with_backoff_then_sent_once(
    account, operator, settings, django_capture_on_commit_callbacks
):
    outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    conversation_id = MailThread.objects.get(ticket_id=outcome.ticket_id).conversation_id
    MailMessage.objects.filter(kind="ack").delete()
    from tests.mail.mails import Sink

    sink = Sink()  # not started yet: nothing listens on its port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 2
    with django_capture_on_commit_callbacks(execute=True):
        message = _reply(operator, conversation_id)
    mail = MailMessage.objects.get(chat_message=message)
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert "ConnectionRefused" in mail.failure_reason
    first_retry = mail.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_retry <= timedelta(seconds=settings.MAIL_RETRY_BASE_SECONDS)
    assert outbound.mail_sweep() == 0  # not due yet
    sink.start()
    try:
        with time_machine.travel(mail.next_attempt_at + timedelta(seconds=1)):
            assert outbound.mail_sweep() == 1
            assert outbound.mail_sweep() == 0
        assert len(sink.wait(1)) == 1
    finally:
        sink.stop()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.failure_reason) == ("sent", 2, "")


def test_a_refused_recipient_fails_the_mail_with_the_reason(
    account, operator, smtp_sink, django_capture_on_commit_callbacks
):
    outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    conversation_id = MailThread.objects.get(ticket_id=outcome.ticket_id).conversation_id
    MailMessage.objects.filter(kind="ack").delete()
    smtp_sink.refuse_rcpt = "550 5.1.1 No such user here"
    with django_capture_on_commit_callbacks(execute=True):
        message = _reply(operator, conversation_id)
    mail = MailMessage.objects.get(chat_message=message)
    assert mail.status == "failed" and "No such user" in mail.failure_reason and mail.attempts == 1


def test_a_worker_that_died_holding_a_mail_hands_it_on_after_its_lease(account, operator, smtp_sink, settings):
    outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    MailMessage.objects.filter(kind="ack").update(claimed_at=timezone.now())  # a worker took it, then died
    assert outbound.mail_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS + 1)):
        assert outbound.mail_sweep() == 1
    assert len(smtp_sink.wait(1)) == 1
    assert outcome.result == "stored"


def test_no_reply_without_an_address_to_reply_to(operator, account):
    contact = ContactFactory(inbox=account.inbox, email="")
    ticket = offline_message_create(inbox=account.inbox, contact=contact, name="", email="x@y.test", body="hi")
    conversation = MailThread.objects.get(ticket=ticket).conversation
    contact.email = ""
    contact.save()
    with pytest.raises(ChatError) as error:
        _reply(operator, conversation.pk)
    assert error.value.code == "invalid_frame"
    assert not Message.objects.filter(conversation=conversation, sender="operator").exists()


def test_an_offline_message_kept_before_mail_threads_existed_is_answered_too(account, operator):
    from chat.models import ChannelKind, Conversation
    from tests.factories import TicketFactory

    contact = ContactFactory(inbox=account.inbox, email="old@customer.test")
    ticket = TicketFactory(inbox=account.inbox, contact=contact, channel_kind=ChannelKind.OFFLINE_FORM, subject="Old")
    conversation = Conversation.objects.create(
        inbox=account.inbox,
        channel_kind=ChannelKind.OFFLINE_FORM,
        contact=contact,
        ticket=ticket,
        status="ended",
        end_reason="missed",
        ended_at=timezone.now(),
    )
    message = _reply(operator, conversation.pk)
    mail = MailMessage.objects.get(chat_message=message)
    assert mail.thread.ticket == ticket and mail.to_address == "old@customer.test"
