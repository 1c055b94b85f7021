"""A closed widget costs the page only its launcher: the chat (widget-app.js) and its socket come when the visitor
opens it, or at once for a visitor in a conversation, whose replies must reach the badge."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _watch(browser_context):
    """The widget files and sockets the page asks for, in order."""
    seen: list[str] = []

    def request(request):
        seen.append(request.url.split("?")[0])
        if request.url.endswith("/api/widget/v1/session") and request.method == "POST":
            seen.append("session " + ("locale" if '"locale"' in (request.post_data or "") else "plain"))

    browser_context.on("request", request)
    browser_context.on("page", lambda page: page.on("websocket", lambda ws: seen.append(ws.url)))
    return seen


def _widget(seen):
    return [
        u.rsplit("/", 1)[-1] if "/static/widget/" in u else "socket"
        for u in seen
        if "/static/widget/" in u or "/ws/" in u
    ]


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_a_new_visitor_s_closed_widget_loads_only_the_launcher_until_it_is_opened(
    asgi_server, host_site, widget_inbox, operator_socket, visitor, browser_context, lang
):
    widget_inbox.language = lang
    widget_inbox.save()
    operator_socket()
    seen = _watch(browser_context)
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang=lang))
    page.launcher.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    assert _widget(seen) == ["widget.js", "widget.css"]
    label = {"en": "Open chat", "fa": "باز کردن گفتگو"}[lang]
    assert page.launcher.get_attribute("aria-label") == label
    page.shot(f"widget-launcher-only-{lang}.png")

    page.open()
    page.q(".sd-greeting").wait_for()
    assert page.locator("supportdesk-widget").count() == 1
    assert "widget-app.js" in _widget(seen) and "socket" in _widget(seen)
    # The session the launcher started is the chat's: not asked for again (the second call records the language).
    assert seen.count("session plain") == 1
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hello")
    page.q(".sd-msg-visitor .sd-state").wait_for()


def test_a_visitor_in_a_conversation_gets_the_chat_at_once_and_a_reply_reaches_the_badge(
    asgi_server, host_site, widget_inbox, operator_socket, visitor, browser_context
):
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Where is my parcel?")
    conversation = agent.take_conversation()
    page.q(".sd-min").click()
    page.panel.wait_for(state="hidden")

    seen = _watch(browser_context)
    page.on("websocket", lambda ws: seen.append(ws.url))
    page.reload()
    page.launcher.wait_for()
    page.wait_for_load_state("networkidle")
    assert "widget-app.js" in _widget(seen) and "socket" in _widget(seen)
    agent.send(
        {"type": "message.send", "conversation_id": conversation["id"], "client_id": "o-1", "body": "On its way"}
    )
    page.q(".sd-badge", has_text="1").wait_for()
    assert page.panel.is_hidden()

    # Once the conversation has ended (no survey waiting), the next page needs only the launcher again.
    agent.send({"type": "conversation.resolve", "conversation_id": conversation["id"]})
    key = f"supportdesk:{widget_inbox.site_key}"
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{key}') || '{{}}').live === false")
    seen.clear()
    page.reload()
    page.launcher.wait_for()
    page.wait_for_load_state("networkidle")
    assert "widget-app.js" not in _widget(seen)
