"""The survey over the real widget socket: resolved by the operator, shown to the visitor, answered once.

The scenarios run on their own event loop in a thread: once the session's Playwright browser has started, the
main thread already runs a loop, and pytest-asyncio tests placed after the browser tests could not start theirs.
"""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from surveys.models import SurveyResponse
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import InboxFactory, OperatorFactory

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
    replay = await widget.expect("error")
    assert "already been answered" in replay["detail"]
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
