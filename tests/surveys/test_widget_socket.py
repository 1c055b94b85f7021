"""The survey over the real widget socket: resolved by the operator, shown to the visitor, answered once.

The scenarios run on their own event loop in a thread: once the session's Playwright browser has started, the
main thread already runs a loop, and pytest-asyncio tests placed after the browser tests could not start theirs.
"""

import asyncio
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connections
from django.utils import timezone

from chat.models import Conversation
from chat.services.visitors import visitor_session_start
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.services import survey_answer, survey_invitation_create
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import ConversationFactory, InboxFactory, OperatorFactory, TicketFactory

db = database_sync_to_async


@pytest.fixture
def shop(transactional_db):
    return InboxFactory(name="Acme Shop")


@pytest.fixture
def agent_profile(shop):
    return OperatorFactory(inboxes=[shop], status="offline")


def run_scenario(scenario, *args) -> None:
    failure: list[BaseException] = []

    def run():
        try:
            asyncio.run(scenario(*args))
        except BaseException as exc:  # noqa: BLE001 — re-raised in the test's thread
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the scenario did not finish"
    if failure:
        raise failure[0]


def test_the_visitor_gets_the_survey_after_resolve_and_can_answer_it_once(shop, agent_profile):
    run_scenario(answer_once, shop, agent_profile)


async def answer_once(shop, agent_profile):
    agent, _ = await operator_socket(agent_profile)
    widget, _ = await visitor(shop)
    conversation_id = (await say(widget, "Where is my parcel?"))["message"]["conversation_id"]
    await agent.send({"type": "conversation.claim", "conversation_id": conversation_id})
    await say(agent, "It arrives tomorrow.", conversation_id=conversation_id)
    await agent.send({"type": "conversation.resolve", "conversation_id": conversation_id})

    invite = await widget.expect("survey.invite", timeout=5)
    assert [q["key"] for q in invite["questions"]] == ["csat"]
    assert invite["comment"] == {"label": "Anything else? (optional)", "max_length": 2000}

    await widget.send({"type": "survey.answer", "invitation": invite["invitation"], "answers": [5]})
    await widget.error("invalid_frame")
    await widget.send({"type": "survey.answer", "invitation": invite["invitation"], "answers": {"csat": 9}})
    refused = await widget.error("invalid_frame")
    assert "Choose a whole number from 1 to 5." in refused["detail"]

    await widget.send(
        {"type": "survey.answer", "invitation": invite["invitation"], "answers": {"csat": 5}, "comment": "Great"}
    )
    await widget.expect("survey.answered")
    response = await db(SurveyResponse.objects.get)(invitation__token=invite["invitation"])
    assert (response.csat, response.comment, response.channel) == (5, "Great", "widget")

    await widget.send({"type": "survey.answer", "invitation": invite["invitation"], "answers": {"csat": 1}})
    replay = await widget.error("conflict")
    assert replay["detail"] == "This survey has already been answered. Thank you!"
    assert await db(SurveyResponse.objects.count)() == 1
    await widget.close()
    await agent.close()


def test_a_visitor_cannot_answer_another_visitors_survey_or_an_unknown_one(shop, agent_profile):
    run_scenario(answer_someone_elses, shop, agent_profile)


async def answer_someone_elses(shop, agent_profile):
    agent, _ = await operator_socket(agent_profile)
    widget, _ = await visitor(shop)
    conversation_id = (await say(widget, "Hello"))["message"]["conversation_id"]
    await agent.send({"type": "conversation.claim", "conversation_id": conversation_id})
    await say(agent, "Hi!", conversation_id=conversation_id)
    await agent.send({"type": "conversation.resolve", "conversation_id": conversation_id})
    invite = await widget.expect("survey.invite", timeout=5)

    stranger, _ = await visitor(shop)
    await stranger.send({"type": "survey.answer", "invitation": invite["invitation"], "answers": {"csat": 1}})
    await stranger.error("forbidden")
    await stranger.send({"type": "survey.answer", "invitation": "guessed-token", "answers": {"csat": 1}})
    await stranger.error("not_found")
    assert await db(SurveyResponse.objects.count)() == 0
    for socket in (widget, stranger, agent):
        await socket.close()


def _ended_chat_with_invitation(shop, agent_profile):
    """A visitor whose resolved chat got a survey after they had left: (visitor token, invitation)."""
    contact, token = visitor_session_start(inbox=shop, name="Ann")
    now = timezone.now()
    conversation = ConversationFactory(
        inbox=shop,
        contact=contact,
        ticket=TicketFactory(inbox=shop, contact=contact),
        status=Conversation.Status.ENDED,
        end_reason=Conversation.EndReason.RESOLVED,
        ended_at=now,
        assignee=agent_profile.user,
        assigned_at=now,
        first_response_at=now,
        visitor_connection_count=0,
    )
    invitation = survey_invitation_create(conversation_id=conversation.pk)
    assert invitation.status == "scheduled" and invitation.widget_sent_at is None
    return token, invitation


def test_a_returning_visitor_is_shown_the_survey_still_waiting_for_them(shop, agent_profile):
    token, invitation = _ended_chat_with_invitation(shop, agent_profile)
    run_scenario(returning_visitor_sees_invite, shop, token, invitation.token)
    invitation.refresh_from_db()
    # Counted as sent in the widget (then answered there).
    assert invitation.widget_sent_at is not None and invitation.sent_at is not None
    assert invitation.status == "answered"


async def returning_visitor_sees_invite(shop, token, invitation_token):
    widget, welcome = await visitor(shop, token=token)
    assert welcome["conversation"] is None
    invite = await widget.expect("survey.invite")
    assert invite["invitation"] == invitation_token
    assert [q["key"] for q in invite["questions"]] == ["csat"]
    await widget.send({"type": "survey.answer", "invitation": invitation_token, "answers": {"csat": 4}})
    answered = await widget.expect("survey.answered", invitation=invitation_token)
    assert answered["thank_you"] == invite["thank_you"] and answered["thank_you"]
    await widget.close()


@pytest.mark.parametrize("ending", ["answered", "expired"])
def test_an_answered_or_expired_survey_is_not_shown_again(shop, agent_profile, ending):
    token, invitation = _ended_chat_with_invitation(shop, agent_profile)
    if ending == "answered":
        survey_answer(token=invitation.token, answers={"csat": 5}, channel="email")
    else:
        SurveyInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    run_scenario(returning_visitor_sees_no_invite, shop, token)


async def returning_visitor_sees_no_invite(shop, token):
    widget, _ = await visitor(shop, token=token)
    assert [frame["type"] for frame in await widget.drain(0.5)] == []
    await widget.close()


def test_an_expired_survey_is_refused_as_closed(shop, agent_profile):
    token, invitation = _ended_chat_with_invitation(shop, agent_profile)
    run_scenario(answer_after_expiry, shop, token, invitation.token)
    assert not SurveyResponse.objects.exists()


async def answer_after_expiry(shop, token, invitation_token):
    widget, _ = await visitor(shop, token=token)
    await widget.expect("survey.invite")
    await db(SurveyInvitation.objects.filter(token=invitation_token).update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    await widget.send({"type": "survey.answer", "invitation": invitation_token, "answers": {"csat": 4}})
    refused = await widget.error("closed")
    assert refused["detail"] == "This survey has expired and no longer takes answers."
    await widget.close()
