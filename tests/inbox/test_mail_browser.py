"""End to end, as users run it: a visitor leaves an offline message in the widget; the operator answers it from the
inbox's Tickets list; the reply leaves by SMTP, threaded; the customer's answer, sent into the desk's SMTP receiver,
appears in the same ticket without a reload."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy

import pytest
from django.core.cache import cache

from mail.models import MailAccount, MailMessage
from tests.browser import expect
from tests.mail.mails import Sink, customer_mail
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_offline_message_answered_by_mail_from_the_inbox(
    desk, asgi_server, celery_worker_factory, mail_receiver_factory, host_site, browser, operator_page
):
    cache.clear()  # the acknowledgements to one sender counted by earlier runs
    desk.inbox.allowed_origins = [host_site.origin]
    desk.inbox.save()
    MailAccount.objects.create(inbox=desk.inbox, address="help@acme.test")
    sink = Sink()
    sink.start()
    try:
        mail_env = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1"}
        celery_worker_factory(SITE_URL=asgi_server.url, EMAIL_PORT=str(sink.port), **mail_env)
        receiver = mail_receiver_factory(SITE_URL=asgi_server.url)
        inbox = operator_page(desk.ana.user)

        # Nobody is online: the widget offers the offline form.
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        site = context.new_page()
        site.goto(host_site.widget_page(desk_url=asgi_server.url, site_key=desk.inbox.site_key))

        def widget(selector):
            return site.locator(f"supportdesk-widget {selector}")

        widget(".sd-launcher").click()
        widget(".sd-form input[name=name]").fill("Maria Lopez")
        widget(".sd-form input[name=email]").fill("maria@customer.test")
        widget(".sd-form textarea[name=body]").fill("Do you ship the trail tent to Portugal?")
        widget(".sd-form button[type=submit]").click()
        thanks = widget(".sd-thanks")
        expect(thanks).to_contain_text("will reply by e-mail by")
        context.close()

        # The acknowledgement went out at once, saying by when.
        ack = message_from_bytes(sink.wait(1)[0].original_content, policy=policy.SMTP)
        assert ack["Auto-Submitted"] == "auto-replied" and "answer by" in ack.get_body(("plain",)).get_content()

        # In the inbox, without a reload: the Tickets list, New.
        tickets = inbox.locator("#list-tickets")
        expect(tickets).to_contain_text("Maria Lopez")
        expect(tickets).to_contain_text("Do you ship the trail tent to Portugal?")
        inbox.screenshot(path=str(receiver.log.parent / "inbox-mail-ticket-new.png"))
        tickets.get_by_text("Maria Lopez").click()
        expect(inbox.locator("#thread")).to_contain_text("Do you ship the trail tent to Portugal?")
        expect(inbox.locator("#thread")).to_contain_text("Automatic reply sent")
        composer = inbox.locator("#composer-input")
        expect(composer).to_have_attribute("placeholder", "Reply by e-mail to the customer… (/ for saved replies)")
        composer.fill("Yes: to Portugal in 3 to 5 days, free above 50 EUR.")
        composer.press("Enter")
        expect(inbox.locator("#thread .msg-operator").last).to_contain_text("E-mail sent")

        # The reply, threaded, from the inbox's address, answerable at the ticket's reply address.
        envelope = sink.wait(2)[1]
        reply = message_from_bytes(envelope.original_content, policy=policy.SMTP)
        received = MailMessage.objects.filter(direction="out", kind="ack").get()
        assert reply["In-Reply-To"] == f"<{received.in_reply_to}>" or reply["References"]
        assert received.message_id in reply["References"]
        assert reply["From"].addresses[0].addr_spec == "help@acme.test"
        assert "free above 50 EUR" in reply.get_body(("plain",)).get_content()
        # Answered: the ticket moved from New to Open.
        inbox.locator("[data-ticket-filter=open]").click()
        expect(tickets).to_contain_text("Maria Lopez")

        # The customer answers from their mail client; their mail server delivers to the desk's receiver.
        answer = customer_mail(
            sender="Maria Lopez <maria@customer.test>",
            to=reply["Reply-To"].addresses[0].addr_spec,
            subject=f"Re: {reply['Subject']}",
            body="Great, I'll order today.\n\nOn Monday, Acme wrote:\n> Yes: to Portugal in 3 to 5 days",
            in_reply_to=reply["Message-ID"].strip("<>"),
        )
        with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
            client.sendmail("maria@customer.test", [reply["Reply-To"].addresses[0].addr_spec], answer)
        expect(inbox.locator("#thread .msg-visitor .msg-body").last).to_have_text("Great, I'll order today.")
        inbox.screenshot(path=str(receiver.log.parent / "inbox-mail-ticket-thread.png"))
        assert Ticket.objects.get().conversations.count() == 1

        # Resolved from the inbox: it leaves the lists.
        inbox.locator("#act-resolve").click()
        inbox.locator("#confirm-ok").click()
        expect(tickets).not_to_contain_text("Maria Lopez")
        assert Ticket.objects.get().status == "resolved"
    finally:
        sink.stop()
