"""Survey reads.

Metrics, exactly as /shared/design/metrics.md defines them (thresholds in surveys.scales), with the same
conventions as tickets.selectors (MetricFilter, `by`, shares in 0..1, None when there is nothing to measure):

    survey_metrics(*, filters: MetricFilter | None = None, by: str | None = None)
        by None -> one dict; by in BREAKDOWNS ("inbox", "channel_kind", "team", "operator", "day") -> a list of
        those dicts, each with "key" (id, channel kind value or datetime.date of the UTC day; None = no team or
        no operator), ordered by key, None last. Labels: tickets.selectors.breakdown_labels(by=..., keys=[...]).

        {"responses": int,
         "csat": {"responses", "satisfied": int, "rate": float|None, "mean": float|None,
                  "mean_by_scale": {"1-5": float, "0-10": float}},
         "ces":  {"responses", "easy": int, "easy_share": float|None, "mean": float|None, "mean_by_scale": {...}},
         "nps":  {"responses", "promoters", "passives", "detractors": int, "score": float|None  (-100..100)},
         "response_rate": {"sent", "answered": int, "rate": float|None}}

    - satisfied: 4–5 on 1–5, 8–10 on 0–10. CSAT % = rate × 100.
    - easy: 5–7 on 1–7, 4–5 on 1–5, 8–10 on 0–10; on the short scales the top two points (2–3 on 0–3, 4–5 on 0–5).
    - means are per scale; "mean" is given only when the selection holds answers on one scale.
    - NPS: % promoters (9–10) − % detractors (0–6); passives (7–8) count in the base only.
    - periods: a response belongs to the period it was given in (CSAT, CES, NPS); the response rate is over
      the invitations sent in the period. Attribution: inbox, channel kind, team and operator recorded on
      the invitation when it was made (filters.operator_ids / team_ids match those).

Sending and showing:
    survey_template_for(*, inbox), survey_language_for(*, contact, inbox),
    survey_questions_snapshot(*, template, language, include_nps)
    survey_invite_payload(invitation) -> the `survey.invite` frame
    pending_invitation(*, contact) / pending_invitation_payload(*, contact) -> for a visitor who (re)connects
    survey_invitation_by_token(*, token)
    survey_results_for_conversation(*, conversation) -> dict | None; survey_results_for_ticket(*, ticket) -> [dict]
"""

from surveys.selectors.invitations import (
    COMMENT_MAX_CHARS,
    OPEN_STATUSES,
    pending_invitation,
    pending_invitation_payload,
    survey_invitation_by_token,
    survey_invite_payload,
    survey_language_for,
    survey_questions_snapshot,
    survey_result_payload,
    survey_results_for_conversation,
    survey_results_for_ticket,
    survey_template_for,
)
from surveys.selectors.metrics import survey_metrics
from tickets.selectors.filters import BREAKDOWNS, MetricFilter

__all__ = [
    "BREAKDOWNS",
    "COMMENT_MAX_CHARS",
    "MetricFilter",
    "OPEN_STATUSES",
    "pending_invitation",
    "pending_invitation_payload",
    "survey_invitation_by_token",
    "survey_invite_payload",
    "survey_language_for",
    "survey_metrics",
    "survey_questions_snapshot",
    "survey_result_payload",
    "survey_results_for_conversation",
    "survey_results_for_ticket",
    "survey_template_for",
]
