"""Operators' actions on a mail ticket (take, transfer, resolve, pending), a missed chat kept as an offline message to
answer by mail, and how mail tickets count in the figures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from chat.models import ChannelKind, Conversation
from chat.selectors import operator_welcome
from chat.services import conversations as lifecycle
from chat.services.assignment import conversation_claim, conversation_transfer
from chat.services.errors import ChatError
from chat.services.messages import operator_message_send, visitor_message_send
from chat.services.visitors import visitor_connected
from mail.addresses import reply_address
from mail.models import MailAccount, MailMessage, MailThread
from mail.services.inbound import mail_receive
from surveys.models import SurveyObligation
from tests.factories import ContactFactory, InboxFactory, OperatorFactory, SurveyTemplateFactory
from tests.mail.mails import ADDRESS, customer_mail
from tickets.models import ReportingEvent, Ticket
from tickets.selectors.batch import first_contact_q
from tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


def _ticket(account):
    outcome = mail_receive(customer_mail(), recipients=[ADDRESS], envelope_from="ali@customer.test")
    return MailThread.objects.select_related("ticket", "conversation").get(ticket_id=outcome.ticket_id)


def test_the_tickets_list_holds_open_and_pending_mail_tickets_not_chats(account, operator):
    thread = _ticket(account)
    welcome = operator_welcome(operator)
    assert [c["id"] for c in welcome["tickets"]] == [thread.conversation_id]
    assert (
        welcome["tickets"][0]["mail"] is True
        and welcome["tickets"][0]["ticket"]["subject"] == "My order has not arrived"
    )
    assert welcome["conversations"] == [] and welcome["queue"] == []
    ticket_set_status(ticket=thread.ticket, status="pending")
    assert len(operator_welcome(operator)["tickets"]) == 1
    ticket_set_status(ticket=Ticket.objects.get(), status="resolved")
    assert operator_welcome(operator)["tickets"] == []
    # Another inbox's operator does not see it.
    outsider = OperatorFactory(inboxes=[InboxFactory()])
    assert operator_welcome(outsider)["tickets"] == []


def test_take_transfer_and_resolve_a_mail_ticket(account, operator):
    thread = _ticket(account)
    colleague = OperatorFactory(inboxes=[account.inbox], display_name="Ali")
    conversation = conversation_claim(profile=operator, conversation_id=thread.conversation_id)
    assert conversation.assignee == operator.user and Ticket.objects.get().assignee == operator.user
    with pytest.raises(ChatError) as taken:
        conversation_claim(profile=colleague, conversation_id=thread.conversation_id)
    assert taken.value.code == "conflict"
    conversation_transfer(
        profile=operator, conversation_id=thread.conversation_id, to_operator_id=colleague.user_id, note="Yours"
    )
    conversation = Conversation.objects.get(pk=thread.conversation_id)
    assert conversation.assignee == colleague.user and conversation.transfer_count == 1
    assert conversation.status == "ended"  # a mail thread never becomes a live chat
    assert conversation.messages.filter(private=True, body="Yours").exists()
    operator_message_send(profile=colleague, conversation_id=thread.conversation_id, client_id="r", body="On its way")
    lifecycle.conversation_resolve(profile=colleague, conversation_id=thread.conversation_id)
    ticket = Ticket.objects.get()
    assert ticket.status == "resolved" and ticket.resolved_by == colleague.user
    conversation.refresh_from_db()
    assert conversation.end_reason == "resolved"
    # Its survey is due, under the usual rules (it goes by e-mail: the customer is not in the widget).
    assert SurveyObligation.objects.filter(conversation_id=conversation.pk).exists()
    with pytest.raises(ChatError) as again:
        lifecycle.conversation_resolve(profile=colleague, conversation_id=thread.conversation_id)
    assert again.value.code == "closed"


def test_a_mail_ticket_holds_no_chat_slot(account, operator):
    for n in range(operator.max_chats + 1):
        mail_receive(customer_mail(sender=f"c{n}@customer.test"), recipients=[ADDRESS], envelope_from=f"c{n}@c.test")
    for conversation in Conversation.objects.all():
        conversation_claim(profile=operator, conversation_id=conversation.pk)
    assert operator_welcome(operator)["operator"]["active_chats"] == 0


def test_first_response_reopen_and_fcr_of_an_email_ticket(account, operator):
    thread = _ticket(account)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        operator_message_send(profile=operator, conversation_id=thread.conversation_id, client_id="a", body="Fixed")
    ticket = Ticket.objects.get()
    assert ticket.channel_kind == "email" and ticket.conversation_count == 1
    assert 7100 < ticket.first_response_seconds < 7300
    assert ReportingEvent.objects.filter(name="first_response", ticket=ticket, channel_kind="email").count() == 1
    lifecycle.conversation_resolve(profile=operator, conversation_id=thread.conversation_id)
    assert Ticket.objects.filter(
        first_contact_q(dt.timedelta(seconds=settings.FCR_WINDOW_SECONDS)), pk=ticket.pk
    ).exists()
    # The customer writes again: reopened, so no longer resolved in the first contact.
    mail_receive(
        customer_mail(body="Still broken"), recipients=[reply_address(ADDRESS, thread.token)], envelope_from="x@y.test"
    )
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.reopen_count == 1
    assert not Ticket.objects.filter(
        first_contact_q(dt.timedelta(seconds=settings.FCR_WINDOW_SECONDS)), pk=ticket.pk
    ).exists()


def test_a_missed_chat_with_an_address_is_answered_by_mail(transactional_db):
    inbox = InboxFactory()
    MailAccount.objects.create(inbox=inbox, address="chat@shop.test")
    contact = ContactFactory(inbox=inbox, email="zoe@customer.test", name="Zoe")
    message, _ = visitor_message_send(contact=contact, client_id=None, body="Is the shop open on Sunday?")
    visitor_message_send(contact=contact, client_id=None, body="And on holidays?")
    visitor_connected(conversation_id=message.conversation_id)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.QUEUE_TIMEOUT_SECONDS + 5)):
        Conversation.objects.update(visitor_last_seen_at=timezone.now())
        assert lifecycle.conversation_sweep()["missed"] == 1
    chat = Conversation.objects.get(pk=message.conversation_id)
    ticket = chat.ticket
    ticket.refresh_from_db()
    assert ticket.channel_kind == ChannelKind.OFFLINE_FORM and ticket.conversation_count == 1
    thread = MailThread.objects.get(ticket=ticket)
    assert thread.conversation.channel_kind == ChannelKind.OFFLINE_FORM
    assert thread.conversation.messages.get(sender="visitor").body == "Is the shop open on Sunday?\n\nAnd on holidays?"
    assert MailMessage.objects.get().kind == "ack"
    operator = OperatorFactory(inboxes=[inbox])
    assert [c["id"] for c in operator_welcome(operator)["tickets"]] == [thread.conversation_id]
    # The chat's own figures are unchanged: a missed live chat.
    assert chat.channel_kind == ChannelKind.WEB_WIDGET and chat.end_reason == "missed"


def test_mail_tickets_count_in_the_per_channel_figures(account, operator):
    from rollups import selectors as rollups
    from rollups.services import refresh
    from tickets.selectors.filters import MetricFilter

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        thread = _ticket(account)
    with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
        operator_message_send(profile=operator, conversation_id=thread.conversation_id, client_id="a", body="Done")
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        lifecycle.conversation_resolve(profile=operator, conversation_id=thread.conversation_id)
        refresh()
        period = MetricFilter(start=start - dt.timedelta(days=1), end=start + dt.timedelta(days=1))
        with rollups.reading():
            created = rollups.ticket_created_metrics(filters=period, by="channel_kind")
            resolved = rollups.ticket_resolved_metrics(filters=period, by="channel_kind")
            live = rollups.conversation_metrics(filters=period, by="channel_kind")
    assert created["email"]["counts"]["created"] == 1 and created["email"]["frt"]["count"] == 1
    assert abs(created["email"]["frt"]["wall"]["median"] - 1800) < 1800 * 0.005
    assert created["email"]["sla_first_response"]["rate"] == 1.0
    assert resolved["email"]["resolution"]["count"] == 1
    # Not a live chat: no conversation figure (requests, waits, abandonment) counts its thread.
    assert "email" not in live


def test_a_resolved_mail_ticket_s_survey_goes_by_e_mail_once(account, operator, mailoutbox, settings):
    from surveys.models import SurveyInvitation
    from surveys.services import survey_invitations_sweep

    SurveyTemplateFactory(inbox=account.inbox, ask_csat=True)
    thread = _ticket(account)
    operator_message_send(profile=operator, conversation_id=thread.conversation_id, client_id="a", body="Sent today")
    lifecycle.conversation_resolve(profile=operator, conversation_id=thread.conversation_id)
    mailoutbox.clear()
    survey_invitations_sweep()  # makes the invitation (the task's fast path is not run in this test)
    invitation = SurveyInvitation.objects.get()
    assert invitation.channel_kind == "email" and invitation.contact.email == "ali@customer.test"
    assert mailoutbox == []  # not before the e-mail delay
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.SURVEY_EMAIL_DELAY_SECONDS + 1)):
        survey_invitations_sweep()
        survey_invitations_sweep()
    assert [m.to for m in mailoutbox] == [["ali@customer.test"]]
    # Reopened and resolved again: the survey rules hold (one invitation per conversation, the cooldown).
    mail_receive(
        customer_mail(body="One more thing"), recipients=[reply_address(ADDRESS, thread.token)], envelope_from="a@b.c"
    )
    lifecycle.conversation_resolve(profile=operator, conversation_id=thread.conversation_id)
    survey_invitations_sweep()
    assert SurveyInvitation.objects.count() == 1
