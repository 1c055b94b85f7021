"""How conversations end, what each end records, and the sweeps that end them in any process."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from chat.models import Conversation, Message, OperatorProfile
from chat.services import conversations as lifecycle
from chat.services.messages import operator_message_send, visitor_message_send
from chat.services.presence import operator_connected, operator_disconnected, operator_heartbeat
from chat.services.visitors import visitor_connected, visitor_disconnected
from chat.tasks import chat_sweep
from tests.factories import (
    BusinessHoursIntervalFactory,
    ContactFactory,
    ConversationFactory,
    OperatorFactory,
    TicketFactory,
)
from tickets.models import ReportingEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def surveyed(monkeypatch):
    calls = []
    monkeypatch.setattr(lifecycle, "survey_conversation_ended", lambda *, conversation: calls.append(conversation.pk))
    return calls


def start(inbox, *, connected=True):
    contact = ContactFactory(inbox=inbox)
    message, _ = visitor_message_send(contact=contact, client_id=None, body="Hello?")
    if connected:
        visitor_connected(conversation_id=message.conversation_id)
    return Conversation.objects.get(pk=message.conversation_id)


def events(conversation):
    return list(ReportingEvent.objects.filter(conversation=conversation).order_by("pk").values_list("name", flat=True))


def test_a_request_creates_a_conversation_a_ticket_and_their_events(inbox):
    conversation = start(inbox)
    assert conversation.status == "queued" and conversation.ticket.conversation_count == 1
    assert conversation.ticket.subject == "Hello?"
    assert "conversation_requested" in events(conversation)
    assert ReportingEvent.objects.filter(name="ticket_created", ticket=conversation.ticket).count() == 1


def test_only_a_public_human_reply_is_the_first_response(inbox):
    operator = OperatorFactory(inboxes=[inbox])
    conversation = start(inbox)
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id=None, body="n", private=True)
    lifecycle.conversation_miss_if_unanswered(conversation_id=conversation.pk)  # operator online: not missed
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.status == "active"
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id=None, body="Hi")
    conversation.refresh_from_db()
    conversation.ticket.refresh_from_db()
    assert conversation.first_response_at == conversation.ticket.first_response_at is not None
    assert events(conversation).count("first_response") == 1


def test_unanswered_visitor_gone_past_the_grace_is_abandoned_without_a_survey(inbox, surveyed):
    OperatorFactory(inboxes=[inbox], max_chats=1)
    conversation = start(inbox)
    visitor_disconnected(conversation_id=conversation.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.ABANDONMENT_GRACE_SECONDS - 5)):
        chat_sweep()
    conversation.refresh_from_db()
    assert conversation.status == "active"  # a reload or a short drop is not leaving
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.ABANDONMENT_GRACE_SECONDS + 5)):
        result = chat_sweep()
    conversation.refresh_from_db()
    assert result["abandoned"] == 1
    assert (conversation.status, conversation.end_reason) == ("ended", "abandoned")
    assert "conversation_abandoned" in events(conversation) and surveyed == []


def test_a_visitor_still_connected_is_not_abandoned(inbox):
    OperatorFactory(inboxes=[inbox])
    conversation = start(inbox)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.ABANDONMENT_GRACE_SECONDS + 5)):
        chat_sweep()
    conversation.refresh_from_db()
    assert conversation.status == "active"


def test_a_dead_servers_stale_socket_count_does_not_keep_a_visitor_forever(inbox):
    OperatorFactory(inboxes=[inbox])
    conversation = start(inbox)  # counted as connected; its server then died without saying so
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=lifecycle.STALE_SOCKET_SECONDS + 5)):
        chat_sweep()
    conversation.refresh_from_db()
    assert conversation.end_reason == "abandoned"


def test_answered_visitor_gone_past_the_inactivity_timeout_left_and_is_surveyed(inbox, surveyed):
    operator = OperatorFactory(inboxes=[inbox])
    conversation = start(inbox)
    operator_message_send(profile=operator, conversation_id=conversation.pk, client_id=None, body="Hi")
    visitor_disconnected(conversation_id=conversation.pk)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.ABANDONMENT_GRACE_SECONDS + 5)):
        chat_sweep()
    conversation.refresh_from_db()
    assert conversation.status == "active"  # answered: not abandoned
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.VISITOR_INACTIVITY_TIMEOUT_SECONDS + 5)):
        chat_sweep()
    conversation.refresh_from_db()
    assert conversation.end_reason == "visitor_left"
    assert "conversation_visitor_left" in events(conversation) and surveyed == [conversation.pk]


def test_waiting_past_the_queue_timeout_is_missed_and_kept_as_an_offline_ticket(inbox, surveyed):
    OperatorFactory(inboxes=[inbox], max_chats=1)
    start(inbox)  # takes the only slot
    conversation = start(inbox)
    assert conversation.status == "queued"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.QUEUE_TIMEOUT_SECONDS - 30)):
        Conversation.objects.update(visitor_last_seen_at=timezone.now())  # both visitors' sockets heartbeat
        lifecycle.conversation_sweep()
    conversation.refresh_from_db()
    assert conversation.status == "queued"
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.QUEUE_TIMEOUT_SECONDS + 5)):
        # The visitor is still there (heartbeats): waiting too long, not leaving.
        Conversation.objects.update(visitor_last_seen_at=timezone.now())
        lifecycle.conversation_sweep()
    conversation.refresh_from_db()
    conversation.ticket.refresh_from_db()
    assert conversation.end_reason == "missed" and surveyed == []
    assert conversation.ticket.channel_kind == "offline_form" and conversation.ticket.status == "open"
    due = conversation.ticket.first_response_due_at - conversation.ticket.created_at
    assert due == dt.timedelta(seconds=settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS)
    bodies = list(conversation.messages.values_list("sender", "body"))
    assert bodies[0] == ("visitor", "Hello?") and bodies[-1][0] == "system"  # the transcript stays on the ticket
    assert "conversation_missed" in events(conversation)


def test_nobody_online_means_missed_at_the_next_sweep(inbox):
    conversation = start(inbox)
    assert lifecycle.conversation_sweep()["missed"] == 1
    conversation.refresh_from_db()
    assert conversation.end_reason == "missed"


def test_outside_business_hours_nobody_is_available(inbox):
    from chat.selectors import inbox_availability

    OperatorFactory(inboxes=[inbox])
    now = timezone.now()
    tomorrow = (now + dt.timedelta(days=1)).date()
    BusinessHoursIntervalFactory(inbox=inbox, weekday=tomorrow.weekday(), opens_at=dt.time(9), closes_at=dt.time(17))
    online, next_opening = inbox_availability(inbox, now)
    assert online is False
    assert next_opening == dt.datetime.combine(tomorrow, dt.time(9), tzinfo=dt.UTC)


def test_an_operator_whose_last_socket_closed_goes_offline_after_the_grace_but_not_on_a_reload(inbox):
    operator = OperatorFactory(inboxes=[inbox], status="offline")
    operator = operator_connected(profile=operator)
    assert operator.status == "online"
    operator_disconnected(profile=operator)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PRESENCE_GRACE_SECONDS - 5)):
        chat_sweep()
        operator_connected(profile=operator)  # the page reloaded
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PRESENCE_GRACE_SECONDS * 3)):
        chat_sweep()
    assert OperatorProfile.objects.get(pk=operator.pk).status == "online"
    operator_disconnected(profile=operator)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PRESENCE_GRACE_SECONDS + 5)):
        assert chat_sweep()["operators_offline"] == 1
    assert OperatorProfile.objects.get(pk=operator.pk).status == "offline"


def test_an_operator_left_online_by_a_server_that_died_goes_offline_when_their_socket_stops_refreshing(inbox):
    operator = operator_connected(profile=OperatorFactory(inboxes=[inbox], status="offline"))
    opened = timezone.now()
    # The server is killed: no disconnect ever comes, the count stays 1. Heartbeats have stopped.
    with time_machine.travel(opened + dt.timedelta(seconds=lifecycle.STALE_SOCKET_SECONDS - 5)):
        assert chat_sweep()["operators_offline"] == 0
    assert OperatorProfile.objects.get(pk=operator.pk).status == "online"
    with time_machine.travel(opened + dt.timedelta(seconds=lifecycle.STALE_SOCKET_SECONDS + 5)):
        assert chat_sweep()["operators_offline"] == 1
    operator.refresh_from_db()
    assert operator.status == "offline" and operator.connection_count == 0
    assert operator.disconnected_at == operator.last_seen_at  # closed at its last sign of life


def test_a_socket_that_keeps_refreshing_keeps_its_operator_online(inbox):
    operator = operator_connected(profile=OperatorFactory(inboxes=[inbox], status="offline"))
    opened = timezone.now()
    for beat in range(1, 6):  # five heartbeats, well past the stale age since the socket opened
        with time_machine.travel(opened + dt.timedelta(seconds=beat * lifecycle.SOCKET_HEARTBEAT_SECONDS)):
            operator_heartbeat(profile=operator)
            chat_sweep()
    operator.refresh_from_db()
    assert operator.status == "online" and operator.connection_count == 1


def test_a_heartbeat_connects_again_a_live_socket_whose_count_a_sweep_dropped(inbox):
    operator = operator_connected(profile=OperatorFactory(inboxes=[inbox], status="offline"))
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=lifecycle.STALE_SOCKET_SECONDS + 1)):
        chat_sweep()  # its server was too slow to refresh in time: the count is dropped, the operator offline
        assert OperatorProfile.objects.get(pk=operator.pk).status == "offline"
        operator_heartbeat(profile=operator)  # the socket was alive after all
    operator.refresh_from_db()
    assert operator.status == "online" and operator.connection_count == 1 and operator.disconnected_at is None
    operator_disconnected(profile=operator)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PRESENCE_GRACE_SECONDS + 5)):
        assert chat_sweep()["operators_offline"] == 1


def test_a_missed_conversation_tells_the_visitor(inbox):
    conversation = start(inbox)
    lifecycle.conversation_sweep()
    notice = Message.objects.filter(conversation=conversation, sender="system").get()
    assert notice.private is False and notice.body


def test_the_sweep_runs_on_the_beat_schedule():
    from supportdesk.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["chat-sweep"]
    assert entry["task"] == "chat.sweep" and entry["schedule"] == settings.SWEEP_INTERVAL_SECONDS
    assert "chat.sweep" in app.tasks


def test_visitors_who_never_wrote_and_cannot_come_back_are_purged_in_batches(inbox):
    """Unreachable: last seen before the token lifetime. Kept: anyone with a chat, a ticket or operator notes,
    and anyone still able to come back."""
    from chat.models import Contact
    from chat.services.visitors import visitor_purge_unreachable
    from chat.tasks import chat_purge_unreachable_visitors

    expired = timezone.now() - dt.timedelta(days=settings.VISITOR_TOKEN_MAX_AGE_DAYS, minutes=1)
    silent = [ContactFactory(inbox=inbox, last_seen_at=expired) for _ in range(3)]  # named, with an e-mail
    chatted = ConversationFactory(inbox=inbox, contact=ContactFactory(inbox=inbox, last_seen_at=expired)).contact
    ticketed = TicketFactory(inbox=inbox, contact=ContactFactory(inbox=inbox, last_seen_at=expired)).contact
    noted = ContactFactory(inbox=inbox, last_seen_at=expired, notes="Called about an invoice")
    recent = ContactFactory(inbox=inbox, last_seen_at=expired + dt.timedelta(minutes=2))

    assert visitor_purge_unreachable(batch=2) == 3  # two batches
    assert not Contact.objects.filter(pk__in=[c.pk for c in silent]).exists()
    kept = {chatted.pk, ticketed.pk, noted.pk, recent.pk}
    assert set(Contact.objects.values_list("pk", flat=True)) == kept
    assert chat_purge_unreachable_visitors() == {"contacts_deleted": 0, "unsent_attachments_deleted": 0}
    entry = settings.CELERY_BEAT_SCHEDULE["chat-purge-unreachable-visitors"]
    assert entry["task"] == "chat.purge_unreachable_visitors"
