"""The widget and the host page cannot break each other: hostile CSS, and an origin the inbox does not allow."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# What careless or hostile site CSS does to every element it can reach. `* { display: none }` would also hide
# <html> itself, after which no page can show anything, so the root and body are given back their display.
HOSTILE_CSS = """<style>
  * { display: none !important; font-size: 48px !important; line-height: 3 !important; color: red !important;
      font-family: "Comic Sans MS", cursive !important; box-sizing: content-box !important;
      position: static !important; z-index: 0 !important; width: 10px !important; height: 10px !important;
      visibility: hidden !important; opacity: .2 !important; letter-spacing: 9px !important; }
  html, body { display: block !important; visibility: visible !important; opacity: 1 !important;
      width: auto !important; height: auto !important; }
  html { font-size: 40px !important; direction: rtl !important; }
  body { transform: translateX(40px) !important; }
  button, input, textarea { all: unset !important; background: yellow !important; }
  supportdesk-widget, :root > * { filter: blur(4px) !important; inset: 50px !important; }
</style>"""

PARTS = [".sd-launcher", ".sd-panel", ".sd-head", ".sd-greeting", ".sd-form input[name=email]", ".sd-composer"]
STYLES = ["fontSize", "fontFamily", "color", "lineHeight", "direction", "letterSpacing", "filter"]


def _measure(page) -> dict:
    page.open()
    page.q(".sd-form input[name=email]").wait_for()
    page.mouse.move(600, 5)  # off the launcher: no hover zoom mid-transition
    page.wait_for_timeout(400)
    found = {}
    for selector in PARTS:
        locator = page.q(selector)
        if locator.count():
            found[selector] = {
                "box": locator.first.bounding_box(),
                "style": locator.first.evaluate(
                    f"(el) => {{ const s = getComputedStyle(el); return {STYLES!r}.map((k) => s[k]); }}"
                ),
            }
    found["greeting.png"] = page.q(".sd-scroll").screenshot(animations="disabled", caret="hide")
    return found


def test_hostile_host_css_does_not_change_the_widget(asgi_server, host_site, widget_inbox, browser, visitor):
    plain_url = host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, path="/plain")
    hostile_url = host_site.widget_page(
        desk_url=asgi_server.url,
        site_key=widget_inbox.site_key,
        path="/hostile",
        head=HOSTILE_CSS,
        body="<p>Host page text</p>",
    )
    plain_context = browser.new_context(viewport={"width": 1280, "height": 800})
    hostile_context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        plain = _measure(visitor(plain_url, plain_context))
        hostile_page = visitor(hostile_url, hostile_context)
        hostile = _measure(hostile_page)
        hostile_page.shot("widget-hostile-css.png")
    finally:
        plain_context.close()
        hostile_context.close()

    # The hostile rules did reach the page itself...
    assert set(PARTS) <= set(plain)
    # ...but every part of the widget has the same place, size and style, and looks the same pixel for pixel.
    for selector in PARTS:
        assert hostile[selector] == plain[selector], selector
    assert plain[".sd-launcher"]["box"]["width"] == 60
    assert plain[".sd-greeting"]["style"][0] == "14px"
    assert hostile["greeting.png"] == plain["greeting.png"]


def test_the_widget_leaves_the_host_page_alone(asgi_server, host_site, widget_inbox, visitor):
    page = visitor(
        host_site.widget_page(
            desk_url=asgi_server.url,
            site_key=widget_inbox.site_key,
            body="<h1 id=title>Shop</h1><p id=text>Welcome</p><button id=buy>Buy</button>",
        )
    )
    page.launcher.wait_for()
    page_state = "() => [document.title, getComputedStyle(document.body).fontFamily, document.styleSheets.length]"
    before = page.evaluate(page_state)
    page.open()
    after = page.evaluate(page_state)
    # No style sheet was added to the page, its title is untouched, and its own button still works.
    assert before == after
    assert page.locator("#buy").bounding_box()["x"] < 100
    assert page.evaluate("Object.keys(window).filter((k) => k.toLowerCase().includes('supportdesk'))") == [
        "__supportdeskWidgets"
    ]


def test_a_page_whose_origin_the_inbox_does_not_allow_gets_no_widget_and_no_error(
    asgi_server, host_site, widget_inbox, visitor
):
    widget_inbox.allowed_origins = ["https://shop.example.com"]
    widget_inbox.save()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    assert page.locator("supportdesk-widget").count() == 0
