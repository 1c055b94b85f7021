"""Managers keep the saved replies in the admin: per team or inbox, shortcut, title, text, language."""

import pytest

from chat.models import CannedReply
from tests.factories import CannedReplyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


def test_the_list_shows_each_reply_with_its_shortcut_and_who_gets_it(manager):
    CannedReplyFactory(shortcut="refund", title="Refund policy")
    page = manager.get("/admin/chat/cannedreply/").content.decode()
    assert "/refund" in page
    assert "every operator" in page


def test_a_shortcut_used_twice_for_everyone_in_one_language_is_refused(manager):
    CannedReplyFactory(shortcut="refund", language="en")
    response = manager.post(
        "/admin/chat/cannedreply/add/",
        {"shortcut": "refund", "title": "Refunds again", "body": "Text", "language": "en", "team": "", "inbox": ""},
    )
    assert response.status_code == 200
    assert "already used in the same place and language" in response.content.decode()
    same_in_persian = manager.post(
        "/admin/chat/cannedreply/add/",
        {"shortcut": "refund", "title": "بازپرداخت", "body": "متن", "language": "fa", "team": "", "inbox": ""},
    )
    assert same_in_persian.status_code == 302
    assert CannedReply.objects.filter(shortcut="refund").count() == 2
