"""Mail in: new tickets, threading, reopening, and every kind of bad mail with a clear outcome."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest

from chat.models import ChannelKind, Conversation, Message
from mail.addresses import bounce_address, reply_address
from mail.models import MailAccount, MailAttachment, MailMessage, MailThread, RefusedMail
from mail.services.inbound import mail_receive
from tests.mail.mails import ADDRESS, customer_mail
from tickets.models import Ticket
from tickets.services import ticket_resolve, ticket_set_status

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def receive(raw: bytes, to: str = ADDRESS, envelope_from: str = "ali@customer.test"):
    return mail_receive(raw, recipients=[to], envelope_from=envelope_from)


def test_a_new_mail_opens_an_email_ticket_with_the_customer_s_words(account, django_capture_on_commit_callbacks):
    raw = customer_mail(
        body="Hello, order 1234 has not arrived yet.\n\nBest,\nAli\n\nOn Mon, 1 Dec 2026, Shop <help@shop.test> "
        "wrote:\n> An earlier answer\n",
    )
    with django_capture_on_commit_callbacks(execute=False):
        outcome = receive(raw)
    assert (outcome.result, outcome.code) == ("stored", 250)
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    assert ticket.channel_kind == ChannelKind.EMAIL
    assert ticket.subject == "My order has not arrived"
    assert ticket.contact.email == "ali@customer.test" and ticket.contact.name == "Ali Rezaei"
    assert ticket.conversation_count == 1
    thread = MailThread.objects.get(ticket=ticket)
    conversation = thread.conversation
    assert conversation.channel_kind == ChannelKind.EMAIL and conversation.status == Conversation.Status.ENDED
    shown = conversation.messages.get(sender=Message.Sender.VISITOR)
    # Quoted history and the sign-off are not shown; the whole text and the original are kept.
    assert shown.body == "Hello, order 1234 has not arrived yet."
    mail = MailMessage.objects.get(direction="in")
    assert "An earlier answer" in mail.full_text
    assert mail.raw.read() == raw
    # The acknowledgement is a row in the same transaction, queued.
    ack = MailMessage.objects.get(direction="out")
    assert (ack.kind, ack.status, ack.to_address) == ("ack", "queued", "ali@customer.test")
    assert ack.in_reply_to == mail.message_id


def test_a_second_delivery_of_one_mail_stores_nothing(account):
    raw = customer_mail()
    first, second = receive(raw), receive(raw)
    assert (first.result, second.result) == ("stored", "duplicate")
    assert second.code == 250
    assert MailMessage.objects.filter(direction="in").count() == 1 and Ticket.objects.count() == 1


def test_a_mail_without_a_message_id_is_still_recognised_when_delivered_again(account):
    raw = customer_mail().replace(b"Message-ID:", b"X-Removed-ID:")
    assert receive(raw).result == "stored"
    assert receive(raw).result == "duplicate"


def _thread_of(outcome) -> MailThread:
    return MailThread.objects.get(ticket_id=outcome.ticket_id)


def test_a_reply_to_the_reply_address_goes_into_the_same_ticket(account):
    thread = _thread_of(receive(customer_mail()))
    outcome = receive(customer_mail(body="Any news?"), to=reply_address(ADDRESS, thread.token))
    assert outcome.ticket_id == thread.ticket_id
    assert list(thread.conversation.messages.filter(sender="visitor").values_list("body", flat=True))[-1] == "Any news?"


def test_in_reply_to_threads_only_mail_from_the_ticket_s_customer(account):
    first = customer_mail()
    thread = _thread_of(receive(first))
    original = MailMessage.objects.get(direction="in").message_id
    same = receive(customer_mail(body="Me again", in_reply_to=original))
    assert same.ticket_id == thread.ticket_id
    # A Message-ID is no secret: someone else quoting it opens a ticket of their own.
    other = receive(
        customer_mail(sender="Mallory <mallory@evil.test>", body="Give me the order", in_reply_to=original),
        envelope_from="mallory@evil.test",
    )
    assert other.result == "stored" and other.ticket_id != thread.ticket_id


def test_a_forged_reply_address_opens_a_new_ticket_and_reaches_no_one_else_s(account):
    thread = _thread_of(receive(customer_mail()))
    forged = receive(
        customer_mail(sender="mallory@evil.test", body="hi"),
        to=reply_address(ADDRESS, "0" * 32),
        envelope_from="mallory@evil.test",
    )
    assert forged.result == "stored" and forged.ticket_id != thread.ticket_id
    assert thread.conversation.messages.filter(sender="visitor").count() == 1


def test_the_customer_s_reply_reopens_a_resolved_ticket_and_ends_a_pending_wait(account):
    thread = _thread_of(receive(customer_mail()))
    ticket = ticket_resolve(ticket=thread.ticket)
    receive(customer_mail(body="It broke again"), to=reply_address(ADDRESS, thread.token))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == ("open", 1)
    ticket_set_status(ticket=ticket, status="pending")
    receive(customer_mail(body="Here is the photo"), to=reply_address(ADDRESS, thread.token))
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.pending_since is None


def test_an_automatic_reply_is_kept_but_reopens_nothing_and_is_not_acknowledged(account):
    thread = _thread_of(receive(customer_mail()))
    ticket = ticket_resolve(ticket=thread.ticket)
    acks_before = MailMessage.objects.filter(kind="ack").count()
    outcome = receive(
        customer_mail(subject="Out of office", body="I am away", headers={"Auto-Submitted": "auto-replied"}),
        to=reply_address(ADDRESS, thread.token),
    )
    assert outcome.result == "stored"
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert MailMessage.objects.get(pk=outcome.mail_id).kind == "auto"
    # A new automatic mail (a newsletter) opens a ticket but gets no acknowledgement.
    receive(customer_mail(sender="news@shop-news.test", headers={"Precedence": "bulk"}), envelope_from="x@y.test")
    assert MailMessage.objects.filter(kind="ack").count() == acks_before


def test_a_mail_over_the_limit_is_refused_whole(account, settings):
    settings.MAIL_MAX_BYTES = 50_000
    outcome = receive(customer_mail(attachments=[("big.pdf", "application/pdf", b"%PDF-" + b"x" * 60_000)]))
    assert (outcome.result, outcome.code) == ("refused", 552)
    assert "too big" in outcome.text and "MB" in outcome.text
    assert not MailMessage.objects.exists() and not Ticket.objects.exists() and not Message.objects.exists()
    assert RefusedMail.objects.get().reason == "too_large"


def test_mail_for_an_unknown_address_is_refused(account):
    outcome = receive(customer_mail(to="nobody@shop.test"), to="nobody@shop.test")
    assert (outcome.result, outcome.code) == ("refused", 550)
    assert not Ticket.objects.exists()


def test_a_mail_that_passed_through_this_desk_already_is_dropped(account):
    outcome = receive(customer_mail(headers={"X-Loop": ADDRESS}))
    assert outcome.code == 250 and outcome.result == "refused"
    assert RefusedMail.objects.get().reason == "loop"
    assert not Ticket.objects.exists()


def test_a_flood_from_one_sender_is_deferred(account, settings):
    settings.MAIL_PER_SENDER_PER_HOUR = 2
    sender = f"loop-{uuid.uuid4().hex[:8]}@robot.test"
    outcomes = [receive(customer_mail(sender=sender, body=f"n{i}"), envelope_from=sender).code for i in range(3)]
    assert outcomes == [250, 250, 451]
    assert RefusedMail.objects.get().reason == "rate_limited"


def test_an_auto_responder_answering_our_acknowledgement_gets_no_second_one(account, settings):
    """The loop: their auto-responder answers our acknowledgement, without any automatic header. The answer threads
    into the ticket (it is a reply), and a second new mail from them within the hour gets no acknowledgement."""
    sender = f"robot-{uuid.uuid4().hex[:8]}@robot.test"
    first = receive(customer_mail(sender=sender), envelope_from=sender)
    ack = MailMessage.objects.get(kind="ack")
    receive(
        customer_mail(sender=sender, body="Thanks for your mail!", in_reply_to=ack.message_id), envelope_from=sender
    )
    for n in range(settings.MAIL_ACKS_PER_SENDER_PER_HOUR):
        receive(customer_mail(sender=sender, subject=f"Thanks for your mail! {n}"), envelope_from=sender)
    assert MailMessage.objects.filter(kind="ack").count() == settings.MAIL_ACKS_PER_SENDER_PER_HOUR
    assert Ticket.objects.filter(pk=first.ticket_id).get().conversations.get().messages.count() == 3
    assert Ticket.objects.count() == 1 + settings.MAIL_ACKS_PER_SENDER_PER_HOUR


def test_malformed_mime_wrong_charsets_and_8_bit_headers_are_read(account):
    broken = (
        b"From: =?utf-8?q?Zahra?= <zahra@customer.test>\r\n"
        b"To: help@shop.test\r\n" + "Subject: سفارش من\r\n".encode() + b"Message-ID: <broken-1@customer.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "سلام، سفارش من نرسیده".encode() + b"\r\n"
    )
    outcome = receive(broken, envelope_from="zahra@customer.test")
    assert outcome.result == "stored"
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    assert ticket.subject == "سفارش من"
    assert ticket.conversations.get().messages.get(sender="visitor").body == "سلام، سفارش من نرسیده"


def test_bytes_that_are_not_a_mail_at_all_are_stored_or_refused_never_crash(account):
    for raw in (b"", b"\x00\xff\xfe garbage", b"From: \r\n\r\n", b"Subject: only a subject\r\n\r\nbody"):
        outcome = receive(raw, envelope_from="")
        assert outcome.code in (250, 550), outcome


def test_html_is_sanitised_and_its_text_shown(account):
    html = (
        '<p>Hello <b>there</b></p><script>alert(1)</script><img src="https://track.test/p.gif"><p onclick="x()">Bye</p>'
    )
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ali@customer.test", ADDRESS, "Only HTML"
    message["Message-ID"] = "<html-only@customer.test>"
    message.set_content(html, subtype="html")
    outcome = receive(message.as_bytes())
    mail = MailMessage.objects.get(pk=outcome.mail_id)
    assert "<script" not in mail.html and "onclick" not in mail.html and "<img" not in mail.html
    assert "<b>there</b>" in mail.html
    assert mail.chat_message.body.split() == ["Hello", "there", "Bye"]


def test_attachments_are_kept_by_their_content_and_the_others_named(account, settings):
    settings.MAIL_ATTACHMENT_MAX_BYTES = 10_000
    raw = customer_mail(
        attachments=[
            ("photo.png", "image/png", PNG),
            ("invoice.png", "image/png", b"MZ\x90\x00 not a picture"),
            ("setup.exe", "application/x-msdownload", b"MZ\x90\x00"),
            ("huge.pdf", "application/pdf", b"%PDF-" + b"0" * 20_000),
        ]
    )
    outcome = receive(raw)
    kept = MailAttachment.objects.get()
    assert (kept.filename, kept.content_type, kept.size) == ("photo.png", "image/png", len(PNG))
    assert kept.file.read() == PNG
    body = MailMessage.objects.get(pk=outcome.mail_id).chat_message.body
    for refused in ("invoice.png", "setup.exe", "huge.pdf"):
        assert refused in body


def test_a_bounce_marks_the_sent_mail_failed(account, operator, django_capture_on_commit_callbacks):
    receive(customer_mail())
    ack = MailMessage.objects.get(kind="ack")
    report = (
        b"From: MAILER-DAEMON@mx.customer.test\r\n"
        + f"To: {bounce_address(ADDRESS, ack.pk)}\r\n".encode()
        + b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.customer.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.customer.test\r\n\r\n"
        b"Final-Recipient: rfc822; ali@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        b"--b--\r\n"
    )
    outcome = mail_receive(report, recipients=[bounce_address(ADDRESS, ack.pk)], envelope_from="")
    assert outcome.result == "bounce"
    ack.refresh_from_db()
    assert ack.status == "failed" and "5.1.1" in ack.failure_reason and "user unknown" in ack.failure_reason
    assert Ticket.objects.count() == 1  # the report is not a customer's mail


def test_a_bounce_address_with_a_wrong_signature_names_no_mail(account):
    receive(customer_mail())
    ack = MailMessage.objects.get(kind="ack")
    forged = bounce_address(ADDRESS, ack.pk).replace("+b-", "+b-9")
    outcome = receive(customer_mail(sender="mallory@evil.test", body="x"), to=forged, envelope_from="mallory@evil.test")
    ack.refresh_from_db()
    assert ack.status == "queued" and outcome.result == "stored"


def test_an_inactive_inbox_takes_no_mail(account):
    account.inbox.is_active = False
    account.inbox.save()
    assert receive(customer_mail()).code == 550
    assert MailAccount.objects.count() == 1


def test_a_persian_mail_is_acknowledged_in_persian(account):
    outcome = receive(
        customer_mail(sender="رضا <reza@customer.test>", subject="سفارش", body="سلام، سفارش من نرسیده است.")
    )
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    assert ticket.contact.locale == "fa"
    notice = ticket.conversations.get().messages.get(sender="system").body
    english = receive(
        customer_mail(sender="ann@customer.test", body="Hello, where is my parcel?"), envelope_from="a@b.c"
    )
    assert Ticket.objects.get(pk=english.ticket_id).contact.locale == "en"
    from mail.emails import expected_answer_text

    assert expected_answer_text(ticket, ticket.contact) in notice
    assert "پیام" in expected_answer_text(ticket, ticket.contact)
