"""Survey reads: templates with their defaults, the widget's invite payload, results for a conversation or
ticket, and the survey metrics of metrics.md aggregated in the database.

Metrics (surveys.scales holds the thresholds):
- CSAT %: satisfied ÷ CSAT responses × 100; satisfied is 4–5 on 1–5 and 8–10 on 0–10.
- CES easy share: easy ÷ CES responses × 100; easy is 5–7 on 1–7, 4–5 on 1–5, 8–10 on 0–10, and the top two
  points on the short scales (2–3 on 0–3, 4–5 on 0–5).
- Means are per scale (a mean over 1–5 and 0–10 answers mixed would mean nothing): `csat_mean` is given when
  the selection holds one CSAT scale, `csat_mean_by_scale` always; the same for CES.
- NPS: % promoters (9–10) − % detractors (0–6), passives (7–8) count in the base only.
- Response rate: invitations answered ÷ invitations sent, over the invitations sent in the period.
Periods: a response belongs to the period it was given in; an invitation to the period it was sent in.
Attribution: the inbox, channel kind, team and operator recorded on the invitation when it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from chat.models import ChannelKind, Inbox, OperatorProfile, Team
from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from surveys.scales import CES_SCALES, CSAT_SCALES, NPS_DETRACTOR_UP_TO, NPS_PROMOTER_FROM, NPS_SCALE, Scale

COMMENT_MAX_CHARS = 2000
_OPEN = [SurveyInvitation.Status.SCHEDULED, SurveyInvitation.Status.SENT]
_ENDPOINT_LABELS = {
    "csat": (gettext_lazy("Very dissatisfied"), gettext_lazy("Very satisfied")),
    "ces": (gettext_lazy("Very difficult"), gettext_lazy("Very easy")),
    "nps": (gettext_lazy("Not at all likely"), gettext_lazy("Extremely likely")),
}


# --- Templates and snapshots ------------------------------------------------------------------


def survey_template_for(*, inbox: Inbox) -> SurveyTemplate:
    """The inbox's template, or the defaults (CSAT on 1–5 with a comment) when it has none."""
    template = SurveyTemplate.objects.filter(inbox=inbox).first()
    return template if template is not None else SurveyTemplate(inbox=inbox)


def survey_language_for(*, contact, inbox: Inbox) -> str:
    """The contact's language if the desk speaks it, else the inbox's."""
    spoken = {code for code, _name in settings.LANGUAGES}
    for candidate in (contact.locale, inbox.language):
        base = (candidate or "").replace("_", "-").split("-")[0].lower()
        if base in spoken:
            return base
    return settings.LANGUAGE_CODE


def _question(key: str, scale: Scale, text: str) -> dict:
    low, high = _ENDPOINT_LABELS[key]
    return {
        "key": key,
        "scale": scale.key,
        "min": scale.low,
        "max": scale.high,
        "text": text,
        "low_label": str(low),
        "high_label": str(high),
    }


def survey_questions_snapshot(*, template: SurveyTemplate, language: str, include_nps: bool) -> dict:
    """What an invitation asks, in one language: {"questions": [...], "comment_label": str, "thank_you": str}."""
    suffix = "fa" if language == "fa" else "en"
    questions = []
    with translation.override(language):
        if template.ask_csat:
            questions.append(
                _question("csat", CSAT_SCALES[template.csat_scale], getattr(template, f"csat_question_{suffix}"))
            )
        if template.ask_ces:
            questions.append(
                _question("ces", CES_SCALES[template.ces_scale], getattr(template, f"ces_question_{suffix}"))
            )
        if include_nps:
            questions.append(_question("nps", NPS_SCALE, getattr(template, f"nps_question_{suffix}")))
    return {
        "questions": questions,
        "comment_label": getattr(template, f"comment_label_{suffix}") if template.allow_comment else "",
        "thank_you": getattr(template, f"thank_you_{suffix}"),
    }


# --- The widget -------------------------------------------------------------------------------


def survey_invite_payload(invitation: SurveyInvitation) -> dict:
    """The `survey.invite` frame for the widget."""
    return {
        "type": "survey.invite",
        "invitation": invitation.token,
        "questions": invitation.questions,
        "comment": {"label": invitation.comment_label, "max_length": COMMENT_MAX_CHARS}
        if invitation.comment_label
        else None,
        "thank_you": invitation.thank_you,
        "language": invitation.language,
        "direction": "rtl" if translation.get_language_info(invitation.language)["bidi"] else "ltr",
        "expires_at": invitation.expires_at.isoformat(),
    }


def pending_invitation(*, contact) -> SurveyInvitation | None:
    """The contact's newest invitation that can still be answered, if any."""
    if contact.survey_opt_out:
        return None
    return (
        SurveyInvitation.objects.filter(
            contact=contact, status__in=_OPEN, answered_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


def pending_invitation_payload(*, contact) -> dict | None:
    """For a visitor who (re)connects: the `survey.invite` frame of a survey still waiting for them, or None."""
    invitation = pending_invitation(contact=contact)
    return survey_invite_payload(invitation) if invitation is not None else None


def survey_invitation_by_token(*, token: str) -> SurveyInvitation | None:
    return SurveyInvitation.objects.select_related("contact", "inbox").filter(token=token).first()


# --- Results where people work -----------------------------------------------------------------


def survey_result_payload(invitation: SurveyInvitation, response: SurveyResponse | None = None) -> dict:
    """An invitation and its answer, for the inbox and the admin: the question texts beside the scores."""
    if response is None:
        response = SurveyResponse.objects.filter(invitation=invitation).first()
    answers = []
    if response is not None:
        for question in invitation.questions:
            answers.append(
                {
                    "key": question["key"],
                    "question": question["text"],
                    "scale": question["scale"],
                    "min": question["min"],
                    "max": question["max"],
                    "score": getattr(response, question["key"]),
                }
            )
    return {
        "invitation_id": invitation.pk,
        "conversation_id": invitation.conversation_id,
        "ticket_id": invitation.ticket_id,
        "operator_id": invitation.operator_id,
        "status": invitation.status,
        "sent_at": invitation.sent_at.isoformat() if invitation.sent_at else None,
        "answered_at": invitation.answered_at.isoformat() if invitation.answered_at else None,
        "expires_at": invitation.expires_at.isoformat(),
        "answered_in": response.channel if response is not None else None,
        "answers": answers,
        "comment": response.comment if response is not None else "",
    }


def survey_results_for_conversation(*, conversation) -> dict | None:
    invitation = SurveyInvitation.objects.filter(conversation=conversation).select_related("response").first()
    if invitation is None:
        return None
    return survey_result_payload(invitation, getattr(invitation, "response", None))


def survey_results_for_ticket(*, ticket) -> list[dict]:
    """Every survey of the ticket's conversations, oldest first."""
    invitations = SurveyInvitation.objects.filter(ticket=ticket).select_related("response").order_by("created_at")
    return [survey_result_payload(inv, getattr(inv, "response", None)) for inv in invitations]


# --- Metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricFilter:
    """Which part of the history a report covers; empty selections mean "all". `end` is exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    inbox_ids: tuple[int, ...] | list[int] | None = None
    channel_kinds: tuple[str, ...] | list[str] | None = None
    team_ids: tuple[int, ...] | list[int] | None = None
    operator_ids: tuple[int, ...] | list[int] | None = None


@dataclass(frozen=True)
class SurveyMetrics:
    responses: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_percent: float | None = None
    csat_mean: float | None = None
    csat_mean_by_scale: dict[str, float] = field(default_factory=dict)
    ces_responses: int = 0
    ces_easy: int = 0
    ces_easy_percent: float | None = None
    ces_mean: float | None = None
    ces_mean_by_scale: dict[str, float] = field(default_factory=dict)
    nps_responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    nps: float | None = None
    sent: int = 0
    answered: int = 0
    response_rate_percent: float | None = None


@dataclass(frozen=True)
class SurveyMetricsRow:
    """One line of a breakdown: `key` is the id (inbox, team, operator), the channel kind or the date."""

    key: int | str | date | None
    label: str
    metrics: SurveyMetrics


BREAKDOWNS = ("inbox", "channel_kind", "team", "operator", "day")
_ATTRIBUTES = {"inbox": "inbox_id", "channel_kind": "channel_kind", "team": "team_id", "operator": "operator_id"}


def _filter_q(metric_filter: MetricFilter, *, time_field: str, prefix: str) -> Q:
    q = Q(**{f"{time_field}__isnull": False})
    if metric_filter.start is not None:
        q &= Q(**{f"{time_field}__gte": metric_filter.start})
    if metric_filter.end is not None:
        q &= Q(**{f"{time_field}__lt": metric_filter.end})
    for name, values in (
        ("inbox_id", metric_filter.inbox_ids),
        ("channel_kind", metric_filter.channel_kinds),
        ("team_id", metric_filter.team_ids),
        ("operator_id", metric_filter.operator_ids),
    ):
        if values:
            q &= Q(**{f"{prefix}{name}__in": list(values)})
    return q


def _alias(scale_key: str) -> str:
    return scale_key.replace("-", "_")


def _good_q(question: str, scales: dict[str, Scale]) -> Q:
    q = Q(pk__in=[])
    for scale in scales.values():
        q |= Q(**{f"{question}_scale": scale.key, f"{question}__gte": scale.good_from})
    return q


def _response_aggregates() -> dict:
    aggregates = {
        "responses": Count("pk"),
        "csat_responses": Count("pk", filter=Q(csat__isnull=False)),
        "csat_satisfied": Count("pk", filter=_good_q("csat", CSAT_SCALES)),
        "ces_responses": Count("pk", filter=Q(ces__isnull=False)),
        "ces_easy": Count("pk", filter=_good_q("ces", CES_SCALES)),
        "nps_responses": Count("pk", filter=Q(nps__isnull=False)),
        "promoters": Count("pk", filter=Q(nps__gte=NPS_PROMOTER_FROM)),
        "passives": Count("pk", filter=Q(nps__gt=NPS_DETRACTOR_UP_TO, nps__lt=NPS_PROMOTER_FROM)),
        "detractors": Count("pk", filter=Q(nps__lte=NPS_DETRACTOR_UP_TO)),
    }
    for question, scales in (("csat", CSAT_SCALES), ("ces", CES_SCALES)):
        for key in scales:
            on_scale = Q(**{f"{question}_scale": key, f"{question}__isnull": False})
            aggregates[f"{question}_n_{_alias(key)}"] = Count("pk", filter=on_scale)
            aggregates[f"{question}_mean_{_alias(key)}"] = Avg(question, filter=on_scale)
    return aggregates


def _invitation_aggregates() -> dict:
    return {"sent": Count("pk"), "answered": Count("pk", filter=Q(status=SurveyInvitation.Status.ANSWERED))}


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _means(row: dict, question: str, scales: dict[str, Scale]) -> tuple[float | None, dict[str, float]]:
    by_scale = {
        key: round(float(row[f"{question}_mean_{_alias(key)}"]), 2)
        for key in scales
        if row.get(f"{question}_n_{_alias(key)}")
    }
    return (next(iter(by_scale.values())) if len(by_scale) == 1 else None), by_scale


def _metrics(responses: dict, invitations: dict) -> SurveyMetrics:
    csat_mean, csat_by_scale = _means(responses, "csat", CSAT_SCALES)
    ces_mean, ces_by_scale = _means(responses, "ces", CES_SCALES)
    nps_n = responses.get("nps_responses", 0)
    sent = invitations.get("sent", 0)
    return SurveyMetrics(
        responses=responses.get("responses", 0),
        csat_responses=responses.get("csat_responses", 0),
        csat_satisfied=responses.get("csat_satisfied", 0),
        csat_percent=_percent(responses.get("csat_satisfied", 0), responses.get("csat_responses", 0)),
        csat_mean=csat_mean,
        csat_mean_by_scale=csat_by_scale,
        ces_responses=responses.get("ces_responses", 0),
        ces_easy=responses.get("ces_easy", 0),
        ces_easy_percent=_percent(responses.get("ces_easy", 0), responses.get("ces_responses", 0)),
        ces_mean=ces_mean,
        ces_mean_by_scale=ces_by_scale,
        nps_responses=nps_n,
        promoters=responses.get("promoters", 0),
        passives=responses.get("passives", 0),
        detractors=responses.get("detractors", 0),
        nps=round(100.0 * (responses.get("promoters", 0) - responses.get("detractors", 0)) / nps_n, 2)
        if nps_n
        else None,
        sent=sent,
        answered=invitations.get("answered", 0),
        response_rate_percent=_percent(invitations.get("answered", 0), sent),
    )


def _responses(metric_filter: MetricFilter):
    return SurveyResponse.objects.filter(_filter_q(metric_filter, time_field="created_at", prefix="invitation__"))


def _invitations(metric_filter: MetricFilter):
    return SurveyInvitation.objects.filter(_filter_q(metric_filter, time_field="sent_at", prefix=""))


def survey_metrics(*, metric_filter: MetricFilter | None = None) -> SurveyMetrics:
    """CSAT, CES, NPS and response rate over the selection: two aggregate queries."""
    metric_filter = metric_filter or MetricFilter()
    responses = _responses(metric_filter).aggregate(**_response_aggregates())
    invitations = _invitations(metric_filter).aggregate(**_invitation_aggregates())
    return _metrics(responses, invitations)


def _labels(by: str, keys: set) -> dict:
    if by == "inbox":
        return dict(Inbox.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "operator":
        return dict(OperatorProfile.objects.filter(user_id__in=keys).values_list("user_id", "display_name"))
    if by == "channel_kind":
        return {key: str(ChannelKind(key).label) for key in keys if key in ChannelKind.values}
    return {key: key.isoformat() for key in keys if key is not None}


def survey_metrics_breakdown(*, metric_filter: MetricFilter | None = None, by: str) -> list[SurveyMetricsRow]:
    """The metrics per inbox, channel kind, team, operator (by the invitation's snapshot) or day.

    Days are those of the response (CSAT, CES, NPS) and of the sending (response rate), in UTC. Rows are
    ordered by key; a row without an attribute (no team, no operator) has key None.
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {BREAKDOWNS}")
    metric_filter = metric_filter or MetricFilter()
    if by == "day":
        response_key, invitation_key = TruncDate("created_at"), TruncDate("sent_at")
    else:
        response_key, invitation_key = F(f"invitation__{_ATTRIBUTES[by]}"), F(_ATTRIBUTES[by])
    response_rows = {
        row["key"]: row
        for row in _responses(metric_filter).values(key=response_key).annotate(**_response_aggregates()).order_by()
    }
    invitation_rows = {
        row["key"]: row
        for row in _invitations(metric_filter)
        .values(key=invitation_key)
        .annotate(**_invitation_aggregates())
        .order_by()
    }
    keys = set(response_rows) | set(invitation_rows)
    labels = _labels(by, keys - {None})
    unattributed = str(gettext_lazy("(none)"))
    return [
        SurveyMetricsRow(
            key=key,
            label=labels.get(key, str(key)) if key is not None else unattributed,
            metrics=_metrics(response_rows.get(key, {}), invitation_rows.get(key, {})),
        )
        for key in sorted(keys, key=lambda k: (k is None, str(k) if by == "channel_kind" else k or 0))
    ]
