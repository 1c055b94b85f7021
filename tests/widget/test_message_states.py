"""Each own message says where it is: sending, sent, or not sent with a way to retry; too long is refused early."""

import pytest

from chat.models import Message
from tests.widget.support import SENT, OperatorSocket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_refused_message_says_why_and_is_sent_by_retry_under_the_same_client_id(
    asgi_server_factory, host_site, widget_inbox, operator, visitor
):
    server = asgi_server_factory(VISITOR_RATE_LIMIT_MESSAGES="2", VISITOR_RATE_LIMIT_WINDOW_SECONDS="3")
    agent = OperatorSocket(server, operator.user)
    try:
        page = visitor(host_site.widget_page(desk_url=server.url, site_key=widget_inbox.site_key))
        page.open()
        page.fill_prechat("Sara", "sara@example.org")
        for text in ["One", "Two", "Three"]:
            page.write(text)
        third = page.q(".sd-msg-visitor").nth(2)
        third.locator(".sd-state", has_text="Not sent.").wait_for()
        assert "too fast" in third.locator(".sd-state").text_content()
        assert page.q(".sd-msg-visitor .sd-state", has_text=SENT).count() == 2
        page.wait_for_timeout(3200)
        third.get_by_role("button", name="Retry").click()
        third.locator(".sd-state", has_text=SENT).wait_for()
        assert third.get_by_role("button", name="Retry").count() == 0
    finally:
        agent.close()
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == ["One", "Two", "Three"]


def test_a_message_over_the_limit_is_refused_beside_the_box_and_kept(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("x" * 4001)
    error = page.q(".sd-composer .sd-err")
    assert error.text_content() == "Please keep it under 4,000 characters."
    assert page.q(".sd-compose-input").get_attribute("aria-invalid") == "true"
    assert page.q(".sd-compose-input").input_value() == "x" * 4001
    assert page.bubbles().count() == 0
    page.q(".sd-compose-input").press("Backspace")
    assert error.is_hidden()
    page.q(".sd-compose-input").press("Enter")
    page.q(".sd-state", has_text=SENT).wait_for()
    assert len(Message.objects.get().body) == 4000
