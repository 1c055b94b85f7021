"""Labels on conversations: operators set them over the inbox's socket; the inbox's operators see them at once."""

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from chat.models import Conversation, ConversationLabel, Label
from chat.selectors import operator_welcome
from chat.services.errors import ChatError
from chat.services.labels import conversation_labels_set
from tests.chat.conftest import operator_socket, say, visitor
from tests.factories import ConversationFactory, InboxFactory, LabelFactory, OperatorFactory

db = database_sync_to_async


async def _waiting(inbox):
    widget, _ = await visitor(inbox)
    ack = await say(widget, "Where is my order?")
    return widget, ack["message"]["conversation_id"]


async def _labels_frame(socket, names, timeout=3):
    """Waits for the conversation.updated that shows these labels (earlier ones are skipped)."""
    while True:
        frame = await socket.expect("conversation.updated", timeout)
        if [label["name"] for label in frame["conversation"]["labels"]] == names:
            return frame


async def test_an_operator_sets_and_clears_labels_and_her_colleague_sees_them(inbox, operator):
    colleague = await db(OperatorFactory)(inboxes=[inbox], status="away")
    billing = await db(LabelFactory)(name="Billing", colour="#d1242f", inbox=inbox)
    vip = await db(LabelFactory)(name="VIP", colour="#8250df")  # global: usable in every inbox
    agent, _ = await operator_socket(operator)
    other, _ = await operator_socket(colleague)
    widget, conversation_id = await _waiting(inbox)
    await agent.drain()
    await other.drain()
    await widget.drain()

    await agent.send(
        {"type": "conversation.labels", "conversation_id": conversation_id, "labels": [vip.pk, billing.pk]}
    )
    frame = await other.expect("conversation.updated")
    assert frame["conversation"]["id"] == conversation_id
    assert frame["conversation"]["labels"] == [
        {"id": billing.pk, "name": "Billing", "colour": "#d1242f"},
        {"id": vip.pk, "name": "VIP", "colour": "#8250df"},
    ]
    assert isinstance(frame["event_id"], int)
    await _labels_frame(agent, ["Billing", "VIP"])
    links = await db(lambda: list(ConversationLabel.objects.filter(conversation_id=conversation_id)))()
    assert {link.added_by_id for link in links} == {operator.user_id}

    await other.send({"type": "conversation.labels", "conversation_id": conversation_id, "labels": [vip.pk]})
    await _labels_frame(agent, ["VIP"])
    kept = await db(ConversationLabel.objects.get)(conversation_id=conversation_id)
    assert kept.added_by_id == operator.user_id  # the label kept keeps who put it there

    await agent.send({"type": "conversation.labels", "conversation_id": conversation_id, "labels": []})
    await _labels_frame(other, [])
    assert not await db(ConversationLabel.objects.filter(conversation_id=conversation_id).exists)()
    # The visitor never hears of labels.
    assert all("labels" not in f.get("conversation", {}) for f in await widget.drain(0.3))
    for socket in (widget, agent, other):
        await socket.close()


async def test_another_inbox_label_or_no_such_label_is_refused_and_nothing_is_stored(inbox, operator):
    elsewhere = await db(LabelFactory)(name="Returns", inbox=await db(InboxFactory)())
    own = await db(LabelFactory)(name="Billing", inbox=inbox)
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _waiting(inbox)
    await agent.send(
        {"type": "conversation.labels", "conversation_id": conversation_id, "labels": [own.pk, elsewhere.pk]}
    )
    refused = await agent.error("forbidden")
    assert refused["ref_type"] == "conversation.labels" and str(elsewhere.pk) in refused["detail"]
    await agent.send(
        {
            "type": "conversation.labels",
            "conversation_id": conversation_id,
            "labels": [own.pk, 999999],
            "client_id": "l-1",
        }
    )
    missing = await agent.error("not_found")
    assert missing["client_id"] == "l-1"
    assert not await db(ConversationLabel.objects.filter(conversation_id=conversation_id).exists)()
    await widget.close()
    await agent.close()


async def test_an_operator_of_another_inbox_cannot_label_the_conversation(inbox, operator):
    label = await db(LabelFactory)(name="VIP")
    outsider = await db(OperatorFactory)(inboxes=[await db(InboxFactory)()], status="away")
    widget, conversation_id = await _waiting(inbox)
    agent, _ = await operator_socket(outsider)
    await agent.send({"type": "conversation.labels", "conversation_id": conversation_id, "labels": [label.pk]})
    await agent.error("forbidden")
    await agent.send({"type": "conversation.labels", "conversation_id": 999999, "labels": [label.pk]})
    await agent.error("not_found")
    assert not await db(ConversationLabel.objects.exists)()
    await widget.close()
    await agent.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "conversation.labels", "conversation_id": 1},
        {"type": "conversation.labels", "conversation_id": 1, "labels": "3"},
        {"type": "conversation.labels", "conversation_id": 1, "labels": [True]},
        {"type": "conversation.labels", "conversation_id": 1, "labels": ["3"]},
        {"type": "conversation.labels", "conversation_id": "1", "labels": [3]},
        {"type": "conversation.labels", "conversation_id": 1, "labels": list(range(1, 60))},
    ],
)
async def test_a_malformed_labels_frame_is_an_error_frame_and_the_socket_stays_open(inbox, operator, frame):
    agent, _ = await operator_socket(operator)
    await agent.send(frame)
    error = await agent.error("invalid_frame")
    assert error["ref_type"] == "conversation.labels"
    await agent.send({"type": "presence.set", "status": "away"})
    assert (await agent.expect("operator.updated"))["operator"]["status"] == "away"
    await agent.close()


@pytest.mark.django_db
def test_the_welcome_gives_each_conversation_its_labels_and_the_labels_she_may_use():
    inbox, elsewhere = InboxFactory(), InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    billing = LabelFactory(name="Billing", inbox=inbox)
    vip = LabelFactory(name="VIP")
    LabelFactory(name="Returns", inbox=elsewhere)
    waiting = ConversationFactory(inbox=inbox, status=Conversation.Status.QUEUED)
    conversation_labels_set(profile=operator, conversation_id=waiting.pk, label_ids=[billing.pk])
    welcome = operator_welcome(operator)
    assert welcome["queue"][0]["labels"] == [{"id": billing.pk, "name": "Billing", "colour": billing.colour}]
    assert [(label["name"], label["inbox_id"]) for label in welcome["labels"]] == [
        ("Billing", inbox.pk),
        ("VIP", None),
    ]
    assert vip.pk in {label["id"] for label in welcome["labels"]}


@pytest.mark.django_db
def test_the_welcome_reads_labels_with_the_same_queries_for_two_or_ten_labelled_chats(django_assert_max_num_queries):
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    labels = [LabelFactory(inbox=inbox).pk, LabelFactory().pk]

    def chats(n):
        for _ in range(n):
            conversation = ConversationFactory(inbox=inbox, assignee=operator.user, status=Conversation.Status.ACTIVE)
            conversation_labels_set(profile=operator, conversation_id=conversation.pk, label_ids=labels)

    chats(2)
    with django_assert_max_num_queries(40) as few:
        operator_welcome(operator)
    chats(8)
    with django_assert_max_num_queries(len(few)):
        welcome = operator_welcome(operator)
    assert all(len(c["labels"]) == 2 for c in welcome["conversations"])


@pytest.mark.django_db
def test_setting_the_same_labels_again_changes_nothing(django_capture_on_commit_callbacks):
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    label = LabelFactory(inbox=inbox)
    conversation = ConversationFactory(inbox=inbox)
    conversation_labels_set(profile=operator, conversation_id=conversation.pk, label_ids=[label.pk])
    with django_capture_on_commit_callbacks() as sent:
        conversation_labels_set(profile=operator, conversation_id=conversation.pk, label_ids=[label.pk, label.pk])
    assert sent == []
    with pytest.raises(ChatError):
        conversation_labels_set(profile=operator, conversation_id=conversation.pk, label_ids=[label.pk + 1000])


@pytest.mark.django_db
def test_a_label_name_is_unique_per_inbox_and_among_globals_and_its_colour_is_hex():
    inbox = InboxFactory()
    LabelFactory(name="Billing", inbox=inbox)
    LabelFactory(name="Billing")  # a global one of the same name is another label
    LabelFactory(name="Billing", inbox=InboxFactory())
    with pytest.raises(ValidationError):
        Label(name="billing", inbox=inbox, colour="#000000").full_clean()
    with pytest.raises(ValidationError):
        Label(name="BILLING", colour="#000000").full_clean()
    with pytest.raises(ValidationError) as bad:
        Label(name="Red", colour="red").full_clean()
    assert "colour" in bad.value.message_dict
    Label(name="Red", colour="#D1242F").full_clean()


async def test_the_visitor_never_sees_the_labels_of_her_conversation(inbox, operator):
    label = await db(LabelFactory)(name="Angry customer", inbox=inbox)
    widget, conversation_id = await _waiting(inbox)
    await db(conversation_labels_set)(profile=operator, conversation_id=conversation_id, label_ids=[label.pk])
    agent, _ = await operator_socket(operator)  # coming online takes the waiting chat: the visitor hears of it
    assigned = await widget.conversation(status="active")
    assert "labels" not in assigned and "Angry customer" not in str(assigned)
    again, welcome = await visitor(inbox, token=widget.token)
    assert welcome["conversation"]["id"] == conversation_id and "labels" not in welcome["conversation"]
    for socket in (widget, again, agent):
        await socket.close()
