"""Answering: validation against the snapshotted scales, one answer only, the visitor's own survey only."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.realtime import inbox_operators_group
from surveys.models import SurveyResponse
from surveys.services import (
    SurveyAlreadyAnswered,
    SurveyForbidden,
    SurveyInvalidAnswer,
    SurveyNotFound,
    survey_answer,
    survey_invitation_create,
)
from tests.factories import ContactFactory, SurveyTemplateFactory


@pytest.fixture
def invitation(make_ended, inbox):
    SurveyTemplateFactory(inbox=inbox, ask_csat=True, csat_scale="1-5", ask_ces=True, ces_scale="1-7", ask_nps=True)
    return survey_invitation_create(conversation_id=make_ended().pk)


def test_an_answer_is_stored_with_the_scales_it_was_given_on(invitation, contact):
    response = survey_answer(
        token=invitation.token,
        contact=contact,
        answers={"csat": 4, "ces": 7, "nps": 0},
        comment="  Quick and kind.  ",
        channel="widget",
    )

    assert (response.csat, response.csat_scale, response.ces, response.ces_scale, response.nps) == (
        4,
        "1-5",
        7,
        "1-7",
        0,
    )
    assert (response.comment, response.channel) == ("Quick and kind.", "widget")
    invitation.refresh_from_db()
    assert invitation.status == "answered" and invitation.answered_at is not None


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"csat": 0, "ces": 4, "nps": 5}, "csat", "Choose a whole number from 1 to 5."),
        ({"csat": 6, "ces": 4, "nps": 5}, "csat", "Choose a whole number from 1 to 5."),
        ({"csat": 5, "ces": 8, "nps": 5}, "ces", "Choose a whole number from 1 to 7."),
        ({"csat": 5, "ces": 4, "nps": 11}, "nps", "Choose a whole number from 0 to 10."),
        ({"csat": 5, "ces": 4, "nps": -1}, "nps", "Choose a whole number from 0 to 10."),
        ({"csat": 4.5, "ces": 4, "nps": 5}, "csat", "Choose a whole number from 1 to 5."),
        ({"csat": True, "ces": 4, "nps": 5}, "csat", "Choose a whole number from 1 to 5."),
        ({"csat": "five", "ces": 4, "nps": 5}, "csat", "Choose a whole number from 1 to 5."),
        ({"ces": 4, "nps": 5}, "csat", "Please choose a score."),
        ({"csat": 5, "ces": 4, "nps": 5, "mood": 3}, "mood", "This survey does not ask that question."),
    ],
)
def test_a_score_off_the_scale_is_refused_beside_its_question(invitation, answers, field, message):
    with pytest.raises(SurveyInvalidAnswer) as refused:
        survey_answer(token=invitation.token, answers=answers, channel="email")

    assert refused.value.code == "invalid_frame"
    assert refused.value.message_dict == {field: [message]}
    assert SurveyResponse.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.status == "scheduled"


def test_scores_from_a_form_arrive_as_text_and_are_accepted(invitation):
    response = survey_answer(token=invitation.token, answers={"csat": "5", "ces": " 1 ", "nps": "10"}, channel="email")
    assert (response.csat, response.ces, response.nps) == (5, 1, 10)


def test_answers_that_are_not_an_object_are_refused_clearly(invitation):
    with pytest.raises(SurveyInvalidAnswer) as refused:
        survey_answer(token=invitation.token, answers=[5], channel="widget")
    assert refused.value.messages == ['The answers must be scores by question, like {"csat": 5}.']


def test_a_long_comment_is_refused_and_a_comment_where_none_is_asked_too(make_ended, inbox, contact, invitation):
    with pytest.raises(SurveyInvalidAnswer) as refused:
        survey_answer(
            token=invitation.token, answers={"csat": 5, "ces": 5, "nps": 5}, comment="x" * 2001, channel="email"
        )
    assert refused.value.message_dict == {"comment": ["Please keep the comment under 2000 characters."]}

    other = ContactFactory(inbox=inbox)
    inbox.survey_template.allow_comment = False
    inbox.survey_template.save()
    no_comment = survey_invitation_create(conversation_id=make_ended(who=other).pk)
    with pytest.raises(SurveyInvalidAnswer) as refused:
        survey_answer(token=no_comment.token, answers={"csat": 5, "ces": 0}, comment="hi", channel="email")
    # Every problem at once, each beside its field.
    assert refused.value.message_dict == {
        "ces": ["Choose a whole number from 1 to 7."],
        "nps": ["Please choose a score."],
        "comment": ["This survey takes no comment."],
    }


def test_a_second_answer_is_refused_from_either_channel(invitation, contact):
    survey_answer(token=invitation.token, contact=contact, answers={"csat": 5, "ces": 5, "nps": 9}, channel="widget")

    for channel in ("widget", "email"):
        with pytest.raises(SurveyAlreadyAnswered) as refused:
            survey_answer(token=invitation.token, answers={"csat": 1, "ces": 1, "nps": 0}, channel=channel)
        assert refused.value.code == "conflict"
        assert refused.value.messages == ["This survey has already been answered. Thank you!"]

    assert SurveyResponse.objects.get().csat == 5


def test_a_visitor_cannot_answer_someone_elses_survey(invitation, inbox):
    stranger = ContactFactory(inbox=inbox)
    with pytest.raises(SurveyForbidden) as refused:
        survey_answer(
            token=invitation.token, contact=stranger, answers={"csat": 1, "ces": 1, "nps": 0}, channel="widget"
        )
    assert refused.value.code == "forbidden"
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize("token", ["", "made-up-token", None, 42])
def test_an_unknown_token_is_not_found(db, token):
    with pytest.raises(SurveyNotFound) as refused:
        survey_answer(token=token, answers={"csat": 5}, channel="widget")
    assert refused.value.code == "not_found"


def test_operators_of_the_inbox_see_the_answer_arrive(
    invitation, inbox, in_process_layer, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)("operator.")
    async_to_sync(layer.group_add)(inbox_operators_group(inbox.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        survey_answer(token=invitation.token, answers={"csat": 2, "ces": 3, "nps": 7}, comment="Slow", channel="email")

    frame = async_to_sync(layer.receive)(channel)["frame"]
    assert frame["type"] == "survey.answered"
    assert frame["conversation_id"] == invitation.conversation_id
    assert frame["ticket_id"] == invitation.ticket_id
    assert [(a["key"], a["score"]) for a in frame["survey"]["answers"]] == [("csat", 2), ("ces", 3), ("nps", 7)]
    assert frame["survey"]["comment"] == "Slow"
    assert frame["survey"]["answered_in"] == "email"
