"""Report figures read from the rollups: the same shapes as the source-row selectors of tickets.selectors and
surveys.selectors (see tickets/selectors/__init__.py), for whole days of the desk's time zone.

A period [start, end) must begin and end at local midnights, as every report period does. Counts, sums, means and
rates are exact; medians and p90s come from the merged histograms (within 0.5 %).
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rollups import histograms
from rollups.models import Rollup, RollupMark
from rollups.services import INBOX, KIND, OPERATOR, TEAM, add, refresh_if_late, refreshed_at
from rollups.sources import FRT_BANDS
from surveys.scales import CES_SCALES, CSAT_SCALES
from surveys.selectors.metrics import shape as survey_shape
from tickets.selectors.batch import EMPTY_STATS
from tickets.selectors.conversations import outcome_figures
from tickets.selectors.filters import BREAKDOWNS, MetricFilter, Source, apply_filter
from tickets.selectors.stats import PERCENTILES, ratio

_reading: ContextVar[bool] = ContextVar("rollups_reading", default=False)


@dataclass(frozen=True)
class Reading:
    as_of: datetime  # every change committed before it is in the figures read


@contextmanager
def reading():
    """Around the reads of one page, export or API answer: the marked days are brought up to date once, before its
    one read transaction. `as_of` is now when no mark is left, else when the rollups were last refreshed (another
    refresh was under way)."""
    if _reading.get():
        yield Reading(as_of=timezone.now())
        return
    refresh_if_late()
    now = timezone.now()
    token = _reading.set(True)
    try:
        with transaction.atomic():
            as_of = (refreshed_at() or now) if RollupMark.objects.exists() else now
            yield Reading(as_of=as_of)
    finally:
        _reading.reset(token)


ROLLUP = Source(inbox="inbox_id", channel_kind="channel_kind", team="team_id", operator="operator_id")


def _fresh() -> None:
    """Outside a `reading()`, each read brings late rollups up to date itself."""
    if not _reading.get():
        refresh_if_late()


_DIMENSION = {"inbox": 1, "channel_kind": 2, "team": 3, "operator": 4, "day": 0, "label": 5}
# The per-label sources (rollups.sources.LABEL_SOURCES) are read per label only: their rows keep the label in every
# grouping, and a row with two labels is in both.
LABEL = "label"


def _days(filters: MetricFilter) -> tuple[date, date]:
    first = timezone.localdate(filters.start)
    last = timezone.localdate(filters.end - timedelta(microseconds=1))
    return first, last


def _whole_months(first: date, last: date) -> tuple[date, date] | None:
    """[from, until) of the calendar months wholly inside [first, last], or None."""
    start = first if first.day == 1 else (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    until = (last + timedelta(days=1)).replace(day=1)
    return (start, until) if start < until else None


def _rows(source: str, filters: MetricFilter, by: str | None):
    """The rollup rows of a period and selection: whole months as their month rows, the days around them (and every
    day, per day) as day rows; of the grouping that keeps the keys filtered on and broken down by, no finer."""
    first, last = _days(filters)
    grouping = (
        (INBOX if filters.inbox_ids or by == "inbox" else 0)
        | (KIND if filters.channel_kinds or by == "channel_kind" else 0)
        | (TEAM if filters.team_ids or by == "team" else 0)
        | (OPERATOR if filters.operator_ids or by == "operator" else 0)
    )
    # The period is chosen by day and grain below; the breakdown keys filter as on every source.
    rows = apply_filter(
        Rollup.objects.filter(source=source, grouping=grouping), replace(filters, start=None, end=None), ROLLUP, "day"
    )
    days = Q(grain=Rollup.Grain.DAY, day__gte=first, day__lte=last)
    months = _whole_months(first, last) if by != "day" else None
    if months:
        start, until = months
        days = (
            Q(grain=Rollup.Grain.DAY, day__gte=first, day__lt=start)
            | Q(grain=Rollup.Grain.DAY, day__gte=until, day__lte=last)
            | Q(grain=Rollup.Grain.MONTH, day__gte=start, day__lt=until)
        )
    return rows.filter(days)


def merged(source: str, filters: MetricFilter, by: str | None, *, skip: frozenset = frozenset()) -> dict:
    """{key: the source's data added over the rows of the period and selection} (key None when `by` is None),
    without the histograms named in `skip`."""
    if by is not None and by not in BREAKDOWNS and by != LABEL:
        raise ValueError(f"unknown breakdown {by!r}; one of {', '.join(BREAKDOWNS)}")
    _fresh()
    out: dict = defaultdict(dict)
    position = _DIMENSION.get(by)
    fields = ("day", "inbox_id", "channel_kind", "team_id", "operator_id", "label_id", "data")
    for row in _rows(source, filters, by).values_list(*fields):
        add(out[None if position is None else row[position]], row[6], skip=skip)
    if by is None:
        out.setdefault(None, {})
    return dict(out)


def requests_by_weekday_hour(*, filters: MetricFilter) -> list[list[int]]:
    """7 × 24 live conversations requested in the period: [Monday..Sunday][hour of the desk's time zone]."""
    _fresh()
    week = [0] * 168
    for grain, day, data in _rows("conv", filters, None).values_list("grain", "day", "data"):
        if grain == Rollup.Grain.MONTH:
            for i, count in enumerate(data.get("a:week_hours") or ()):
                week[i] += count
        else:
            offset = (day.isoweekday() - 1) * 24
            for hour, count in enumerate(data.get("a:hours") or ()):
                week[offset + hour] += count
    return [week[d * 24 : (d + 1) * 24] for d in range(7)]


def _stats(data: dict, name: str) -> dict:
    n = data.get(f"{name}_n", 0)
    if not n:
        return dict(EMPTY_STATS)
    return {"mean": data[f"{name}_sum"] / n, **histograms.percentiles(data.get(f"h:{name}", {}), PERCENTILES)}


def _share(total: int, met: int) -> dict:
    return {"total": total, "met": met, "rate": ratio(met, total)}


def _now(now: datetime | None) -> float:
    return (now or timezone.now()).timestamp()


def ticket_created_metrics(
    *, filters: MetricFilter, by: str | None = None, now: datetime | None = None, business: bool = True
) -> dict:
    """{key: {"frt", "sla_first_response", "counts", "frt_bands"}}: tickets created in the period.

    business=False leaves the business-time FRT's percentiles out (the per-day chart shows wall time)."""
    moment = _now(now)
    out = {}
    for key, d in merged("created", filters, by, skip=frozenset() if business else frozenset({"h:frtb"})).items():
        due_passed = sum(1 for due in d.get("p:sla_due", ()) if due <= moment)
        out[key] = {
            "frt": {"count": d.get("frt_n", 0), "wall": _stats(d, "frt"), "business": _stats(d, "frtb")},
            "sla_first_response": _share(
                d.get("sla_answered", 0) + d.get("sla_breached", 0) + due_passed, d.get("sla_met", 0)
            ),
            "counts": {k: d.get(k, 0) for k in ("created", "open", "pending", "resolved", "reopened")},
            "frt_bands": d.get("a:frt_bands") or [0] * (len(FRT_BANDS) + 1),
        }
    return out


def ticket_resolved_metrics(*, filters: MetricFilter, by: str | None = None, now: datetime | None = None) -> dict:
    """{key: {"resolution", "sla_resolution", "fcr"}}: tickets whose last resolution is in the period."""
    closed_before = _now(now) - settings.FCR_WINDOW_SECONDS
    out = {}
    for key, d in merged("resolved", filters, by).items():
        now_closed = [fc for resolved_at, fc in d.get("p:fcr", ()) if resolved_at <= closed_before]
        eligible = d.get("eligible", 0) + len(now_closed)
        first_contact = d.get("first_contact_resolved", 0) + sum(now_closed)
        resolved = d.get("resolved", 0)
        out[key] = {
            "resolution": {"count": d.get("res_n", 0), "wall": _stats(d, "res"), "business": _stats(d, "resb")},
            "sla_resolution": _share(d.get("sla_total", 0), d.get("sla_met", 0)),
            "fcr": {
                "resolved": resolved,
                "eligible": eligible,
                "awaiting_window": resolved - eligible,
                "first_contact_resolved": first_contact,
                "rate": ratio(first_contact, eligible),
            },
        }
    return out


def _conversation_parts(d: dict) -> dict:
    abandon_n = d.get("abandon_wait_n", 0)
    row = {name: d.get(name, 0) for name in ("requested", "answered", "abandoned", "missed", "transferred")}
    row["mean_wait_before_abandonment"] = d["abandon_wait_sum"] / abandon_n if abandon_n else None
    return {
        "outcomes": outcome_figures(row),
        "wait": {"count": d.get("wait_n", 0), "wall": _stats(d, "wait")},
        "abandon_wait": {"count": abandon_n, "wall": _stats(d, "abandon_wait")},
        "canned": {
            "operator_messages": d.get("operator_messages", 0),
            "canned_messages": d.get("canned_messages", 0),
            "share": ratio(d.get("canned_messages", 0), d.get("operator_messages", 0)),
        },
    }


def conversation_metrics(
    *, filters: MetricFilter, by: str | None = None, wait: bool = True, abandon_wait: bool = False
) -> dict:
    """{key: {"outcomes", "wait", "abandon_wait", "canned"}}: live conversations requested in the period; the
    percentiles of the wait (wait=True) and of the wait before abandonment (abandon_wait=True) when asked for.

    Per operator, `transferred` is what the operator transferred away (metrics.md), whoever holds it now."""
    skip = frozenset(name for name, keep in (("h:wait", wait), ("h:abandon_wait", abandon_wait)) if not keep)
    out = {key: _conversation_parts(d) for key, d in merged("conv", filters, by, skip=skip).items()}
    if by == "operator":
        away = {key: d.get("transferred_away", 0) for key, d in merged("away", filters, by).items()}
        for key in away.keys() - out.keys():
            out[key] = _conversation_parts({})
        for key, parts in out.items():
            outcomes = parts["outcomes"]
            outcomes["transferred"] = away.get(key, 0) if key is not None else 0
            outcomes["transfer_rate"] = ratio(outcomes["transferred"], outcomes["answered"])
    return out


def canned_by_author(*, filters: MetricFilter, by: str | None = None) -> dict:
    """{key: {"operator_messages", "canned_messages", "share"}}, each message counted for its author."""
    return {
        key: {
            "operator_messages": d.get("operator_messages", 0),
            "canned_messages": d.get("canned_messages", 0),
            "share": ratio(d.get("canned_messages", 0), d.get("operator_messages", 0)),
        }
        for key, d in merged("messages", filters, by).items()
    }


def _with_means(responses: dict | None) -> dict:
    """A survey source's sums with the mean per scale."""
    r = dict(responses or {})
    for question, scales in (("csat", CSAT_SCALES), ("ces", CES_SCALES)):
        for scale in scales:
            alias = scale.replace("-", "_")
            n = r.get(f"{question}_n_{alias}", 0)
            if n:
                r[f"{question}_mean_{alias}"] = r[f"{question}_sum_{alias}"] / n
    return r


def survey_metrics(*, filters: MetricFilter, by: str | None = None) -> dict:
    """{key: the shape of surveys.selectors.survey_metrics}."""
    responses = merged("responses", filters, by)
    invitations = merged("invitations", filters, by)
    out = {}
    for key in set(responses) | set(invitations):
        out[key] = survey_shape(_with_means(responses.get(key)), invitations.get(key) or {})
    return out


def label_metrics(*, filters: MetricFilter) -> dict:
    """{label id (None: no label): {"outcomes": {"requested", "answered"}, "frt", "counts": {"created"},
    "surveys": the shape of surveys.selectors.survey_metrics}} for the period and selection.

    The same figures as the other breakdowns, of the rows that carry the label: live conversations requested in the
    period, tickets created in it (a ticket carries the labels of all its conversations), survey answers given in
    it (the labels of the invitation's conversation). A row with two labels counts in both; the rows do not add up
    to the selection's figures."""
    conversations = merged("lconv", filters, LABEL)
    created = merged("lcreated", filters, LABEL)
    responses = merged("lresponses", filters, LABEL)
    out = {}
    for key in set(conversations) | set(created) | set(responses):
        c, t = conversations.get(key) or {}, created.get(key) or {}
        out[key] = {
            "outcomes": {"requested": c.get("requested", 0), "answered": c.get("answered", 0)},
            "frt": {"count": t.get("frt_n", 0), "wall": _stats(t, "frt"), "business": _stats(t, "frtb")},
            "counts": {"created": t.get("created", 0)},
            "surveys": survey_shape(_with_means(responses.get(key)), {}),
        }
    return out


# Operators' time belongs to operators: the whole selection, per operator, per team (its members'), per day.
OPERATOR_BREAKDOWNS = (None, "operator", "team", "day")


def _selected_operators(filters: MetricFilter):
    """The operators a selection covers: the selected ones, members of the selected inboxes and teams."""
    from chat.models import OperatorProfile

    operators = OperatorProfile.objects.all()
    if filters.operator_ids:
        operators = operators.filter(user_id__in=filters.operator_ids)
    if filters.inbox_ids:
        operators = operators.filter(inboxes__in=filters.inbox_ids)
    if filters.team_ids:
        operators = operators.filter(teams__in=filters.team_ids)
    return operators


def operator_time(*, filters: MetricFilter, by: str | None = None) -> dict:
    """{key: {"online_s", "occupied_s", "held_s", "cost"}}: seconds online, seconds online holding at least one
    active chat, active chats × seconds online, and the cost of the online time (hours × each operator's hourly cost;
    None when no operator of the key has one). {} for a breakdown operators' time has no meaning for."""
    if by not in OPERATOR_BREAKDOWNS:
        return {}
    _fresh()
    profiles = {p.user_id: p for p in _selected_operators(filters).prefetch_related("teams")}
    plain = MetricFilter(start=filters.start, end=filters.end, operator_ids=tuple(profiles) or (-1,))
    rows = _rows("operators", plain, "day" if by == "day" else "operator").values_list("day", "operator_id", "data")
    out: dict = {}
    for day, user_id, d in rows:
        profile = profiles[user_id]
        if by is None:
            keys = [None]
        elif by == "operator":
            keys = [user_id]
        elif by == "day":
            keys = [day]
        else:
            keys = [t.pk for t in profile.teams.all() if not filters.team_ids or t.pk in filters.team_ids]
        rate = profile.effective_hourly_cost()
        for key in keys:
            row = out.setdefault(key, {"online_s": 0.0, "occupied_s": 0.0, "held_s": 0.0, "cost": None})
            for name in ("online_s", "occupied_s", "held_s"):
                row[name] += d.get(name, 0.0)
            if rate is not None:
                row["cost"] = (row["cost"] or 0.0) + d.get("online_s", 0.0) / 3600.0 * float(rate)
    return out
