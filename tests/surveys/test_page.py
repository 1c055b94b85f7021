"""The public survey page and the opt-out page, for e-mailed links (HTTP level; the browser test drives it too)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from surveys.links import survey_link_sign
from surveys.models import SurveyInvitation
from surveys.services import survey_answer, survey_invitation_create
from tests.factories import MessageFactory, SurveyTemplateFactory


@pytest.fixture
def invitation(make_ended, inbox):
    SurveyTemplateFactory(inbox=inbox, ask_ces=True, ces_scale="1-7")
    conversation = make_ended()
    MessageFactory(conversation=conversation, body="My order 4411 never arrived at 12 Elm Street")
    return survey_invitation_create(conversation_id=conversation.pk)


def page_url(invitation):
    return f"/surveys/{survey_link_sign(invitation.token)}/"


def test_the_page_asks_each_question_as_a_labelled_group_of_radios(client, invitation):
    response = client.get(page_url(invitation))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in html
    assert "<legend>How satisfied are you with the help you got?</legend>" in html
    assert "<legend>How easy was it to get your issue handled?</legend>" in html
    assert len(re.findall(r'type="radio" name="csat"', html)) == 5
    assert len(re.findall(r'type="radio" name="ces"', html)) == 7
    assert '<label for="csat-1">1<span class="visually-hidden"> — Very dissatisfied</span></label>' in html
    assert '<label for="comment">Anything else? (optional)</label>' in html
    assert 'name="viewport"' in html


def test_the_page_shows_no_transcript_or_personal_data(client, invitation):
    html = client.get(page_url(invitation)).content.decode()
    for private in ("Vera", "vera@example.org", "4411", "Elm Street", "Olivia"):
        assert private not in html


def test_answering_on_the_page_thanks_the_visitor_and_stores_an_email_answer(client, invitation):
    response = client.post(page_url(invitation), {"csat": "4", "ces": "6", "comment": "Fine"})
    assert response.status_code == 302

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you for your feedback!" in thanks.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "answered"
    assert (invitation.response.csat, invitation.response.ces, invitation.response.channel) == (4, 6, "email")


def test_a_missing_score_is_explained_beside_its_question_and_keeps_the_other_answers(client, invitation):
    response = client.post(page_url(invitation), {"ces": "6", "comment": "Kept"})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html
    assert 'aria-describedby="csat-scale-hint csat-error"' in html
    assert '<p class="survey-error" id="csat-error">Please choose a score. </p>' in html
    assert re.search(r'id="ces-6" value="6"\s+checked', html)
    assert ">Kept</textarea>" in html
    invitation.refresh_from_db()
    assert invitation.status == "scheduled"


def test_a_second_answer_from_the_link_gets_the_answered_page(client, invitation):
    survey_answer(token=invitation.token, answers={"csat": 5, "ces": 7}, channel="widget")

    for response in (client.get(page_url(invitation)), client.post(page_url(invitation), {"csat": "1", "ces": "1"})):
        assert response.status_code == 200
        assert "This survey has been answered." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.response.csat == 5


@pytest.mark.parametrize(
    "mangle",
    [
        lambda signed: signed[:-1] + ("A" if signed[-1] != "A" else "B"),  # signature altered
        lambda signed: ("X" if signed[0] != "X" else "Y") + signed[1:],  # token altered
        lambda signed: signed.split(":")[0],  # raw token without signature
    ],
)
def test_a_tampered_link_gets_a_clear_page(client, invitation, mangle):
    response = client.get(f"/surveys/{mangle(survey_link_sign(invitation.token))}/")

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert client.post(f"/surveys/{mangle(survey_link_sign(invitation.token))}/", {"csat": "5"}).status_code == 400
    invitation.refresh_from_db()
    assert invitation.status == "scheduled"


def test_an_expired_survey_gets_a_clear_page(client, invitation):
    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        response = client.get(page_url(invitation))
        posted = client.post(page_url(invitation), {"csat": "5", "ces": "5"})

    assert response.status_code == 410
    assert "This survey has closed" in response.content.decode()
    assert posted.status_code == 410
    assert not SurveyInvitation.objects.filter(status="answered").exists()


def test_the_persian_page_is_right_to_left_with_persian_questions(client, make_ended, contact):
    contact.locale = "fa"
    contact.save()
    invitation = survey_invitation_create(conversation_id=make_ended().pk)

    response = client.get(page_url(invitation))

    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "چقدر از کمکی که دریافت کردید راضی هستید؟" in html
    assert response["Content-Language"] == "fa"


def test_the_persian_page_numbers_its_scale_in_persian_digits(client, make_ended, contact):
    contact.locale = "fa"
    contact.save()
    invitation = survey_invitation_create(conversation_id=make_ended().pk)

    html = client.get(page_url(invitation)).content.decode()

    # The visitor reads ۱ … ۵; the form still sends 1 … 5.
    assert '<label for="csat-1">۱<span class="visually-hidden">' in html
    assert '<label for="csat-5">۵<span class="visually-hidden">' in html
    assert 'id="csat-5" value="5"' in html
    hint = re.search(r'id="csat-scale-hint">(.*?)</p>', html).group(1)
    assert hint.startswith("۱ ") and "۵" in hint and not re.search("[0-9]", hint)


def test_opting_out_asks_first_and_then_stops_all_surveys(client, invitation, contact):
    url = f"{page_url(invitation)}opt-out/"

    asked = client.get(url)
    assert asked.status_code == 200
    assert "Stop asking me" in asked.content.decode()
    contact.refresh_from_db()
    assert contact.survey_opt_out is False  # a mail scanner following the link opts no one out

    done = client.post(url)
    assert "You will not get surveys from us any more" in done.content.decode()
    contact.refresh_from_db()
    assert contact.survey_opt_out is True
    assert client.get(url).status_code == 200


def test_the_opt_out_link_works_after_the_survey_closed(client, invitation, contact):
    invitation.status = "expired"
    invitation.expires_at = timezone.now()
    invitation.save()
    client.post(f"{page_url(invitation)}opt-out/")
    contact.refresh_from_db()
    assert contact.survey_opt_out is True
