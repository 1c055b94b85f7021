"""Conversation search in the inbox, in a real browser: its key, its results with the match marked, opening one."""

import pytest
from django.utils import timezone

from chat.models import Conversation, Message
from tests.browser import expect
from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def conversation(inbox, name, *bodies, ended=False):
    ending = {"status": Conversation.Status.ENDED, "end_reason": "resolved", "ended_at": timezone.now()}
    made = ConversationFactory(
        inbox=inbox,
        contact=ContactFactory(inbox=inbox, name=name),
        **(ending if ended else {"status": Conversation.Status.QUEUED}),
    )
    for sender, body in bodies:
        MessageFactory(conversation=made, sender=sender, body=body)
    return made


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_operator_searches_her_inboxes_opens_an_ended_chat_and_closes_the_search(
    desk, asgi_server, operator_page, screenshot_dir, language
):
    visitor, operator = Message.Sender.VISITOR, Message.Sender.OPERATOR
    conversation(
        desk.inbox,
        "Maria Lopez",
        (visitor, "I was charged twice for order 4411"),
        (operator, "I have refunded the second charge."),
        ended=True,
    )
    conversation(desk.inbox, "Tom Berg", (visitor, "Where is my parcel <b>now</b>? I need a refund"))
    conversation(desk.inbox, "سارا احمدی", (visitor, "سلام، بازپرداخت سفارش من کی انجام می‌شود؟"), ended=True)
    conversation(desk.other_inbox, "Greta Hall", (visitor, "refund for the wholesale order"))
    page = operator_page(desk.ana.user, language=language)
    box = page.locator("#search-input")
    results = page.locator("#search-results .search-result")

    # Its own key, listed in the ? help.
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_contain_text("Ctrl")
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    expect(box).to_be_focused()
    page.keyboard.type("refund")
    # Open and ended chats of her inbox, never the other inbox's; the words the query starts are marked, and what
    # the visitor wrote is shown as they wrote it.
    expect(results).to_have_count(2)
    expect(page.locator("#search-results")).not_to_contain_text("Greta Hall")
    tom = results.filter(has_text="Tom Berg")
    expect(tom.locator("mark")).to_have_text(["refund"])
    expect(tom).to_contain_text("Where is my parcel <b>now</b>?")
    maria = results.filter(has_text="Maria Lopez")
    expect(maria.locator("mark")).to_have_text(["refunded"])
    expect(maria.locator(".search-state")).to_have_text("حل\u200cشده" if language == "fa" else "Resolved")
    expect(page.locator("#list-queue")).to_be_hidden()
    page.screenshot(path=screenshot_dir / f"inbox-search-{language}.png")

    maria.click()
    expect(page.locator("#thread-title")).to_have_text("Maria Lopez")
    expect(page.locator("#readonly-note")).to_be_visible()
    expect(page.locator("#composer")).to_be_hidden()

    # Persian words, found whatever the page's language; Enter opens the chosen result.
    box.fill("بازپرداخت")
    expect(results).to_have_count(1)
    expect(results.locator("mark")).to_have_text(["بازپرداخت"])
    page.screenshot(path=screenshot_dir / f"inbox-search-persian-{language}.png")
    box.press("Enter")
    expect(page.locator("#thread-title")).to_have_text("سارا احمدی")

    # Esc closes the search: the lists are back.
    box.press("Escape")
    expect(box).to_have_value("")
    expect(page.locator("#search-results")).to_be_hidden()
    expect(page.locator("#list-queue .conv-item")).to_have_count(1)

    # Ctrl+K works from anywhere; a query too short says so.
    page.locator("#list-queue .conv-btn").first.click()
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    page.keyboard.type("r")
    expect(page.locator("#search-status")).not_to_be_empty()
    expect(results).to_have_count(0)
