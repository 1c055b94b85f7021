"""The demo shop page (served cross-origin by `make run`) embeds the widget with the one tag."""

import pytest

from supportdesk.demo import render_demo_site
from tests.requests_seen import RequestsSeen
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_demo_shop_on_another_origin_chats_through_the_widget(
    asgi_server, host_site, widget_inbox, operator_socket, visitor, browser_context, settings
):
    settings.SITE_URL = asgi_server.url
    html = render_demo_site(desk_url=asgi_server.url, site_key=widget_inbox.site_key)
    assert f'src="{asgi_server.url}/static/widget/widget.js" data-site-key="{widget_inbox.site_key}"' in html
    agent = operator_socket()
    seen = RequestsSeen()
    seen.watch(browser_context)
    page = visitor(host_site.add("/", html))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hi! Is the Trail tent 2P warm enough for late October in the Alborz?")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()
    agent.send({"type": "typing", "conversation_id": conversation["id"], "is_typing": True})
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "Hi Sara! It is a three-season tent: fine down to about −2 °C with a good sleeping bag.",
        }
    )
    page.bubbles("operator").first.wait_for()
    page.wait_for_timeout(1200)  # the server passes one "is typing" per second
    agent.send({"type": "typing", "conversation_id": conversation["id"], "is_typing": True})
    page.q(".sd-typing").wait_for()
    page.mouse.move(5, 5)
    page.shot("widget-demo.png")
    assert page.locator("h1").text_content() == "Gear for the long way round."
    # Whatever the shop's own page loads, the widget's script, style, API calls and socket all go to the desk.
    assert seen.outside(asgi_server.url, host_site.origin) == []
    assert f"{asgi_server.ws_url}/ws/widget/{widget_inbox.site_key}/" in seen.urls
