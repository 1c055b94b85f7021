"""Survey reads for sending and showing surveys: templates with their defaults, the question snapshot, the
widget's invite payload, and the results shown on a conversation or ticket."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from chat import realtime
from chat.models import Inbox
from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from surveys.scales import CES_SCALES, CSAT_SCALES, NPS_SCALE, Scale

COMMENT_MAX_CHARS = 2000
# An invitation can still be answered (and e-mailed) in these states, until it expires.
OPEN_STATUSES = [SurveyInvitation.Status.SCHEDULED, SurveyInvitation.Status.SENT]
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
        "type": realtime.SURVEY_INVITE,
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
            contact=contact, status__in=OPEN_STATUSES, answered_at__isnull=True, expires_at__gt=timezone.now()
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
        # The related row, so that a queryset's select_related("response") spares a query per invitation.
        response = getattr(invitation, "response", None)
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
    return survey_result_payload(invitation)


def survey_results_for_ticket(*, ticket) -> list[dict]:
    """Every survey of the ticket's conversations, oldest first."""
    invitations = SurveyInvitation.objects.filter(ticket=ticket).select_related("response").order_by("created_at")
    return [survey_result_payload(invitation) for invitation in invitations]
