"""What a logged-in operator's inbox socket lets others do: pages of other origins, removed members, ended sessions."""

import pytest
from channels.db import database_sync_to_async

from chat.models import OperatorProfile
from tests.chat.conftest import agent_socket, operator_socket

db = database_sync_to_async


async def _first_output(socket) -> dict:
    return await socket.communicator.receive_output(3)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:9000",  # another port of the desk's host
        "https://shop.example.com",  # a sibling subdomain of the desk's site
        "https://localhost:8000",  # the desk's host:port, but not the scheme it was reached with
        "null",  # a sandboxed frame or a file
        None,  # no Origin at all: browsers always send one
    ],
)
async def test_a_page_of_another_origin_gets_4403_and_nothing_of_the_operator(inbox, operator, settings, origin):
    settings.SITE_URL = "https://desk.example.com"
    socket = await agent_socket(operator.user, origin=origin, host="localhost:8000")

    closed = await _first_output(socket)

    assert (closed["type"], closed.get("code")) == ("websocket.close", 4403)
    profile = await db(OperatorProfile.objects.get)(pk=operator.pk)
    assert (profile.status, profile.connection_count) == ("offline", 0)


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://desk.example.com", "10.0.0.5:8000"),  # SITE_URL behind a proxy
        ("https://inbox.example.com", "10.0.0.5:8000"),  # a CSRF trusted origin
        ("http://localhost:8000", "localhost:8000"),  # the host the socket was opened on
    ],
)
async def test_the_desks_own_pages_open_the_inbox(inbox, operator, settings, origin, host):
    settings.SITE_URL = "https://desk.example.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://inbox.example.com"]
    agent, welcome = await operator_socket(operator, origin=origin, host=host)
    assert welcome["operator"]["id"] == operator.user_id
    await agent.close()
