"""End to end: the operator resolves from the inbox, the survey appears in the visitor's widget, the visitor
answers there, and the answer shows on the ticket (the manager's admin page)."""

import time

import pytest
from django.conf import settings
from django.test import Client

from chat.models import Conversation
from surveys.models import SurveyResponse
from tests.browser import expect
from tests.factories import ConversationFactory, InboxFactory, OperatorFactory, SurveyTemplateFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def wait_for(query, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := query()) is not None:
            return found
        time.sleep(0.1)
    raise AssertionError("not stored in time")


def signed_in_page(browser, server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server.url}])
    return context, context.new_page()


def test_resolved_in_the_inbox_answered_in_the_widget_shown_on_the_ticket(
    asgi_server, celery_worker_factory, host_site, browser, screenshot_dir
):
    inbox_row = InboxFactory(name="Acme Outdoor", allowed_origins=[host_site.origin], prechat_email="optional")
    SurveyTemplateFactory(inbox=inbox_row, ask_ces=True, ces_scale="1-5")
    ana = OperatorFactory(
        display_name="Ana Silva", user=UserFactory(username="ana"), inboxes=[inbox_row], status="away"
    )
    # Someone is online (so the widget offers live chat) but has no free slot: the chat waits for Ana to claim it.
    dana = OperatorFactory(display_name="Dana", user=UserFactory(username="dana"), inboxes=[inbox_row], max_chats=1)
    ConversationFactory(inbox=inbox_row, status="active", assignee=dana.user)
    manager = UserFactory(username="manager", is_superuser=True)
    # The worker makes the invitation and reaches the visitor's socket through this server.
    celery_worker_factory(SITE_URL=asgi_server.url)

    operator_context, inbox = signed_in_page(browser, asgi_server, ana.user)
    visitor_context = browser.new_context(viewport={"width": 1280, "height": 800})
    visitor_context.set_default_timeout(15_000)
    manager_context, admin = signed_in_page(browser, asgi_server, manager)
    try:
        inbox.goto(f"{asgi_server.url}/inbox/")
        inbox.wait_for_selector("body[data-connection=open]", state="attached")
        site = visitor_context.new_page()
        site.goto(host_site.widget_page(desk_url=asgi_server.url, site_key=inbox_row.site_key))

        def widget(selector):
            return site.locator(f"supportdesk-widget {selector}")

        widget(".sd-launcher").click()
        widget(".sd-form input[name=name]").fill("Maria Lopez")
        widget(".sd-form input[name=email]").fill("maria@example.org")
        widget(".sd-form button[type=submit]").click()
        widget(".sd-compose-input").fill("My boots arrived in the wrong size")
        widget(".sd-compose-input").press("Enter")

        inbox.locator("#list-queue").get_by_text("Maria Lopez").click()
        inbox.locator("#act-claim").click()
        inbox.locator("#composer-input").fill("Sorry! A new pair leaves today.")
        inbox.locator("#composer-input").press("Enter")
        expect(widget(".sd-msg-operator .sd-body").last).to_have_text("Sorry! A new pair leaves today.")
        inbox.locator("#act-resolve").click()
        inbox.locator("#confirm-dialog").get_by_role("button", name="Resolve").click()

        # The survey appears in the widget, with the inbox's questions.
        widget(".sd-survey-form").wait_for(timeout=40_000)
        assert widget(".sd-q legend").all_text_contents() == [
            "How satisfied are you with the help you got?",
            "How easy was it to get your issue handled?",
        ]
        widget(".sd-q[data-key=csat] .sd-star").nth(4).click()
        widget(".sd-q[data-key=ces] .sd-opt-btn").nth(3).click()
        widget(".sd-survey-form textarea").fill("Quick and kind")
        widget(".sd-survey-form button[type=submit]").click()
        widget(".sd-survey .sd-thanks").filter(has_text="Thank you for your feedback!").wait_for()

        conversation = Conversation.objects.get(contact__name="Maria Lopez")
        response = wait_for(lambda: SurveyResponse.objects.filter(invitation__conversation=conversation).first())
        assert (response.csat, response.ces, response.channel) == (5, 4, "widget")
        assert response.invitation.operator_id == ana.user_id

        # The manager sees the answer on the ticket.
        admin.goto(f"{asgi_server.url}/admin/tickets/ticket/{conversation.ticket_id}/change/")
        surveys = admin.locator(
            "fieldset:has-text('How satisfied are you'), div.inline-group:has-text('How satisfied')"
        )
        expect(surveys.first).to_contain_text("How satisfied are you with the help you got?: 5 / 5")
        expect(surveys.first).to_contain_text("How easy was it to get your issue handled?: 4 / 5")
        expect(surveys.first).to_contain_text("Quick and kind")
        surveys.first.scroll_into_view_if_needed()
        admin.screenshot(path=str(screenshot_dir / "survey-on-ticket-admin.png"))

    finally:
        for context in (operator_context, visitor_context, manager_context):
            context.close()
