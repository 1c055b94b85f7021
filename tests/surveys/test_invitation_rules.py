"""Who is surveyed, when, and what the invitation records (metrics.md, "Survey rules")."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from surveys.models import SurveyInvitation
from surveys.services import survey_conversation_ended, survey_invitation_create
from tests.factories import ContactFactory, SurveyTemplateFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def end_and_survey(conversation, django_capture_on_commit_callbacks):
    """What chat services do: end the conversation and call the hook in the same transaction."""
    with django_capture_on_commit_callbacks(execute=True):
        survey_conversation_ended(conversation=conversation)
    return SurveyInvitation.objects.filter(conversation=conversation).first()


@pytest.mark.parametrize("end_reason", ["resolved", "closed_by_visitor", "visitor_left"])
def test_an_answered_conversation_that_ended_gets_one_invitation_through_the_task(
    make_ended, end_reason, django_capture_on_commit_callbacks
):
    conversation = make_ended(end_reason=end_reason)

    invitation = end_and_survey(conversation, django_capture_on_commit_callbacks)

    assert invitation is not None
    assert invitation.status == SurveyInvitation.Status.SCHEDULED
    assert [q["key"] for q in invitation.questions] == ["csat"]


@pytest.mark.parametrize("end_reason", ["abandoned", "missed"])
def test_abandoned_and_missed_conversations_get_no_survey(make_ended, end_reason, django_capture_on_commit_callbacks):
    conversation = make_ended(end_reason=end_reason, answered=False)

    assert end_and_survey(conversation, django_capture_on_commit_callbacks) is None
    assert SurveyInvitation.objects.count() == 0


def test_a_conversation_no_operator_answered_gets_no_survey(make_ended, django_capture_on_commit_callbacks):
    conversation = make_ended(end_reason="closed_by_visitor", answered=False)

    assert end_and_survey(conversation, django_capture_on_commit_callbacks) is None


def test_the_invitation_is_made_only_after_the_ending_transaction_commits(
    make_ended, django_capture_on_commit_callbacks
):
    conversation = make_ended()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        survey_conversation_ended(conversation=conversation)
    # Not committed yet: no invitation exists until the on-commit callback runs.
    assert len(callbacks) == 1
    assert SurveyInvitation.objects.count() == 0


def test_the_invitation_snapshots_operator_team_inbox_ticket_and_default_questions(make_ended, operator, inbox):
    conversation = make_ended()
    with time_machine.travel(START, tick=False):
        invitation = survey_invitation_create(conversation_id=conversation.pk)

    assert invitation.operator == operator.user
    assert invitation.team == inbox.team
    assert invitation.inbox == inbox
    assert invitation.channel_kind == "web_widget"
    assert invitation.ticket == conversation.ticket
    assert invitation.includes_nps is False
    assert invitation.language == "en"
    assert invitation.questions == [
        {
            "key": "csat",
            "scale": "1-5",
            "min": 1,
            "max": 5,
            "text": "How satisfied are you with the help you got?",
            "low_label": "Very dissatisfied",
            "high_label": "Very satisfied",
        }
    ]
    assert invitation.comment_label == "Anything else? (optional)"
    assert invitation.thank_you == "Thank you for your feedback!"
    assert invitation.expires_at == START + timedelta(days=7)
    assert invitation.email_due_at == START + timedelta(minutes=30)
    assert len(invitation.token) >= 40


def test_the_template_chooses_questions_scales_and_persian_texts(make_ended, inbox, contact):
    SurveyTemplateFactory(inbox=inbox, csat_scale="0-10", ask_ces=True, ces_scale="0-3", allow_comment=False)
    contact.locale = "fa-IR"
    contact.save()

    invitation = survey_invitation_create(conversation_id=make_ended().pk)

    assert invitation.language == "fa"
    assert [(q["key"], q["scale"], q["min"], q["max"]) for q in invitation.questions] == [
        ("csat", "0-10", 0, 10),
        ("ces", "0-3", 0, 3),
    ]
    assert invitation.questions[0]["text"] == "چقدر از کمکی که دریافت کردید راضی هستید؟"
    assert invitation.thank_you == "از بازخورد شما سپاسگزاریم!"
    assert invitation.comment_label == ""


def test_a_disabled_template_sends_no_survey(make_ended, inbox):
    SurveyTemplateFactory(inbox=inbox, is_enabled=False)

    assert survey_invitation_create(conversation_id=make_ended().pk) is None


def test_an_opted_out_contact_is_never_surveyed(make_ended, contact):
    contact.survey_opt_out = True
    contact.save()

    assert survey_invitation_create(conversation_id=make_ended().pk) is None


def test_cooldown_allows_one_invitation_per_contact_per_window(make_ended, settings):
    settings.SURVEY_COOLDOWN_SECONDS = 24 * 3600
    with time_machine.travel(START, tick=False) as clock:
        first = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(hours=23, minutes=59, seconds=59))
        inside = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(seconds=1))
        after = survey_invitation_create(conversation_id=make_ended().pk)

    assert first is not None
    assert inside is None
    assert after is not None
    assert SurveyInvitation.objects.count() == 2


def test_cooldown_is_per_contact(make_ended, inbox):
    someone_else = ContactFactory(inbox=inbox)

    assert survey_invitation_create(conversation_id=make_ended().pk) is not None
    assert survey_invitation_create(conversation_id=make_ended(who=someone_else).pk) is not None


def test_nps_is_asked_at_most_once_per_contact_per_interval(make_ended, inbox, settings):
    settings.SURVEY_COOLDOWN_SECONDS = 0
    settings.NPS_INTERVAL_SECONDS = 90 * 86400
    SurveyTemplateFactory(inbox=inbox, ask_nps=True)
    with time_machine.travel(START, tick=False) as clock:
        first = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(days=1))
        next_day = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(days=89) - timedelta(seconds=1))
        just_before = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(seconds=1))
        at_interval = survey_invitation_create(conversation_id=make_ended().pk)

    assert (first.includes_nps, [q["key"] for q in first.questions]) == (True, ["csat", "nps"])
    assert (next_day.includes_nps, [q["key"] for q in next_day.questions]) == (False, ["csat"])
    assert just_before.includes_nps is False
    assert at_interval.includes_nps is True


def test_an_nps_only_template_sends_nothing_when_nps_is_not_due(make_ended, inbox, settings):
    settings.SURVEY_COOLDOWN_SECONDS = 0
    SurveyTemplateFactory(inbox=inbox, ask_csat=False, ask_nps=True)

    assert survey_invitation_create(conversation_id=make_ended().pk).includes_nps is True
    assert survey_invitation_create(conversation_id=make_ended().pk) is None


def test_a_contact_without_email_gets_no_email_due(make_ended, contact):
    contact.email = ""
    contact.save()

    assert survey_invitation_create(conversation_id=make_ended().pk).email_due_at is None
