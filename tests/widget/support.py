"""Helpers for the widget's browser tests: the operator's socket, the visitor's tab, what "sent" looks like."""

from __future__ import annotations

import json
import re
import time
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.test import Client
from websockets.sync.client import connect

# What an own message shows once the server has stored it (English or Persian), and nothing else ("Not sent.").
SENT = re.compile(r"^\W*(Sent|ارسال شد)$")


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
