"""A reply that arrives while the visitor is not looking shows on the launcher's badge and in the page title."""

import pytest

from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_badge_and_title_count_replies_while_the_panel_is_closed_or_the_tab_hidden(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Are you there?")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()

    def reply(n: int) -> None:
        agent.send(
            {
                "type": "message.send",
                "conversation_id": conversation["id"],
                "client_id": f"op-{n}",
                "body": f"Reply {n}",
            }
        )
        page.bubbles("operator").filter(has_text=f"Reply {n}").wait_for(state="attached")

    # Panel open and tab visible: the visitor sees it, nothing to count.
    reply(1)
    assert page.q(".sd-badge").is_hidden()

    # Panel closed: the badge counts.
    page.q(".sd-min").click()
    reply(2)
    assert page.q(".sd-badge").text_content() == "1"
    assert page.launcher.get_attribute("aria-label") == "Open chat (1 unread)"
    assert page.title() == "Host page"

    # Tab hidden as well: the title says so too, and is given back when the visitor returns.
    page.evaluate(SET_HIDDEN, True)
    reply(3)
    assert page.q(".sd-badge").text_content() == "2"
    assert page.title() == "(2) New message · Host page"
    page.evaluate(SET_HIDDEN, False)
    assert page.title() == "Host page"
    assert page.q(".sd-badge").text_content() == "2"
    page.open()
    assert page.q(".sd-badge").is_hidden()

    # Panel open but tab hidden: counted until the visitor looks again.
    page.evaluate(SET_HIDDEN, True)
    reply(4)
    assert page.title() == "(1) New message · Host page"
    page.evaluate(SET_HIDDEN, False)
    assert page.title() == "Host page"
    assert page.q(".sd-badge").is_hidden()
