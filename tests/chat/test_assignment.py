"""Routing: auto-assignment to the least busy online operator, else a FIFO queue with position and wait."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import close_old_connections
from django.utils import timezone

from chat.models import Conversation, OperatorProfile
from chat.selectors import conversation_payload
from chat.services.assignment import conversation_claim
from chat.services.errors import ChatError
from chat.services.messages import visitor_message_send
from chat.services.presence import operator_status_set
from tests.factories import ContactFactory, ConversationFactory, OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True)


def request(inbox, body="hi"):
    message, _ = visitor_message_send(contact=ContactFactory(inbox=inbox), client_id=None, body=body)
    return Conversation.objects.get(pk=message.conversation_id)


def test_goes_to_the_online_operator_with_the_fewest_active_chats(inbox):
    busy = OperatorFactory(inboxes=[inbox])
    idle = OperatorFactory(inboxes=[inbox])
    OperatorFactory(inboxes=[inbox], status="away")
    ConversationFactory(inbox=inbox, status="active", assignee=busy.user)
    conversation = request(inbox)
    assert conversation.status == "active" and conversation.assignee_id == idle.user_id


def test_ties_go_to_the_operator_waiting_longest_since_their_last_assignment(inbox):
    now = timezone.now()
    recent = OperatorFactory(inboxes=[inbox], last_assigned_at=now - dt.timedelta(minutes=1))
    longest = OperatorFactory(inboxes=[inbox], last_assigned_at=now - dt.timedelta(hours=1))
    assert request(inbox).assignee_id == longest.user_id
    # `longest` now holds a chat: fewer active chats comes first.
    assert request(inbox).assignee_id == recent.user_id


def test_full_operators_leave_the_conversation_waiting_in_a_fifo_queue_with_position_and_wait(inbox):
    operator = OperatorFactory(inboxes=[inbox], max_chats=1)
    first = request(inbox)
    assert first.assignee_id == operator.user_id
    waiting = [request(inbox, f"w{n}") for n in range(3)]
    assert [c.status for c in waiting] == ["queued"] * 3
    payloads = [conversation_payload(c) for c in waiting]
    assert [p["queue_position"] for p in payloads] == [1, 2, 3]
    waits = [p["estimated_wait_seconds"] for p in payloads]
    assert waits[0] > 0 and waits == sorted(waits) and waits[2] == 3 * waits[0]


def test_estimated_wait_comes_from_recent_handling_times(inbox):
    OperatorFactory(inboxes=[inbox], max_chats=1, status="away")
    now = timezone.now()
    for minutes in (2, 4):
        ConversationFactory(
            inbox=inbox,
            status="ended",
            end_reason="resolved",
            assigned_at=now - dt.timedelta(minutes=minutes),
            ended_at=now,
        )
    waiting = request(inbox)
    assert conversation_payload(waiting)["estimated_wait_seconds"] == 180  # mean 3 min, position 1, one slot


def test_when_a_slot_frees_or_an_operator_comes_online_the_oldest_waiting_is_assigned(inbox):
    operator = OperatorFactory(inboxes=[inbox], max_chats=1, status="away")
    older, newer = request(inbox, "older"), request(inbox, "newer")
    operator_status_set(profile=operator, status="online")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.assignee_id == operator.user_id and newer.status == "queued"
    assert conversation_payload(newer)["queue_position"] == 1
    from chat.services.conversations import conversation_resolve

    conversation_resolve(profile=operator, conversation_id=older.pk)
    newer.refresh_from_db()
    assert newer.status == "active" and newer.assignee_id == operator.user_id


def test_an_operator_of_another_inbox_is_never_chosen(inbox):
    from tests.factories import InboxFactory

    OperatorFactory(inboxes=[InboxFactory()])
    assert request(inbox).status == "queued"


def _race(target, n):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 — the outcome of each racer is the result
            results[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_claims_exactly_one_wins_the_others_get_conflict(inbox):
    operators = [OperatorFactory(inboxes=[inbox], status="away") for _ in range(4)]
    conversation = request(inbox)
    results = _race(lambda i: conversation_claim(profile=operators[i], conversation_id=conversation.pk), 4)
    winners = [r for r in results if isinstance(r, Conversation)]
    losers = [r for r in results if isinstance(r, ChatError)]
    assert len(winners) == 1 and len(losers) == 3, results
    assert {e.code for e in losers} == {"conflict"}
    conversation.refresh_from_db()
    assert conversation.assignee_id == winners[0].assignee_id
    from tickets.models import ReportingEvent

    assert ReportingEvent.objects.filter(name="conversation_assigned", conversation=conversation).count() == 1


def test_simultaneous_resends_of_one_client_id_store_one_message(inbox):
    contact = ContactFactory(inbox=inbox)
    results = _race(lambda i: visitor_message_send(contact=contact, client_id="retry-1", body="hello"), 4)
    messages = {r[0].pk for r in results if isinstance(r, tuple)}
    assert len(messages) == 1, results
    assert sum(1 for r in results if isinstance(r, tuple) and r[1]) == 1
    assert Conversation.objects.filter(contact=contact).count() == 1


def test_queue_keeps_its_order_across_time(inbox):
    OperatorFactory(inboxes=[inbox], max_chats=1, status="away")
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=5), tick=False):
        old = request(inbox)
    new = request(inbox)
    assert conversation_payload(old)["queue_position"] == 1 and conversation_payload(new)["queue_position"] == 2
    assert OperatorProfile.objects.get(max_chats=1).status == "away"


def _answered_by(operator, inbox, body="hi"):
    """A visitor's chat that `operator` took and answered: its ticket is theirs."""
    from chat.services.messages import operator_message_send

    conversation = request(inbox, body)
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id=None, body="Hello!")
    conversation.refresh_from_db()
    assert conversation.ticket.assignee_id == operator.user_id
    return conversation


def test_a_transfer_to_an_operator_gives_them_the_ticket_too(inbox):
    from chat.services.assignment import conversation_transfer

    first = OperatorFactory(inboxes=[inbox], status="away")
    second = OperatorFactory(inboxes=[inbox], status="away")
    conversation = _answered_by(first, inbox)

    conversation_transfer(profile=first, conversation_id=conversation.pk, to_operator_id=second.user_id)

    conversation.refresh_from_db()
    assert conversation.assignee_id == second.user_id
    assert conversation.ticket.assignee_id == second.user_id


def test_a_transfer_line_is_written_in_the_inbox_s_language_for_operators_only(inbox):
    from chat.services.assignment import conversation_transfer

    inbox.language = "fa"
    inbox.save()
    first = OperatorFactory(inboxes=[inbox], status="away", display_name="سارا")
    second = OperatorFactory(inboxes=[inbox], status="away", display_name="علی")
    conversation = _answered_by(first, inbox)

    conversation_transfer(profile=first, conversation_id=conversation.pk, to_operator_id=second.user_id)

    line = conversation.messages.get(sender="system", private=True)
    assert line.body == "سارا این گفتگو را به علی منتقل کرد."
    assert not conversation.messages.filter(sender="system", private=False).exists()


def test_a_transfer_to_a_team_unassigns_the_ticket_until_an_operator_of_the_team_takes_it(inbox):
    from chat.services.assignment import conversation_transfer
    from tests.factories import TeamFactory

    billing = TeamFactory(name="Billing")
    first = OperatorFactory(inboxes=[inbox], status="away")
    biller = OperatorFactory(inboxes=[inbox], teams=[billing], status="away")
    conversation = _answered_by(first, inbox)

    conversation_transfer(profile=first, conversation_id=conversation.pk, to_team_id=billing.pk)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.ticket.assignee_id) == ("queued", None)
    # The ticket goes with its conversation to the team: the team's figures and queue count it from now on.
    assert conversation.ticket.team_id == billing.pk

    conversation_claim(profile=biller, conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert conversation.ticket.assignee_id == biller.user_id


def test_a_transfer_to_a_team_with_an_operator_online_gives_them_the_ticket_at_once(inbox):
    from chat.services.assignment import conversation_transfer
    from tests.factories import TeamFactory

    billing = TeamFactory(name="Billing")
    first = OperatorFactory(inboxes=[inbox], status="away")
    conversation = _answered_by(first, inbox)
    biller = OperatorFactory(inboxes=[inbox], teams=[billing], status="online")

    conversation_transfer(profile=first, conversation_id=conversation.pk, to_team_id=billing.pk)

    conversation.refresh_from_db()
    assert conversation.assignee_id == biller.user_id
    assert conversation.ticket.assignee_id == biller.user_id


def test_a_transferred_chat_waiting_for_a_team_goes_with_its_ticket_to_the_operator_who_comes_online(inbox):
    from chat.services.assignment import conversation_transfer
    from tests.factories import TeamFactory

    billing = TeamFactory(name="Billing")
    first = OperatorFactory(inboxes=[inbox], status="away")
    biller = OperatorFactory(inboxes=[inbox], teams=[billing], status="away")
    conversation = _answered_by(first, inbox)
    conversation_transfer(profile=first, conversation_id=conversation.pk, to_team_id=billing.pk)

    operator_status_set(profile=biller, status="online")

    conversation.refresh_from_db()
    assert conversation.assignee_id == biller.user_id
    assert conversation.ticket.assignee_id == biller.user_id
