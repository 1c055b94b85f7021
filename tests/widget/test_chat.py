"""A visitor on a customer's website (another origin) chats with an operator through the widget."""

import pytest

from chat.models import Contact, Message
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = 'Sara <img src=x onerror="window.__pwned=1">'
PAYLOAD = "Do you ship to Tehran? <script>window.__pwned=1</script><b>bold</b>"


def test_visitor_fills_prechat_writes_and_sees_the_operators_reply_and_typing(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))

    page.open()
    assert page.q(".sd-greeting").text_content() == "Hi! Ask us anything about tents and boots."
    page.fill_prechat(NAME, "sara@example.org")
    page.write(PAYLOAD)

    # Own message: shown at once, then marked as stored once the server acknowledges it.
    own = page.q(".sd-msg-visitor").last
    own.locator(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()
    assert conversation["contact"]["name"] == NAME
    received = agent.expect(lambda f: f["type"] == "message.new" and f["message"]["sender"] == "visitor")
    assert received["message"]["body"] == PAYLOAD

    # The visitor's typing reaches the operator.
    page.q(".sd-compose-input").press_sequentially("And")
    typing = agent.expect(lambda f: f["type"] == "typing" and f.get("conversation_id") == conversation["id"])
    assert typing["is_typing"] is True

    agent.send({"type": "typing", "conversation_id": conversation["id"], "is_typing": True})
    page.q(".sd-typing", has_text="Reza is typing").wait_for()
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "Yes, in 3–5 days. <i>Free</i> over €80.",
        }
    )
    reply = page.q(".sd-msg-operator").last
    reply.locator(".sd-body", has_text="Yes, in 3–5 days.").wait_for()
    assert reply.locator(".sd-author").text_content() == "Reza"
    page.q(".sd-typing").wait_for(state="hidden")
    assert page.q(".sd-subtitle").text_content() == "You're chatting with Reza"
    page.shot("widget-desktop.png")

    # Markup from the visitor and the operator is text: nothing parsed, nothing run.
    assert page.bubbles("visitor").first.text_content() == PAYLOAD
    assert page.q(".sd-log script, .sd-log b, .sd-log i, .sd-log img").count() == 0
    assert page.evaluate("window.__pwned") is None
    contact = Contact.objects.get(inbox=widget_inbox)
    assert (contact.name, contact.email) == (NAME, "sara@example.org")


def test_reload_and_another_page_of_the_site_continue_the_same_thread(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    agent = operator_socket()
    first = host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key)
    other = host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, path="/boots")
    page = visitor(first)
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Hello from the home page")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()
    agent.send({"type": "message.send", "conversation_id": conversation["id"], "client_id": "op-1", "body": "Hi Sara"})
    page.bubbles("operator").filter(has_text="Hi Sara").wait_for()

    page.reload()
    # The panel stays open across pages, and the thread is back in order, each message once.
    page.bubbles("operator").filter(has_text="Hi Sara").wait_for()
    assert page.bubbles().all_text_contents() == ["Hello from the home page", "Hi Sara"]

    page.goto(other)
    page.bubbles("operator").filter(has_text="Hi Sara").wait_for()
    page.write("Now I'm looking at boots")
    page.q(".sd-msg-visitor .sd-state", has_text=SENT).nth(1).wait_for()
    assert page.bubbles().all_text_contents() == ["Hello from the home page", "Hi Sara", "Now I'm looking at boots"]
    assert Contact.objects.filter(inbox=widget_inbox).count() == 1
    assert Message.objects.filter(conversation_id=conversation["id"]).count() == 3


def test_a_message_written_while_the_server_restarts_arrives_once(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("Before the restart")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation_id = agent.take_conversation()["id"]
    agent.close()

    asgi_server.stop()
    page.q(".sd-conn", has_text="Reconnecting").wait_for()
    page.write("Written while the server was down")
    pending = page.q(".sd-msg-visitor").last
    pending.locator(".sd-state", has_text="Waiting for connection").wait_for()
    asgi_server.start()

    pending.locator(".sd-state", has_text=SENT).wait_for(timeout=40_000)
    page.q(".sd-conn").wait_for(state="hidden")
    bodies = list(Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True))
    assert bodies == ["Before the restart", "Written while the server was down"]
    assert page.bubbles().all_text_contents() == bodies


def test_a_message_whose_acknowledgement_was_lost_is_resent_once_with_the_same_client_id(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    """The server stores the message, then dies before the widget hears back: the retry is not a duplicate."""
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    # Drop the acknowledgement of the next message, as if the connection broke just after the commit.
    page.add_init_script(
        """(() => {
          const listen = WebSocket.prototype.addEventListener;
          Object.defineProperty(WebSocket.prototype, 'onmessage', {
            configurable: true,
            set(handler) {
              listen.call(this, 'message', (ev) => {
                if (window.__dropAck && ev.data.includes('"message.ack"')) {
                  window.__dropAck = false;
                  window.__dropped = true;
                  this.close();
                  return;
                }
                handler(ev);
              });
            },
          });
        })()"""
    )
    page.reload()
    page.open()
    page.evaluate("window.__dropAck = true")
    page.write("Stored once")
    page.q(".sd-msg-visitor .sd-state", has_text=SENT).wait_for(timeout=20_000)
    assert page.evaluate("window.__dropped") is True
    assert Message.objects.filter(body="Stored once").count() == 1
    assert page.bubbles().all_text_contents() == ["Stored once"]


def test_a_visitor_who_writes_at_once_is_kept_with_the_widgets_language(
    asgi_server, host_site, widget_inbox, operator_socket, visitor
):
    """Opening the widget stores nothing; the first message makes the contact, in the language the widget spoke."""
    widget_inbox.prechat_name = widget_inbox.prechat_email = "off"
    widget_inbox.save()
    operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.open()
    page.q(".sd-compose-input").wait_for()
    assert not Contact.objects.filter(inbox=widget_inbox).exists()
    page.write("Do you ship to Tehran?")
    page.q(".sd-msg-visitor .sd-state", has_text=SENT).wait_for()
    assert Contact.objects.get(inbox=widget_inbox).locale == "en"
