"""The widget on a page of another origin, driven in Chromium, and an operator on the agent socket.

`widget_inbox` allows only the `host_site` origin; `operator_socket` opens real websocket clients logged in with
a Django session cookie; `visitor` opens host-site pages and fails the test if the widget threw into one.
"""

from __future__ import annotations

import pytest

from tests.factories import InboxFactory, OperatorFactory
from tests.widget.support import OperatorSocket, WidgetPage


@pytest.fixture
def widget_inbox(host_site):
    return InboxFactory(
        name="Acme Outdoor",
        allowed_origins=[host_site.origin],
        brand_color="#2d4a3e",
        greeting="Hi! Ask us anything about tents and boots.",
        prechat_name="optional",
        prechat_email="required",
    )


@pytest.fixture
def operator(widget_inbox):
    return OperatorFactory(inboxes=[widget_inbox], display_name="Reza")


@pytest.fixture
def operator_socket(asgi_server, operator):
    sockets = []

    def open_socket(server=None) -> OperatorSocket:
        sock = OperatorSocket(server or asgi_server, operator.user)
        sock.send({"type": "presence.set", "status": "online"})
        sockets.append(sock)
        return sock

    yield open_socket
    for sock in sockets:
        sock.close()


@pytest.fixture
def visitor(browser_context):
    """Opens a host-site URL in a fresh tab and returns the WidgetPage; page errors are asserted absent."""
    pages: list[WidgetPage] = []

    def visit(url: str, context=None) -> WidgetPage:
        page = WidgetPage((context or browser_context).new_page())
        page.goto(url)
        pages.append(page)
        return page

    yield visit
    for page in pages:
        assert page.errors == [], f"the widget threw into the page: {page.errors}"
