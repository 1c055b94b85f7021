"""The thread survives what visitors' browsers and networks do: blocked storage, reloads while offline, a desk
that is down when the page loads, and a tag pasted twice."""

from pathlib import Path

import pytest
from django.conf import settings

from chat.models import Contact, Message
from tests.processes import StaticSite
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET_DIR = Path(settings.BASE_DIR) / "static" / "widget"


def _script_from_cache(page, desk_url: str) -> None:
    """The widget's files come from the browser cache (or a CDN) while the desk itself is down."""

    def serve(name: str, kind: str):
        body = (WIDGET_DIR / name).read_bytes()
        return lambda route: route.fulfill(body=body, content_type=f"{kind}; charset=utf-8")

    page.route(f"{desk_url}/static/widget/widget.js", serve("widget.js", "text/javascript"))
    page.route(f"{desk_url}/static/widget/widget-app.js", serve("widget-app.js", "text/javascript"))
    page.route(f"{desk_url}/static/widget/widget.css", serve("widget.css", "text/css"))


BLOCK_LOCAL_STORAGE = """Object.defineProperty(window, 'localStorage', {
  configurable: true, get() { throw new DOMException('The user denied storage', 'SecurityError'); },
});"""


def test_without_local_storage_a_cookie_keeps_the_visitor(
    asgi_server, host_site, widget_inbox, operator_socket, browser_context, visitor
):
    operator_socket()
    browser_context.add_init_script(BLOCK_LOCAL_STORAGE)
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Storage is blocked here")
    page.q(".sd-state", has_text=SENT).wait_for()
    assert page.evaluate("() => { try { localStorage; return 'readable'; } catch (e) { return 'blocked'; } }") == (
        "blocked"
    )
    page.reload()
    page.bubbles().filter(has_text="Storage is blocked here").wait_for()
    assert Contact.objects.count() == 1


def test_a_message_typed_offline_survives_a_reload_and_is_sent_once_the_desk_is_back(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("First")
    page.q(".sd-state", has_text=SENT).wait_for()

    _script_from_cache(page, asgi_server.url)
    asgi_server.stop()
    page.write("Typed while the desk was down")
    page.q(".sd-msg-visitor .sd-state", has_text="Waiting for connection").wait_for()
    page.reload()  # the desk is still down: the widget waits for it, then shows the thread and sends the rest
    asgi_server.start()
    page.q(".sd-msg-visitor", has_text="Typed while the desk was down").locator(".sd-state", has_text=SENT).wait_for(
        timeout=60_000
    )
    assert page.bubbles().all_text_contents() == ["First", "Typed while the desk was down"]
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == [
        "First",
        "Typed while the desk was down",
    ]


def test_desk_down_when_the_page_loads_then_the_widget_appears_and_the_page_sees_no_error(
    asgi_server, host_site, widget_inbox, visitor
):
    url = host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key)
    # The script itself comes from elsewhere (a CDN or the browser cache); the desk's API is what is down.
    script = (asgi_server.url, open("static/widget/widget.js", "rb").read())
    asgi_server.stop()
    page = visitor("about:blank")
    page.route(
        f"{script[0]}/static/widget/widget.js",
        lambda route: route.fulfill(body=script[1], content_type="text/javascript"),
    )
    page.goto(url)
    page.wait_for_timeout(1500)
    assert page.locator("supportdesk-widget").count() == 0
    asgi_server.start()
    page.launcher.wait_for(timeout=60_000)
    page.open()
    assert page.q(".sd-greeting").text_content() == "Hi! Ask us anything about tents and boots."


def test_the_tag_pasted_twice_makes_one_widget(asgi_server, host_site, widget_inbox, visitor):
    src = f"{asgi_server.url}/static/widget/widget.js"
    tag = f"<script async src='{src}' data-site-key='{widget_inbox.site_key}'></script>"
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, body=tag))
    page.launcher.wait_for()
    page.wait_for_load_state("networkidle")
    assert page.locator("supportdesk-widget").count() == 1


def test_reconnects_back_off_exponentially_with_jitter(asgi_server, host_site, widget_inbox, browser_context, visitor):
    # Records when the widget opens each socket (on the browser's clock).
    browser_context.add_init_script(
        """(() => {
          const Native = window.WebSocket;
          window.__opened = [];
          window.WebSocket = function (url, protocols) {
            window.__opened.push(performance.now());
            return new Native(url, protocols);
          };
          window.WebSocket.prototype = Native.prototype;
          Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
        })()"""
    )
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()  # the chat, and its socket, come with the first opening (docs/widget.md)
    page.wait_for_function("window.__opened.length === 1")
    asgi_server.stop()
    page.wait_for_function("window.__opened.length >= 6", timeout=30_000)
    opened = page.evaluate("window.__opened")
    gaps = [later - earlier for earlier, later in zip(opened[1:], opened[2:], strict=False)]
    # Each wait is drawn from [base/2, base] with the base doubling: it grows, and it is not a fixed step.
    assert gaps[3] > 2 * gaps[0], gaps
    assert len({round(gap) for gap in gaps}) == len(gaps), gaps
    asgi_server.start()
    page.q(".sd-launcher").wait_for()


def test_a_site_whose_address_the_desk_cannot_store_still_gets_the_chat(
    asgi_server, widget_inbox, operator_socket, visitor
):
    # Browsers accept underscores in host names (intranets use them); Django's URL validation does not.
    site = StaticSite(host="acme_shop.localhost")
    try:
        widget_inbox.allowed_origins = [site.origin]
        widget_inbox.save()
        operator_socket()
        page = visitor(site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
        page.open()
        page.fill_prechat("Sara", "sara@example.org")
        page.write("Hello from the intranet")
        page.q(".sd-state", has_text=SENT).wait_for()
    finally:
        site.close()
    assert Contact.objects.get().name == "Sara"
