"""The operator's websocket: welcome, claim, replies and notes, transfer, resolve, presence, sync, refusals."""

import pytest
from channels.db import database_sync_to_async

from chat.faces import colour_for, initials
from chat.models import CannedReply, Conversation, Message, OperatorProfile
from tests.chat.conftest import agent_socket, operator_socket, say, visitor
from tests.factories import CannedReplyFactory, InboxFactory, OperatorFactory, TeamFactory, UserFactory
from tickets.models import ReportingEvent, Ticket

db = database_sync_to_async


async def _conversation_waiting(inbox, body="Help please"):
    widget, _ = await visitor(inbox)
    ack = await say(widget, body)
    return widget, ack["message"]["conversation_id"]


async def test_anonymous_is_closed_with_4401():
    socket = await agent_socket(None)
    assert await socket.closed() == 4401


async def test_a_user_without_an_operator_profile_or_not_staff_is_closed_with_4403(inbox):
    user = await db(UserFactory)()
    socket = await agent_socket(user)
    assert await socket.closed() == 4403
    profile = await db(OperatorFactory)(inboxes=[inbox], user__is_staff=False)
    socket = await agent_socket(profile.user)
    assert await socket.closed() == 4403


async def test_welcome_shows_the_operator_the_queue_and_their_chats(inbox, operator):
    await db(OperatorProfile.objects.filter(pk=operator.pk).update)(max_chats=1)
    first_widget, first_id = await _conversation_waiting(inbox, "first")  # nobody online: both wait
    second_widget, second_id = await _conversation_waiting(inbox, "second")
    # Coming online takes the oldest waiting conversation; the welcome already shows it.
    agent, welcome = await operator_socket(operator)
    assert welcome["operator"] == {
        "id": operator.user_id,
        "name": operator.display_name,
        "status": "online",
        "active_chats": 1,
        "max_chats": 1,
        "inbox_ids": [inbox.pk],
    }
    assert [c["id"] for c in welcome["conversations"]] == [first_id]
    mine = welcome["conversations"][0]
    assert mine["assignee"] == {
        "id": operator.user_id,
        "name": operator.display_name,
        "initials": initials(operator.display_name),
        "colour": colour_for(operator.user_id),
        "avatar_url": None,
    }
    assert [c["id"] for c in welcome["queue"]] == [second_id]
    queued = welcome["queue"][0]
    assert queued["status"] == "queued" and queued["queue_position"] == 1
    assert queued["ticket"]["status"] == "open" and queued["ticket"]["first_response_due_at"]
    assert queued["last_message"]["body"] == "second"
    assert welcome["operators"][0]["id"] == operator.user_id
    assert welcome["teams"] == [{"id": inbox.team_id, "name": inbox.team.name}]
    assert isinstance(welcome["last_event_id"], int)
    for socket in (first_widget, second_widget, agent):
        await socket.close()


async def test_claim_takes_a_queued_conversation_and_a_second_claim_conflicts(inbox, operator):
    await db(OperatorProfile.objects.filter(pk=operator.pk).update)(max_chats=1)
    other = await db(OperatorFactory)(inboxes=[inbox], status="away")
    agent, _ = await operator_socket(operator)
    busy_widget, _ = await _conversation_waiting(inbox, "first")  # auto-assigned: operator is now full
    widget, conversation_id = await _conversation_waiting(inbox, "second")
    assert (await db(Conversation.objects.get)(pk=conversation_id)).status == "queued"
    other_agent, _ = await operator_socket(other)
    await other_agent.send({"type": "conversation.claim", "conversation_id": conversation_id})
    claimed = await other_agent.expect("conversation.updated", timeout=3)
    while claimed["conversation"]["id"] != conversation_id:
        claimed = await other_agent.expect("conversation.updated")
    assert claimed["conversation"]["assignee"]["id"] == other.user_id
    await agent.send({"type": "conversation.claim", "conversation_id": conversation_id})
    await agent.error("conflict")
    await agent.send({"type": "conversation.claim", "conversation_id": 999999})
    await agent.error("not_found")
    assigned = await db(
        ReportingEvent.objects.filter(name="conversation_assigned", conversation_id=conversation_id).count
    )()
    assert assigned == 1
    for socket in (busy_widget, widget, agent, other_agent):
        await socket.close()


async def test_first_public_reply_is_the_first_response_notes_never_reach_the_visitor(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _conversation_waiting(inbox)
    note = await say(agent, "VIP customer", conversation_id=conversation_id, private=True)
    assert note["message"]["private"] is True
    seen = await agent.expect("message.new", message=note["message"])
    assert seen["message"]["body"] == "VIP customer"
    conversation = await db(Conversation.objects.select_related("ticket").get)(pk=conversation_id)
    assert conversation.first_response_at is None and conversation.ticket.first_response_at is None
    reply = await say(agent, "Hello!", conversation_id=conversation_id)
    frames = await widget.drain(0.3)
    bodies = [f["message"]["body"] for f in frames if f["type"] == "message.new"]
    assert "Hello!" in bodies and "VIP customer" not in bodies
    conversation = await db(Conversation.objects.select_related("ticket").get)(pk=conversation_id)
    assert conversation.first_response_at.isoformat().startswith(reply["message"]["created_at"][:19])
    assert conversation.ticket.first_response_at == conversation.first_response_at
    await say(agent, "Second reply", conversation_id=conversation_id)
    count = await db(ReportingEvent.objects.filter(name="first_response", conversation_id=conversation_id).count)()
    assert count == 1
    await widget.close()
    await agent.close()


async def test_a_canned_reply_is_recorded_and_counted(inbox, operator):
    canned = await db(CannedReplyFactory)(inbox=inbox, body="Thanks for waiting!")
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _conversation_waiting(inbox)
    ack = await say(agent, "Thanks for waiting!", conversation_id=conversation_id, canned_reply_id=canned.pk)
    assert ack["message"]["canned_reply_id"] == canned.pk
    assert (await db(CannedReply.objects.get)(pk=canned.pk)).use_count == 1
    await agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "x1",
            "body": "y",
            "canned_reply_id": 0,
        }
    )
    await agent.error("not_found")
    await widget.close()
    await agent.close()


async def test_transfer_to_an_operator_and_to_a_team_is_counted(inbox, operator):
    team = await db(TeamFactory)()
    colleague = await db(OperatorFactory)(inboxes=[inbox], teams=[team], status="online")
    agent, _ = await operator_socket(operator)
    await db(OperatorProfile.objects.filter(pk=colleague.pk).update)(status="away")
    widget, conversation_id = await _conversation_waiting(inbox)
    await agent.send(
        {
            "type": "conversation.transfer",
            "conversation_id": conversation_id,
            "to_operator_id": colleague.user_id,
            "note": "Billing question",
        }
    )
    update = await agent.expect("conversation.updated", timeout=3)
    while update["conversation"]["transfer_count"] != 1:
        update = await agent.expect("conversation.updated")
    assert update["conversation"]["assignee"]["id"] == colleague.user_id
    note = await db(Message.objects.get)(conversation_id=conversation_id, private=True, sender="operator")
    assert note.body == "Billing question"
    # The thread records who handed it to whom, for operators only, before the note.
    line = await db(Message.objects.get)(conversation_id=conversation_id, private=True, sender="system")
    assert line.body == f"{operator.display_name} transferred this conversation to {colleague.display_name}."
    assert line.pk < note.pk
    assert not any(f.get("message", {}).get("private") for f in await widget.drain(0.2))
    await agent.send({"type": "conversation.transfer", "conversation_id": conversation_id, "to_team_id": team.pk})
    update = await agent.expect("conversation.updated", timeout=3)
    while update["conversation"]["transfer_count"] != 2:
        update = await agent.expect("conversation.updated")
    assert update["conversation"]["status"] == "queued" and update["conversation"]["team"]["id"] == team.pk
    transfers = await db(ReportingEvent.objects.filter(name="conversation_transferred").count)()
    assert transfers == 2
    lines = await db(list)(
        Message.objects.filter(conversation_id=conversation_id, sender="system", private=True).values_list(
            "body", flat=True
        )
    )
    assert lines[-1] == f"{operator.display_name} transferred this conversation to the team {team.name}."
    await agent.send({"type": "conversation.transfer", "conversation_id": conversation_id})
    await agent.error("invalid_frame")
    await agent.send({"type": "conversation.transfer", "conversation_id": conversation_id, "to_team_id": 99999})
    await agent.error("not_found")
    await widget.close()
    await agent.close()


async def test_a_transfer_goes_only_to_a_team_or_an_operator_that_serves_the_inbox(inbox, operator):
    elsewhere = await db(InboxFactory)()
    # Its one operator works on another inbox: nobody of this inbox would ever get the chat.
    outside_team = await db(TeamFactory)()
    stranger = await db(OperatorFactory)(inboxes=[elsewhere], teams=[outside_team], status="online")
    billing = await db(TeamFactory)()
    await db(OperatorFactory)(inboxes=[inbox], teams=[billing], status="away")
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _conversation_waiting(inbox)  # auto-assigned to `operator`

    for refused in ({"to_team_id": outside_team.pk}, {"to_operator_id": stranger.user_id}):
        await agent.send({"type": "conversation.transfer", "conversation_id": conversation_id, **refused})
        await agent.error("forbidden")
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert (conversation.assignee_id, conversation.team_id, conversation.transfer_count) == (
        operator.user_id,
        inbox.team_id,
        0,
    )

    # A team serves the inbox when one of the inbox's operators is in it, or when it is the inbox's own team.
    for count, team_id in enumerate((billing.pk, inbox.team_id), start=1):
        await agent.send({"type": "conversation.transfer", "conversation_id": conversation_id, "to_team_id": team_id})
        moved = await agent.conversation(transfer_count=count)
        assert (moved["status"], moved["team"]["id"]) == ("queued", team_id)
    await widget.close()
    await agent.close()


async def test_after_a_transfer_the_inbox_sees_the_ticket_with_the_new_assignee(inbox, operator):
    colleague = await db(OperatorFactory)(inboxes=[inbox], status="away")
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _conversation_waiting(inbox)  # auto-assigned to `operator`
    await say(agent, "Let me find someone for this.", conversation_id=conversation_id)
    ticket_id = (await db(Conversation.objects.get)(pk=conversation_id)).ticket_id
    # What the assignment sent may still be on its way through the channel layer (Redis): not this test's frames.
    await agent.drain(0.5)

    await agent.send(
        {"type": "conversation.transfer", "conversation_id": conversation_id, "to_operator_id": colleague.user_id}
    )

    frames = await agent.drain(0.5)
    moved = [f["conversation"] for f in frames if f["type"] == "conversation.updated"][-1]
    assert (moved["transfer_count"], moved["ticket"]["assignee_id"]) == (1, colleague.user_id)
    tickets = [f["ticket"] for f in frames if f["type"] == "ticket.updated"]
    assert [(t["id"], t["assignee_id"]) for t in tickets] == [(ticket_id, colleague.user_id)]
    assert (await db(Ticket.objects.get)(pk=ticket_id)).assignee_id == colleague.user_id
    await widget.close()
    await agent.close()


async def test_resolve_ends_the_conversation_and_resolves_the_ticket(inbox, operator, monkeypatch):
    from chat.services import conversations

    surveyed = []
    monkeypatch.setattr(
        conversations, "survey_conversation_ended", lambda *, conversation: surveyed.append(conversation.pk)
    )
    agent, _ = await operator_socket(operator)
    widget, conversation_id = await _conversation_waiting(inbox)
    await say(agent, "Done!", conversation_id=conversation_id)
    await agent.send({"type": "conversation.resolve", "conversation_id": conversation_id})
    update = await widget.expect("conversation.updated", timeout=3)
    while update["conversation"]["status"] != "ended":
        update = await widget.expect("conversation.updated")
    assert update["conversation"]["end_reason"] == "resolved"
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    ticket = await db(Ticket.objects.get)(pk=conversation.ticket_id)
    assert ticket.status == "resolved"
    assert surveyed == [conversation_id]
    await agent.send({"type": "conversation.resolve", "conversation_id": conversation_id})
    await agent.error("closed")
    await agent.send({"type": "message.send", "conversation_id": conversation_id, "client_id": "late", "body": "x"})
    await agent.error("closed")
    await widget.close()
    await agent.close()


async def test_presence_set_changes_availability_for_new_chats(inbox, operator):
    agent, _ = await operator_socket(operator)
    await agent.send({"type": "presence.set", "status": "away"})
    update = await agent.expect("operator.updated")
    assert update["operator"]["status"] == "away"
    widget, conversation_id = await _conversation_waiting(inbox)
    queued = await agent.expect("conversation.queued")
    assert queued["conversation"]["id"] == conversation_id and queued["event_id"]
    assert (await db(Conversation.objects.get)(pk=conversation_id)).status == "queued"
    await agent.send({"type": "presence.set", "status": "online"})
    update = await agent.expect("conversation.updated", timeout=3)
    while update["conversation"]["id"] != conversation_id or update["conversation"]["status"] != "active":
        update = await agent.expect("conversation.updated")
    await agent.send({"type": "presence.set", "status": "offline"})
    await agent.error("invalid_frame")
    await widget.close()
    await agent.close()


async def test_sync_replays_what_the_operator_missed_in_order(inbox, operator):
    agent, welcome = await operator_socket(operator)
    await agent.close()
    widget, conversation_id = await _conversation_waiting(inbox)
    await say(widget, "anyone?")
    agent, _ = await operator_socket(operator)
    await agent.drain(0.2)
    await agent.send({"type": "sync", "last_event_id": welcome["last_event_id"]})
    frames = []
    while True:
        frame = await agent.recv()
        frames.append(frame)
        if frame["type"] == "sync.done":
            break
    bodies = [f["message"]["body"] for f in frames if f["type"] == "message.new"]
    assert bodies == ["Help please", "anyone?"]
    assert frames[0]["type"] == "conversation.queued" and frames[0]["conversation"]["id"] == conversation_id
    ids = [f["event_id"] for f in frames[:-1]]
    assert ids == sorted(ids) and frames[-1]["last_event_id"] == ids[-1]
    await agent.send({"type": "sync"})
    assert (await agent.expect("welcome"))["operator"]["id"] == operator.user_id
    await widget.close()
    await agent.close()


async def test_history_shows_every_message_and_the_contacts_earlier_conversations(inbox, operator):
    agent, _ = await operator_socket(operator)
    widget, first_id = await _conversation_waiting(inbox)
    await agent.send({"type": "conversation.resolve", "conversation_id": first_id})
    await widget.conversation(id=first_id, status="ended")
    second_id = (await say(widget, "back again"))["message"]["conversation_id"]
    assert second_id != first_id
    await say(agent, "private", conversation_id=second_id, private=True)
    await agent.send({"type": "conversation.history", "conversation_id": second_id})
    history = await agent.expect("conversation.history")
    assert [m["body"] for m in history["messages"]] == ["back again", "private"]
    assert [c["id"] for c in history["contact_conversations"]] == [first_id]
    await widget.close()
    await agent.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "conversation.claim", "conversation_id": "1"},
        {"type": "conversation.claim"},
        {"type": "typing", "conversation_id": 1, "is_typing": 1},
        {"type": "sync", "last_event_id": True},
        {"type": "message.send", "conversation_id": 1, "client_id": "a", "body": "b", "private": "no"},
    ],
)
async def test_wrong_field_types_get_invalid_frame(inbox, operator, frame):
    agent, _ = await operator_socket(operator)
    await agent.send(frame)
    await agent.error("invalid_frame")
    await agent.close()


async def test_a_waiting_visitors_messages_reach_every_operator_a_held_ones_only_the_assignee(inbox, operator):
    colleague = await db(OperatorFactory)(inboxes=[inbox], status="away")
    await db(OperatorProfile.objects.filter(pk=operator.pk).update)(status="away")
    mine, _ = await operator_socket(operator)
    theirs, _ = await operator_socket(colleague)
    widget, conversation_id = await _conversation_waiting(inbox, "waiting")
    for socket in (mine, theirs):
        await socket.expect("message.new", timeout=3)
    await mine.send({"type": "conversation.claim", "conversation_id": conversation_id})
    await theirs.conversation(id=conversation_id, status="active")
    await say(widget, "now it is yours")
    got = await mine.expect("message.new")
    assert got["message"]["body"] == "now it is yours" and got["event_id"]
    assert not [f for f in await theirs.drain(0.3) if f["type"] == "message.new"]
    for socket in (widget, mine, theirs):
        await socket.close()


async def test_an_open_inbox_socket_refreshes_its_operators_last_seen(inbox, operator, monkeypatch):
    from chat.services import conversations

    monkeypatch.setattr(conversations, "SOCKET_HEARTBEAT_SECONDS", 0.05)
    agent, _welcome = await operator_socket(operator)
    connected = await db(OperatorProfile.objects.get)(pk=operator.pk)
    assert connected.last_seen_at is not None and connected.connection_count == 1
    old = connected.last_seen_at.replace(year=2020)
    await db(OperatorProfile.objects.filter(pk=operator.pk).update)(last_seen_at=old)
    for _ in range(40):
        await agent.nothing(0.05)
        seen = (await db(OperatorProfile.objects.get)(pk=operator.pk)).last_seen_at
        if seen != old:
            break
    assert seen > connected.last_seen_at
    await agent.close()
    closed = await db(OperatorProfile.objects.get)(pk=operator.pk)
    assert closed.connection_count == 0 and closed.disconnected_at is not None
