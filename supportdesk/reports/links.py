"""Links from a report number to the admin list of the conversations, tickets or surveys behind it.

Only lookups the admin accepts are used (local fields and one-step relations), so a link never ends in a
"disallowed lookup" error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from chat.admin_filters import NO_LABEL
from supportdesk.reports.query import ReportQuery
from tickets.selectors.conversations import LIVE_KINDS

# source -> (admin list, period field, operator field, extra filters)
SOURCES = {
    "conversations": ("chat_conversation", "requested_at", "assignee", {}),
    "answered": ("chat_conversation", "requested_at", "assignee", {"first_response_at__isnull": "False"}),
    "abandoned": ("chat_conversation", "requested_at", "assignee", {"end_reason__exact": "abandoned"}),
    "missed": ("chat_conversation", "requested_at", "assignee", {"end_reason__exact": "missed"}),
    "transferred": (
        "chat_conversation",
        "requested_at",
        "assignee",
        {"transfer_count__gt": "0", "first_response_at__isnull": "False"},
    ),
    "tickets_created": ("tickets_ticket", "created_at", "first_responder", {}),
    "tickets_answered": ("tickets_ticket", "created_at", "first_responder", {"first_response_at__isnull": "False"}),
    "tickets_resolved": ("tickets_ticket", "resolved_at", "resolved_by", {"status__exact": "resolved"}),
    "operator_messages": (
        "chat_message",
        "created_at",
        "author",
        {"sender__exact": "operator", "private__exact": "0"},
    ),
    "survey_answers": ("surveys_surveyinvitation", "answered_at", "operator", {"status__exact": "answered"}),
    "survey_invitations": ("surveys_surveyinvitation", "sent_at", "operator", {}),
    "presence": ("chat_presenceinterval", "started_at", "operator", {"status__exact": "online"}),
}
LIVE_SOURCES = {"conversations", "answered", "abandoned", "missed", "transferred"}


def changelist_url(source: str, query: ReportQuery, *, by: str | None = None, key=None) -> str:
    """The admin list behind a figure, for the selection narrowed to one breakdown row (by, key)."""
    admin_list, period_field, operator_field, extra = SOURCES[source]
    params: dict[str, str] = {
        f"{period_field}__gte": query.start.isoformat(),
        f"{period_field}__lt": query.end.isoformat(),
        **extra,
    }
    inbox_ids, kinds, team_ids, operator_ids = (
        list(query.inbox_ids),
        list(query.channel_kinds),
        list(query.team_ids),
        list(query.operator_ids),
    )
    if by == "inbox":
        inbox_ids = [key]
    elif by == "channel_kind":
        kinds = [key]
    elif by == "team":
        team_ids = [key]
    elif by == "operator":
        operator_ids = [key]
    if source in LIVE_SOURCES:
        kinds = [k for k in (kinds or LIVE_KINDS) if k in LIVE_KINDS] or ["-"]
    if admin_list == "chat_message":
        # A message's inbox and kind live on its conversation, two steps away: the admin filters by author only.
        inbox_ids = kinds = team_ids = []
    if admin_list == "chat_presenceinterval":
        # Presence belongs to an operator, not to an inbox or a team: the log is narrowed by operator only.
        inbox_ids = kinds = team_ids = []
    if source == "transferred" and by == "operator":
        # An operator's row counts what she transferred away, whoever holds it now (metrics.md): the conversations
        # with a transfer event of hers.
        params.pop("transfer_count__gt")
        params.pop("first_response_at__isnull")
        params["reporting_events__name__exact"] = "conversation_transferred"
        operator_field = "reporting_events__operator"
    if by == "label":
        # The per-label table: the conversations carrying the label (or none), the tickets and survey invitations of
        # such conversations (chat.admin_filters.label_filter).
        if admin_list == "chat_conversation":
            params["labels__isnull" if key is None else "labels__id__exact"] = "True" if key is None else str(key)
        else:
            params["label"] = NO_LABEL if key is None else str(key)
    _add(params, "inbox__in", inbox_ids)
    _add(params, "channel_kind__in", kinds)
    _add(params, "team__in", team_ids)
    _add(params, f"{operator_field}__in", operator_ids)
    return f"{reverse(f'admin:{admin_list}_changelist')}?{urlencode(params)}"


def _add(params: dict, name: str, values: list) -> None:
    if not values:
        return
    if None in values:
        params[name.replace("__in", "__isnull")] = "True"
    else:
        params[name] = ",".join(str(v) for v in values)
