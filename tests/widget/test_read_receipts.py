"""Read receipts in the widget: the visitor's message says "Seen" once an operator has read it, and the widget tells
the desk when the visitor has read the reply (open and visible), in English and Persian."""

import pytest

from chat.models import Conversation

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize(("lang", "seen"), [("en", "Seen"), ("fa", "دیده شد")])
def test_the_visitor_sees_seen_and_the_operator_learns_the_reply_was_read(
    asgi_server, host_site, widget_inbox, operator_socket, visitor, lang, seen
):
    widget_inbox.language = lang
    widget_inbox.save()
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang=lang))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("My order has not arrived")
    conversation = agent.take_conversation()
    question = agent.expect(lambda f: f["type"] == "message.new" and f["message"]["sender"] == "visitor")["message"]
    own = page.q(".sd-msg-visitor").first
    assert seen not in own.locator(".sd-state").text_content()

    agent.send({"type": "message.read", "conversation_id": conversation["id"], "message_id": question["id"]})
    own.locator(".sd-state", has_text=seen).wait_for()
    assert own.get_attribute("data-state") == "seen"

    # The reply arrives while the widget is open and the page visible: the widget says it was read.
    agent.send(
        {"type": "message.send", "conversation_id": conversation["id"], "client_id": "o-1", "body": "On its way"}
    )
    reply = agent.expect(lambda f: f["type"] == "message.ack")["message"]
    read = agent.expect(lambda f: f["type"] == "message.read")
    assert (read["reader"], read["message_id"]) == ("visitor", reply["id"])
    assert Conversation.objects.get(pk=conversation["id"]).visitor_read_message_id == reply["id"]
    page.shot(f"widget-seen-{lang}.png")

    # After a reload the state comes back with the conversation.
    page.reload()
    page.open()
    page.q(".sd-msg-visitor .sd-state", has_text=seen).wait_for()
    assert page.errors == []


def test_a_closed_widget_does_not_say_the_reply_was_read(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang="en"))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hello")
    conversation = agent.take_conversation()
    page.q(".sd-min").click()
    page.panel.wait_for(state="hidden")
    agent.send({"type": "message.send", "conversation_id": conversation["id"], "client_id": "o-2", "body": "Hi!"})
    reply = agent.expect(lambda f: f["type"] == "message.ack")["message"]
    page.q(".sd-badge", has_text="1").wait_for()
    with pytest.raises(AssertionError):
        agent.expect(lambda f: f["type"] == "message.read", timeout=1.5)
    page.launcher.click()
    read = agent.expect(lambda f: f["type"] == "message.read")
    assert read["message_id"] == reply["id"]
