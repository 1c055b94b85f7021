"""`seed_demo --history N`: a history that the services could have written, so the reports on it mean something."""

import io
from datetime import UTC, datetime

import pytest
from django.db.models import Count, F, Q

from chat.models import Conversation, Inbox
from supportdesk.history import generate_history
from supportdesk.reports import figures
from supportdesk.reports.query import ReportQuery
from surveys.models import SurveyInvitation
from tickets.business_hours import schedule_for
from tickets.models import ReportingEvent, Ticket

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def generated(db):
    out = io.StringIO()
    counts = generate_history(400, stdout=out, days=30, now=NOW)
    return counts, out.getvalue()


def test_writes_n_conversations_with_a_progress_bar(generated):
    counts, output = generated
    assert 400 <= Conversation.objects.count() <= 403
    assert counts["conversations"] == Conversation.objects.count()
    assert "history: 100%" in output
    kinds = set(Inbox.objects.filter(conversations__isnull=False).values_list("kind", flat=True))
    assert kinds == {"web_widget", "offline_form", "email", "api"}


def test_ticket_columns_and_reporting_events_agree(generated):
    for ticket in Ticket.objects.filter(first_response_at__isnull=False):
        event = ReportingEvent.objects.get(ticket=ticket, name="first_response")
        assert event.event_end == ticket.first_response_at
        assert event.value_seconds == pytest.approx(ticket.first_response_seconds)
        assert event.value_business_seconds == pytest.approx(ticket.first_response_business_seconds)
    for ticket in Ticket.objects.filter(status="resolved"):
        last = ReportingEvent.objects.filter(ticket=ticket, name="ticket_resolved").order_by("-event_end").first()
        assert last.event_end == ticket.resolved_at
        assert last.value_seconds == pytest.approx(ticket.resolution_seconds)
        assert ReportingEvent.objects.filter(ticket=ticket, name="ticket_reopened").count() == ticket.reopen_count
    counted = Ticket.objects.annotate(n=Count("conversations")).filter(n=F("conversation_count")).count()
    assert counted == Ticket.objects.count()


def test_business_seconds_follow_the_inbox_schedule(generated):
    shop = Inbox.objects.get(name="Support e-mail")  # Monday–Friday 9–17, Europe/Berlin
    schedule = schedule_for(shop)
    events = ReportingEvent.objects.filter(inbox=shop, name="first_response")[:40]
    assert events
    for event in events:
        assert event.value_business_seconds == pytest.approx(
            schedule.business_seconds(event.event_start, event.event_end), abs=0.01
        )
    assert any(e.value_business_seconds < e.value_seconds for e in events)


def test_conversations_are_consistent(generated):
    for conversation in Conversation.objects.all():
        if conversation.end_reason in ("abandoned", "missed"):
            assert conversation.first_response_at is None
            assert not SurveyInvitation.objects.filter(conversation=conversation).exists()
        if conversation.first_response_at:
            assert conversation.first_response_at >= conversation.requested_at
        if conversation.ended_at:
            assert conversation.ended_at >= conversation.requested_at
    for invitation in SurveyInvitation.objects.select_related("conversation"):
        assert invitation.conversation.first_response_at is not None
        assert invitation.conversation.end_reason in ("resolved", "closed_by_visitor", "visitor_left")


def test_message_counters_match_the_messages(generated):
    """The canned reply share reads these counters; they count the public operator messages, canned or not."""
    public = Q(messages__sender="operator", messages__private=False)
    counted = Conversation.objects.annotate(
        operators=Count("messages", filter=public),
        canned=Count("messages", filter=public & Q(messages__canned_reply__isnull=False)),
    )
    assert counted.filter(operators__gt=0, canned__gt=0).exists()
    assert not counted.exclude(operator_message_count=F("operators"), canned_message_count=F("canned")).exists()


def test_skew_and_outcomes_make_realistic_reports(generated):
    query = ReportQuery(start=datetime(2026, 2, 7, tzinfo=UTC), end=datetime(2026, 3, 10, tzinfo=UTC), preset="custom")
    summary = figures.summary(query, now=NOW)
    assert 0 < summary["abandonment"] < 20
    assert summary["missed"] > 0
    assert 0 < summary["transfer_rate"] < 30
    assert summary["frt_median"] < summary["frt_p90"]
    assert summary["csat"] is not None and summary["nps"] is not None
    grid = figures.heatmap(query)
    weekday_total, sunday_total = sum(grid[1]), sum(grid[6])
    assert weekday_total > sunday_total
    assert sum(row[10] for row in grid) > sum(row[3] for row in grid)  # 10:00 is busier than 03:00


def test_running_twice_adds_history_but_no_second_set_of_inboxes(generated):
    inboxes = Inbox.objects.count()
    generate_history(50, stdout=io.StringIO(), days=10, now=NOW)
    assert Inbox.objects.count() == inboxes
