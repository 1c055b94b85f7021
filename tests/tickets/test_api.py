"""Operators change a ticket's status and priority and mark follow-ups from the inbox, through the API."""

import pytest

from tests.factories import ContactFactory, InboxFactory, OperatorFactory
from tests.tickets.histories import chat_ticket, seconds, utc
from tickets.models import Ticket
from tickets.services import ticket_resolve

pytestmark = pytest.mark.django_db
T0 = utc(2026, 3, 9, 10)


@pytest.fixture
def inbox():
    return InboxFactory()


@pytest.fixture
def operator_client(client, inbox):
    operator = OperatorFactory(inboxes=[inbox])
    client.force_login(operator.user)
    return client


def test_operator_sets_status_and_priority(operator_client, inbox):
    _, ticket = chat_ticket(inbox, at=T0)
    response = operator_client.post(f"/api/tickets/{ticket.pk}/status/", {"status": "pending"}, "application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    response = operator_client.post(f"/api/tickets/{ticket.pk}/priority/", {"priority": "high"}, "application/json")
    assert response.json()["priority"] == "high"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("pending", "high")
    assert ticket.pending_since is not None


def test_bad_status_gets_a_field_error_and_changes_nothing(operator_client, inbox):
    _, ticket = chat_ticket(inbox, at=T0)
    response = operator_client.post(f"/api/tickets/{ticket.pk}/status/", {"status": "closed"}, "application/json")
    assert response.status_code == 400
    assert "status" in response.json()
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_operator_of_another_inbox_is_refused(client, inbox):
    _, ticket = chat_ticket(inbox, at=T0)
    client.force_login(OperatorFactory(inboxes=[InboxFactory()]).user)
    assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 403
    assert client.post(f"/api/tickets/{ticket.pk}/status/", {"status": "resolved"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_operator_sees_and_marks_a_follow_up(operator_client, inbox):
    contact = ContactFactory(inbox=inbox)
    _, old = chat_ticket(inbox, at=T0, contact=contact)
    ticket_resolve(ticket=old, at=T0 + seconds(600))
    conversation, fresh = chat_ticket(inbox, at=T0 + seconds(3600), contact=contact, ended=False)

    offered = operator_client.get(f"/api/conversations/{conversation.pk}/followup/").json()
    assert offered["ticket"]["id"] == old.pk
    wrong = operator_client.post(
        f"/api/conversations/{conversation.pk}/followup/", {"ticket_id": fresh.pk}, "application/json"
    )
    assert wrong.status_code == 400
    marked = operator_client.post(
        f"/api/conversations/{conversation.pk}/followup/", {"ticket_id": old.pk}, "application/json"
    )
    assert (marked.json()["ticket"]["id"], marked.json()["ticket"]["status"]) == (old.pk, "open")
    assert list(Ticket.objects.values_list("pk", flat=True)) == [old.pk]
    assert operator_client.get(f"/api/conversations/{conversation.pk}/followup/").json() == {"ticket": None}
