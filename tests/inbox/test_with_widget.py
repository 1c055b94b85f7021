"""End to end with the real widget: a visitor on a customer's website (another origin), an operator on /inbox/."""

import pytest

from chat.models import Conversation, Message
from tests.browser import expect
from tests.factories import ContactFactory, ConversationFactory, OperatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_visitor_in_the_widget_and_operator_in_the_inbox(
    desk, asgi_server, celery_worker_factory, host_site, browser, operator_page
):
    desk.inbox.allowed_origins = [host_site.origin]
    desk.inbox.save()
    # Someone is online (so the widget offers live chat) but has no free slot: the chat waits in the queue.
    busy = OperatorFactory(display_name="Dana", user=UserFactory(username="dana"), inboxes=[desk.inbox], max_chats=1)
    ConversationFactory(inbox=desk.inbox, contact=ContactFactory(inbox=desk.inbox), status="active", assignee=busy.user)
    celery_worker_factory(SITE_URL=asgi_server.url)
    inbox = operator_page(desk.ana.user)

    visitor_context = browser.new_context(viewport={"width": 1280, "height": 800})
    site = visitor_context.new_page()
    site.goto(host_site.widget_page(desk_url=asgi_server.url, site_key=desk.inbox.site_key))

    def widget(selector):
        return site.locator(f"supportdesk-widget {selector}")

    try:
        widget(".sd-launcher").click()
        widget(".sd-form input[name=name]").fill("Maria Lopez")
        widget(".sd-form input[name=email]").fill("maria@example.org")
        widget(".sd-form button[type=submit]").click()
        widget(".sd-compose-input").fill("Hi, my boots arrived in the wrong size")
        widget(".sd-compose-input").press("Enter")

        expect(inbox.locator("#list-queue")).to_contain_text("Maria Lopez")
        assert inbox.evaluate("window.__notifications")[0]["title"] == "New chat waiting"
        inbox.locator("#list-queue").get_by_text("Maria Lopez").click()
        expect(inbox.locator("#contact-pane")).to_contain_text(host_site.origin)
        inbox.locator("#act-claim").click()
        composer = inbox.locator("#composer-input")
        expect(composer).to_be_focused()
        composer.fill("Sorry about that! Which size do you need?")
        composer.press("Enter")
        expect(widget(".sd-msg-operator .sd-body").last).to_have_text("Sorry about that! Which size do you need?")

        inbox.locator("#private-toggle").check()
        composer.fill("VIP: offer free shipping")
        composer.press("Enter")
        expect(inbox.locator("#thread .msg-private")).to_contain_text("VIP: offer free shipping")
        inbox.locator("#private-toggle").uncheck()
        composer.fill("A new pair leaves today.")
        composer.press("Enter")
        expect(widget(".sd-msg-operator .sd-body").last).to_have_text("A new pair leaves today.")
        expect(widget(".sd-log")).not_to_contain_text("VIP")
        assert Message.objects.get(body="VIP: offer free shipping").private

        widget(".sd-compose-input").fill("Thank you!")
        widget(".sd-compose-input").press("Enter")
        expect(inbox.locator("#thread")).to_contain_text("Thank you!")

        inbox.locator("#act-resolve").click()
        inbox.locator("#confirm-dialog").get_by_role("button", name="Resolve").click()
        widget(".sd-ended").wait_for()
        widget(".sd-survey-form").wait_for(timeout=40_000)
        expect(inbox.locator("#readonly-note")).to_be_visible()
        assert Conversation.objects.get(contact__name="Maria Lopez").end_reason == "resolved"
    finally:
        visitor_context.close()
