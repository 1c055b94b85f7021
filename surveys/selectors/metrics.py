"""Survey metrics (metrics.md, "Surveys"), aggregated in the database with conditional Count/Avg.

Same conventions as tickets.selectors: keyword `filters: MetricFilter` and `by: str | None`; rates are shares
in 0..1; figures are None, never 0, when there is nothing to measure. Thresholds live in surveys.scales.
"""

from __future__ import annotations

from django.db.models import Avg, Count, Q

from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import CES_SCALES, CSAT_SCALES, NPS_DETRACTOR_UP_TO, NPS_PROMOTER_FROM, Scale
from tickets.selectors.filters import MetricFilter, Source, apply_filter, breakdown_key

# Attribution: the invitation's snapshot, never the conversation's current assignee or team.
RESPONSE = Source(
    inbox="invitation__inbox_id",
    channel_kind="invitation__channel_kind",
    team="invitation__team_id",
    operator="invitation__operator_id",
)
INVITATION = Source(inbox="inbox_id", channel_kind="channel_kind", team="team_id", operator="operator_id")


def _alias(scale_key: str) -> str:
    return scale_key.replace("-", "_")


def _good_q(question: str, scales: dict[str, Scale]) -> Q:
    q = Q(pk__in=[])
    for scale in scales.values():
        q |= Q(**{f"{question}_scale": scale.key, f"{question}__gte": scale.good_from})
    return q


def response_counts() -> dict:
    """The counts behind the survey figures: answers, the satisfied / easy / NPS groups, answers per scale."""
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
    return aggregates


def _response_aggregates() -> dict:
    aggregates = response_counts()
    for question, scales in (("csat", CSAT_SCALES), ("ces", CES_SCALES)):
        for key in scales:
            on_scale = Q(**{f"{question}_scale": key, f"{question}__isnull": False})
            aggregates[f"{question}_mean_{_alias(key)}"] = Avg(question, filter=on_scale)
    return aggregates


def _invitation_aggregates() -> dict:
    return {"sent": Count("pk"), "answered": Count("pk", filter=Q(status=SurveyInvitation.Status.ANSWERED))}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _means(row: dict, question: str, scales: dict[str, Scale]) -> tuple[float | None, dict[str, float]]:
    by_scale = {
        key: float(row[f"{question}_mean_{_alias(key)}"]) for key in scales if row.get(f"{question}_n_{_alias(key)}")
    }
    # A mean over answers on different scales would mean nothing: give it only when there is one scale.
    return (next(iter(by_scale.values())) if len(by_scale) == 1 else None), by_scale


def shape(responses: dict, invitations: dict) -> dict:
    csat_mean, csat_by_scale = _means(responses, "csat", CSAT_SCALES)
    ces_mean, ces_by_scale = _means(responses, "ces", CES_SCALES)
    nps_n = responses.get("nps_responses", 0)
    promoters, detractors = responses.get("promoters", 0), responses.get("detractors", 0)
    return {
        "responses": responses.get("responses", 0),
        "csat": {
            "responses": responses.get("csat_responses", 0),
            "satisfied": responses.get("csat_satisfied", 0),
            "rate": _share(responses.get("csat_satisfied", 0), responses.get("csat_responses", 0)),
            "mean": csat_mean,
            "mean_by_scale": csat_by_scale,
        },
        "ces": {
            "responses": responses.get("ces_responses", 0),
            "easy": responses.get("ces_easy", 0),
            "easy_share": _share(responses.get("ces_easy", 0), responses.get("ces_responses", 0)),
            "mean": ces_mean,
            "mean_by_scale": ces_by_scale,
        },
        "nps": {
            "responses": nps_n,
            "promoters": promoters,
            "passives": responses.get("passives", 0),
            "detractors": detractors,
            "score": 100.0 * (promoters - detractors) / nps_n if nps_n else None,
        },
        "response_rate": {
            "sent": invitations.get("sent", 0),
            "answered": invitations.get("answered", 0),
            "rate": _share(invitations.get("answered", 0), invitations.get("sent", 0)),
        },
    }


def _responses(filters: MetricFilter):
    return apply_filter(SurveyResponse.objects.all(), filters, RESPONSE, "created_at")


def _invitations(filters: MetricFilter):
    sent = SurveyInvitation.objects.filter(sent_at__isnull=False)
    return apply_filter(sent, filters, INVITATION, "sent_at")


def survey_metrics(*, filters: MetricFilter | None = None, by: str | None = None) -> dict | list[dict]:
    """CSAT, CES, NPS and response rate of the selection, or per inbox / channel kind / team / operator / day.

    A response belongs to the period it was given in; the response rate is over the invitations sent in the
    period (answered ones among them, whenever answered). See surveys.selectors for the shape.
    """
    filters = filters or MetricFilter()
    if by is None:
        return shape(
            _responses(filters).aggregate(**_response_aggregates()),
            _invitations(filters).aggregate(**_invitation_aggregates()),
        )
    response_rows = {
        row["key"]: row
        for row in _responses(filters)
        .values(key=breakdown_key(by, RESPONSE, "created_at"))
        .annotate(**_response_aggregates())
        .order_by()
    }
    invitation_rows = {
        row["key"]: row
        for row in _invitations(filters)
        .values(key=breakdown_key(by, INVITATION, "sent_at"))
        .annotate(**_invitation_aggregates())
        .order_by()
    }
    keys = sorted(set(response_rows) | set(invitation_rows), key=lambda k: (k is None, k if k is not None else 0))
    return [{"key": key, **shape(response_rows.get(key, {}), invitation_rows.get(key, {}))} for key in keys]
