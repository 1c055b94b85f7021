"""Keyboard only, end to end; roles and names a screen reader announces; readable contrast."""

import pytest

from chat.models import Message
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _focused(page) -> str:
    """The class of the focused element inside the widget, or the page's focused tag outside it."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return el && el.shadowRoot ? (el.shadowRoot.activeElement || {}).className || '' : el.tagName;
        }"""
    )


def _contrast(rgb_a: str, rgb_b: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted([luminance(rgb_a), luminance(rgb_b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_keyboard_only_from_launcher_to_sent_message_and_back(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    operator_socket()
    page = visitor(
        host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, body="<a href='#top'>Home</a>")
    )
    page.launcher.wait_for()
    page.keyboard.press("Tab")
    assert _focused(page) == "A"
    page.keyboard.press("Tab")
    assert _focused(page) == "sd-launcher"
    assert page.get_by_role("button", name="Open chat").get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Acme Outdoor")
    dialog.wait_for()
    # Focus moves into the panel, on the first field of the pre-chat form.
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.name") == "name"
    page.keyboard.type("Sara")
    page.keyboard.press("Tab")
    page.keyboard.type("sara@example.org")
    page.keyboard.press("Enter")
    page.get_by_role("textbox", name="Message").wait_for()
    assert _focused(page) == "sd-compose-input"
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    log.get_by_text("Typed without a mouse").wait_for()
    log.get_by_text(SENT).wait_for()
    assert log.get_attribute("aria-live") == "polite"

    # Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert _focused(page) == "sd-launcher"
    assert page.get_by_role("button", name="Open chat").get_attribute("aria-expanded") == "false"
    assert Message.objects.get().body == "Typed without a mouse"


def test_every_control_has_a_name_and_text_on_the_brand_colour_is_readable(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hello")
    page.q(".sd-state", has_text=SENT).wait_for()
    nameless = page.q("button").evaluate_all(
        "(buttons) => buttons.filter((b) => b.offsetParent && !(b.getAttribute('aria-label') || b.textContent.trim()))"
        ".map((b) => b.className)"
    )
    assert nameless == []
    for selector in [".sd-head", ".sd-msg-visitor .sd-bubble", ".sd-send", ".sd-launcher"]:
        fg, bg = page.q(selector).first.evaluate(
            "(el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
        )
        assert _contrast(fg, bg) >= 4.5, (selector, fg, bg)
