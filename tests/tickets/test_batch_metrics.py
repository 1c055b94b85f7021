"""The batch readers the dashboard uses give, per key, exactly the single-metric selectors' figures.

Same constructed histories as test_metrics.py; run on both backends (percentiles come from percentile_cont on
PostgreSQL and are interpolated in Python on SQLite, in the batch readers too).
"""

import pytest
from django.db.models import F

from chat.models import Conversation, Message
from tests.factories import CannedReplyFactory, MessageFactory
from tests.tickets.test_metrics import MON, WEEK, conversation, desk, fcr_history, frt_history, seconds, utc
from tickets.selectors import (
    BREAKDOWNS,
    MetricFilter,
    canned_reply_share,
    conversation_metrics,
    conversation_outcomes,
    fcr,
    first_response_time,
    resolution_time,
    sla_compliance,
    ticket_counts,
    ticket_created_metrics,
    ticket_resolved_metrics,
    wait_time,
)

pytestmark = pytest.mark.django_db
__all__ = ["desk", "fcr_history", "frt_history"]  # fixtures used here
EMPTY = {"mean": None, "median": None, "p90": None}
NOW = utc(2026, 3, 20)


def keyed(rows, by):
    if by is None:
        return {None: rows}
    return {row.pop("key"): row for row in rows}


def assert_same(batch: dict, part: str, single: dict, empty: dict):
    for key, figures in batch.items():
        assert figures[part] == single.get(key, empty), (part, key)
    assert set(single) <= set(batch)


@pytest.mark.parametrize("by", [None, *BREAKDOWNS])
def test_tickets_created_in_one_query_equal_the_single_selectors(frt_history, by, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # one aggregate (+ one fetch per percentile measure on SQLite)
        batch = ticket_created_metrics(filters=WEEK, by=by, now=NOW)
    assert batch
    assert_same(
        batch,
        "frt",
        keyed(first_response_time(filters=WEEK, by=by), by),
        {"count": 0, "wall": EMPTY, "business": EMPTY},
    )
    sla = keyed(sla_compliance(filters=WEEK, by=by, now=NOW), by)
    first = {k: v["first_response"] for k, v in sla.items()}
    for key, figures in batch.items():
        assert figures["sla_first_response"] == first.get(key, {"total": 0, "met": 0, "rate": None})
    counts = ticket_counts(filters=WEEK, by=by)
    assert_same(batch, "counts", keyed(counts if by else dict(counts), by), {})


@pytest.mark.parametrize("by", [None, *BREAKDOWNS])
def test_tickets_resolved_in_one_query_equal_the_single_selectors(fcr_history, by):
    period = MetricFilter(start=utc(2026, 3, 9), end=utc(2026, 3, 23))
    batch = ticket_resolved_metrics(filters=period, by=by, now=NOW)
    assert batch
    empty_time = {"count": 0, "wall": EMPTY, "business": EMPTY}
    assert_same(batch, "resolution", keyed(resolution_time(filters=period, by=by), by), empty_time)
    assert_same(batch, "fcr", keyed(fcr(filters=period, by=by, now=NOW), by), {})
    sla = keyed(sla_compliance(filters=period, by=by, now=NOW), by)
    for key, figures in batch.items():
        assert figures["sla_resolution"] == sla[key]["resolution"]


@pytest.mark.parametrize("by", [None, *BREAKDOWNS])
def test_live_conversations_in_one_query_equal_the_single_selectors(desk, by):
    a, _, op1, _ = desk
    ended = {"status": Conversation.Status.ENDED, "ended_at": MON + seconds(900), "end_reason": "resolved"}
    answered = conversation(a, requested=MON, first_response_at=MON + seconds(30), assignee=op1, **ended)
    conversation(a, requested=MON, first_response_at=MON + seconds(90), assignee=op1, transfer_count=1, **ended)
    conversation(a, requested=MON, status="ended", end_reason="abandoned", ended_at=MON + seconds(45))
    conversation(a, requested=MON + seconds(86400), status="ended", end_reason="missed", ended_at=MON + seconds(87000))
    conversation(a, requested=MON)
    canned = CannedReplyFactory(inbox=a)
    for private, reply in [(False, canned), (False, None), (True, canned)]:
        MessageFactory(
            conversation=answered, sender=Message.Sender.OPERATOR, author=op1, private=private, canned_reply=reply
        )
        if not private:  # as the chat service that sends an operator message does
            Conversation.objects.filter(pk=answered.pk).update(
                operator_message_count=F("operator_message_count") + 1,
                canned_message_count=F("canned_message_count") + int(reply is not None),
            )

    batch = conversation_metrics(filters=WEEK, by=by)
    assert_same(batch, "outcomes", keyed(conversation_outcomes(filters=WEEK, by=by), by), {})
    assert_same(batch, "wait", keyed(wait_time(filters=WEEK, by=by), by), {"count": 0, "wall": EMPTY})
    empty_share = {"operator_messages": 0, "canned_messages": 0, "share": None}
    if by != "operator":  # per operator the message's author counts: canned_reply_share is read there
        assert_same(batch, "canned", keyed(canned_reply_share(filters=WEEK, by=by), by), empty_share)
    without_wait = conversation_metrics(filters=WEEK, by=by, wait=False)
    assert {k: v["outcomes"] for k, v in without_wait.items()} == {k: v["outcomes"] for k, v in batch.items()}
