"""The report's figures, composed from the apps' metric selectors, and their targets.

One flat row of figures per selection (the summary) or per breakdown key (inbox, channel kind, team,
operator, day). Rates are percentages (0–100); times are seconds; a figure with nothing to measure is None.
The dashboard, the CSV exports and the API all read these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import ChannelKind, Inbox
from rollups import selectors as rollups
from supportdesk.reports.query import ReportQuery
from tickets import selectors as ticket_selectors
from tickets.services import sla_targets_for

ALL = "__all__"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # count | seconds | percent | score
    better: str = ""  # higher | lower | "" (no direction)
    target: str = ""  # csat_percent | nps | fcr_percent | abandonment_percent | first_response | resolution
    source: str = "conversations"  # what its number links to: conversations | tickets_created | ...
    help: str = ""


FIGURES: list[Figure] = [
    Figure("requested", _("Requested"), "count", source="conversations", help=_("Live chats requested.")),
    Figure("answered", _("Answered"), "count", source="answered", help=_("Live chats an operator replied to.")),
    Figure("frt_median", _("FRT median"), "seconds", "lower", source="tickets_answered"),
    Figure("frt_p90", _("FRT p90"), "seconds", "lower", source="tickets_answered"),
    Figure("frt_business_median", _("FRT median (business)"), "seconds", "lower", "first_response", "tickets_answered"),
    Figure("frt_business_p90", _("FRT p90 (business)"), "seconds", "lower", "first_response", "tickets_answered"),
    Figure("wait_median", _("Wait median"), "seconds", "lower", source="conversations"),
    Figure("resolution_median", _("Resolution median"), "seconds", "lower", source="tickets_resolved"),
    Figure("resolution_p90", _("Resolution p90"), "seconds", "lower", source="tickets_resolved"),
    Figure(
        "resolution_business_median",
        _("Resolution median (business)"),
        "seconds",
        "lower",
        "resolution",
        "tickets_resolved",
    ),
    Figure("sla_first_response", _("SLA: first response"), "percent", "higher", source="tickets_created"),
    Figure("sla_resolution", _("SLA: resolution"), "percent", "higher", source="tickets_resolved"),
    Figure("fcr", _("FCR"), "percent", "higher", "fcr_percent", "tickets_resolved"),
    Figure("fcr_awaiting", _("Awaiting FCR window"), "count", source="tickets_resolved"),
    Figure("abandonment", _("Abandonment rate"), "percent", "lower", "abandonment_percent", "abandoned"),
    Figure("abandonment_wait", _("Mean wait before abandonment"), "seconds", source="abandoned"),
    Figure("missed", _("Missed"), "count", "lower", source="missed"),
    Figure("transfer_rate", _("Transfer rate"), "percent", "lower", source="transferred"),
    Figure("canned_share", _("Canned reply share"), "percent", source="operator_messages"),
    Figure("csat", _("CSAT"), "percent", "higher", "csat_percent", "survey_answers"),
    Figure("csat_mean", _("CSAT mean score"), "score", source="survey_answers"),
    Figure("ces_mean", _("CES mean"), "score", "higher", source="survey_answers"),
    Figure("ces_easy", _("CES: easy"), "percent", "higher", source="survey_answers"),
    Figure("nps", _("NPS"), "score", "higher", "nps", "survey_answers"),
    Figure("response_rate", _("Survey response rate"), "percent", "higher", source="survey_invitations"),
    Figure(
        "online_seconds",
        _("Online time"),
        "seconds",
        source="presence",
        help=_("Time operators were online, from the presence log; per operator and per team only."),
    ),
    Figure(
        "occupancy",
        _("Occupancy"),
        "percent",
        source="presence",
        help=_("Share of the online time in which the operator held at least one active chat."),
    ),
    Figure(
        "concurrency",
        _("Concurrency"),
        "score",
        source="presence",
        help=_("Mean number of active chats held while online."),
    ),
    Figure(
        "cost_per_conversation",
        _("Cost per conversation"),
        "cost",
        "lower",
        source="presence",
        help=_("The operators' hourly cost for their online time, divided by the chats answered."),
    ),
]
FIGURES_BY_KEY = {f.key: f for f in FIGURES}
# Counts that sit beside a rate (the denominators), shown in tables and exports.
COUNTS = ["abandoned", "transferred", "tickets_created", "tickets_resolved", "survey_responses", "surveys_sent"]


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100.0 * share, 2)


def _by_key(result, by: str | None) -> dict:
    if by is None:
        return {ALL: result}
    return {row["key"]: row for row in result}


def _batch_key(rows: dict, by: str | None) -> dict:
    """Batch selectors key the whole selection None; the rows here key it ALL."""
    return {ALL: rows[None]} if by is None else rows


def ticket_filter(query: ReportQuery) -> ticket_selectors.MetricFilter:
    return ticket_selectors.MetricFilter(
        start=query.start,
        end=query.end,
        inbox_ids=query.inbox_ids,
        channel_kinds=query.channel_kinds,
        team_ids=query.team_ids,
        operator_ids=query.operator_ids,
    )


# Around a page's reads: the marked days brought up to date, then one read transaction; `.as_of` for the page.
report_session = rollups.reading


def figure_rows(query: ReportQuery, *, by: str | None = None, now: datetime | None = None) -> dict:
    """{key: {figure: value, ...}} for the selection (key ALL) or per breakdown key, from the rollups."""
    return _figure_rows(query, by=by, now=now or timezone.now())


def _figure_rows(query: ReportQuery, *, by: str | None, now: datetime) -> dict:
    """Five queries per selection: one per source (tickets created, tickets resolved, live conversations,
    survey responses, survey invitations), each grouped by the breakdown key; per operator a sixth reads the
    operator messages (their author)."""
    filters = ticket_filter(query)
    created = _batch_key(rollups.ticket_created_metrics(filters=filters, by=by, now=now), by)
    resolved = _batch_key(rollups.ticket_resolved_metrics(filters=filters, by=by, now=now), by)
    conversations = _batch_key(rollups.conversation_metrics(filters=filters, by=by), by)
    canned_by_author = None
    if by == "operator" or filters.operator_ids:
        # Per operator, a message counts for its author, not for the conversation's assignee.
        canned_by_author = _batch_key(rollups.canned_by_author(filters=filters, by=by), by)
    surveys = _batch_key(rollups.survey_metrics(filters=filters, by=by), by)
    time = rollups.operator_time(filters=filters, by=by) if by in ONLINE_BREAKDOWNS else {}
    online = ({ALL: time[None]} if None in time else {}) if by is None else time
    keys = set(created) | set(resolved) | set(conversations) | set(surveys) | set(canned_by_author or ()) | set(online)
    empty_stats = {"mean": None, "median": None, "p90": None}
    rows = {}
    for key in keys:
        c, r, conv = (part.get(key) or {} for part in (created, resolved, conversations))
        frt = c.get("frt") or {"count": 0, "wall": empty_stats, "business": empty_stats}
        res = r.get("resolution") or {"count": 0, "wall": empty_stats, "business": empty_stats}
        wait = conv.get("wait") or {"count": 0, "wall": empty_stats}
        fcr = r.get("fcr") or {}
        out = conv.get("outcomes") or {}
        canned = (conv.get("canned") if canned_by_author is None else canned_by_author.get(key)) or {}
        tickets = c.get("counts") or {}
        sm = surveys.get(key) or {}
        csat, ces, nps, rate = (sm.get(k) or {} for k in ("csat", "ces", "nps", "response_rate"))
        rows[key] = {
            "requested": out.get("requested", 0),
            "answered": out.get("answered", 0),
            "frt_mean": frt["wall"]["mean"],
            "frt_median": frt["wall"]["median"],
            "frt_p90": frt["wall"]["p90"],
            "frt_business_mean": frt["business"]["mean"],
            "frt_business_median": frt["business"]["median"],
            "frt_business_p90": frt["business"]["p90"],
            "frt_count": frt["count"],
            "wait_median": wait["wall"]["median"],
            "resolution_mean": res["wall"]["mean"],
            "resolution_median": res["wall"]["median"],
            "resolution_p90": res["wall"]["p90"],
            "resolution_business_mean": res["business"]["mean"],
            "resolution_business_median": res["business"]["median"],
            "resolution_business_p90": res["business"]["p90"],
            "sla_first_response": _pct((c.get("sla_first_response") or {}).get("rate")),
            "sla_resolution": _pct((r.get("sla_resolution") or {}).get("rate")),
            "fcr": _pct(fcr.get("rate")),
            "fcr_awaiting": fcr.get("awaiting_window", 0),
            "fcr_eligible": fcr.get("eligible", 0),
            "abandonment": _pct(out.get("abandonment_rate")),
            "abandonment_wait": out.get("mean_wait_before_abandonment"),
            "abandoned": out.get("abandoned", 0),
            "missed": out.get("missed", 0),
            "transfer_rate": _pct(out.get("transfer_rate")),
            "transferred": out.get("transferred", 0),
            "canned_share": _pct(canned.get("share")),
            "tickets_created": tickets.get("created", 0),
            "tickets_resolved": res["count"],
            "csat": _pct(csat.get("rate")),
            "csat_mean": csat.get("mean"),
            "csat_mean_by_scale": csat.get("mean_by_scale") or {},
            "ces_mean": ces.get("mean"),
            "ces_mean_by_scale": ces.get("mean_by_scale") or {},
            "ces_easy": _pct(ces.get("easy_share")),
            "nps": nps.get("score"),
            "response_rate": _pct(rate.get("rate")),
            "survey_responses": sm.get("responses", 0),
            "surveys_sent": rate.get("sent", 0),
            **_operator_figures(online.get(key), out.get("answered", 0)),
            "frt_distribution": _distribution(c.get("frt_bands")),
            "rates": _rate_parts(c, r, out, canned, csat, ces, nps, rate, online.get(key)),
        }
    return rows


# Operators' time belongs to operators: the whole selection, per operator, per team (its members' time).
ONLINE_BREAKDOWNS = (None, "operator", "team")
FRT_BANDS = [_("< 1 min"), _("1–5 min"), _("5–15 min"), _("15–60 min"), _("1–4 h"), _("4–24 h"), _("> 24 h")]


def _operator_figures(time: dict | None, answered: int) -> dict:
    """Online time, occupancy, concurrency and cost per conversation (metrics.md, operators' time and cost); None
    where nothing was logged, and the cost also where no hourly cost is set or nothing was answered."""
    if not time or not time["online_s"]:
        return {"online_seconds": None, "occupancy": None, "concurrency": None, "cost_per_conversation": None}
    online = time["online_s"]
    cost = time["cost"]
    return {
        "online_seconds": online,
        "occupancy": _pct(time["occupied_s"] / online),
        "concurrency": round(time["held_s"] / online, 2),
        "cost_per_conversation": round(cost / answered, 2) if cost is not None and answered else None,
    }


def _distribution(bands: list[int] | None) -> list[dict]:
    """First responses per band of FRT (metrics.md): [{"band", "count", "share" (percent)}]."""
    counts = bands or [0] * len(FRT_BANDS)
    total = sum(counts)
    return [
        {"band": str(label), "count": n, "share": _pct(n / total) if total else None}
        for label, n in zip(FRT_BANDS, counts, strict=True)
    ]


def _rate_parts(created, resolved, outcomes, canned, csat, ces, nps, rate, time=None) -> dict:
    """{rate: {"numerator", "denominator"}} of every rate of a row, so that a reader can add rates across rows
    (metrics.md). NPS is 100 × (promoters − detractors) ÷ answers."""
    first, last = created.get("sla_first_response") or {}, resolved.get("sla_resolution") or {}
    fcr = resolved.get("fcr") or {}
    parts = {
        "sla_first_response": (first.get("met", 0), first.get("total", 0)),
        "sla_resolution": (last.get("met", 0), last.get("total", 0)),
        "fcr": (fcr.get("first_contact_resolved", 0), fcr.get("eligible", 0)),
        "abandonment": (outcomes.get("abandoned", 0), outcomes.get("requested", 0)),
        "transfer_rate": (outcomes.get("transferred", 0), outcomes.get("answered", 0)),
        "canned_share": (canned.get("canned_messages", 0), canned.get("operator_messages", 0)),
        "csat": (csat.get("satisfied", 0), csat.get("responses", 0)),
        "ces_easy": (ces.get("easy", 0), ces.get("responses", 0)),
        "nps": (nps.get("promoters", 0) - nps.get("detractors", 0), nps.get("responses", 0)),
        "response_rate": (rate.get("answered", 0), rate.get("sent", 0)),
        # Seconds online holding a chat ÷ seconds online; chats × seconds ÷ seconds online; cost ÷ chats answered.
        "occupancy": ((time or {}).get("occupied_s", 0), (time or {}).get("online_s", 0)),
        "concurrency": ((time or {}).get("held_s", 0), (time or {}).get("online_s", 0)),
        "cost_per_conversation": (time["cost"], outcomes.get("answered", 0))
        if time and time["cost"] is not None
        else (0, 0),
    }
    return {key: {"numerator": n, "denominator": d} for key, (n, d) in parts.items()}


RATE_KEYS = ("sla_first_response", "sla_resolution", "fcr", "abandonment", "transfer_rate", "canned_share", "csat",
             "ces_easy", "nps", "response_rate", "occupancy", "concurrency", "cost_per_conversation")  # fmt: skip


def summary(query: ReportQuery, *, now: datetime | None = None) -> dict:
    return figure_rows(query, now=now)[ALL]


BREAKDOWN_TITLES = {
    "inbox": _("Inbox"),
    "channel_kind": _("Channel kind"),
    "team": _("Team"),
    "operator": _("Operator"),
}


def breakdown(query: ReportQuery, *, by: str, now: datetime | None = None) -> list[dict]:
    """Rows [{"key", "label", "targets", <figures>}], ordered by label; "(none)" rows last."""
    rows = figure_rows(query, by=by, now=now)
    labels = ticket_selectors.breakdown_labels(by=by, keys=list(rows))
    out = []
    for key, figures in rows.items():
        label = labels.get(key, str(key)) if key is not None else str(_("(none)"))
        out.append({"key": key, "label": label, **figures})
    out.sort(key=lambda r: (r["key"] is None, str(r["label"]).lower()))
    slas = _inbox_slas(query)
    shared = _targets(slas, query.channel_kinds)
    for row in out:
        key = row["key"]
        if by == "inbox" and key is not None:
            row["targets"] = _targets({i: s for i, s in slas.items() if i.pk == key}, query.channel_kinds)
        elif by == "channel_kind" and key is not None:
            row["targets"] = _targets(slas, (key,))
        else:
            row["targets"] = shared
    return out


# --- Per label ------------------------------------------------------------------------------------------------------

# The figures of the per-label table (metrics.md, "Per label"): volume, first response time, CSAT, each the
# figure of the same name of the other tables, of the conversations (tickets, survey answers) that carry the label.
LABEL_FIGURES: list[Figure] = [
    FIGURES_BY_KEY["requested"],
    Figure("tickets_created", _("Tickets created"), "count", source="tickets_created"),
    FIGURES_BY_KEY["frt_median"],
    FIGURES_BY_KEY["frt_p90"],
    FIGURES_BY_KEY["frt_business_median"],
    FIGURES_BY_KEY["frt_business_p90"],
    FIGURES_BY_KEY["csat"],
    Figure("csat_responses", _("CSAT answers"), "count", source="survey_answers"),
    FIGURES_BY_KEY["csat_mean"],
]
NO_LABEL = _("(no label)")


def label_breakdown(query: ReportQuery) -> list[dict]:
    """Rows [{"key" (label id, None: no label), "label", "targets", <LABEL_FIGURES>, "rates"}], ordered by label
    name, "no label" last. A conversation with two labels counts in both rows: the rows do not add up to the
    selection's figures."""
    from chat.models import Label

    filters = ticket_filter(query)
    metrics = rollups.label_metrics(filters=filters)
    labels = {
        label.pk: label.name if label.inbox_id is None else f"{label.name} ({label.inbox.name})"
        for label in Label.objects.filter(pk__in=[k for k in metrics if k is not None]).select_related("inbox")
    }
    targets = targets_for(query)
    out = []
    for key, m in metrics.items():
        if key is not None and key not in labels:
            continue  # a label deleted since the day was rolled up: its links are gone, its day is marked
        frt, csat = m["frt"], m["surveys"]["csat"]
        out.append(
            {
                "key": key,
                "label": labels[key] if key is not None else str(NO_LABEL),
                "targets": targets,
                "requested": m["outcomes"]["requested"],
                "answered": m["outcomes"]["answered"],
                "tickets_created": m["counts"]["created"],
                "frt_count": frt["count"],
                "frt_mean": frt["wall"]["mean"],
                "frt_median": frt["wall"]["median"],
                "frt_p90": frt["wall"]["p90"],
                "frt_business_mean": frt["business"]["mean"],
                "frt_business_median": frt["business"]["median"],
                "frt_business_p90": frt["business"]["p90"],
                "csat": _pct(csat["rate"]),
                "csat_responses": csat["responses"],
                "csat_satisfied": csat["satisfied"],
                "csat_mean": csat["mean"],
                "csat_mean_by_scale": csat["mean_by_scale"] or {},
                "rates": {"csat": {"numerator": csat["satisfied"], "denominator": csat["responses"]}},
            }
        )
    out.sort(key=lambda r: (r["key"] is None, str(r["label"]).lower()))
    return out


def timeseries(query: ReportQuery) -> list[dict]:
    """Per day of the period: volume, FRT median, CSAT %, abandonment rate (None where nothing happened)."""
    filters = ticket_filter(query)
    conversations = rollups.conversation_metrics(filters=filters, by="day", wait=False)
    outcomes = {day: row["outcomes"] for day, row in conversations.items()}
    created = rollups.ticket_created_metrics(filters=filters, by="day", business=False)
    frt = {day: row["frt"] for day, row in created.items()}
    surveys = rollups.survey_metrics(filters=filters, by="day")
    series = []
    for day in query.days:
        out = outcomes.get(day) or {}
        series.append(
            {
                "day": day.isoformat(),
                "requested": out.get("requested", 0),
                "abandonment": _pct(out.get("abandonment_rate")),
                "frt_median": (frt.get(day) or {}).get("wall", {}).get("median"),
                "csat": _pct(((surveys.get(day) or {}).get("csat") or {}).get("rate")),
            }
        )
    return series


def heatmap(query: ReportQuery) -> list[list[int]]:
    """Requested live conversations by weekday (Monday first) × hour of the day."""
    return rollups.requests_by_weekday_hour(filters=ticket_filter(query))


# --- Targets ----------------------------------------------------------------------------------------

TARGET_NAMES = ["csat_percent", "nps", "fcr_percent", "abandonment_percent"]


def targets_for(query: ReportQuery) -> dict[str, float | None]:
    """Targets of the selection: the inboxes' own (metrics.md defaults when unset).

    When the selected inboxes disagree on a target, the deployment default is shown; first response and
    resolution targets (SLA, business seconds) are shown only when all selected inboxes share one.
    """
    return _targets(_inbox_slas(query), query.channel_kinds)


def _inbox_slas(query: ReportQuery) -> dict[Inbox, tuple[float, float]]:
    """The selected inboxes with their SLA targets, read once for a whole breakdown table."""
    inboxes = Inbox.objects.all()
    if query.inbox_ids:
        inboxes = inboxes.filter(pk__in=query.inbox_ids)
    if query.channel_kinds:
        inboxes = inboxes.filter(kind__in=query.channel_kinds)
    return {i: sla_targets_for(inbox=i, channel_kind=i.kind) for i in inboxes}


def _targets(slas: dict[Inbox, tuple[float, float]], kinds) -> dict[str, float | None]:
    if kinds:
        slas = {i: s for i, s in slas.items() if i.kind in kinds}
    targets: dict[str, float | None] = {}
    for name in TARGET_NAMES:
        values = {i.target(name) for i in slas}
        targets[name] = values.pop() if len(values) == 1 else getattr(settings, f"TARGET_{name.upper()}")
    sla = set(slas.values())
    if not slas and kinds:
        # No inbox of these kinds: the deployment's defaults for them.
        sla = {_kind_sla(k) for k in kinds}
    first, resolution = sla.pop() if len(sla) == 1 else (None, None)
    targets["first_response"] = first
    targets["resolution"] = resolution
    return targets


def _kind_sla(kind: str) -> tuple[float, float]:
    if kind in (ChannelKind.WEB_WIDGET, ChannelKind.API):
        return settings.SLA_CHAT_FIRST_RESPONSE_SECONDS, settings.SLA_CHAT_RESOLUTION_SECONDS
    return settings.SLA_OFFLINE_FIRST_RESPONSE_SECONDS, settings.SLA_OFFLINE_RESOLUTION_SECONDS


def target_status(figure: Figure, value, targets: dict) -> str:
    """on | off | none (no target) | empty (nothing measured)."""
    target = targets.get(figure.target) if figure.target else None
    if value is None:
        return "empty"
    if target is None or not figure.better:
        return "none"
    ok = value >= target if figure.better == "higher" else value <= target
    return "on" if ok else "off"
