"""The widget on a page of another origin, driven in Chromium, and an operator on the agent socket.

`widget_inbox` allows only the `host_site` origin; `operator_socket` is a real websocket client logged in with a
Django session cookie; `WidgetPage` reads the widget through its (open) shadow root, as Playwright's CSS
selectors pierce it.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect

from tests.factories import InboxFactory, OperatorFactory


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


class OperatorSocket:
    """The agent side of protocol.md over a real websocket."""

    def __init__(self, server, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(
            connect(
                f"{server.ws_url}/ws/agent/",
                additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Origin": server.url},
                open_timeout=10,
            )
        )
        self.frames: list[dict] = []
        self.welcome = self.expect(lambda f: f["type"] == "welcome")

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def expect(self, predicate, timeout: float = 15) -> dict:
        """The first frame (already received or next) that matches; frames are kept for later checks."""
        for frame in self.frames:
            if predicate(frame):
                self.frames.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; got {self.frames[-10:]}")
            try:
                frame = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                continue
            if predicate(frame):
                return frame
            self.frames.append(frame)

    def take_conversation(self, contact_name: str | None = None) -> dict:
        """Waits for the visitor's conversation, claims it if it is still queued, and returns it."""
        frame = self.expect(lambda f: f["type"] in ("conversation.queued", "conversation.updated"))
        conversation = frame["conversation"]
        if conversation["status"] == "queued":
            self.send({"type": "conversation.claim", "conversation_id": conversation["id"]})
            conversation = self.expect(
                lambda f: (
                    f["type"] == "conversation.updated"
                    and f["conversation"]["id"] == conversation["id"]
                    and f["conversation"]["status"] == "active"
                )
            )["conversation"]
        return conversation

    def close(self) -> None:
        self._stack.close()


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


class WidgetPage:
    """A visitor's tab on the host site, with the widget in it."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def __getattr__(self, name):
        return getattr(self.page, name)

    def q(self, selector: str, **kwargs):
        return self.page.locator(f"supportdesk-widget {selector}", **kwargs)

    @property
    def launcher(self):
        return self.q(".sd-launcher")

    @property
    def panel(self):
        return self.q(".sd-panel")

    def open(self):
        self.launcher.wait_for()
        if not self.panel.is_visible():
            self.launcher.click()
        self.panel.wait_for(state="visible")
        self.panel.evaluate("(el) => Promise.all(el.getAnimations().map((a) => a.finished))")

    def fill_prechat(self, name: str, email: str):
        self.q(".sd-form input[name=name]").fill(name)
        self.q(".sd-form input[name=email]").fill(email)
        self.q(".sd-form button[type=submit]").click()
        self.q(".sd-compose-input").wait_for(state="visible")

    def write(self, text: str):
        self.q(".sd-compose-input").fill(text)
        self.q(".sd-compose-input").press("Enter")

    def bubbles(self, kind: str = ""):
        return self.q(f".sd-msg{'-' + kind if kind else ''} .sd-body")

    def shot(self, name: str) -> Path:
        path = Path(settings.BASE_DIR) / "var" / "screenshots" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), animations="disabled", caret="hide")
        return path


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
