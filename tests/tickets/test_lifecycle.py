"""Ticket lifecycle: first response, resolve / reopen, pending, status and priority, follow-ups."""

import pytest
from django.conf import settings

from chat.models import ChannelKind, Conversation, Message
from tests.factories import ContactFactory, InboxFactory, MessageFactory, OperatorFactory, SlaTargetFactory
from tests.tickets.histories import chat_ticket, operator_reply, seconds, utc
from tickets.models import ReportingEvent, Ticket
from tickets.selectors import MetricFilter, fcr, first_response_time, followup_candidate, resolution_time
from tickets.services import (
    reporting_event_record,
    ticket_create,
    ticket_mark_followup,
    ticket_message_recorded,
    ticket_reopen,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db
T0 = utc(2026, 3, 9, 10)  # a Monday


@pytest.fixture
def inbox():
    return InboxFactory()


@pytest.fixture
def operator(inbox):
    return OperatorFactory(inboxes=[inbox]).user


def test_private_notes_system_messages_and_bot_replies_are_not_a_first_response(inbox, operator):
    conversation, ticket = chat_ticket(inbox, at=T0, ended=False)
    operator_reply(conversation, operator, at=T0 + seconds(20), private=True)
    MessageFactory(conversation=conversation, sender=Message.Sender.SYSTEM, body="Operator joined", created_at=T0)
    bot = MessageFactory(
        conversation=conversation, sender=Message.Sender.OPERATOR, author=None, created_at=T0 + seconds(30)
    )
    assert ticket_message_recorded(message=bot) is False
    visitor = MessageFactory(conversation=conversation, sender=Message.Sender.VISITOR, created_at=T0 + seconds(40))
    assert ticket_message_recorded(message=visitor) is False

    operator_reply(conversation, operator, at=T0 + seconds(90))
    operator_reply(conversation, operator, at=T0 + seconds(200))

    ticket.refresh_from_db()
    assert ticket.first_response_at == T0 + seconds(90)
    assert ticket.first_response_seconds == 90
    assert ticket.assignee == operator
    assert ReportingEvent.objects.filter(ticket=ticket, name=ReportingEvent.Name.FIRST_RESPONSE).count() == 1
    frt = first_response_time(filters=MetricFilter())
    assert frt["count"] == 1
    assert frt["wall"] == {"mean": 90.0, "median": 90.0, "p90": 90.0}


def test_reopened_ticket_counts_once_with_its_last_resolution(inbox):
    _, reopened = chat_ticket(inbox, at=T0)
    ticket_resolve(ticket=reopened, at=T0 + seconds(600))
    ticket_reopen(ticket=reopened, at=T0 + seconds(3600))
    ticket_resolve(ticket=reopened, at=T0 + seconds(7200))
    _, simple = chat_ticket(inbox, at=T0)
    ticket_resolve(ticket=simple, at=T0 + seconds(1800))

    reopened.refresh_from_db()
    assert (reopened.status, reopened.reopen_count, reopened.resolved_at) == ("resolved", 1, T0 + seconds(7200))
    assert ReportingEvent.objects.filter(ticket=reopened, name=ReportingEvent.Name.TICKET_RESOLVED).count() == 2
    figures = resolution_time(filters=MetricFilter(start=T0, end=T0 + seconds(86400)))
    assert figures["count"] == 2
    assert figures["wall"] == {"mean": 4500.0, "median": 4500.0, "p90": 6660.0}
    # Its first resolution is in this period, its last one is not: it belongs to the period of its last.
    early = resolution_time(filters=MetricFilter(start=T0, end=T0 + seconds(3600)))
    assert early["count"] == 1
    assert early["wall"]["mean"] == 1800.0


def test_reopened_and_still_open_ticket_is_not_resolved_in_any_period(inbox):
    _, ticket = chat_ticket(inbox, at=T0)
    ticket_resolve(ticket=ticket, at=T0 + seconds(600))
    ticket_reopen(ticket=ticket, at=T0 + seconds(900))
    assert resolution_time(filters=MetricFilter())["count"] == 0


def test_pending_time_does_not_count_against_resolution(inbox, settings):
    settings.SLA_CHAT_RESOLUTION_SECONDS = 8 * 3600
    _, ticket = chat_ticket(inbox, at=T0)
    assert ticket.resolution_due_at == T0 + seconds(8 * 3600)
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, at=T0 + seconds(3600))
    ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, at=T0 + seconds(5 * 3600))
    assert ticket.pending_business_seconds == 4 * 3600
    assert ticket.resolution_due_at == T0 + seconds(12 * 3600)
    # Pending again, and resolved straight from pending: that stretch is excluded too.
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, at=T0 + seconds(10 * 3600))
    ticket = ticket_resolve(ticket=ticket, at=T0 + seconds(13 * 3600))
    assert ticket.pending_business_seconds == 7 * 3600
    assert ticket.resolution_due_at == T0 + seconds(15 * 3600)
    assert ticket.resolution_breached is False
    # The resolution time itself is resolved − created, as metrics.md defines it.
    assert ticket.resolution_seconds == 13 * 3600


def test_pending_time_is_business_time_of_the_inbox(settings):
    from tests.factories import BusinessHoursIntervalFactory

    inbox = InboxFactory(time_zone="UTC")
    for weekday in range(5):
        BusinessHoursIntervalFactory(inbox=inbox, weekday=weekday, opens_at="09:00", closes_at="17:00")
    SlaTargetFactory(
        inbox=inbox, channel_kind=ChannelKind.WEB_WIDGET, first_response_seconds=3600, resolution_seconds=4 * 3600
    )
    _, ticket = chat_ticket(inbox, at=utc(2026, 3, 13, 15))  # Friday 15:00
    assert ticket.first_response_due_at == utc(2026, 3, 13, 16)
    assert ticket.resolution_due_at == utc(2026, 3, 16, 11)  # 2 h on Friday, 2 h on Monday
    # Pending from Friday 16:00 to Monday 10:00: one business hour on each side of the weekend.
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, at=utc(2026, 3, 13, 16))
    ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, at=utc(2026, 3, 16, 10))
    assert ticket.pending_business_seconds == 2 * 3600
    assert ticket.resolution_due_at == utc(2026, 3, 16, 13)


def test_offline_message_ticket_gets_the_offline_targets(inbox):
    contact = ContactFactory(inbox=inbox)
    ticket = ticket_create(inbox=inbox, contact=contact, channel_kind=ChannelKind.OFFLINE_FORM, at=T0)
    assert ticket.first_response_due_at == T0 + seconds(settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS)
    assert ticket.resolution_due_at == T0 + seconds(settings.SLA_OFFLINE_RESOLUTION_SECONDS)


def test_status_and_priority_changes_reach_the_inbox_operators(inbox, django_capture_on_commit_callbacks):
    _, ticket = chat_ticket(inbox, at=T0)
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = ticket_set_priority(ticket=ticket, priority=Ticket.Priority.URGENT)
        ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, at=T0 + seconds(60))
    assert (ticket.priority, ticket.status) == ("urgent", "pending")
    assert len(callbacks) == 2
    with pytest.raises(ValueError):
        ticket_set_status(ticket=ticket, status="closed")
    with pytest.raises(ValueError):
        ticket_set_priority(ticket=ticket, priority="whenever")


def test_follow_up_moves_the_conversation_reopens_the_ticket_and_drops_the_fresh_one(inbox, operator, time_machine):
    contact = ContactFactory(inbox=inbox)
    _, old = chat_ticket(inbox, at=T0, contact=contact)
    ticket_resolve(ticket=old, at=T0 + seconds(600))
    new_conversation, fresh = chat_ticket(inbox, at=T0 + seconds(3600), contact=contact, ended=False)
    operator_reply(new_conversation, operator, at=T0 + seconds(3630))
    # As chat services record it when the visitor sends the first message.
    requested = reporting_event_record(
        name=ReportingEvent.Name.CONVERSATION_REQUESTED,
        inbox=inbox,
        channel_kind=inbox.kind,
        start=T0 + seconds(3600),
        end=T0 + seconds(3600),
        ticket=fresh,
        conversation=new_conversation,
    )

    assert followup_candidate(conversation=new_conversation) == old
    time_machine.move_to(T0 + seconds(3700), tick=False)
    ticket = ticket_mark_followup(conversation=new_conversation, ticket=old, operator=operator)

    new_conversation.refresh_from_db()
    assert new_conversation.ticket == old
    assert (ticket.status, ticket.conversation_count, ticket.reopen_count) == ("open", 2, 1)
    assert not Ticket.objects.filter(pk=fresh.pk).exists()
    assert not ReportingEvent.objects.filter(ticket_id=fresh.pk).exists()
    requested.refresh_from_db()
    assert requested.ticket == old
    assert Ticket.objects.count() == 1
    assert followup_candidate(conversation=new_conversation) is None

    # Resolved again after the second contact: counted once, and not first-contact resolved.
    ticket_resolve(ticket=ticket, at=T0 + seconds(7200))
    time_machine.move_to(T0 + seconds(7200 + settings.FCR_WINDOW_SECONDS + 1), tick=False)
    figures = fcr(filters=MetricFilter())
    assert (figures["resolved"], figures["eligible"], figures["first_contact_resolved"]) == (1, 1, 0)
    assert resolution_time(filters=MetricFilter())["wall"]["mean"] == 7200.0


def test_follow_up_keeps_a_fresh_ticket_that_has_another_conversation(inbox, operator):
    contact = ContactFactory(inbox=inbox)
    _, old = chat_ticket(inbox, at=T0, contact=contact)
    ticket_resolve(ticket=old, at=T0 + seconds(600))
    first, fresh = chat_ticket(inbox, at=T0 + seconds(3600), contact=contact)
    from tests.factories import ConversationFactory
    from tickets.services import ticket_attach_conversation

    second = ConversationFactory(inbox=inbox, contact=contact, requested_at=T0 + seconds(4000))
    ticket_attach_conversation(ticket=fresh, conversation=second)
    ticket_mark_followup(conversation=second, ticket=old, operator=operator)
    fresh.refresh_from_db()
    assert fresh.conversation_count == 1
    assert list(fresh.conversations.all()) == [first]


def test_no_follow_up_candidate_after_the_fcr_window_or_for_another_contact(inbox):
    contact = ContactFactory(inbox=inbox)
    _, old = chat_ticket(inbox, at=T0, contact=contact)
    ticket_resolve(ticket=old, at=T0 + seconds(600))
    late, _ = chat_ticket(inbox, at=T0 + seconds(600 + settings.FCR_WINDOW_SECONDS + 1), contact=contact)
    assert followup_candidate(conversation=late) is None
    stranger, _ = chat_ticket(inbox, at=T0 + seconds(700))
    assert followup_candidate(conversation=stranger) is None
    with pytest.raises(ValueError):
        ticket_mark_followup(conversation=stranger, ticket=old, operator=None)


def test_follow_up_of_a_pending_ticket_opens_it(inbox, operator):
    contact = ContactFactory(inbox=inbox)
    _, old = chat_ticket(inbox, at=T0, contact=contact)
    ticket_set_status(ticket=old, status=Ticket.Status.PENDING, at=T0 + seconds(60))
    conversation, _ = chat_ticket(inbox, at=T0 + seconds(120), contact=contact, ended=False)
    assert followup_candidate(conversation=conversation) == old
    ticket = ticket_mark_followup(conversation=conversation, ticket=old, operator=operator)
    assert (ticket.status, ticket.conversation_count, ticket.reopen_count) == ("open", 2, 0)
    assert Conversation.objects.filter(ticket=old).count() == 2


def test_attaching_a_conversation_counts_it_once_and_moves_it_between_tickets(inbox):
    from tests.factories import ConversationFactory
    from tickets.services import ticket_attach_conversation

    conversation, first = chat_ticket(inbox, at=T0)
    ticket_attach_conversation(ticket=first, conversation=conversation)
    first.refresh_from_db()
    assert first.conversation_count == 1
    second = ticket_create(inbox=inbox, contact=conversation.contact, channel_kind=inbox.kind, at=T0)
    ticket_attach_conversation(ticket=second, conversation=conversation)
    ticket_attach_conversation(
        ticket=second, conversation=ConversationFactory(inbox=inbox, contact=conversation.contact)
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.conversation_count, second.conversation_count) == (0, 2)


def test_a_follow_up_puts_the_earlier_ticket_with_whoever_holds_the_conversation(inbox, operator):
    colleague = OperatorFactory(inboxes=[inbox]).user
    contact = ContactFactory(inbox=inbox)
    first, old = chat_ticket(inbox, at=T0, contact=contact)
    operator_reply(first, operator, at=T0 + seconds(30))
    ticket_resolve(ticket=old, at=T0 + seconds(600))
    conversation, _ = chat_ticket(inbox, at=T0 + seconds(3600), contact=contact, ended=False)
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.ACTIVE, assignee=colleague)
    conversation.refresh_from_db()

    ticket = ticket_mark_followup(conversation=conversation, ticket=old, operator=colleague)

    assert ticket.assignee == colleague
