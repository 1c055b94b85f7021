"""The beat task flags at-risk and breached SLAs once each and alerts the inbox's operators in real time."""

import pytest

from chat.realtime import inbox_operators_group
from tests.factories import InboxFactory, OperatorFactory
from tests.tickets.histories import chat_ticket, operator_reply, seconds, utc
from tickets.models import Ticket
from tickets.services import ticket_set_status
from tickets.tasks import sla_sweep_task

pytestmark = pytest.mark.django_db
T0 = utc(2026, 3, 9, 10)


@pytest.fixture
def inbox(settings):
    settings.SLA_CHAT_FIRST_RESPONSE_SECONDS = 120
    settings.SLA_CHAT_RESOLUTION_SECONDS = 3600
    settings.SLA_AT_RISK_RATIO = 0.8
    return InboxFactory()


@pytest.fixture
def operators_socket(inbox, group_listener):
    """What a socket in the inbox's operator group receives; returns a drain()."""
    listener = group_listener(inbox_operators_group(inbox.id))

    def drain():
        frames = []
        for frame in listener.frames():
            frame = dict(frame)
            # Operator frames carry the id a reconnecting inbox `sync`s from.
            assert isinstance(frame.pop("event_id"), int)
            frames.append(frame)
        return frames

    return drain


def sweep_twice(capture):
    with capture(execute=True):
        sla_sweep_task.delay()
    with capture(execute=True):
        sla_sweep_task.delay()


def test_first_response_at_risk_then_breached_each_alerted_once(
    inbox, operators_socket, time_machine, django_capture_on_commit_callbacks
):
    conversation, ticket = chat_ticket(inbox, at=T0, ended=False)

    time_machine.move_to(T0 + seconds(90), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    assert operators_socket() == []

    time_machine.move_to(T0 + seconds(100), tick=False)  # 80 % of 120 s spent
    sweep_twice(django_capture_on_commit_callbacks)
    assert operators_socket() == [
        {
            "type": "sla.alert",
            "ticket_id": ticket.id,
            "conversation_id": conversation.id,
            "target": "first_response",
            "state": "at_risk",
            "due_at": (T0 + seconds(120)).isoformat(),
        }
    ]

    time_machine.move_to(T0 + seconds(121), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    frames = operators_socket()
    assert [(f["target"], f["state"]) for f in frames] == [("first_response", "breached")]
    ticket.refresh_from_db()
    assert ticket.first_response_at_risk and ticket.first_response_breached
    assert not ticket.resolution_at_risk and not ticket.resolution_breached


def test_a_ticket_found_past_due_gets_only_the_breach_alert(
    inbox, operators_socket, time_machine, django_capture_on_commit_callbacks
):
    chat_ticket(inbox, at=T0, ended=False)
    time_machine.move_to(T0 + seconds(3601), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    frames = operators_socket()
    assert sorted((f["target"], f["state"]) for f in frames) == [
        ("first_response", "breached"),
        ("resolution", "breached"),
    ]


def test_answered_pending_and_resolved_tickets_raise_no_alert(
    inbox, operators_socket, time_machine, django_capture_on_commit_callbacks
):
    operator = OperatorFactory(inboxes=[inbox]).user
    answered_conversation, answered = chat_ticket(inbox, at=T0, ended=False)
    operator_reply(answered_conversation, operator, at=T0 + seconds(60))
    _, pending = chat_ticket(inbox, at=T0)
    operator_reply(pending.conversations.get(), operator, at=T0 + seconds(30))
    ticket_set_status(ticket=pending, status=Ticket.Status.PENDING, at=T0 + seconds(40))

    time_machine.move_to(T0 + seconds(2000), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    # Only the answered, open ticket is on the resolution clock: 80 % of 3600 s is 2880 s.
    assert operators_socket() == []
    time_machine.move_to(T0 + seconds(2900), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    frames = operators_socket()
    assert [(f["ticket_id"], f["target"], f["state"]) for f in frames] == [(answered.id, "resolution", "at_risk")]


def test_late_answer_is_flagged_breached_and_counts_against_compliance(inbox, operators_socket):
    from tickets.selectors import MetricFilter, sla_compliance

    operator = OperatorFactory(inboxes=[inbox]).user
    conversation, ticket = chat_ticket(inbox, at=T0, ended=False)
    operator_reply(conversation, operator, at=T0 + seconds(150))
    conversation2, _ = chat_ticket(inbox, at=T0, ended=False)
    operator_reply(conversation2, operator, at=T0 + seconds(50))
    ticket.refresh_from_db()
    assert ticket.first_response_breached
    figures = sla_compliance(filters=MetricFilter(), now=T0 + seconds(200))
    assert figures["first_response"] == {"total": 2, "met": 1, "rate": 0.5}


def test_offline_message_breach_alert_has_no_conversation(
    inbox, operators_socket, time_machine, django_capture_on_commit_callbacks, settings
):
    from tests.factories import ContactFactory
    from tickets.services import ticket_create

    settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS = 24 * 3600
    ticket = ticket_create(inbox=inbox, contact=ContactFactory(inbox=inbox), channel_kind="offline_form", at=T0)
    time_machine.move_to(T0 + seconds(24 * 3600 + 1), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    frames = [f for f in operators_socket() if f["target"] == "first_response"]
    assert frames == [
        {
            "type": "sla.alert",
            "ticket_id": ticket.id,
            "conversation_id": None,
            "target": "first_response",
            "state": "breached",
            "due_at": (T0 + seconds(24 * 3600)).isoformat(),
        }
    ]


def test_missed_chat_kept_as_offline_message_runs_on_the_offline_target(
    inbox, operators_socket, time_machine, django_capture_on_commit_callbacks, settings
):
    from tickets.services import ticket_set_channel_kind

    settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS = 24 * 3600
    settings.SLA_OFFLINE_RESOLUTION_SECONDS = 72 * 3600
    _, ticket = chat_ticket(inbox, at=T0, ended=False)
    time_machine.move_to(T0 + seconds(300), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    assert [(f["target"], f["state"]) for f in operators_socket()] == [("first_response", "breached")]

    ticket = ticket_set_channel_kind(ticket=ticket, channel_kind="offline_form", subject="Where is my order?")
    assert (ticket.channel_kind, ticket.subject) == ("offline_form", "Where is my order?")
    assert ticket.first_response_due_at == T0 + seconds(24 * 3600)
    assert not ticket.first_response_breached and not ticket.first_response_at_risk
    time_machine.move_to(T0 + seconds(301), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    assert operators_socket() == []
    time_machine.move_to(T0 + seconds(0.8 * 24 * 3600), tick=False)
    sweep_twice(django_capture_on_commit_callbacks)
    assert [(f["target"], f["state"]) for f in operators_socket()] == [("first_response", "at_risk")]


def test_a_reply_landing_during_the_sweep_raises_no_flag(inbox, time_machine, monkeypatch):
    from tickets.services import sla

    operator = OperatorFactory(inboxes=[inbox]).user
    _, first = chat_ticket(inbox, at=T0, ended=False)
    second_conversation, second = chat_ticket(inbox, at=T0 + seconds(1), ended=False)
    alerted = []

    def alert_then_second_is_answered(ticket, target, state, due_at):
        alerted.append((ticket.pk, target, state))
        if ticket.pk == first.pk:
            # The sweep has already read both tickets as overdue when this reply is stored.
            operator_reply(second_conversation, operator, at=T0 + seconds(140))

    monkeypatch.setattr(sla, "_sla_alert", alert_then_second_is_answered)
    time_machine.move_to(T0 + seconds(150), tick=False)
    sla.sla_sweep()
    assert alerted == [(first.pk, "first_response", "breached")]
    second.refresh_from_db()
    assert second.first_response_at is not None
    assert not second.first_response_at_risk
