"""What each source's rows add to the rollups of a day and slice: one grouped query for the counts and sums, one read
of the timed values for the histograms. The conditions are the metric selectors' own (tickets.selectors,
surveys.selectors), so a figure is defined once.

Every source returns {(day, inbox, channel kind, team, operator): data} for the rows whose period instant is in
[start, end), `now` being the moment of the build (what depends on the time it is read, such as an SLA due time still
ahead or an FCR window still open, is kept as instants: "p:" keys).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, FloatField, Q, Sum, When
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from chat.models import Conversation, ConversationLabel, Message, PresenceInterval
from rollups import histograms
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import CES_SCALES, CSAT_SCALES
from surveys.selectors.metrics import INVITATION, RESPONSE, response_counts
from tickets.models import ReportingEvent, Ticket
from tickets.selectors.batch import first_contact_q
from tickets.selectors.conversations import ABANDONED, LIVE_KINDS, MISSED, departure
from tickets.selectors.filters import CONVERSATION, MESSAGE, TICKET_CREATED, TICKET_RESOLVED, Source
from tickets.selectors.stats import SecondsBetween

Key = tuple  # (day, inbox_id, channel_kind, team_id, operator_id)
SLICE = ("_day", "_inbox", "_kind", "_team", "_op")

# First-response distribution (metrics.md, operators' time and cost): upper bounds of the bands, in seconds.
FRT_BANDS = (60, 300, 900, 3600, 4 * 3600, 24 * 3600)


def frt_band(seconds: float) -> int:
    for i, bound in enumerate(FRT_BANDS):
        if seconds < bound:
            return i
    return len(FRT_BANDS)


def _sliced(qs, source: Source, period: str):
    return qs.annotate(
        _day=TruncDate(period),
        _inbox=F(source.inbox),
        _kind=F(source.channel_kind),
        _team=F(source.team),
        _op=F(source.operator),
    )


def _key(row: dict, fields=SLICE) -> Key:
    return tuple(row[name] for name in fields)


def _counts(qs, aggregates: dict, out: dict, fields=SLICE) -> None:
    for row in qs.values(*fields).annotate(**aggregates).order_by():
        data = out[_key(row, fields)]
        for name in aggregates:
            value = row[name]
            data[name] = (value or 0) if not isinstance(value, float) else value


def _measure(qs, name: str, value, only: Q, out: dict, *, bands: str | None = None) -> None:
    """n, sum and histogram of `value` over the rows matching `only` (and the band counts, for `bands`)."""
    # No ordering: a model's default one would make PostgreSQL walk that index over the whole table.
    rows = qs.filter(only).annotate(_v=value).filter(_v__isnull=False).values_list(*SLICE, "_v").order_by()
    for *key, v in rows:
        data = out[tuple(key)]
        data[f"{name}_n"] = data.get(f"{name}_n", 0) + 1
        data[f"{name}_sum"] = data.get(f"{name}_sum", 0.0) + v
        hist = data.setdefault(f"h:{name}", {})
        b = histograms.bucket(v)
        hist[b] = hist.get(b, 0) + 1
        if bands:
            counts = data.setdefault(f"a:{bands}", [0] * (len(FRT_BANDS) + 1))
            counts[frt_band(v)] += 1


def _table() -> dict:
    return defaultdict(dict)


def _in(period: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{period}__gte": start, f"{period}__lt": end})


def tickets_created(start: datetime, end: datetime, now: datetime) -> dict:
    out = _table()
    qs = _sliced(Ticket.objects.filter(_in("created_at", start, end)), TICKET_CREATED, "created_at")
    has_due = Q(first_response_due_at__isnull=False)
    _counts(
        qs,
        {
            "created": Count("*"),
            "open": Count("created_at", filter=Q(status=Ticket.Status.OPEN)),
            "pending": Count("created_at", filter=Q(status=Ticket.Status.PENDING)),
            "resolved": Count("created_at", filter=Q(status=Ticket.Status.RESOLVED)),
            "reopened": Count("created_at", filter=Q(reopen_count__gt=0)),
            # SLA: answered tickets are known; unanswered ones once their due time has passed (a breach).
            "sla_answered": Count("created_at", filter=has_due & Q(first_response_at__isnull=False)),
            "sla_met": Count("created_at", filter=has_due & Q(first_response_at__lte=F("first_response_due_at"))),
            "sla_breached": Count(
                "created_at", filter=has_due & Q(first_response_at__isnull=True, first_response_due_at__lte=now)
            ),
        },
        out,
    )
    ahead = qs.filter(has_due, first_response_at__isnull=True, first_response_due_at__gt=now)
    for *key, due in ahead.values_list(*SLICE, "first_response_due_at").order_by():
        out[tuple(key)].setdefault("p:sla_due", []).append(due.timestamp())
    answered = Q(first_response_seconds__isnull=False)
    _measure(qs, "frt", F("first_response_seconds"), answered, out, bands="frt_bands")
    _measure(qs, "frtb", F("first_response_business_seconds"), answered, out)
    return out


def tickets_resolved(start: datetime, end: datetime, now: datetime) -> dict:
    out = _table()
    window = timedelta(seconds=settings.FCR_WINDOW_SECONDS)
    base = Ticket.objects.filter(_in("resolved_at", start, end), status=Ticket.Status.RESOLVED)
    qs = _sliced(base, TICKET_RESOLVED, "resolved_at")
    closed = Q(resolved_at__lte=now - window)
    first_contact = first_contact_q(window)
    has_due = Q(resolution_due_at__isnull=False)
    _counts(
        qs,
        {
            "resolved": Count("*"),
            "eligible": Count("resolved_at", filter=closed),
            "first_contact_resolved": Count("resolved_at", filter=closed & first_contact),
            "sla_total": Count("resolved_at", filter=has_due),
            "sla_met": Count("resolved_at", filter=has_due & Q(resolved_at__lte=F("resolution_due_at"))),
        },
        out,
    )
    # Tickets whose FCR window is still open: their resolution instant and whether they are first contact so far.
    open_window = qs.filter(~closed).annotate(
        _fc=Case(When(first_contact, then=1), default=0, output_field=FloatField())
    )
    for *key, resolved_at, fc in open_window.values_list(*SLICE, "resolved_at", "_fc").order_by():
        out[tuple(key)].setdefault("p:fcr", []).append([resolved_at.timestamp(), int(fc)])
    measured = Q(resolution_seconds__isnull=False)
    _measure(qs, "res", F("resolution_seconds"), measured, out)
    _measure(qs, "resb", F("resolution_business_seconds"), measured, out)
    return out


def conversations(start: datetime, end: datetime, now: datetime) -> dict:
    out = _table()
    live = Conversation.objects.filter(_in("requested_at", start, end), channel_kind__in=LIVE_KINDS)
    qs = _sliced(live, CONVERSATION, "requested_at")
    answered = Q(first_response_at__isnull=False)
    abandoned = Q(end_reason=ABANDONED)
    _counts(
        qs,
        {
            "requested": Count("requested_at"),
            "answered": Count("requested_at", filter=answered),
            "abandoned": Count("requested_at", filter=abandoned),
            "missed": Count("requested_at", filter=Q(end_reason=MISSED)),
            "transferred": Count("requested_at", filter=answered & Q(transfer_count__gt=0)),
            "operator_messages": Sum("operator_message_count"),
            "canned_messages": Sum("canned_message_count"),
        },
        out,
    )
    waited_until = Case(When(answered, then=F("first_response_at")), When(abandoned, then=departure()))
    _measure(qs, "wait", SecondsBetween(waited_until, F("requested_at")), answered | abandoned, out)
    _measure(qs, "abandon_wait", SecondsBetween(departure(), F("requested_at")), abandoned, out)
    hours = qs.annotate(_hour=ExtractHour("requested_at")).values(*SLICE, "_hour").annotate(n=Count("*")).order_by()
    for row in hours:
        counts = out[_key(row)].setdefault("a:hours", [0] * 24)
        counts[row["_hour"]] += row["n"]
    return out


def operator_messages(start: datetime, end: datetime, now: datetime) -> dict:
    """Public operator messages of the live conversations requested in the period, per author (canned share)."""
    out = _table()
    messages = Message.objects.filter(
        _in("conversation__requested_at", start, end),
        sender=Message.Sender.OPERATOR,
        private=False,
        conversation__channel_kind__in=LIVE_KINDS,
    )
    qs = _sliced(messages, MESSAGE, "conversation__requested_at")
    _counts(qs, {"operator_messages": Count("*"), "canned_messages": Count("canned_reply")}, out)
    return out


TRANSFERRER = Source(
    inbox="conversation__inbox_id",
    channel_kind="conversation__channel_kind",
    team="conversation__team_id",
    operator="operator_id",
)


def transfers_away(start: datetime, end: datetime, now: datetime) -> dict:
    """Per operator who handed them on, the live conversations requested in the period (metrics.md: transfer rate
    per operator = transferred away ÷ answered)."""
    out = _table()
    events = ReportingEvent.objects.filter(
        _in("conversation__requested_at", start, end),
        name=ReportingEvent.Name.CONVERSATION_TRANSFERRED,
        conversation__channel_kind__in=LIVE_KINDS,
        operator_id__isnull=False,
    )
    qs = _sliced(events, TRANSFERRER, "conversation__requested_at")
    _counts(qs, {"transferred_away": Count("conversation_id", distinct=True)}, out)
    return out


def _response_aggregates() -> dict:
    aggregates = response_counts()
    for question, scales in (("csat", CSAT_SCALES), ("ces", CES_SCALES)):
        for key in scales:
            alias = key.replace("-", "_")
            aggregates[f"{question}_sum_{alias}"] = Sum(
                question, filter=Q(**{f"{question}_scale": key, f"{question}__isnull": False})
            )
    return aggregates


def survey_responses(start: datetime, end: datetime, now: datetime) -> dict:
    out = _table()
    qs = _sliced(SurveyResponse.objects.filter(_in("created_at", start, end)), RESPONSE, "created_at")
    _counts(qs, _response_aggregates(), out)
    return out


def survey_invitations(start: datetime, end: datetime, now: datetime) -> dict:
    out = _table()
    sent = SurveyInvitation.objects.filter(_in("sent_at", start, end))
    qs = _sliced(sent, INVITATION, "sent_at")
    _counts(qs, {"sent": Count("pk"), "answered": Count("pk", filter=Q(status=SurveyInvitation.Status.ANSWERED))}, out)
    return out


SOURCES = {
    "created": tickets_created,
    "resolved": tickets_resolved,
    "conv": conversations,
    "messages": operator_messages,
    "away": transfers_away,
    "responses": survey_responses,
    "invitations": survey_invitations,
}


# --- Operators' time (metrics.md, "Operators' time and cost") ------------------------------------------------------


def _holding(start: datetime, end: datetime, now: datetime) -> dict[int, list[tuple[float, float]]]:
    """{operator: [(from, until)]}: the stretches each operator held a live conversation that was active, within
    [start, end). A stretch ends at a transfer (held until then by whoever held it, or else by who handed it on), the
    conversation's end, or now; between a transfer to a team and the next assignment nobody holds it."""
    stop = min(end, now)
    live = Conversation.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start),
        channel_kind__in=LIVE_KINDS,
        assigned_at__isnull=False,
        requested_at__lt=stop,
    )
    conversations = {
        pk: (assignee_id, assigned_at, ended_at)
        for pk, assignee_id, assigned_at, ended_at in live.values_list(
            "pk", "assignee_id", "assigned_at", "ended_at"
        ).order_by()
    }
    events: dict[int, list] = defaultdict(list)
    rows = (
        ReportingEvent.objects.filter(
            conversation_id__in=live.values("pk"),
            name__in=[ReportingEvent.Name.CONVERSATION_ASSIGNED, ReportingEvent.Name.CONVERSATION_TRANSFERRED],
        )
        .values_list("conversation_id", "event_end", "id", "name", "operator_id")
        .order_by()
    )
    for conversation_id, at, pk, name, operator_id in rows:
        events[conversation_id].append((at, pk, name, operator_id))
    held: dict[int, list[tuple[float, float]]] = defaultdict(list)

    def hold(operator_id, since, until) -> None:
        since, until = max(since, start), min(until, stop)
        if operator_id is not None and since < until:
            held[operator_id].append((since.timestamp(), until.timestamp()))

    for pk, (assignee_id, assigned_at, ended_at) in conversations.items():
        finish = ended_at or stop
        holder, since, handed_on = None, None, None
        for at, _id, name, operator_id in sorted(events.get(pk, ())):
            if name == ReportingEvent.Name.CONVERSATION_ASSIGNED:
                if holder is not None:
                    hold(holder, since, at)
                holder, since, handed_on = operator_id, at, None
            else:
                if holder is not None:
                    hold(holder, since, at)
                elif handed_on is not None:
                    hold(operator_id, handed_on, at)
                holder, since, handed_on = None, None, at
        if holder is not None:
            hold(holder, since, finish)
        elif handed_on is not None:
            hold(assignee_id, handed_on, finish)
        elif not events.get(pk):
            hold(assignee_id, assigned_at, finish)
    return held


def _online(start: datetime, end: datetime, now: datetime) -> dict[int, list[tuple[float, float]]]:
    stop = min(end, now)
    stretches = (
        PresenceInterval.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=start), status="online", started_at__lt=stop
        )
        .values_list("operator_id", "started_at", "ended_at")
        .order_by()
    )
    out: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for operator_id, began, ended in stretches:
        since, until = max(began, start), min(ended or stop, stop)
        if since < until:
            out[operator_id].append((since.timestamp(), until.timestamp()))
    return out


def operators_time(start: datetime, end: datetime, now: datetime) -> dict:
    """Per operator and day: seconds online, seconds online holding at least one active chat (occupancy's
    numerator), and active chats × seconds while online (concurrency's numerator)."""
    out = _table()
    online, held = _online(start, end, now), _holding(start, end, now)
    first = timezone.localdate(start)
    bounds = []
    day = first
    while timezone.make_aware(datetime.combine(day, datetime.min.time())) < end:
        bounds.append((day, timezone.make_aware(datetime.combine(day, datetime.min.time())).timestamp()))
        day += timedelta(days=1)
    bounds.append((day, end.timestamp()))
    for operator_id in online:
        # A sweep over the operator's changes: online on/off (±1) and chats held (±1), split at midnights.
        changes = [(a, 0, 1) for a, _b in online[operator_id]] + [(b, 0, -1) for _a, b in online[operator_id]]
        changes += [(a, 1, 1) for a, _b in held.get(operator_id, ())] + [
            (b, 1, -1) for _a, b in held.get(operator_id, ())
        ]
        changes += [(t, 2, 0) for _day, t in bounds]
        changes.sort()
        is_online = holding = 0
        last = None
        day_index = -1
        for t, kind, delta in changes:
            if last is not None and day_index >= 0 and t > last and is_online > 0:
                data = out[(bounds[day_index][0], None, "", None, operator_id)]
                span = t - last
                data["online_s"] = data.get("online_s", 0.0) + span
                if holding > 0:
                    data["occupied_s"] = data.get("occupied_s", 0.0) + span
                    data["held_s"] = data.get("held_s", 0.0) + span * holding
            if kind == 0:
                is_online += delta
            elif kind == 1:
                holding += delta
            else:
                day_index += 1
            last = t
    return out


SOURCES["operators"] = operators_time


# --- Per label (a conversation's labels, chat.ConversationLabel) ----------------------------------------------------
#
# Keys are (day, inbox, channel kind, team, operator, label): a row counts once for each label it carries, and once
# for "no label" (label None) when it carries none, so the rows of a breakdown do not add up to the selection. Each
# source places and slices its rows as its unlabelled twin does (conversations requested, tickets created, survey
# answers), so that a label's figures are the same figures, of the labelled rows.

LABEL_SLICE = (*SLICE, "_label")


def label_conversations(start: datetime, end: datetime, now: datetime) -> dict:
    """Live conversations requested in the period, per label of the conversation."""
    out = _table()
    live = Conversation.objects.filter(_in("requested_at", start, end), channel_kind__in=LIVE_KINDS)
    qs = _sliced(live, CONVERSATION, "requested_at").annotate(_label=F("label_links__label_id"))
    answered = Q(first_response_at__isnull=False)
    aggregates = {"requested": Count("requested_at"), "answered": Count("requested_at", filter=answered)}
    _counts(qs, aggregates, out, LABEL_SLICE)
    return out


def label_tickets_created(start: datetime, end: datetime, now: datetime) -> dict:
    """Tickets created in the period (FRT), per label of any of the ticket's conversations: a ticket whose two
    conversations carry the same label counts once for it; a ticket none of whose conversations has a label counts
    for "no label"."""
    out = _table()
    tickets = Ticket.objects.filter(_in("created_at", start, end))
    labels: dict[int, set] = defaultdict(set)
    pairs = ConversationLabel.objects.filter(conversation__ticket__in=tickets.values("pk"))
    for ticket_id, label_id in pairs.values_list("conversation__ticket_id", "label_id").order_by():
        labels[ticket_id].add(label_id)
    rows = _sliced(tickets, TICKET_CREATED, "created_at").values_list(
        "pk", *SLICE, "first_response_seconds", "first_response_business_seconds"
    )
    for pk, *key, frt, frtb in rows.order_by():
        for label_id in labels.get(pk) or (None,):
            data = out[(*key, label_id)]
            data["created"] = data.get("created", 0) + 1
            for name, value in (("frt", frt), ("frtb", frtb)):
                if value is None or frt is None:
                    continue
                data[f"{name}_n"] = data.get(f"{name}_n", 0) + 1
                data[f"{name}_sum"] = data.get(f"{name}_sum", 0.0) + value
                hist = data.setdefault(f"h:{name}", {})
                b = histograms.bucket(value)
                hist[b] = hist.get(b, 0) + 1
    return out


def label_survey_responses(start: datetime, end: datetime, now: datetime) -> dict:
    """Survey answers given in the period, per label of the invitation's conversation (sliced by the invitation's
    inbox, team and operator, metrics.md "Surveys")."""
    out = _table()
    responses = SurveyResponse.objects.filter(_in("created_at", start, end))
    qs = _sliced(responses, RESPONSE, "created_at").annotate(
        _label=F("invitation__conversation__label_links__label_id")
    )
    _counts(qs, _response_aggregates(), out, LABEL_SLICE)
    return out


# Sources whose keys carry a label (Rollup.label_id): read by the per-label breakdown only.
LABEL_SOURCES = {
    "lconv": label_conversations,
    "lcreated": label_tickets_created,
    "lresponses": label_survey_responses,
}
SOURCES.update(LABEL_SOURCES)
