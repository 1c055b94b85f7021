"""The inbox in a real browser: operators signed in through the session cookie, visitors over the widget socket."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack
from types import SimpleNamespace
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect

from chat.services.visitors import visitor_token_contact
from tests.factories import InboxFactory, OperatorFactory, TeamFactory, UserFactory

VISITOR_ORIGIN = "http://site.test"

# Records desktop notifications instead of showing them (the page only creates them when permission is granted).
NOTIFICATION_STUB = """
window.__notifications = [];
window.Notification = class {
  constructor(title, options) { window.__notifications.push({ title, body: (options || {}).body }); }
  close() {}
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
"""

# Counts the oscillators the page starts (two per beep) instead of making sound.
AUDIO_STUB = """
window.__oscillators = 0;
window.AudioContext = class {
  constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
  resume() {}
  createOscillator() {
    window.__oscillators += 1;
    return { frequency: {}, connect: (node) => node, start() {}, stop() {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (node) => node };
  }
};
"""


class Visitor:
    """A website visitor speaking the widget protocol (protocol.md) from an allowed origin."""

    def __init__(self, server, inbox, *, token: str | None = None, name: str = "", email: str = "", page_url: str = ""):
        """A new visitor (the widget's session call), or the returning one whose `token` is given."""
        self.server, self.inbox = server, inbox
        payload = {"site_key": inbox.site_key, "name": name, "email": email, "page_url": page_url}
        if token:
            payload["visitor_token"] = token
        request = Request(
            f"{server.url}/api/widget/v1/session",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Origin": VISITOR_ORIGIN},
            method="POST",
        )
        with urlopen(request, timeout=10) as response:  # noqa: S310 — the test server
            session = json.load(response)
        self.token = session["visitor_token"]
        self.frames: list[dict] = []
        self.connect()

    @property
    def contact_id(self) -> int | None:
        """The visitor's contact: made by their first message (or the pre-chat form), none before."""
        contact = visitor_token_contact(inbox=self.inbox, token=self.token)
        return contact.pk if contact else None

    def connect(self, last_message_id: int | None = None) -> None:
        """Opens the widget socket and says hello (again, after a drop: with the newest message id held)."""
        self.frames = [f for f in self.frames if f["type"] != "welcome"]
        self.sockets = getattr(self, "sockets", ExitStack())
        self.ws = self.sockets.enter_context(
            connect(f"{self.server.ws_url}/ws/widget/{self.inbox.site_key}/", origin=VISITOR_ORIGIN, open_timeout=10)
        )
        hello = {"type": "hello", "visitor_token": self.token}
        if last_message_id is not None:
            hello["last_message_id"] = last_message_id
        self.send(hello)
        self.welcome = self.wait_for("welcome")

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def say(self, body: str) -> dict:
        client_id = uuid.uuid4().hex
        self.send({"type": "message.send", "client_id": client_id, "body": body})
        return self.wait_for("message.ack", lambda f: f["client_id"] == client_id)["message"]

    def wait_for(self, frame_type: str, match=lambda frame: True, timeout: float = 15) -> dict:
        """The first frame of that type (and match) seen so far or arriving within `timeout`."""
        for frame in self.frames:
            if frame["type"] == frame_type and match(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            frame = json.loads(raw)
            self.frames.append(frame)
            if frame["type"] == frame_type and match(frame):
                return frame
        raise AssertionError(f"no {frame_type} frame within {timeout}s; got {[f['type'] for f in self.frames]}")

    def frames_of(self, frame_type: str) -> list[dict]:
        """The frames of that type received so far (after reading what has arrived)."""
        try:
            self.wait_for("__none__", timeout=0.3)
        except AssertionError:
            pass
        return [f for f in self.frames if f["type"] == frame_type]

    def bodies(self) -> list[str]:
        """Every message body this visitor's socket has received."""
        seen = [m["body"] for f in self.frames if f["type"] == "welcome" for m in f.get("messages", [])]
        seen += [f["message"]["body"] for f in self.frames if f["type"] in ("message.new", "message.ack")]
        return seen

    def close(self) -> None:
        self.sockets.close()


@pytest.fixture
def visitors():
    made: list[Visitor] = []

    def make(server, inbox, **kwargs) -> Visitor:
        visitor = Visitor(server, inbox, **kwargs)
        made.append(visitor)
        return visitor

    yield make
    for visitor in made:
        visitor.close()


@pytest.fixture
def desk(transactional_db):
    """One website inbox with two operators, and an operator of another inbox.

    The operators start away, so that new chats wait in the queue instead of being assigned automatically.
    """
    away = {"status": "away"}
    team = TeamFactory(name="Support")
    inbox = InboxFactory(name="Acme shop", team=team)
    other_inbox = InboxFactory(name="Wholesale", team=TeamFactory(name="Sales"))
    ana = OperatorFactory(display_name="Ana Silva", user=UserFactory(username="ana"), inboxes=[inbox], **away)
    ben = OperatorFactory(display_name="Ben Okafor", user=UserFactory(username="ben"), inboxes=[inbox], **away)
    carl = OperatorFactory(display_name="Carl Weiss", user=UserFactory(username="carl"), inboxes=[other_inbox])
    return SimpleNamespace(team=team, inbox=inbox, other_inbox=other_inbox, ana=ana, ben=ben, carl=carl)


def block_notifications(page, origin: str) -> None:
    """As when the operator chose "Block" for the desk's notifications: Notification.permission is "denied"."""
    cdp = page.context.new_cdp_session(page)
    context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    permission = {"permission": {"name": "notifications"}, "setting": "denied", "origin": origin}
    # Kept attached: the setting lasts as long as the session that made it.
    cdp.send("Browser.setPermission", {**permission, "browserContextId": context_id})


def sign_in(context, server, user) -> None:
    """Puts a real session for `user` into the browser context."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": server.url}])


@pytest.fixture
def operator_page(browser, asgi_server):
    """operator_page(user) -> a Playwright page with /inbox/ open for that user, in its own browser context."""
    contexts = []
    errors: list[str] = []

    def open_page(user, *, language: str = "en", viewport=None, before_load=None, notifications: str = "granted"):
        """`notifications="denied"`: the browser's own notifications, blocked in its site settings for the desk."""
        context = browser.new_context(viewport=viewport or {"width": 1440, "height": 900})
        context.set_default_timeout(15_000)
        if notifications == "granted":
            context.grant_permissions(["notifications"], origin=asgi_server.url)
            context.add_init_script(NOTIFICATION_STUB)
        context.add_init_script(AUDIO_STUB)
        contexts.append(context)
        sign_in(context, asgi_server, user)
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": asgi_server.url}])
        page = context.new_page()
        if notifications == "denied":
            block_notifications(page, asgi_server.url)
        page.on("pageerror", lambda exc: errors.append(f"{user.get_username()}: {exc}"))
        if before_load:
            before_load(page)
        page.goto(f"{asgi_server.url}/inbox/")
        page.wait_for_selector("body[data-connection=open]", state="attached")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"the inbox threw: {errors}"
