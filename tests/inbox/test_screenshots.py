"""Screenshots of a busy inbox at desktop width, in English and Persian (var/screenshots/), to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message
from chat.services.visitors import visitor_token_make
from tests.browser import expect
from tests.factories import CannedReplyFactory, ContactFactory, ConversationFactory, MessageFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _conversation(inbox, name, *, waited, email="", assignee=None, locale="en-GB", page="", **ticket):
    now = timezone.now()
    requested = now - timedelta(seconds=waited)
    contact = ContactFactory(
        inbox=inbox, name=name, email=email, locale=locale, last_page_url=page, first_seen_at=requested
    )
    ticket = TicketFactory(
        inbox=inbox,
        contact=contact,
        created_at=requested,
        first_response_due_at=requested + timedelta(seconds=120),
        **ticket,
    )
    status = "active" if assignee else "queued"
    return ConversationFactory(
        inbox=inbox,
        contact=contact,
        ticket=ticket,
        requested_at=requested,
        status=status,
        assignee=assignee,
        assigned_at=requested + timedelta(seconds=20) if assignee else None,
    )


def _say(conversation, sender, body, seconds_ago, author=None, private=False):
    return MessageFactory(
        conversation=conversation,
        sender=sender,
        body=body,
        private=private,
        author=author,
        author_name=author.operator.display_name if author else conversation.contact.name,
        created_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def busy_inbox(desk):
    inbox, ana, ben = desk.inbox, desk.ana.user, desk.ben.user
    CannedReplyFactory(team=desk.team, shortcut="size", title="Size exchange", body="We exchange sizes for free.")
    earlier = _conversation(inbox, "Maria Lopez", waited=40 * 86400, email="maria.lopez@example.org")
    earlier.status, earlier.end_reason, earlier.ended_at = "ended", "resolved", earlier.requested_at
    earlier.save()
    earlier.ticket.status, earlier.ticket.resolved_at = "resolved", earlier.requested_at
    earlier.ticket.save()
    maria = ConversationFactory(
        inbox=inbox,
        contact=earlier.contact,
        status="active",
        assignee=ana,
        requested_at=timezone.now() - timedelta(minutes=6),
        assigned_at=timezone.now() - timedelta(minutes=5),
        first_response_at=timezone.now() - timedelta(minutes=5),
        ticket=TicketFactory(inbox=inbox, contact=earlier.contact, priority="high"),
    )
    contact = maria.contact
    contact.locale, contact.last_page_url = "es-ES", "https://shop.acme.test/boots/alpine-gtx?size=41"
    contact.notes = "Ordered twice this year. Prefers answers by e-mail."
    contact.save()
    _say(maria, "visitor", "Hi! My Alpine GTX boots arrived in size 41 but I ordered 42.", 340)
    _say(maria, "operator", "Sorry about that, Maria! Let me check your order.", 300, author=ana)
    _say(
        maria,
        "operator",
        "Order #48213, shipped from the Leeds warehouse. Size 42 in stock.",
        280,
        author=ana,
        private=True,
    )
    _say(
        maria,
        "operator",
        "Good news: size 42 is in stock. I can send it today and you return the 41s with the prepaid label in the box.",
        240,
        author=ana,
    )
    _say(maria, "visitor", "Perfect, thank you. Do I need to print anything?", 30)
    tom = _conversation(inbox, "Tom Baker", waited=420, assignee=ana, email="tom@example.net")
    tom.first_response_at = timezone.now() - timedelta(seconds=380)
    tom.save()
    _say(tom, "visitor", "Can I change the delivery address for order 48190?", 400)
    _say(tom, "operator", "Of course — what is the new address?", 380, author=ana)
    _say(tom, "visitor", "12 Harbour Street, Bristol BS1 4RN", 12)
    _conversation(inbox, "Lena Fischer", waited=105, locale="de-DE")
    _say(inbox.conversations.get(contact__name="Lena Fischer"), "visitor", "Is the Trail 2P tent waterproof?", 105)
    _conversation(inbox, "", waited=20)
    _say(inbox.conversations.get(contact__name=""), "visitor", "hello, anyone there?", 20)
    _conversation(inbox, "Omar Haddad", waited=150)
    _say(inbox.conversations.get(contact__name="Omar Haddad"), "visitor", "Where is my parcel? It's been 9 days", 150)
    ivy = _conversation(inbox, "Ivy Chen", waited=900, assignee=ben)
    ivy.first_response_at = timezone.now() - timedelta(seconds=860)
    ivy.save()
    _say(ivy, "visitor", "Do you ship to Canada?", 880)
    _say(ivy, "operator", "We do! Shipping takes 5–7 days.", 860, author=ben)
    return maria, tom


def test_screenshots_of_a_busy_inbox(desk, asgi_server, operator_page, visitors, screenshot_dir):
    maria, tom = busy_inbox(desk)
    tom_again = visitors(asgi_server, desk.inbox, token=visitor_token_make(contact=tom.contact))
    for language in ("en", "fa"):
        page = operator_page(desk.ana.user, language=language)
        page.locator("#list-mine").get_by_text("Maria Lopez").click()
        expect(page.locator("#thread .msg")).to_have_count(Message.objects.filter(conversation=maria).count())
        expect(page.locator("#contact-pane .contact-name")).to_have_text("Maria Lopez")
        expect(page.locator("#list-queue li")).to_have_count(3)
        tom_again.say("Will it still arrive this week?")
        # One unread message, in the page's digits (docs/widget.md, "Digits and dates").
        expect(page.locator("#list-mine .conv-badge:visible")).to_have_text(
            {"en": "1", "fa": "۱"}[language], timeout=15_000
        )
        page.wait_for_timeout(300)
        page.screenshot(path=screenshot_dir / f"inbox-{language}.png")
        if language == "en":
            page.locator("#act-transfer").click()
            expect(page.locator("#transfer-dialog")).to_contain_text("Ben Okafor")
            page.screenshot(path=screenshot_dir / "inbox-transfer.png")
            page.keyboard.press("Escape")
            page.locator("#composer-input").focus()
            page.keyboard.press("/")
            expect(page.locator("#canned-list")).to_contain_text("Size exchange")
            page.screenshot(path=screenshot_dir / "inbox-canned.png")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    page.screenshot(path=screenshot_dir / "inbox-shortcuts-fa.png")


def test_screenshot_of_the_sign_in_page(desk, asgi_server, browser_context, screenshot_dir):
    page = browser_context.new_page()
    page.goto(f"{asgi_server.url}/inbox/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.screenshot(path=screenshot_dir / "login.png")
