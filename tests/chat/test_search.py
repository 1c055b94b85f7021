"""Conversation search in the inbox: what an operator finds, in which order, and never another inbox's conversations."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation, Message
from chat.search_selectors import QueryTooShort, conversation_search, snippet
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    InboxFactory,
    MessageFactory,
    OperatorFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    inbox = InboxFactory(name="Shop")
    return inbox, OperatorFactory(inboxes=[inbox])


def chat(inbox, name="Maria Lopez", email="", *bodies, status=Conversation.Status.ACTIVE, **kwargs):
    contact = ContactFactory(inbox=inbox, name=name, email=email or f"{name.split()[0].lower()}@example.org")
    if status == Conversation.Status.ENDED:
        kwargs.update(end_reason=Conversation.EndReason.RESOLVED, ended_at=timezone.now())
    conversation = ConversationFactory(inbox=inbox, contact=contact, status=status, **kwargs)
    for body in bodies:
        MessageFactory(conversation=conversation, body=body)
    return conversation


def found(operator, query):
    return [(hit.conversation.pk, hit.field) for hit in conversation_search(operator=operator, query=query)]


def test_an_operator_never_finds_another_inboxs_conversations_by_any_field(shop):
    inbox, operator = shop
    other = InboxFactory(name="Wholesale")
    theirs_ticket = TicketFactory(inbox=other)
    theirs = chat(other, "Maria Lopez", "maria@example.org", "my parcel never arrived", ticket=theirs_ticket)
    mine = chat(inbox, "Tom Berg", "tom@example.org", "where is my parcel")
    # An inbox she was in once, now switched off, is out of her sight too.
    closed = InboxFactory(name="Closed", is_active=False)
    operator.inboxes.add(closed)
    chat(closed, "Maria Closed", "", "parcel lost")

    assert found(operator, "parcel") == [(mine.pk, "message")]
    assert found(operator, "Maria") == []
    assert found(operator, "maria@example.org") == []
    assert found(operator, f"#{theirs_ticket.pk}") == []
    assert found(operator, "never arrived") == []
    # The other inbox's operator finds hers, and not the shop's.
    assert found(OperatorFactory(inboxes=[other]), "parcel") == [(theirs.pk, "message")]


def test_an_operator_of_no_inbox_finds_nothing(shop):
    inbox, _ = shop
    chat(inbox, "Maria Lopez", "", "parcel")
    assert found(OperatorFactory(inboxes=[]), "parcel") == []


def test_it_finds_open_and_ended_conversations_by_name_email_words_and_ticket_number(shop):
    inbox, operator = shop
    ticket = TicketFactory(inbox=inbox)
    ended = chat(inbox, "Maria Lopez", "mlopez@shop.test", "I was charged twice", status=Conversation.Status.ENDED)
    open_ = chat(inbox, "Tom Berg", "tom@example.org", "Refund for order 4411 please", ticket=ticket)

    assert found(operator, "maria") == [(ended.pk, "name")]
    assert found(operator, "MLOPEZ@shop") == [(ended.pk, "email")]
    assert found(operator, "charged") == [(ended.pk, "message")]
    # Words by prefix, all of them in one message, any case.
    assert found(operator, "REFUN ord") == [(open_.pk, "message")]
    assert found(operator, "refund twice") == []
    assert found(operator, f"#{ticket.pk}") == [(open_.pk, "ticket")]
    assert found(operator, str(ticket.pk))[0] == (open_.pk, "ticket")


def test_the_ticket_comes_first_then_names_then_messages_by_rank_and_recency(shop):
    inbox, operator = shop
    now = timezone.now()
    older = chat(inbox, "Ana Reed", "", "the invoice is wrong", last_message_at=now - timezone.timedelta(days=3))
    newer = chat(inbox, "Bo Chen", "", "invoice please", last_message_at=now - timezone.timedelta(days=1))
    named = chat(
        inbox, "Invoice Ltd", "accounts@invoice.test", "hello", last_message_at=now - timezone.timedelta(days=9)
    )
    ticket = TicketFactory(inbox=inbox)
    # The ticket's number as a word in a message.
    numbered = chat(inbox, "Cy Dale", "", "hello", ticket=ticket)
    by_number = chat(inbox, "Di Eve", "", f"see ticket {ticket.pk}")

    ranked = found(operator, "invoice")
    assert ranked[0] == (named.pk, "name")
    assert {pk for pk, _ in ranked[1:]} == {older.pk, newer.pk}
    assert found(operator, f"{ticket.pk}") == [(numbered.pk, "ticket"), (by_number.pk, "message")]


def test_a_word_in_a_private_note_is_found_and_said_to_be_in_a_note_but_system_lines_are_not(shop):
    inbox, operator = shop
    conversation = chat(inbox, "Maria Lopez", "")
    MessageFactory(conversation=conversation, sender=Message.Sender.OPERATOR, private=True, body="VIP customer")
    MessageFactory(conversation=conversation, sender=Message.Sender.SYSTEM, body="Sara transferred this conversation")

    (hit,) = conversation_search(operator=operator, query="vip")
    assert hit.private and hit.sender == "operator"
    assert conversation_search(operator=operator, query="transferred") == []


def test_persian_words_are_found_and_marked(shop):
    inbox, operator = shop
    conversation = chat(inbox, "سارا احمدی", "sara@example.ir", "سلام، سفارش من هنوز نرسیده است")

    assert found(operator, "سفارش") == [(conversation.pk, "message")]
    assert found(operator, "احمدی") == [(conversation.pk, "name")]
    (hit,) = conversation_search(operator=operator, query="نرسیده")
    assert [text for text, matched in hit.segments if matched] == ["نرسیده"]


def test_a_message_edited_or_deleted_is_searched_as_it_is_now(shop):
    inbox, operator = shop
    conversation = chat(inbox, "Maria Lopez", "")
    message = MessageFactory(conversation=conversation, body="the parcel is late")
    Message.objects.filter(pk=message.pk).update(body="the delivery is late")
    assert found(operator, "parcel") == []
    assert found(operator, "delivery") == [(conversation.pk, "message")]
    message.delete()
    assert found(operator, "delivery") == []


def test_a_query_too_short_is_refused_but_a_ticket_number_of_one_digit_is_not(shop):
    _, operator = shop
    with pytest.raises(QueryTooShort):
        conversation_search(operator=operator, query=" a ")
    with pytest.raises(QueryTooShort):
        conversation_search(operator=operator, query="%_'\"*")
    assert conversation_search(operator=operator, query="#7") == []


def test_query_syntax_of_either_database_is_only_text(shop):
    inbox, operator = shop
    conversation = chat(inbox, "Maria Lopez", "", '100% sure it\'s broken: NEAR(a b) OR "x"')
    for query in [
        '"broken',
        "it's",
        "NEAR(a",
        "sure OR",
        "100%",
        "broken)*:",
        "a & b | !c",
        "__ ab",
        "ab\x00cd",
        "_" * 99,
    ]:
        conversation_search(operator=operator, query=query)
    assert found(operator, "it's broken") == [(conversation.pk, "message")]
    assert found(operator, "broken __") == [(conversation.pk, "message")]


def test_the_snippet_cuts_around_the_first_match_and_marks_every_matching_word():
    body = "word " * 30 + "the Refund arrived, refunds are slow" + " tail" * 40
    pieces = snippet(body, ["refund"])
    text = "".join(t for t, _ in pieces)
    assert text.startswith("…") and text.endswith("…")
    assert [t for t, matched in pieces if matched] == ["Refund", "refunds"]
    assert len(text) <= 170


def test_the_endpoint_answers_json_results_and_a_message_for_a_short_query(shop):
    inbox, operator = shop
    conversation = chat(inbox, "Maria <b>Lopez</b>", "", "<img src=x onerror=alert(1)> refund")
    client = Client()
    client.force_login(operator.user)
    url = reverse("inbox-search")

    data = client.get(url, {"q": "refund"}).json()
    (result,) = data["results"]
    assert result["id"] == conversation.pk and result["contact"]["name"] == "Maria <b>Lopez</b>"
    assert result["match"]["segments"] == [
        {"text": "<img src=x onerror=alert(1)> ", "match": False},
        {"text": "refund", "match": True},
    ]
    short = client.get(url, {"q": "r"})
    assert short.status_code == 200
    assert short.json()["results"] == [] and short.json()["message"]
    assert client.get(url).json()["results"] == []


def test_the_endpoint_is_for_operators_only(shop):
    user = OperatorFactory(inboxes=[]).user
    user.is_staff = False
    user.save()
    client = Client()
    client.force_login(user)
    response = client.get(reverse("inbox-search"), {"q": "refund"}, headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.json()["error"]
    assert Client().get(reverse("inbox-search"), {"q": "refund"}).status_code == 302


def test_on_sqlite_a_migrate_that_rebuilt_the_messages_table_gets_its_search_triggers_back(shop):
    """Django rebuilds a table it alters on SQLite, and the rebuild drops the table's triggers."""
    from django.db import connection

    from chat import search_index

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 index")
    inbox, operator = shop
    before = chat(inbox, "Maria Lopez", "", "parcel one")
    with connection.cursor() as cursor:
        for name in search_index.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    during = chat(inbox, "Tom Berg", "", "parcel two")
    search_index.ensure_after_migrate(sender=None, using="default")
    after = chat(inbox, "Ana Reed", "", "parcel three")
    assert {pk for pk, _ in found(operator, "parcel")} == {before.pk, during.pk, after.pk}
