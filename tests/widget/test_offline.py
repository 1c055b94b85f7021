"""Outside business hours (or with nobody online) the widget says when the team is back and takes a message."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from chat.models import ChannelKind
from tests.factories import BusinessHoursIntervalFactory
from tests.widget.support import SENT
from tickets.business_hours import schedule_for
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_offline_form_says_when_the_team_is_back_and_creates_a_ticket(
    asgi_server, host_site, widget_inbox, operator, browser, visitor
):
    # Open only on the day after tomorrow (UTC), so it is closed now whatever the hour.
    weekday = (timezone.now().weekday() + 2) % 7
    BusinessHoursIntervalFactory(inbox=widget_inbox, weekday=weekday, opens_at=time(9), closes_at=time(17))
    opening = schedule_for(widget_inbox).next_opening(timezone.now()).astimezone(ZoneInfo("Asia/Tehran"))
    # The visitor is in Tehran: the time is shown in their zone and locale.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Asia/Tehran", locale="en-GB")
    try:
        page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key), context)
        page.open()
        back = page.q(".sd-back").text_content()
        assert opening.strftime("%A") in back and opening.strftime("%H:%M") in back, back
        assert page.q(".sd-subtitle").text_content() == "We're away right now"
        assert page.q(".sd-compose-input").is_hidden()

        # Nothing filled in: each required field says so beside itself, and nothing is sent.
        page.q(".sd-form button[type=submit]").click()
        assert page.q(".sd-form input[name=email] ~ .sd-err").text_content() == "Please fill this in."
        assert page.q(".sd-form textarea[name=body] ~ .sd-err").text_content() == "Please fill this in."
        assert page.q(".sd-form input[name=name] ~ .sd-err").is_hidden()
        assert page.q(".sd-form input[name=email]").get_attribute("aria-invalid") == "true"
        page.q(".sd-form input[name=email]").fill("sara-at-example")
        page.q(".sd-form button[type=submit]").click()
        assert "valid e-mail" in page.q(".sd-form input[name=email] ~ .sd-err").text_content()
        assert Ticket.objects.count() == 0

        page.q(".sd-form input[name=name]").fill("Sara")
        page.q(".sd-form input[name=email]").fill("sara@example.org")
        page.q(".sd-form textarea[name=body]").fill("Is the trail tent back in stock in green?")
        page.shot("widget-offline.png")
        page.q(".sd-form button[type=submit]").click()
        page.q(".sd-thanks", has_text="We got your message").wait_for()
    finally:
        context.close()

    ticket = Ticket.objects.get()
    assert ticket.channel_kind == ChannelKind.OFFLINE_FORM
    assert (ticket.contact.name, ticket.contact.email) == ("Sara", "sara@example.org")
    assert ticket.conversations.get().messages.get().body == "Is the trail tent back in stock in green?"


def test_the_widget_follows_the_operators_presence_without_a_reload_keeping_what_was_typed(
    asgi_server, host_site, widget_inbox, operator, operator_socket, visitor
):
    operator.status = "offline"
    operator.save()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    page.evaluate("window.__sameDocument = true")
    page.open()
    # Nobody online: the offline form. The visitor starts writing there.
    assert page.q(".sd-subtitle").text_content() == "We're away right now"
    page.q(".sd-form:visible input[name=name]").fill("Sara")
    page.q(".sd-form:visible input[name=email]").fill("sara@example.org")
    page.q(".sd-form:visible textarea[name=body]").fill("Is the trail tent back in stock in green?")

    # Reza opens the inbox: the live chat, with what Sara typed kept (the pre-chat form first, as this inbox asks).
    agent = operator_socket()
    page.q(".sd-form:visible button[type=submit]", has_text="Start chat").wait_for()
    assert page.q(".sd-subtitle").text_content() == "We typically reply in a few minutes"
    assert page.q(".sd-form:visible input[name=email]").input_value() == "sara@example.org"
    assert page.q(".sd-form:visible textarea[name=body]").count() == 0
    page.mouse.move(5, 5)
    page.shot("widget-came-online.png")

    # He steps away before she starts: the offline form again, everything still filled in.
    agent.send({"type": "presence.set", "status": "away"})
    page.q(".sd-form:visible textarea[name=body]").wait_for()
    assert page.q(".sd-subtitle").text_content() == "We're away right now"
    assert page.q(".sd-form:visible input[name=name]").input_value() == "Sara"
    assert page.q(".sd-form:visible textarea[name=body]").input_value() == "Is the trail tent back in stock in green?"
    page.shot("widget-went-away.png")

    # Back again: she starts the chat and her message is in the composer, ready to send.
    agent.send({"type": "presence.set", "status": "online"})
    page.q(".sd-form:visible button[type=submit]", has_text="Start chat").click()
    composer = page.q(".sd-compose-input")
    composer.wait_for()
    assert composer.input_value() == "Is the trail tent back in stock in green?"
    page.shot("widget-live-composer.png")
    composer.press("Enter")
    page.q(".sd-state", has_text=SENT).wait_for()
    agent.take_conversation()

    # With a conversation open, his going away changes nothing in it.
    agent.send({"type": "presence.set", "status": "away"})
    agent.expect(lambda f: f["type"] == "operator.updated" and f["operator"]["status"] == "away")
    page.wait_for_timeout(500)
    assert composer.is_visible()
    assert page.q(".sd-form:visible").count() == 0
    assert page.bubbles("visitor").all_text_contents() == ["Is the trail tent back in stock in green?"]
    assert page.evaluate("window.__sameDocument") is True


def test_the_persian_offline_form_says_when_the_team_is_back_in_persian_digits(
    asgi_server, host_site, widget_inbox, operator, browser, visitor
):
    widget_inbox.language = "fa"
    widget_inbox.save()
    weekday = (timezone.now().weekday() + 2) % 7
    BusinessHoursIntervalFactory(inbox=widget_inbox, weekday=weekday, opens_at=time(9), closes_at=time(17))
    opening = schedule_for(widget_inbox).next_opening(timezone.now()).astimezone(ZoneInfo("Asia/Tehran"))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Asia/Tehran")
    try:
        page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key), context)
        page.open()
        back = page.q(".sd-back").text_content()
    finally:
        context.close()

    # As the inbox writes times (docs/widget.md, "Digits and dates"): Persian digits, no Latin ones.
    assert opening.strftime("%H:%M").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in back, back
    assert not any(char.isascii() and char.isdigit() for char in back), back


def test_a_form_refused_for_too_many_messages_says_so_in_the_widgets_language(
    asgi_server_factory, host_site, widget_inbox, browser, visitor
):
    # One offline message per hour on this site: the second visitor's is refused (429).
    server = asgi_server_factory(OFFLINE_MESSAGES_PER_SITE_PER_HOUR="1")
    url = host_site.widget_page(desk_url=server.url, site_key=widget_inbox.site_key)
    for n, expect in ((1, ".sd-thanks"), (2, ".sd-form .sd-err[role=alert]")):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        try:
            page = visitor(url, context)
            page.open()
            page.q(".sd-form input[name=email]").fill(f"visitor{n}@example.org")
            page.q(".sd-form textarea[name=body]").fill("Do you ship to Tabriz?")
            page.q(".sd-form button[type=submit]").click()
            page.q(expect).wait_for()
            if n == 2:
                assert page.q(expect).text_content() == (
                    "Too many requests from your network right now. Please try again in a few minutes."
                )
                assert page.q(".sd-form textarea[name=body]").input_value() == "Do you ship to Tabriz?"
        finally:
            context.close()
    assert Ticket.objects.count() == 1


def test_a_failed_send_keeps_what_was_typed_and_the_thanks_say_by_when(
    asgi_server, host_site, widget_inbox, operator, browser, visitor
):
    operator.status = "offline"
    operator.save()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="Asia/Tehran", locale="en-GB")
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    try:
        context.route("**/api/widget/v1/offline-messages", flaky)
        page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key), context)
        page.open()
        page.q(".sd-form input[name=name]").fill("Sara")
        page.q(".sd-form input[name=email]").fill("sara@example.org")
        page.q(".sd-form textarea[name=body]").fill("Is the trail tent back in stock in green?")
        page.q(".sd-form button[type=submit]").click()
        # The network failed: said beside the form, and nothing typed is lost.
        page.q(".sd-form .sd-err[role=alert]").wait_for()
        assert page.q(".sd-form textarea[name=body]").input_value() == "Is the trail tent back in stock in green?"
        assert page.q(".sd-form input[name=email]").input_value() == "sara@example.org"
        assert Ticket.objects.count() == 0
        page.q(".sd-form button[type=submit]").click()
        thanks = page.q(".sd-thanks", has_text="will reply by e-mail by")
        thanks.wait_for()
        due = Ticket.objects.get().first_response_due_at.astimezone(ZoneInfo("Asia/Tehran"))
        assert due.strftime("%H:%M") in thanks.text_content(), thanks.text_content()
        page.shot("widget-offline-thanks-by.png")
    finally:
        context.close()
