"""The public survey page (for e-mailed links) and the opt-out page. Thin: they read the link and call services."""

from __future__ import annotations

from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from surveys import services
from surveys.links import survey_link_unsign
from surveys.models import SurveyInvitation
from surveys.selectors import COMMENT_MAX_CHARS, survey_invitation_by_token


def _message_page(request, *, title: str, text: str, status: int = 200):
    response = render(request, "surveys/message.html", {"title": title, "text": text}, status=status)
    response.headers["Content-Language"] = translation.get_language()
    return response


def _invitation_from_link(signed: str) -> SurveyInvitation | None:
    try:
        token = survey_link_unsign(signed)
    except signing.BadSignature:
        return None
    return survey_invitation_by_token(token=token)


def _invalid_link(request):
    return _message_page(
        request,
        title=_("This link does not work"),
        text=_("The survey link is incomplete or was changed. Please open it again from the e-mail we sent you."),
        status=400,
    )


def _answered(request, invitation: SurveyInvitation):
    return _message_page(
        request,
        title=invitation.thank_you or _("Thank you!"),
        text=_("This survey has been answered. Your feedback is recorded."),
    )


def _expired(request, invitation: SurveyInvitation):
    return _message_page(
        request,
        title=_("This survey has closed"),
        text=_("Surveys can be answered for a limited time only, and this one no longer takes answers."),
        status=410,
    )


def _questions_for_form(invitation: SurveyInvitation, values: dict, errors: dict) -> list[dict]:
    return [
        {
            **question,
            "points": list(range(question["min"], question["max"] + 1)),
            "value": str(values.get(question["key"], "")),
            "errors": errors.get(question["key"], []),
        }
        for question in invitation.questions
    ]


@require_http_methods(["GET", "POST"])
def survey_page(request, signed: str):
    invitation = _invitation_from_link(signed)
    if invitation is None:
        return _invalid_link(request)
    with translation.override(invitation.language):
        if invitation.status == SurveyInvitation.Status.ANSWERED:
            return _answered(request, invitation)
        if invitation.status == SurveyInvitation.Status.EXPIRED or invitation.expires_at <= timezone.now():
            return _expired(request, invitation)
        values: dict = {}
        errors: dict = {}
        comment = ""
        status = 200
        if request.method == "POST":
            values = {question["key"]: request.POST.get(question["key"], "") for question in invitation.questions}
            comment = request.POST.get("comment", "")
            try:
                services.survey_answer(token=invitation.token, answers=values, comment=comment, channel="email")
            except services.SurveyAlreadyAnswered:
                invitation.refresh_from_db()
                return _answered(request, invitation)
            except services.SurveyExpired:
                return _expired(request, invitation)
            except services.SurveyInvalidAnswer as exc:
                errors = exc.message_dict
                status = 400
            else:
                return redirect(request.path)
        context = {
            "invitation": invitation,
            "inbox_name": invitation.inbox.name,
            "questions": _questions_for_form(invitation, values, errors),
            "comment": comment,
            "comment_errors": errors.get("comment", []),
            "comment_max_length": COMMENT_MAX_CHARS,
            "has_errors": bool(errors),
            "opt_out_path": reverse("surveys:opt-out", args=[signed]),
        }
        response = render(request, "surveys/page.html", context, status=status)
        response.headers["Content-Language"] = invitation.language
        return response


@require_http_methods(["GET", "POST"])
def survey_opt_out(request, signed: str):
    """GET asks, POST opts out: a mail scanner that follows links must not opt anyone out."""
    invitation = _invitation_from_link(signed)
    if invitation is None:
        return _invalid_link(request)
    with translation.override(invitation.language):
        if request.method == "POST" or invitation.contact.survey_opt_out:
            if not invitation.contact.survey_opt_out:
                services.survey_contact_opt_out(contact=invitation.contact)
            return _message_page(
                request,
                title=_("You will not get surveys from us any more"),
                text=_("We have stopped asking you for feedback. Thank you for letting us know."),
            )
        context = {"inbox_name": invitation.inbox.name, "survey_path": reverse("surveys:page", args=[signed])}
        response = render(request, "surveys/opt_out.html", context)
        response.headers["Content-Language"] = invitation.language
        return response
