"""The inbox's HTTP side: who may open it, and the small endpoints behind the page's forms."""

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat.models import Contact, Conversation
from tests.factories import (
    CannedReplyFactory,
    ConversationFactory,
    InboxFactory,
    MessageFactory,
    OperatorFactory,
    SurveyInvitationFactory,
    SurveyResponseFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox():
    return InboxFactory(name="Acme shop")


@pytest.fixture
def operator(inbox):
    return OperatorFactory(display_name="Ana Silva", inboxes=[inbox])


@pytest.fixture
def signed_in(client, operator):
    client.force_login(operator.user)
    return client


def _conversation(inbox, **kwargs):
    ticket = TicketFactory(inbox=inbox)
    return ConversationFactory(inbox=inbox, contact=ticket.contact, ticket=ticket, **kwargs)


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json", HTTP_ACCEPT="application/json")


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/inbox/")


def test_a_signed_in_user_who_is_not_an_operator_gets_a_clear_refusal(client):
    client.force_login(UserFactory(username="manager", is_staff=True))
    response = client.get("/inbox/")
    assert response.status_code == 403
    assert "not an operator" in response.content.decode()


def test_an_operator_profile_without_staff_rights_is_refused(client, inbox):
    profile = OperatorFactory(user=UserFactory(username="former", is_staff=False), inboxes=[inbox])
    client.force_login(profile.user)
    assert client.get("/inbox/").status_code == 403


def test_the_page_lists_the_open_conversations_of_my_inboxes_only(signed_in, inbox):
    mine = _conversation(inbox, contact__name="Maria")
    _conversation(InboxFactory(), contact__name="Someone Else")
    ended = _conversation(inbox, contact__name="Gone Visitor")
    Conversation.objects.filter(pk=ended.pk).update(status="ended", end_reason="resolved", ended_at=ended.requested_at)
    page = signed_in.get("/inbox/")
    assert page.status_code == 200
    initial = page.context["initial"]
    assert [c["id"] for c in initial["conversations"]] == [mine.pk]
    assert initial["me"]["name"] == "Ana Silva"


def test_a_conversation_of_another_inbox_is_not_found(signed_in):
    foreign = _conversation(InboxFactory())
    for name in ("inbox-conversation", "inbox-contact", "inbox-transfer-targets"):
        assert signed_in.get(reverse(name, args=[foreign.pk])).status_code == 404


def test_the_thread_comes_with_private_notes_and_after_a_given_message(signed_in, inbox):
    conversation = _conversation(inbox)
    first = MessageFactory(conversation=conversation, body="Hello?")
    MessageFactory(conversation=conversation, sender="operator", body="check the order", private=True)
    data = signed_in.get(reverse("inbox-conversation", args=[conversation.pk])).json()
    assert [m["body"] for m in data["messages"]] == ["Hello?", "check the order"]
    assert data["messages"][1]["private"] is True
    later = signed_in.get(reverse("inbox-conversation", args=[conversation.pk]) + f"?after={first.pk}").json()
    assert [m["body"] for m in later["messages"]] == ["check the order"]


def test_notes_on_the_contact_are_saved_and_an_oversized_note_is_refused_without_loss(signed_in, inbox):
    conversation = _conversation(inbox)
    url = reverse("inbox-contact-notes", args=[conversation.pk])
    assert post_json(signed_in, url, {"notes": "VIP customer, prefers e-mail"}).status_code == 200
    response = post_json(signed_in, url, {"notes": "x" * 10_001})
    assert response.status_code == 400
    assert response.json()["field"] == "notes"
    assert "10000" in response.json()["error"].replace(",", "")
    assert Contact.objects.get(pk=conversation.contact_id).notes == "VIP customer, prefers e-mail"


def test_canned_replies_are_searched_by_shortcut_or_title_within_my_teams_and_inboxes(signed_in, inbox, operator):
    CannedReplyFactory(team=inbox.team, shortcut="refund", title="Refund policy", body="Refunds take 5 days.")
    CannedReplyFactory(inbox=inbox, shortcut="hours", title="Opening hours", body="We are open 9-17.")
    CannedReplyFactory(team=TeamFactory(), shortcut="refund-b2b", title="Refund for wholesale", body="Other team.")
    CannedReplyFactory(shortcut="thanks", title="Thank you (everyone)", body="Thanks!")
    found = signed_in.get(reverse("inbox-canned-replies"), {"q": "/ref"}).json()["results"]
    assert [r["shortcut"] for r in found] == ["refund"]
    by_title = signed_in.get(reverse("inbox-canned-replies"), {"q": "opening"}).json()["results"]
    assert [r["body"] for r in by_title] == ["We are open 9-17."]
    everything = signed_in.get(reverse("inbox-canned-replies")).json()["results"]
    assert sorted(r["shortcut"] for r in everything) == ["hours", "refund", "thanks"]


def test_transfer_targets_show_the_other_operators_of_the_inbox_with_their_load(signed_in, inbox, operator):
    ben = OperatorFactory(display_name="Ben", inboxes=[inbox], status="online", max_chats=4)
    OperatorFactory(display_name="Elsewhere", inboxes=[InboxFactory()])
    _conversation(inbox, status="active", assignee=ben.user)
    conversation = _conversation(inbox, status="active", assignee=operator.user)
    data = signed_in.get(reverse("inbox-transfer-targets", args=[conversation.pk])).json()
    assert data["operators"] == [
        {"id": ben.user_id, "name": "Ben", "status": "online", "active_chats": 1, "max_chats": 4}
    ]
    assert [team["name"] for team in data["teams"]] == [inbox.team.name]


def test_the_contact_column_shows_earlier_survey_answers_as_text(signed_in, inbox):
    conversation = _conversation(inbox)
    earlier = ConversationFactory(
        inbox=inbox, contact=conversation.contact, status="ended", end_reason="resolved", ended_at=timezone.now()
    )
    question = {"key": "csat", "text": "How satisfied are you?", "scale": "1-5", "min": 1, "max": 5}
    invitation = SurveyInvitationFactory(conversation=earlier, status="answered", questions=[question])
    SurveyResponseFactory(invitation=invitation, csat=5, comment="<b>Great</b> help")
    html = signed_in.get(reverse("inbox-contact", args=[conversation.pk])).content.decode()
    assert "CSAT 5/5" in html
    assert "&lt;b&gt;Great&lt;/b&gt; help" in html

    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    persian = signed_in.get(reverse("inbox-contact", args=[conversation.pk])).content.decode()
    assert "CSAT ۵/۵" in persian  # Persian digits, as the inbox's own times and counts


def test_the_thread_comes_in_pages_of_the_newest_messages(signed_in, inbox, monkeypatch):
    monkeypatch.setattr("chat.inbox_selectors.MESSAGES_PAGE", 2)
    conversation = _conversation(inbox)
    first, second, third = (MessageFactory(conversation=conversation, body=body) for body in ("one", "two", "three"))
    url = reverse("inbox-conversation", args=[conversation.pk])
    newest = signed_in.get(url).json()
    assert ([m["body"] for m in newest["messages"]], newest["has_earlier"]) == (["two", "three"], True)
    older = signed_in.get(url, {"before": second.pk}).json()
    assert ([m["body"] for m in older["messages"]], older["has_earlier"]) == (["one"], False)


def test_the_page_reads_its_conversations_with_the_same_queries_for_two_or_twelve(signed_in, inbox):
    """The page built each conversation's frame alone: a last message and, for a waiting one, its position and
    the inbox's pace, i.e. up to four queries per conversation."""

    def queries_for(count: int) -> int:
        Conversation.objects.all().delete()
        for n in range(count):
            conversation = _conversation(inbox, status="queued" if n % 2 else "active")
            MessageFactory(conversation=conversation, body=f"message {n}")
        with CaptureQueriesContext(connection) as queries:
            page = signed_in.get("/inbox/")
        assert len(page.context["initial"]["conversations"]) == count
        return len(queries)

    assert queries_for(12) == queries_for(2)


def test_the_waiting_conversations_on_the_page_have_their_queue_positions(signed_in, inbox):
    first = _conversation(inbox, status="queued")
    second = _conversation(inbox, status="queued")
    active = _conversation(inbox, status="active")
    shown = {c["id"]: c for c in signed_in.get("/inbox/").context["initial"]["conversations"]}
    assert shown[first.pk]["queue_position"] == 1
    assert shown[second.pk]["queue_position"] == 2
    assert shown[active.pk]["queue_position"] is None
    assert shown[first.pk]["estimated_wait_seconds"] is not None
