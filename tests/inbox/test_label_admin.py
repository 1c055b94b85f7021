"""Managers keep the labels in the admin: a name, a colour, and an inbox or none (global)."""

import pytest

from chat.models import Label
from chat.services.labels import conversation_labels_set
from tests.factories import ConversationFactory, InboxFactory, LabelFactory, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


def test_the_list_shows_each_label_with_its_inbox_and_filters_and_searches(manager):
    shop, wholesale = InboxFactory(name="Acme shop"), InboxFactory(name="Wholesale")
    LabelFactory(name="Billing", inbox=shop)
    LabelFactory(name="Bulk order", inbox=wholesale)
    LabelFactory(name="VIP", colour="#8250df")
    page = manager.get("/admin/chat/label/").content.decode()
    assert "Billing" in page and "Bulk order" in page and "Global (every inbox)" in page and "#8250df" in page
    filtered = manager.get("/admin/chat/label/", {"inbox__id__exact": shop.pk}).content.decode()
    assert "Billing" in filtered and "Bulk order" not in filtered
    searched = manager.get("/admin/chat/label/", {"q": "bulk"}).content.decode()
    assert "Bulk order" in searched and "Billing" not in searched


def test_a_name_used_twice_in_an_inbox_or_a_colour_that_is_not_hex_is_refused(manager):
    shop = InboxFactory()
    LabelFactory(name="Billing", inbox=shop)
    twice = manager.post("/admin/chat/label/add/", {"name": "billing", "colour": "#d1242f", "inbox": shop.pk})
    assert twice.status_code == 200 and "already has a label with this name" in twice.content.decode()
    red = manager.post("/admin/chat/label/add/", {"name": "Red", "colour": "red", "inbox": ""})
    assert red.status_code == 200 and "#rrggbb" in red.content.decode()
    ok = manager.post("/admin/chat/label/add/", {"name": "Billing", "colour": "#d1242f", "inbox": ""})
    assert ok.status_code == 302
    assert Label.objects.filter(name="Billing").count() == 2


def test_conversations_can_be_filtered_by_label(manager):
    inbox = InboxFactory()
    operator = OperatorFactory(inboxes=[inbox])
    label = LabelFactory(name="Refund", inbox=inbox)
    labelled, other = ConversationFactory(inbox=inbox), ConversationFactory(inbox=inbox)
    conversation_labels_set(profile=operator, conversation_id=labelled.pk, label_ids=[label.pk])
    page = manager.get("/admin/chat/conversation/", {"labels__id__exact": label.pk})
    assert page.status_code == 200
    shown = {c.pk for c in page.context["cl"].result_list}
    assert shown == {labelled.pk} and other.pk not in shown
