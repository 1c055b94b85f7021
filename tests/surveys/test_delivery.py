"""Delivery: in the widget at once, by e-mail after the delay if still unanswered, never after an answer,
expiry and opt-out — all found by the beat sweep in the database."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from chat.realtime import conversation_visitor_group
from surveys.links import survey_link_unsign
from surveys.models import SurveyInvitation
from surveys.selectors import pending_invitation_payload
from surveys.services import (
    SurveyExpired,
    survey_answer,
    survey_contact_opt_out,
    survey_invitation_create,
    survey_invitation_shown_in_widget,
    survey_invitations_sweep,
)
from tests.factories import SurveyTemplateFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def visitor_channel(group_listener):
    """A socket of the conversation's visitor, as the widget consumer would join it."""

    def join(conversation):
        return group_listener(conversation_visitor_group(conversation.pk))

    join.frames = lambda listener: listener.frames()
    return join


def test_a_connected_visitor_gets_the_survey_in_the_widget_at_once(
    make_ended, visitor_channel, django_capture_on_commit_callbacks
):
    conversation = make_ended(connected=True)
    channel = visitor_channel(conversation)
    # Real time: the channel layer drops messages that look older than its expiry.
    with django_capture_on_commit_callbacks(execute=True):
        invitation = survey_invitation_create(conversation_id=conversation.pk)

    assert visitor_channel.frames(channel) == [
        {
            "type": "survey.invite",
            "invitation": invitation.token,
            "questions": invitation.questions,
            "comment": {"label": "Anything else? (optional)", "max_length": 2000},
            "thank_you": "Thank you for your feedback!",
            "language": "en",
            "direction": "ltr",
            "expires_at": (invitation.created_at + timedelta(days=7)).isoformat(),
        }
    ]
    assert invitation.status == "sent"
    assert invitation.widget_sent_at == invitation.created_at == invitation.sent_at


def test_a_visitor_who_left_gets_nothing_in_the_widget_and_the_invitation_waits(
    make_ended, visitor_channel, django_capture_on_commit_callbacks
):
    conversation = make_ended(connected=False)
    channel = visitor_channel(conversation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = survey_invitation_create(conversation_id=conversation.pk)

    assert visitor_channel.frames(channel) == []
    assert (invitation.status, invitation.sent_at, invitation.widget_sent_at) == ("scheduled", None, None)


def test_the_email_goes_only_after_the_delay_and_only_once(make_ended, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 1800
    settings.SITE_URL = "https://desk.example.com"
    with time_machine.travel(START, tick=False) as clock:
        invitation = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(seconds=1799))
        assert survey_invitations_sweep() == {"surveyed": 0, "expired": 0, "emailed": 0}
        assert mail.outbox == []
        clock.shift(timedelta(seconds=1))
        assert survey_invitations_sweep() == {"surveyed": 0, "expired": 0, "emailed": 1}
        clock.shift(timedelta(minutes=5))
        assert survey_invitations_sweep()["emailed"] == 0

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["vera@example.org"]
    assert message.subject == "How did we do? A quick question from Acme Shop"
    survey_url = next(line for line in message.body.splitlines() if "/surveys/" in line and "opt-out" not in line)
    assert survey_url.startswith("https://desk.example.com/surveys/")
    signed = survey_url.rstrip("/").split("/")[-1]
    assert survey_link_unsign(signed) == invitation.token
    assert f"{survey_url}opt-out/" in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{survey_url}opt-out/>"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{survey_url}"' in html and "How satisfied are you with the help you got?" in html
    invitation.refresh_from_db()
    assert (invitation.status, invitation.emailed_at, invitation.sent_at) == (
        "sent",
        START + timedelta(seconds=1800),
        START + timedelta(seconds=1800),
    )


def test_a_widget_answer_closes_the_email_path(make_ended, contact):
    with time_machine.travel(START, tick=False) as clock:
        invitation = survey_invitation_create(conversation_id=make_ended(connected=True).pk)
        clock.shift(timedelta(minutes=10))
        survey_answer(token=invitation.token, contact=contact, answers={"csat": 5}, comment="", channel="widget")
        clock.shift(timedelta(hours=1))
        assert survey_invitations_sweep()["emailed"] == 0

    assert mail.outbox == []
    invitation.refresh_from_db()
    assert (invitation.status, invitation.emailed_at) == ("answered", None)


def test_a_contact_without_an_email_is_never_emailed(make_ended, contact):
    contact.email = ""
    contact.save()
    with time_machine.travel(START, tick=False) as clock:
        survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(days=1))
        survey_invitations_sweep()
    assert mail.outbox == []


def test_an_invitation_expires_after_seven_days_and_then_refuses_answers(make_ended, contact, settings):
    settings.SURVEY_EXPIRY_SECONDS = 7 * 86400
    contact.email = ""
    contact.save()
    with time_machine.travel(START, tick=False) as clock:
        invitation = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(days=7) - timedelta(seconds=1))
        assert survey_invitations_sweep()["expired"] == 0
        assert pending_invitation_payload(contact=contact)["invitation"] == invitation.token
        clock.shift(timedelta(seconds=1))
        assert pending_invitation_payload(contact=contact) is None
        assert survey_invitations_sweep()["expired"] == 1
        with pytest.raises(SurveyExpired) as refused:
            survey_answer(token=invitation.token, answers={"csat": 5}, channel="email")

    assert refused.value.code == "closed"
    invitation.refresh_from_db()
    assert invitation.status == "expired"


def test_an_answer_just_before_expiry_is_taken_even_if_the_sweep_has_not_run(make_ended, contact, settings):
    settings.SURVEY_EXPIRY_SECONDS = 3600
    with time_machine.travel(START, tick=False) as clock:
        invitation = survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(seconds=3599))
        survey_answer(token=invitation.token, answers={"csat": 4}, channel="email")
    invitation.refresh_from_db()
    assert invitation.status == "answered"


def test_an_expired_unsent_email_is_never_sent(make_ended, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 7200
    settings.SURVEY_EXPIRY_SECONDS = 3600
    with time_machine.travel(START, tick=False) as clock:
        survey_invitation_create(conversation_id=make_ended().pk)
        clock.shift(timedelta(hours=3))
        assert survey_invitations_sweep() == {"surveyed": 0, "expired": 1, "emailed": 0}
    assert mail.outbox == []


def test_opting_out_cancels_the_pending_email_and_all_later_surveys(make_ended, contact, settings):
    settings.SURVEY_COOLDOWN_SECONDS = 60
    with time_machine.travel(START, tick=False) as clock:
        survey_invitation_create(conversation_id=make_ended().pk)
        survey_contact_opt_out(contact=contact)
        clock.shift(timedelta(hours=1))
        assert survey_invitations_sweep()["emailed"] == 0
        assert survey_invitation_create(conversation_id=make_ended().pk) is None
    assert mail.outbox == []
    contact.refresh_from_db()
    assert contact.survey_opt_out is True


def test_the_persian_email_is_right_to_left_with_persian_questions(make_ended, contact, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    contact.locale = "fa"
    contact.save()
    survey_invitation_create(conversation_id=make_ended().pk)
    survey_invitations_sweep()

    html = mail.outbox[0].alternatives[0][0]
    assert '<html lang="fa" dir="rtl">' in html
    assert "چقدر از کمکی که دریافت کردید راضی هستید؟" in html
    assert "چقدر از کمکی که دریافت کردید راضی هستید؟" in mail.outbox[0].body


def test_the_persian_email_gives_its_closing_day_in_the_jalali_calendar(make_ended, contact, settings):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    contact.locale = "fa"
    contact.save()
    with time_machine.travel(START, tick=False):
        survey_invitation_create(conversation_id=make_ended().pk)
        survey_invitations_sweep()

    # Open for seven days: until 9 March 2026, which is 18 Esfand 1404.
    closing = "این نظرسنجی تا ۱۸ اسفند ۱۴۰۴ باز است."
    assert closing in mail.outbox[0].body and closing in mail.outbox[0].alternatives[0][0]


def test_a_failed_send_is_retried_by_the_next_sweep(make_ended, settings, monkeypatch):
    settings.SURVEY_EMAIL_DELAY_SECONDS = 0
    invitation = survey_invitation_create(conversation_id=make_ended().pk)
    real_send = EmailMultiAlternatives.send

    def smtp_down(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", smtp_down)
    assert survey_invitations_sweep()["emailed"] == 0
    invitation.refresh_from_db()
    assert (invitation.emailed_at, invitation.sent_at, invitation.status) == (None, None, "scheduled")

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert survey_invitations_sweep()["emailed"] == 1
    assert len(mail.outbox) == 1


def test_a_returning_visitor_is_offered_the_pending_survey_and_it_counts_as_sent(make_ended, contact):
    invitation = survey_invitation_create(conversation_id=make_ended(connected=False).pk)

    payload = pending_invitation_payload(contact=contact)
    assert payload["type"] == "survey.invite" and payload["invitation"] == invitation.token
    survey_invitation_shown_in_widget(invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.widget_sent_at is not None

    survey_answer(token=invitation.token, contact=contact, answers={"csat": 3}, channel="widget")
    assert pending_invitation_payload(contact=contact) is None


def test_a_template_change_after_sending_does_not_change_the_invitation(make_ended, inbox):
    template = SurveyTemplateFactory(inbox=inbox)
    invitation = survey_invitation_create(conversation_id=make_ended().pk)
    template.csat_scale = "0-10"
    template.csat_question_en = "Rate us"
    template.save()

    survey_answer(token=invitation.token, answers={"csat": 5}, channel="email")
    invitation = SurveyInvitation.objects.get(pk=invitation.pk)
    assert invitation.questions[0]["text"] == "How satisfied are you with the help you got?"
    assert (invitation.response.csat, invitation.response.csat_scale) == (5, "1-5")
