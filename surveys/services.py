"""Survey writes: the one invitation per conversation, its delivery (widget, e-mail), answers and opt-outs.

Rules (metrics.md, "Survey rules"): only conversations an operator answered and that ended resolved or
closed are surveyed; a contact gets at most one invitation per SURVEY_COOLDOWN_SECONDS, NPS at most once per
NPS_INTERVAL_SECONDS, never after opting out; an invitation expires after SURVEY_EXPIRY_SECONDS and takes one
answer. The database is the truth: the beat sweep finds due e-mails and expiries from the rows themselves.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import realtime
from chat.models import Contact, Conversation
from surveys.emails import survey_email_message
from surveys.models import SurveyInvitation, SurveyObligation, SurveyResponse
from surveys.selectors import (
    COMMENT_MAX_CHARS,
    OPEN_STATUSES,
    survey_invite_payload,
    survey_language_for,
    survey_questions_snapshot,
    survey_result_payload,
    survey_template_for,
)

logger = logging.getLogger(__name__)

Status = SurveyInvitation.Status
SURVEYED_END_REASONS = {
    Conversation.EndReason.RESOLVED,
    Conversation.EndReason.CLOSED_BY_VISITOR,
    Conversation.EndReason.VISITOR_LEFT,
}
CHANNELS = ("widget", "email")


class SurveyError(ValidationError):
    """A refused survey answer. `code` is the protocol's error code (protocol.md) for an `error` frame."""

    default_code = "invalid_frame"

    def __init__(self, message, code: str | None = None):
        super().__init__(message, code=code or self.default_code)
        # ValidationError keeps no code when given a dict of field errors; the frame needs one.
        self.code = code or self.default_code


# Also LookupError / PermissionError, which the widget consumer maps to `not_found` / `forbidden` frames.
class SurveyNotFound(SurveyError, LookupError):
    default_code = "not_found"


class SurveyForbidden(SurveyError, PermissionError):
    default_code = "forbidden"


class SurveyAlreadyAnswered(SurveyError):
    default_code = "conflict"


class SurveyExpired(SurveyError):
    default_code = "closed"


class SurveyInvalidAnswer(SurveyError):
    """Field errors, by question key (and "comment"): `message_dict` holds the messages to show beside each."""

    default_code = "invalid_frame"


def survey_conversation_ended(*, conversation) -> None:
    """Called by chat services in the transaction that ends a conversation: the survey becomes due there (a row),
    and the invitation is made on commit by a task. The task is the fast path only: when the broker is down the
    ending still commits (`robust`: the error is logged) and the beat sweep settles the row instead."""
    from surveys.tasks import survey_create_invitation

    conversation_id = conversation.pk
    SurveyObligation.objects.get_or_create(conversation_id=conversation_id)
    transaction.on_commit(lambda: survey_create_invitation.delay(conversation_id), robust=True)


def _settle(conversation_id: int, now) -> None:
    SurveyObligation.objects.filter(conversation_id=conversation_id, settled_at__isnull=True).update(settled_at=now)


def _is_surveyed(conversation: Conversation) -> bool:
    return (
        conversation.status == Conversation.Status.ENDED
        and conversation.end_reason in SURVEYED_END_REASONS
        and conversation.first_response_at is not None
    )


def survey_invitation_create(*, conversation_id: int) -> SurveyInvitation | None:
    """The conversation's one invitation: created once, or None when the rules say no survey.

    Safe under duplicate task delivery and concurrent workers: the contact row is locked (which also makes the
    cooldown check exact for two conversations of one contact), and the conversation is unique on the table.
    The conversation's SurveyObligation is settled in the same transaction, whatever the rules decide.
    """
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_related("inbox", "contact", "ticket").filter(pk=conversation_id).first()
        )
        if conversation is None:
            return None
        contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
        now = timezone.now()
        _settle(conversation.pk, now)
        existing = SurveyInvitation.objects.filter(conversation_id=conversation.pk).first()
        if existing is not None:
            return existing
        if not _is_surveyed(conversation) or contact.survey_opt_out:
            return None
        inbox = conversation.inbox
        template = survey_template_for(inbox=inbox)
        if not template.is_enabled:
            return None
        recent = SurveyInvitation.objects.filter(contact=contact)
        if recent.filter(created_at__gt=now - timedelta(seconds=settings.SURVEY_COOLDOWN_SECONDS)).exists():
            return None
        include_nps = (
            template.ask_nps
            and not recent.filter(
                includes_nps=True, created_at__gt=now - timedelta(seconds=settings.NPS_INTERVAL_SECONDS)
            ).exists()
        )
        language = survey_language_for(contact=contact, inbox=inbox)
        snapshot = survey_questions_snapshot(template=template, language=language, include_nps=include_nps)
        if not snapshot["questions"]:
            return None
        visitor_connected = conversation.visitor_connection_count > 0
        invitation = SurveyInvitation(
            conversation=conversation,
            contact=contact,
            ticket=conversation.ticket,
            inbox=inbox,
            channel_kind=conversation.channel_kind,
            operator_id=conversation.assignee_id,
            team_id=conversation.team_id or inbox.team_id,
            token=secrets.token_urlsafe(32),
            questions=snapshot["questions"],
            language=language,
            comment_label=snapshot["comment_label"],
            thank_you=snapshot["thank_you"],
            includes_nps=include_nps,
            status=Status.SENT if visitor_connected else Status.SCHEDULED,
            created_at=now,
            sent_at=now if visitor_connected else None,
            widget_sent_at=now if visitor_connected else None,
            email_due_at=now + timedelta(seconds=settings.SURVEY_EMAIL_DELAY_SECONDS) if contact.email else None,
            expires_at=now + timedelta(seconds=settings.SURVEY_EXPIRY_SECONDS),
        )
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError:
            # Another worker made it between our check and insert (possible only where the lock is a no-op).
            return SurveyInvitation.objects.filter(conversation_id=conversation.pk).first()
        if visitor_connected:
            realtime.send_to_conversation_visitor(conversation.pk, survey_invite_payload(invitation))
        return invitation


def survey_invitation_shown_in_widget(*, invitation: SurveyInvitation) -> None:
    """Records that the widget showed the survey (e.g. to a visitor who came back): it counts as sent."""
    now = timezone.now()
    SurveyInvitation.objects.filter(pk=invitation.pk, widget_sent_at__isnull=True, status__in=OPEN_STATUSES).update(
        widget_sent_at=now, sent_at=Coalesce(F("sent_at"), Value(now)), status=Status.SENT
    )


def _email_due(now) -> Q:
    """An invitation whose e-mail is due: still open, neither e-mailed nor answered, not expired, and not claimed
    by a sweep within the lease (the contact's opt-out is checked by each caller, see survey_email_send)."""
    lease_start = now - timedelta(seconds=settings.SURVEY_EMAIL_LEASE_SECONDS)
    return Q(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lte=lease_start),
        status__in=OPEN_STATUSES,
        emailed_at__isnull=True,
        answered_at__isnull=True,
        email_due_at__lte=now,
        expires_at__gt=now,
    )


def survey_email_send(*, invitation_id: int) -> bool:
    """Sends the invitation's e-mail if it is due and still unanswered; True if this call sent it.

    At least once, and once in all but one case: the row is claimed with a conditional UPDATE before sending, so
    a second sweep, a duplicate task or another worker finds it claimed; it is marked e-mailed only after the
    send. A failed send releases the claim; a worker that dies leaves a claim that expires after the lease, and
    the next sweep sends again. Only a worker that dies between the relay accepting the e-mail and the mark
    causes a second copy, with the same Message-ID (survey_message_id), so it is recognisable as one e-mail.
    """
    now = timezone.now()
    # The opt-out is read through a subquery on contacts, not a join: with a join Django wraps the whole filter
    # in `id IN (SELECT …)`, which PostgreSQL does not re-check after waiting for a concurrent claim's lock, so
    # two workers both claimed the row. The row's own conditions stay in the UPDATE's WHERE, re-checked.
    claimed = SurveyInvitation.objects.filter(
        _email_due(now),
        pk=invitation_id,
        contact_id__in=Contact.objects.filter(survey_opt_out=False).values("pk"),
    ).update(email_claimed_at=now)
    if not claimed:
        return False
    ours = SurveyInvitation.objects.filter(pk=invitation_id, email_claimed_at=now)
    invitation = SurveyInvitation.objects.select_related("contact", "inbox").get(pk=invitation_id)
    try:
        survey_email_message(invitation).send()
    except Exception:
        logger.exception("survey e-mail for invitation %s failed; the next sweep retries", invitation_id)
        ours.update(email_claimed_at=None)
        return False
    sent = timezone.now()
    ours.update(
        emailed_at=sent,
        sent_at=Coalesce(F("sent_at"), Value(sent)),
        status=Case(When(status=Status.SCHEDULED, then=Value(Status.SENT)), default=F("status")),
    )
    return True


def survey_obligations_settle(*, batch_size: int = 200) -> int:
    """Makes the invitations the fast-path task did not (broker down, worker killed); returns how many it made."""
    due = list(
        SurveyObligation.objects.filter(settled_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("conversation_id", flat=True)[:batch_size]
    )
    made = 0
    for conversation_id in due:
        had = SurveyInvitation.objects.filter(conversation_id=conversation_id).exists()
        try:
            invitation = survey_invitation_create(conversation_id=conversation_id)
        except Exception:
            logger.exception("survey for conversation %s failed; the next sweep retries", conversation_id)
            continue
        made += invitation is not None and not had
    return made


def survey_invitations_sweep(*, batch_size: int = 200) -> dict[str, int]:
    """Beat job: makes the invitations still due, marks expired ones and e-mails the due ones. Reads only the
    database."""
    surveyed = survey_obligations_settle(batch_size=batch_size)
    now = timezone.now()
    expired = SurveyInvitation.objects.filter(status__in=OPEN_STATUSES, expires_at__lte=now).update(
        status=Status.EXPIRED
    )
    due = list(
        SurveyInvitation.objects.filter(_email_due(now), contact__survey_opt_out=False)
        .order_by("email_due_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    emailed = sum(survey_email_send(invitation_id=pk) for pk in due)
    return {"surveyed": surveyed, "expired": expired, "emailed": emailed}


def _as_score(raw) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def _validated_scores(invitation: SurveyInvitation, answers, errors: dict[str, list[str]]) -> dict[str, int]:
    if not isinstance(answers, dict):
        raise SurveyInvalidAnswer(_('The answers must be scores by question, like {"csat": 5}.'))
    asked = {question["key"]: question for question in invitation.questions}
    for key in answers:
        if key not in asked:
            errors[str(key)] = [_("This survey does not ask that question.")]
    scores = {}
    for key, question in asked.items():
        raw = answers.get(key)
        if raw is None or raw == "":
            errors[key] = [_("Please choose a score.")]
            continue
        score = _as_score(raw)
        if score is None or not question["min"] <= score <= question["max"]:
            errors[key] = [
                _("Choose a whole number from %(min)s to %(max)s.") % {"min": question["min"], "max": question["max"]}
            ]
            continue
        scores[key] = score
    return scores


def _validated_comment(invitation: SurveyInvitation, comment, errors: dict[str, list[str]]) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        errors["comment"] = [_("The comment must be text.")]
        return ""
    comment = comment.strip()
    if comment and not invitation.comment_label:
        errors["comment"] = [_("This survey takes no comment.")]
    elif len(comment) > COMMENT_MAX_CHARS:
        errors["comment"] = [_("Please keep the comment under %(max)s characters.") % {"max": COMMENT_MAX_CHARS}]
    return comment


def survey_answer(*, token: str, contact=None, answers, comment=None, channel: str) -> SurveyResponse:
    """Stores the one answer to an invitation; raises a SurveyError subclass, with a clear message, if refused.

    `contact` (the widget's visitor) must own the invitation when given. The first answer closes the invitation:
    the e-mail is no longer sent and a second answer, from any channel, is refused.
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    with transaction.atomic():
        invitation = None
        if isinstance(token, str) and token:
            invitation = SurveyInvitation.objects.select_for_update().filter(token=token).first()
        if invitation is None:
            raise SurveyNotFound(_("This survey does not exist."))
        # Messages in the visitor's language, whoever calls (the page or the widget's socket).
        with translation.override(invitation.language):
            if contact is not None and invitation.contact_id != contact.pk:
                raise SurveyForbidden(_("This survey is not yours to answer."))
            if invitation.status == Status.ANSWERED:
                raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you!"))
            now = timezone.now()
            if invitation.status == Status.EXPIRED or invitation.expires_at <= now:
                raise SurveyExpired(_("This survey has expired and no longer takes answers."))
            errors: dict[str, list[str]] = {}
            scores = _validated_scores(invitation, answers, errors)
            text = _validated_comment(invitation, comment, errors)
            if errors:
                raise SurveyInvalidAnswer(errors)
        scales = {question["key"]: question["scale"] for question in invitation.questions}
        response = SurveyResponse.objects.create(
            invitation=invitation,
            csat=scores.get("csat"),
            csat_scale=scales.get("csat", ""),
            ces=scores.get("ces"),
            ces_scale=scales.get("ces", ""),
            nps=scores.get("nps"),
            comment=text,
            channel=channel,
            created_at=now,
        )
        invitation.status = Status.ANSWERED
        invitation.answered_at = now
        invitation.save(update_fields=["status", "answered_at"])
        realtime.send_to_conversation_visitor(
            invitation.conversation_id,
            {"type": realtime.SURVEY_ANSWERED, "invitation": invitation.token, "thank_you": invitation.thank_you},
        )
        realtime.send_to_inbox_operators(
            invitation.inbox_id,
            {
                "type": realtime.SURVEY_ANSWERED,
                "conversation_id": invitation.conversation_id,
                "ticket_id": invitation.ticket_id,
                "survey": survey_result_payload(invitation, response),
            },
        )
        return response


def survey_contact_opt_out(*, contact: Contact) -> None:
    """The contact is never surveyed again; e-mails not yet sent are cancelled."""
    with transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(survey_opt_out=True)
        SurveyInvitation.objects.filter(
            contact_id=contact.pk, status__in=OPEN_STATUSES, emailed_at__isnull=True
        ).update(email_due_at=None)
    contact.survey_opt_out = True
