"""The emoji picker of the widget's composer: the desk's own list, fetched on first use, put at the caret."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("lang", "label"), [("en", "Emoji"), ("fa", "شکلک")])
def test_the_visitor_puts_an_emoji_in_the_message_by_mouse_or_keyboard(
    asgi_server, host_site, widget_inbox, operator_socket, visitor, lang, label
):
    widget_inbox.language = lang
    widget_inbox.save()
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang=lang))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    box = page.q(".sd-compose-input")
    box.fill("Thanks ")
    button = page.q(".sd-emoji-btn")
    assert button.get_attribute("aria-label") == label
    button.click()
    grid = page.q(".sd-emoji-box")
    grid.wait_for()
    assert page.q(".sd-emoji").count() > 50
    page.shot(f"widget-emoji-{lang}.png")
    page.q(".sd-emoji", has_text="👍").click()
    assert grid.is_hidden() and box.input_value() == "Thanks 👍"
    # By keyboard: the first emoji has the focus, an arrow moves on, Enter picks, Escape closes without picking.
    button.click()
    page.keyboard.press("ArrowRight" if lang == "en" else "ArrowLeft")
    page.keyboard.press("Enter")
    assert box.input_value() == "Thanks 👍😃"
    button.click()
    page.keyboard.press("Escape")
    assert grid.is_hidden() and box.input_value() == "Thanks 👍😃"
    box.press("Enter")
    message = agent.expect(lambda f: f["type"] == "message.new" and f["message"]["sender"] == "visitor")["message"]
    assert message["body"] == "Thanks 👍😃"
