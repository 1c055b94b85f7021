"""Survey answers are visible where managers look: the conversation and the ticket in the admin."""

import pytest

from surveys.models import SurveyTemplate
from surveys.services import survey_answer, survey_invitation_create
from tests.factories import SurveyTemplateFactory, UserFactory


@pytest.fixture
def manager_client(client, db):
    client.force_login(UserFactory(username="manager", is_superuser=True))
    return client


@pytest.fixture
def answered(make_ended, inbox):
    SurveyTemplateFactory(inbox=inbox, ask_ces=True, ces_scale="0-5")
    invitation = survey_invitation_create(conversation_id=make_ended().pk)
    survey_answer(
        token=invitation.token, answers={"csat": 2, "ces": 5}, comment="Too slow <b>really</b>", channel="email"
    )
    return invitation


def test_the_conversation_page_shows_the_survey_answers(manager_client, answered):
    html = manager_client.get(f"/admin/chat/conversation/{answered.conversation_id}/change/").content.decode()

    assert "How satisfied are you with the help you got?: <strong>2</strong> / 5" in html
    assert "How easy was it to get your issue handled?: <strong>5</strong> / 5" in html
    assert "“Too slow &lt;b&gt;really&lt;/b&gt;”" in html  # escaped, never rendered as HTML


def test_the_ticket_page_shows_the_survey_answers(manager_client, answered):
    html = manager_client.get(f"/admin/tickets/ticket/{answered.ticket_id}/change/").content.decode()

    assert "How satisfied are you with the help you got?: <strong>2</strong> / 5" in html
    assert "E-mail link" in html


def test_the_survey_template_and_invitation_pages_open(manager_client, answered):
    assert manager_client.get("/admin/surveys/surveytemplate/add/").status_code == 200
    assert manager_client.get(f"/admin/surveys/surveyinvitation/{answered.pk}/change/").status_code == 200
    assert manager_client.get("/admin/surveys/surveyinvitation/").status_code == 200


def test_a_template_without_any_question_is_refused_with_a_reason(manager_client, inbox):
    response = manager_client.post(
        "/admin/surveys/surveytemplate/add/",
        {
            "inbox": inbox.pk,
            "is_enabled": "on",
            "csat_scale": "1-5",
            "ces_scale": "1-7",
            "csat_question_en": "Q",
            "csat_question_fa": "Q",
            "ces_question_en": "Q",
            "ces_question_fa": "Q",
            "nps_question_en": "Q",
            "nps_question_fa": "Q",
            "comment_label_en": "C",
            "comment_label_fa": "C",
            "thank_you_en": "T",
            "thank_you_fa": "T",
        },
    )

    assert response.status_code == 200
    assert "Choose at least one question" in response.content.decode()
    assert not SurveyTemplate.objects.filter(inbox=inbox).exists()
