"""Persian lays the whole widget out right-to-left; small screens get a full-screen panel."""

import pytest

from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_persian_widget_is_right_to_left_in_persian(asgi_server, host_site, widget_inbox, operator_socket, visitor):
    widget_inbox.language = "fa"
    widget_inbox.greeting = "سلام! هر سؤالی درباره چادر و کفش کوهنوردی دارید بپرسید."
    widget_inbox.save()
    agent = operator_socket()
    # The inbox's language decides, even on an English page.
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang="en"))
    assert page.launcher.get_attribute("aria-label") == "باز کردن گفتگو"
    page.open()
    assert page.q(".sd-root").evaluate("(el) => getComputedStyle(el).direction") == "rtl"
    assert page.q(".sd-root").get_attribute("lang") == "fa"
    assert page.q(".sd-form label").first.text_content().startswith("نام")
    assert page.q(".sd-form button[type=submit]").text_content() == "شروع گفتگو"
    page.fill_prechat("سارا", "sara@example.org")
    page.write("سلام، چادر دو نفره را به تهران می‌فرستید؟")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "بله، ارسال به تهران ۳ تا ۵ روز کاری طول می‌کشد.",
        }
    )
    agent.send({"type": "typing", "conversation_id": conversation["id"], "is_typing": True})
    page.q(".sd-typing", has_text="Reza در حال نوشتن است").wait_for()
    page.mouse.move(5, 5)
    page.shot("widget-persian.png")

    # Right-to-left: the operator's face starts the header at the right, her name's line after it; own messages
    # sit on the left, replies on the right with her face on their right.
    panel = page.panel.bounding_box()
    face = page.q(".sd-head-face").bounding_box()
    title = page.q(".sd-title").bounding_box()
    assert panel["x"] + panel["width"] - (face["x"] + face["width"]) < 30
    assert 0 <= face["x"] - (title["x"] + title["width"]) < 20
    own = page.q(".sd-msg-visitor .sd-bubble").bounding_box()
    reply = page.q(".sd-msg-operator .sd-bubble").bounding_box()
    reply_face = page.q(".sd-msg-operator .sd-face").bounding_box()
    assert own["x"] < reply["x"]
    assert reply_face["x"] + reply_face["width"] > panel["x"] + panel["width"] - 30
    assert 0 <= reply_face["x"] - (reply["x"] + reply["width"]) < 12
    assert page.q(".sd-subtitle").text_content() == "در حال گفتگو با Reza"


def test_small_screen_gets_a_full_screen_panel(asgi_server, host_site, widget_inbox, operator_socket, browser, visitor):
    operator_socket()
    context = browser.new_context(viewport={"width": 390, "height": 760}, is_mobile=True, has_touch=True)
    try:
        url = host_site.widget_page(
            desk_url=asgi_server.url,
            site_key=widget_inbox.site_key,
            head='<meta name="viewport" content="width=device-width, initial-scale=1">',
        )
        page = visitor(url, context)
        # Visible means styled: the widget shows itself once its stylesheet is in.
        page.launcher.wait_for()
        launcher = page.launcher.bounding_box()
        assert launcher["x"] + launcher["width"] == pytest.approx(370, abs=1)
        page.open()
        assert page.panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 760}
        assert page.launcher.is_hidden()
        page.fill_prechat("Sara", "sara@example.org")
        page.write("Which size should I take? I wear 42 in sneakers.")
        page.q(".sd-state", has_text=SENT).wait_for()
        page.shot("widget-mobile.png")
        page.q(".sd-min").click()
        page.launcher.wait_for()
        assert page.panel.is_hidden()
    finally:
        context.close()


def test_position_left_and_a_light_brand_colour_get_readable_text(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    widget_inbox.position = "left"
    widget_inbox.brand_color = "#ffd60a"  # yellow: white text on it would be unreadable
    widget_inbox.save()
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.launcher.wait_for()
    launcher = page.launcher.bounding_box()
    assert launcher["x"] == pytest.approx(20, abs=1)
    page.open()
    assert page.panel.bounding_box()["x"] == pytest.approx(20, abs=1)
    colours = page.q(".sd-head").evaluate("(el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
    assert colours == ["rgb(255, 214, 10)", "rgb(17, 20, 24)"]


def test_the_launcher_shows_its_chat_icon_from_the_first_paint(asgi_server, host_site, widget_inbox, visitor):
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.launcher.wait_for()
    # Never opened: the round button is not an empty circle, it shows the chat bubble.
    chat_icon = page.q(".sd-launcher svg.sd-i-chat")
    assert chat_icon.is_visible()
    box = chat_icon.bounding_box()
    assert box["width"] == pytest.approx(28, abs=1) and box["height"] == pytest.approx(28, abs=1)
    assert page.launcher.get_attribute("aria-label") == "Open chat"
    page.mouse.move(5, 5)
    page.shot("widget-launcher-first-paint.png")

    page.open()
    assert page.q(".sd-launcher svg.sd-i-down").is_visible()
    page.q(".sd-min").click()
    assert page.q(".sd-launcher svg.sd-i-chat").is_visible()
