"""Read receipts and the unread count in the inbox's tab: the operator sees when the visitor has read her reply; the
visitor is told when she has read theirs; the tab's title and icon count what waits for her."""

import re

import pytest

from tests.browser import expect
from tests.inbox.test_inbox_browser import claim, open_from_queue, send

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("language", "seen"), [("en", r"Seen \d"), ("fa", r"دیده شد [۰-۹]")])
def test_the_operator_sees_when_the_visitor_read_her_reply_and_the_visitor_is_told_she_read_theirs(
    desk, asgi_server, operator_page, visitors, screenshot_dir, language, seen
):
    page = operator_page(desk.ana.user, language=language)
    visitor = visitors(asgi_server, desk.inbox, name="Maria Lopez", email="maria@example.org")
    question = visitor.say("Hi, my boots arrived in the wrong size")
    expect(page.locator("#list-queue")).to_contain_text("Maria Lopez")
    assert visitor.frames_of("message.read") == []

    open_from_queue(page, "Maria Lopez")
    read = visitor.wait_for("message.read")
    assert (read["reader"], read["message_id"]) == ("operator", question["id"])
    claim(page)
    send(page, "Sorry about that, let me swap them")
    reply = visitor.wait_for("message.new", lambda f: f["message"]["sender"] == "operator")["message"]
    reply_node = page.locator(f'#thread .msg[data-message-id="{reply["id"]}"]')
    expect(reply_node.locator(".msg-seen")).to_have_count(0)

    visitor.send({"type": "message.read", "message_id": reply["id"]})
    expect(reply_node.locator(".msg-seen")).to_have_text(re.compile(seen))
    page.screenshot(path=screenshot_dir / f"inbox-seen-{language}.png")
    # A reload shows it again, from the conversation's state.
    page.reload()
    page.locator("#list-mine").get_by_text("Maria Lopez").click()
    expect(page.locator(f'#thread .msg[data-message-id="{reply["id"]}"] .msg-seen')).to_have_text(re.compile(seen))


def test_the_tab_title_and_icon_count_waiting_chats_and_unread_messages(desk, asgi_server, operator_page, visitors):
    page = operator_page(desk.ana.user)
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("data-badge", "")
    first = visitors(asgi_server, desk.inbox, name="First Person")
    hello = first.say("Hello?")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    expect(icon).to_have_attribute("data-badge", "1")
    open_from_queue(page, "First Person")
    first.wait_for("message.read", lambda f: f["message_id"] == hello["id"])
    claim(page)
    expect(page).not_to_have_title(re.compile(r"^\("))
    expect(icon).to_have_attribute("data-badge", "")

    second = visitors(asgi_server, desk.inbox, name="Second Person")
    second.say("Anyone there?")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    # A message in the open conversation while the tab is hidden counts until she looks again, and is not read.
    page.evaluate(
        """() => { Object.defineProperty(document, "hidden", {value: true, configurable: true});
                   document.dispatchEvent(new Event("visibilitychange")); }"""
    )
    still = first.say("Still here")
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    expect(icon).to_have_attribute("data-badge", "2")
    assert all(f["message_id"] < still["id"] for f in first.frames_of("message.read"))
    page.evaluate(
        """() => { Object.defineProperty(document, "hidden", {value: false, configurable: true});
                   document.dispatchEvent(new Event("visibilitychange")); }"""
    )
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    expect(icon).to_have_attribute("data-badge", "1")
    first.wait_for("message.read", lambda f: f["message_id"] == still["id"])
