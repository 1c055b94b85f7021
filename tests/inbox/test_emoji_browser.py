"""The emoji picker of the inbox's reply box, in English and Persian."""

import pytest

from tests.browser import expect
from tests.inbox.test_inbox_browser import claim, open_from_queue

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("language", "label"), [("en", "Emoji"), ("fa", "شکلک")])
def test_the_operator_puts_an_emoji_in_her_reply(
    desk, asgi_server, operator_page, visitors, screenshot_dir, language, label
):
    page = operator_page(desk.ana.user, language=language)
    visitor = visitors(asgi_server, desk.inbox, name="Maria Lopez")
    visitor.say("Thank you!")
    open_from_queue(page, "Maria Lopez")
    claim(page)
    composer = page.locator("#composer-input")
    composer.fill("You're welcome ")
    button = page.locator("#emoji-open")
    expect(button).to_have_attribute("aria-label", label)
    button.click()
    grid = page.locator("#emoji-box")
    expect(grid).to_be_visible()
    page.screenshot(path=screenshot_dir / f"inbox-emoji-{language}.png")
    grid.get_by_role("button", name="🙂").click()
    expect(grid).to_be_hidden()
    expect(composer).to_have_value("You're welcome 🙂")
    expect(composer).to_be_focused()
    button.click()
    page.keyboard.press("Escape")
    expect(grid).to_be_hidden()
    composer.press("Enter")
    reply = visitor.wait_for("message.new", lambda f: f["message"]["sender"] == "operator")["message"]
    assert reply["body"] == "You're welcome 🙂"
