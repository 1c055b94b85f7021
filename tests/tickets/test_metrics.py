"""Report figures from constructed histories, exactly as metrics.md defines them.

The same expectations hold on SQLite (percentiles interpolated in Python) and on PostgreSQL
(percentile_cont): run this module on both backends.
"""

import random
from datetime import date, time

import pytest
from django.conf import settings

from chat.models import ChannelKind, Conversation, Message
from tests.factories import (
    BusinessHoursIntervalFactory,
    CannedReplyFactory,
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MessageFactory,
    OperatorFactory,
    TeamFactory,
)
from tests.tickets.histories import chat_ticket, operator_reply, seconds, utc
from tickets.selectors import (
    MetricFilter,
    breakdown_labels,
    canned_reply_share,
    conversation_outcomes,
    fcr,
    first_response_time,
    percentile_cont,
    sla_compliance,
    ticket_counts,
    wait_time,
)
from tickets.services import ticket_attach_conversation, ticket_create, ticket_reopen, ticket_resolve

pytestmark = pytest.mark.django_db
MON = utc(2026, 3, 9, 10)
WEEK = MetricFilter(start=utc(2026, 3, 9), end=utc(2026, 3, 16))


def stats(mean, median, p90):
    return {"mean": pytest.approx(mean), "median": pytest.approx(median), "p90": pytest.approx(p90)}


@pytest.fixture
def desk():
    """Inbox A open 24/7 (operator 1), inbox B open Mon–Fri 09:00–17:00 UTC (operator 2), one team each."""
    a = InboxFactory(name="A", team=TeamFactory(name="Team A"))
    b = InboxFactory(name="B", team=TeamFactory(name="Team B"), time_zone="UTC")
    for weekday in range(5):
        BusinessHoursIntervalFactory(inbox=b, weekday=weekday, opens_at=time(9), closes_at=time(17))
    op1 = OperatorFactory(inboxes=[a], display_name="Ada").user
    op2 = OperatorFactory(inboxes=[b], display_name="Bo").user
    return a, b, op1, op2


@pytest.fixture
def frt_history(desk):
    a, b, op1, op2 = desk
    for created, wait in [(MON, 10), (MON + seconds(3600), 20), (MON + seconds(7200), 40), (utc(2026, 3, 10, 10), 100)]:
        conversation, _ = chat_ticket(a, at=created)
        operator_reply(conversation, op1, at=created + seconds(wait))
    chat_ticket(a, at=MON)  # never answered
    friday, _ = chat_ticket(b, at=utc(2026, 3, 13, 16, 59))
    operator_reply(friday, op2, at=utc(2026, 3, 16, 9, 1))  # 64 h 2 min on the wall, 2 business minutes
    noon, _ = chat_ticket(b, at=utc(2026, 3, 9, 12))
    operator_reply(noon, op2, at=utc(2026, 3, 9, 12, 5))
    # Created the week after: outside the period.
    later, _ = chat_ticket(a, at=utc(2026, 3, 16, 10))
    operator_reply(later, op1, at=utc(2026, 3, 16, 10, 5))
    return desk


def test_first_response_time_mean_median_p90_wall_and_business(frt_history):
    figures = first_response_time(filters=WEEK)
    assert figures == {
        "count": 6,
        "wall": stats(230990 / 6, 70, 115410),
        "business": stats(590 / 6, 70, 210),
    }


def test_first_response_time_per_inbox_operator_team_and_day(frt_history):
    a, b, op1, op2 = frt_history
    per_inbox = first_response_time(filters=WEEK, by="inbox")
    assert per_inbox == [
        {"key": a.id, "count": 4, "wall": stats(42.5, 30, 82), "business": stats(42.5, 30, 82)},
        {"key": b.id, "count": 2, "wall": stats(115410, 115410, 207498), "business": stats(210, 210, 282)},
    ]
    assert breakdown_labels(by="inbox", keys=[row["key"] for row in per_inbox]) == {a.id: "A", b.id: "B"}
    assert [(r["key"], r["count"]) for r in first_response_time(filters=WEEK, by="operator")] == [
        (op1.id, 4),
        (op2.id, 2),
    ]
    assert breakdown_labels(by="operator", keys=[op1.id, op2.id]) == {op1.id: "Ada", op2.id: "Bo"}
    per_day = first_response_time(filters=WEEK, by="day")
    assert [(r["key"], r["count"], r["wall"]["median"]) for r in per_day] == [
        (date(2026, 3, 9), 4, 30.0),
        (date(2026, 3, 10), 1, 100.0),
        (date(2026, 3, 13), 1, 230520.0),
    ]
    only_b = first_response_time(filters=MetricFilter(start=WEEK.start, end=WEEK.end, operator_ids=(op2.id,)))
    assert only_b["count"] == 2
    team_b = first_response_time(filters=MetricFilter(start=WEEK.start, end=WEEK.end, team_ids=(b.team_id,)))
    assert team_b["business"] == stats(210, 210, 282)
    offline = first_response_time(filters=MetricFilter(channel_kinds=(ChannelKind.OFFLINE_FORM,)))
    assert offline == {"count": 0, "wall": stats(None, None, None), "business": stats(None, None, None)}


def test_first_response_sla_compliance(frt_history, time_machine):
    a, b, _, _ = frt_history
    figures = sla_compliance(filters=WEEK, now=utc(2026, 3, 20))
    # Inbox A: four answered within 120 s and one unanswered past due. Inbox B: Friday's answer came exactly at
    # its due time (one business minute on Friday, one on Monday); the 5-minute answer is late.
    assert figures["first_response"] == {"total": 7, "met": 5, "rate": 5 / 7}
    rows = sla_compliance(filters=WEEK, by="inbox", now=utc(2026, 3, 20))
    assert [(r["key"], r["first_response"]["met"], r["first_response"]["total"]) for r in rows] == [
        (a.id, 4, 5),
        (b.id, 1, 2),
    ]
    # While an unanswered ticket is not yet due, its outcome is unknown and it is left out.
    assert sla_compliance(filters=WEEK, now=MON + seconds(60))["first_response"]["total"] == 6


def test_percentiles_match_percentile_cont_on_this_backend(desk):
    a, _, op1, _ = desk
    rng = random.Random(4)
    waits = [rng.randint(1, 5000) for _ in range(37)]
    for index, wait in enumerate(waits):
        conversation, _ = chat_ticket(a, at=MON + seconds(index * 60))
        operator_reply(conversation, op1, at=MON + seconds(index * 60 + wait))
    ordered = sorted(waits)
    figures = first_response_time(filters=MetricFilter())
    assert figures["wall"]["median"] == pytest.approx(percentile_cont(ordered, 0.5))
    assert figures["wall"]["p90"] == pytest.approx(percentile_cont(ordered, 0.9))
    assert figures["wall"]["mean"] == pytest.approx(sum(waits) / len(waits))


def test_percentile_cont_interpolates_between_closest_ranks():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7
    assert percentile_cont([10, 20, 40, 100], 0.5) == 30
    assert percentile_cont([10, 20, 40, 100], 0.9) == pytest.approx(82)


@pytest.fixture
def fcr_history(desk):
    a, _, op1, _ = desk
    resolved_at = utc(2026, 3, 9, 12)
    history = {}

    def resolved_ticket(name, contact=None, at=MON, resolved=resolved_at):
        conversation, ticket = chat_ticket(a, at=at, contact=contact)
        history[name] = ticket_resolve(ticket=ticket, at=resolved)
        return conversation.contact

    resolved_ticket("single contact")
    returning = resolved_ticket("contact came back within the window")
    resolved_ticket("second ticket", contact=returning, at=utc(2026, 3, 10, 12), resolved=utc(2026, 3, 10, 13))
    resolved_ticket("reopened")
    ticket_reopen(ticket=history["reopened"], at=utc(2026, 3, 9, 14))
    history["reopened"] = ticket_resolve(ticket=history["reopened"], at=utc(2026, 3, 9, 15))
    _, two = chat_ticket(a, at=MON)
    ticket_attach_conversation(ticket=two, conversation=ConversationFactory(inbox=a, contact=two.contact))
    history["two conversations"] = ticket_resolve(ticket=two, at=resolved_at)
    resolved_ticket("resolved an hour ago", at=utc(2026, 3, 19, 22), resolved=utc(2026, 3, 19, 23))
    after_window = resolved_ticket("contact came back after the window")
    ticket_create(inbox=a, contact=after_window, channel_kind=a.kind, at=utc(2026, 3, 12, 12, 1))
    ticket_create(inbox=a, contact=ContactFactory(inbox=a), channel_kind=a.kind, at=utc(2026, 3, 9, 13))
    return history


def test_fcr_rules_and_awaiting_window(fcr_history):
    now = utc(2026, 3, 20)
    assert settings.FCR_WINDOW_SECONDS == 72 * 3600
    figures = fcr(filters=MetricFilter(), now=now)
    # First-contact resolved: "single contact", "second ticket", "contact came back after the window".
    assert figures == {
        "resolved": 7,
        "eligible": 6,
        "awaiting_window": 1,
        "first_contact_resolved": 3,
        "rate": 0.5,
    }
    monday = fcr(filters=MetricFilter(start=utc(2026, 3, 9), end=utc(2026, 3, 10)), now=now)
    assert (monday["eligible"], monday["first_contact_resolved"]) == (5, 2)
    per_day = fcr(filters=MetricFilter(), by="day", now=now)
    assert [(r["key"], r["resolved"], r["awaiting_window"], r["first_contact_resolved"]) for r in per_day] == [
        (date(2026, 3, 9), 5, 0, 2),
        (date(2026, 3, 10), 1, 0, 1),
        (date(2026, 3, 19), 1, 1, 0),
    ]


def test_fcr_window_is_a_setting(fcr_history, settings):
    settings.FCR_WINDOW_SECONDS = 3600
    figures = fcr(filters=MetricFilter(), now=utc(2026, 3, 20))
    # With a one-hour window the return a day later and the reopen two hours later no longer break FCR.
    assert (figures["eligible"], figures["first_contact_resolved"]) == (7, 6)


def conversation(inbox, *, requested, **fields):
    return ConversationFactory(inbox=inbox, requested_at=requested, **fields)


def test_wait_time_abandonment_transfers_and_canned_replies(desk):
    a, _, op1, _ = desk
    ended = {"status": Conversation.Status.ENDED, "ended_at": MON + seconds(900)}
    answered_fast = conversation(
        a, requested=MON, first_response_at=MON + seconds(30), assignee=op1, **ended, end_reason="resolved"
    )
    conversation(
        a,
        requested=MON,
        first_response_at=MON + seconds(90),
        assignee=op1,
        transfer_count=2,
        **ended,
        end_reason="resolved",
    )
    conversation(a, requested=MON, status="ended", end_reason="abandoned", ended_at=MON + seconds(45))
    conversation(a, requested=MON, status="ended", end_reason="missed", ended_at=MON + seconds(300))
    conversation(a, requested=MON)  # still waiting: requested, no wait yet
    offline = InboxFactory(kind=ChannelKind.OFFLINE_FORM)
    conversation(offline, requested=MON, channel_kind=ChannelKind.OFFLINE_FORM)

    assert wait_time(filters=MetricFilter()) == {"count": 3, "wall": stats(55, 45, 81)}
    assert conversation_outcomes(filters=MetricFilter()) == {
        "requested": 5,
        "answered": 2,
        "abandoned": 1,
        "abandonment_rate": 0.2,
        "mean_wait_before_abandonment": pytest.approx(45),
        "missed": 1,
        "transferred": 1,
        "transfer_rate": 0.5,
    }
    per_operator = conversation_outcomes(filters=MetricFilter(), by="operator")
    assert [(r["key"], r["requested"], r["answered"]) for r in per_operator] == [(op1.id, 2, 2), (None, 3, 0)]

    canned = CannedReplyFactory(inbox=a)
    for private, reply in [(False, canned), (False, None), (False, None), (True, canned)]:
        MessageFactory(
            conversation=answered_fast, sender=Message.Sender.OPERATOR, author=op1, private=private, canned_reply=reply
        )
    MessageFactory(conversation=answered_fast, sender=Message.Sender.VISITOR)
    assert canned_reply_share(filters=MetricFilter()) == {"operator_messages": 3, "canned_messages": 1, "share": 1 / 3}
    assert canned_reply_share(filters=MetricFilter(), by="operator") == [
        {"key": op1.id, "operator_messages": 3, "canned_messages": 1, "share": 1 / 3}
    ]


def test_ticket_counts_and_unknown_breakdown(frt_history):
    assert ticket_counts(filters=WEEK) == {"created": 7, "open": 7, "pending": 0, "resolved": 0, "reopened": 0}
    with pytest.raises(ValueError):
        first_response_time(filters=WEEK, by="weather")


def test_a_dashboard_in_one_report_session_reads_the_same_figures(frt_history):
    from tickets.selectors import report_session

    outside = first_response_time(filters=WEEK, by="inbox")
    with report_session():
        inside = first_response_time(filters=WEEK, by="inbox")
        assert sla_compliance(filters=WEEK, now=utc(2026, 3, 20))["first_response"]["met"] == 5
    assert inside == outside
