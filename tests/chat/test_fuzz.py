"""Random and malformed frames at both consumers: no crash, no server error, the database stays consistent."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.db.models import Count, Q
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from chat.models import Conversation, Message, OperatorProfile
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import InboxFactory, OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
TYPES = [
    "hello",
    "message.send",
    "typing",
    "conversation.close",
    "survey.answer",
    "presence.set",
    "conversation.claim",
    "conversation.transfer",
    "conversation.resolve",
    "conversation.history",
    "sync",
]
FIELDS = [
    "conversation_id",
    "client_id",
    "body",
    "private",
    "is_typing",
    "status",
    "last_event_id",
    "invitation",
    "answers",
    "comment",
    "to_operator_id",
    "to_team_id",
    "canned_reply_id",
    "last_message_id",
    "visitor_token",
    "note",
]
field_values = st.one_of(json_values, st.integers(0, 5), st.sampled_from(["online", "away", "x", "", "c-1"]))
structured = st.builds(
    lambda type_, fields: {"type": type_, **fields},
    st.one_of(st.sampled_from(TYPES), st.text(max_size=12)),
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=5),
)
raw_frames = st.one_of(
    structured.map(json.dumps),
    json_values.map(json.dumps),
    st.text(min_size=1, max_size=60),
    st.binary(min_size=1, max_size=40).map(lambda b: b.decode("latin-1")),
)


def assert_invariants():
    assert not Conversation.objects.values("contact").filter(~Q(status="ended")).annotate(n=Count("pk")).filter(n__gt=1)
    assert not Conversation.objects.filter(status="ended", end_reason="").exists()
    assert not Conversation.objects.filter(~Q(status="ended"), ~Q(end_reason="")).exists()
    assert not Conversation.objects.filter(status="active", assignee__isnull=True).exists()
    assert not Message.objects.filter(private=True).exclude(sender="operator").exists()
    assert not Conversation.objects.filter(visitor_connection_count__lt=0).exists()
    assert not OperatorProfile.objects.filter(connection_count__lt=0).exists()


async def throw(frames_visitor, frames_operator):
    inbox = await _db(InboxFactory)()
    operator = await _db(OperatorFactory)(inboxes=[inbox], status="offline")
    agent, _ = await operator_socket(operator)
    widget, _ = await visitor(inbox)
    conversation_id = (await say(widget, "hello"))["message"]["conversation_id"]
    for raw in frames_visitor:
        await widget.send(raw.replace("5", str(conversation_id)))
    for raw in frames_operator:
        await agent.send(raw.replace("5", str(conversation_id)))
    for socket in (widget, agent):
        for frame in await socket.drain(0.3):
            assert frame.get("code") != "server_error", frame
            assert isinstance(frame.get("type"), str)
    # Both still answer.
    await agent.send({"type": "sync", "last_event_id": 0})
    await agent.expect("sync.done")
    if not widget.closed_code:
        await say(widget, "still there")
    await widget.close()
    await agent.close()


def _db(fn):
    from channels.db import database_sync_to_async

    return database_sync_to_async(fn)


@hsettings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(raw_frames, max_size=12), st.lists(raw_frames, max_size=12))
def test_random_frames_never_crash_either_consumer(settings, frames_visitor, frames_operator):
    settings.VISITOR_RATE_LIMIT_MESSAGES = 1000
    async_to_sync(throw)(frames_visitor, frames_operator)
    assert_invariants()
