"""Live chat outcomes, read from the conversation columns that chat services keep in the same transaction as
each state change. A conversation belongs to the period of its request; only live kinds (web widget, API)
count, because an offline message or e-mail is not a live chat."""

from __future__ import annotations

from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import Coalesce

from chat.models import ChannelKind, Conversation, Message
from tickets.selectors.batch import conversation_metrics, part_view
from tickets.selectors.filters import CONVERSATION, KEY_ORDER, MESSAGE, MetricFilter, apply_filter, breakdown_key
from tickets.selectors.stats import SecondsBetween, ratio

LIVE_KINDS = (ChannelKind.WEB_WIDGET, ChannelKind.API)
ABANDONED = Conversation.EndReason.ABANDONED
MISSED = Conversation.EndReason.MISSED


def departure():
    """When the visitor of an abandoned chat left: the moment they closed it or the disconnect that began the grace
    period (metrics.md, abandonment), not the moment the sweep noticed; chats ended before it was kept: their end."""
    return Coalesce("visitor_left_at", "ended_at")


def live_conversations(filters: MetricFilter):
    return apply_filter(Conversation.objects.filter(channel_kind__in=LIVE_KINDS), filters, CONVERSATION, "requested_at")


def wait_time(*, filters: MetricFilter, by: str | None = None):
    """Operator's first reply (or abandonment) − conversation requested, for live conversations."""
    return part_view(conversation_metrics(filters=filters, by=by), "wait", by, measured=True)


def outcome_aggregates() -> dict:
    """The aggregates behind conversation outcomes (counted on requested_at, which an index covers)."""
    answered = Q(first_response_at__isnull=False)
    abandoned = Q(end_reason=ABANDONED)
    return {
        "requested": Count("requested_at"),
        "answered": Count("requested_at", filter=answered),
        "abandoned": Count("requested_at", filter=abandoned),
        "missed": Count("requested_at", filter=Q(end_reason=MISSED)),
        "transferred": Count("requested_at", filter=answered & Q(transfer_count__gt=0)),
        "mean_wait_before_abandonment": Avg(
            SecondsBetween(departure(), F("requested_at")), filter=abandoned, output_field=FloatField()
        ),
    }


def outcome_figures(row: dict) -> dict:
    """One aggregated row of outcome_aggregates() as the figures the reports show."""
    return {
        "requested": row["requested"],
        "answered": row["answered"],
        "abandoned": row["abandoned"],
        "abandonment_rate": ratio(row["abandoned"], row["requested"]),
        "mean_wait_before_abandonment": row["mean_wait_before_abandonment"],
        "missed": row["missed"],
        "transferred": row["transferred"],
        "transfer_rate": ratio(row["transferred"], row["answered"]),
    }


def conversation_outcomes(*, filters: MetricFilter, by: str | None = None):
    """Requested, answered, abandoned, missed and transferred live conversations, with the rates.

    transfer_rate = answered conversations with at least one transfer ÷ answered conversations.
    """
    return part_view(conversation_metrics(filters=filters, by=by, wait=False), "outcomes", by)


def canned_reply_share(*, filters: MetricFilter, by: str | None = None):
    """Public operator messages sent from a saved reply ÷ public operator messages (private notes excluded).

    Messages of the conversations requested in the period (the indexed way in at scale); the operator
    dimension is the message's author.
    """
    # Filtered on the joined conversation (one join): inbox, kind, team and period are the conversation's, the
    # operator is the message's author.
    qs = apply_filter(
        Message.objects.filter(
            sender=Message.Sender.OPERATOR, private=False, conversation__channel_kind__in=LIVE_KINDS
        ),
        filters,
        MESSAGE,
        "conversation__requested_at",
    )
    aggregates = {
        # COUNT(*) and the canned reply column: read from message_operator_public_idx alone.
        "operator_messages": Count("*"),
        "canned_messages": Count("canned_reply"),
    }
    if by is None:
        rows = [{"_key": None, **qs.aggregate(**aggregates)}]
    else:
        key = breakdown_key(by, MESSAGE, "conversation__requested_at")
        rows = list(qs.annotate(_key=key).values("_key").annotate(**aggregates).order_by(KEY_ORDER))
    out = [
        {
            "key": row["_key"],
            "operator_messages": row["operator_messages"],
            "canned_messages": row["canned_messages"],
            "share": ratio(row["canned_messages"], row["operator_messages"]),
        }
        for row in rows
    ]
    if by is None:
        out[0].pop("key")
        return out[0]
    return out
