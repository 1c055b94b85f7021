"""What the inbox and the admin show for a conversation's and a ticket's surveys."""

from surveys.selectors import pending_invitation_payload, survey_results_for_conversation, survey_results_for_ticket
from surveys.services import survey_answer, survey_contact_opt_out, survey_invitation_create
from tests.factories import ContactFactory, ConversationFactory


def test_a_conversation_without_a_survey_has_no_result(make_ended):
    assert survey_results_for_conversation(conversation=make_ended(end_reason="abandoned", answered=False)) is None


def test_an_unanswered_survey_shows_its_status_and_no_answers(make_ended):
    conversation = make_ended()
    survey_invitation_create(conversation_id=conversation.pk)

    result = survey_results_for_conversation(conversation=conversation)

    assert (result["status"], result["answers"], result["answered_in"], result["comment"]) == (
        "scheduled",
        [],
        None,
        "",
    )


def test_an_answered_survey_shows_each_question_with_its_score_and_scale(make_ended, operator):
    conversation = make_ended()
    invitation = survey_invitation_create(conversation_id=conversation.pk)
    survey_answer(token=invitation.token, answers={"csat": 3}, comment="Okay", channel="widget")

    result = survey_results_for_conversation(conversation=conversation)

    assert result["answers"] == [
        {
            "key": "csat",
            "question": "How satisfied are you with the help you got?",
            "scale": "1-5",
            "min": 1,
            "max": 5,
            "score": 3,
        }
    ]
    assert (result["comment"], result["answered_in"], result["operator_id"]) == ("Okay", "widget", operator.user_id)


def test_a_ticket_lists_the_surveys_of_its_conversations_oldest_first(make_ended, inbox, settings):
    settings.SURVEY_COOLDOWN_SECONDS = 0
    first = make_ended()
    second = make_ended()
    second.ticket = first.ticket
    second.save()
    survey_invitation_create(conversation_id=first.pk)
    survey_invitation_create(conversation_id=second.pk)
    ConversationFactory(inbox=inbox, contact=ContactFactory(inbox=inbox))  # another ticket's, not listed

    results = survey_results_for_ticket(ticket=first.ticket)

    assert [r["conversation_id"] for r in results] == [first.pk, second.pk]


def test_an_opted_out_contact_is_offered_no_pending_survey(make_ended, contact):
    survey_invitation_create(conversation_id=make_ended().pk)
    assert pending_invitation_payload(contact=contact) is not None

    survey_contact_opt_out(contact=contact)

    assert pending_invitation_payload(contact=contact) is None
