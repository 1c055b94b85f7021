"""The agent inbox in a real browser: operators on /inbox/, visitors on the widget socket of another origin."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from chat.models import CannedReply, Contact, Conversation, Message
from chat.services.visitors import visitor_token_make
from surveys.services import survey_invitation_create
from tests.browser import expect
from tests.factories import CannedReplyFactory, ConversationFactory, TicketFactory
from tests.requests_seen import RequestsSeen
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_from_queue(page, name: str) -> None:
    page.locator("#list-queue").get_by_text(name).click()
    expect(page.locator("#thread-title")).to_have_text(name)


def claim(page) -> None:
    page.locator("#act-claim").click()
    expect(page.locator("#act-claim")).to_be_hidden()


def send(page, text: str) -> None:
    composer = page.locator("#composer-input")
    composer.fill(text)
    composer.press("Enter")
    expect(page.locator("#thread .msg:not(.msg-pending)").filter(has_text=text)).to_have_count(1)


def test_a_new_chat_rings_and_notifies_and_the_operator_claims_and_answers(desk, asgi_server, operator_page, visitors):
    seen = RequestsSeen()
    page = operator_page(desk.ana.user, before_load=seen.watch)
    page.locator("body").click()  # the first gesture, after which browsers let a page play sound
    visitor = visitors(
        asgi_server, desk.inbox, name="Maria Lopez", email="maria@example.org", page_url="https://shop.test/boots"
    )
    visitor.say("Hi, my boots arrived in the wrong size")

    expect(page.locator("#list-queue")).to_contain_text("Maria Lopez")
    expect(page.locator("#queue-count")).to_have_text("1")
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    notified = page.evaluate("window.__notifications")
    assert notified == [{"title": "New chat waiting", "body": "Maria Lopez in Acme shop"}]
    assert page.evaluate("window.__oscillators") > 0

    open_from_queue(page, "Maria Lopez")
    expect(page.locator("#thread")).to_contain_text("my boots arrived in the wrong size")
    expect(page.locator("#contact-pane")).to_contain_text("maria@example.org")
    expect(page.locator("#contact-pane")).to_contain_text("https://shop.test/boots")
    claim(page)
    expect(page.locator("#list-mine")).to_contain_text("Maria Lopez")
    expect(page.locator("#list-queue li")).to_have_count(0)
    expect(page.locator("#my-load")).to_have_text("1/3 chats")
    expect(page.locator("#composer-input")).to_be_focused()

    send(page, "Sorry about that! Which size do you need?")
    reply = visitor.wait_for("message.new", lambda f: f["message"]["sender"] == "operator")["message"]
    assert (reply["body"], reply["author_name"]) == ("Sorry about that! Which size do you need?", "Ana Silva")

    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bprivate\b"))
    send(page, "VIP customer: offer free shipping")
    expect(page.locator("#thread .msg-private")).to_contain_text("VIP customer: offer free shipping")
    page.locator("#private-toggle").uncheck()
    send(page, "We will send a new pair today.")

    visitor.wait_for("message.new", lambda f: f["message"]["body"] == "We will send a new pair today.")
    assert "VIP customer: offer free shipping" not in visitor.bodies()
    visitor.send({"type": "typing", "is_typing": True})
    expect(page.locator("#typing")).to_have_text("Maria Lopez is typing…")
    visitor.say("Great, size 42 please")
    expect(page.locator("#thread")).to_contain_text("size 42 please")
    expect(page.locator("#typing")).to_have_text("")
    # Everything the inbox loaded, its socket included, came from the desk (the visitor's page URL is only a link).
    assert seen.outside(asgi_server.url) == [] and f"{asgi_server.ws_url}/ws/agent/" in seen.urls


def test_sound_and_notifications_can_be_switched_off_and_stay_off(desk, asgi_server, operator_page, visitors):
    page = operator_page(desk.ana.user)
    page.locator("#pref-sound").uncheck()
    page.locator("#pref-notify").uncheck()
    page.reload()
    page.wait_for_selector("body[data-connection=open]", state="attached")
    expect(page.locator("#pref-sound")).not_to_be_checked()
    expect(page.locator("#pref-notify")).not_to_be_checked()
    visitors(asgi_server, desk.inbox, name="Quiet Visitor").say("Hello")
    expect(page.locator("#list-queue")).to_contain_text("Quiet Visitor")
    assert page.evaluate("window.__notifications") == []
    assert page.evaluate("window.__oscillators") == 0


def test_blocked_notifications_are_a_quiet_mark_by_the_switch_not_an_error_after_a_key_press(
    desk, asgi_server, operator_page, visitors, screenshot_dir
):
    visitors(asgi_server, desk.inbox, name="Kim Lee").say("Hello, anyone there?")
    conversation = Conversation.objects.get(contact__name="Kim Lee")
    page = operator_page(desk.ana.user, notifications="denied")
    page.goto(f"{asgi_server.url}/inbox/#conversation-{conversation.pk}")
    expect(page.locator("#thread-title")).to_have_text("Kim Lee")
    composer = page.locator("#composer-input")
    composer.focus()

    composer.press("H")  # the page's first user gesture: when it may ask for the permission
    composer.press_sequentially("ello")
    page.locator("#thread").click()

    expect(composer).to_have_value("Hello")
    expect(page.locator("#toasts .toast")).to_have_count(0)
    blocked = page.locator("#notify-blocked")
    expect(blocked).to_be_visible()
    expect(blocked).to_have_text("Blocked")
    expect(blocked).to_have_attribute("title", "Desktop notifications are blocked in this browser's site settings.")
    # Switched off, there is nothing to warn about; switched on again, the mark says why nothing will show.
    page.locator("#pref-notify").uncheck()
    expect(blocked).to_be_hidden()
    page.locator("#pref-notify").check()
    expect(blocked).to_be_visible()
    expect(page.locator("#toasts .toast")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "inbox-notifications-blocked.png")


def test_transfer_moves_the_chat_to_the_other_operator_live_and_resolve_ends_it_with_a_survey(
    desk, asgi_server, celery_worker_factory, operator_page, visitors
):
    # The worker makes the survey invitation and reaches the visitor's socket through this server.
    celery_worker_factory(SITE_URL=asgi_server.url)
    ana = operator_page(desk.ana.user)
    ben = operator_page(desk.ben.user)
    visitor = visitors(asgi_server, desk.inbox, name="Tom Baker")
    visitor.say("Can I change my delivery address?")
    open_from_queue(ana, "Tom Baker")
    claim(ana)
    expect(ben.locator("#list-all")).to_contain_text("Taken by Ana Silva")

    ana.locator("#act-transfer").click()
    dialog = ana.locator("#transfer-dialog")
    expect(dialog).to_contain_text("Ben Okafor")
    expect(dialog).to_contain_text("Away · 0/3 chats")
    dialog.get_by_role("radio", name=re.compile("Ben Okafor")).check()
    dialog.locator("#transfer-note").fill("Wants the parcel sent to his office")
    dialog.get_by_role("button", name="Transfer").click()

    expect(ben.locator("#list-mine")).to_contain_text("Tom Baker")
    assert {"title": "A chat was handed to you", "body": "Tom Baker"} in ben.evaluate("window.__notifications")
    expect(ana.locator("#list-mine li")).to_have_count(0)
    expect(ana.locator(".toast")).to_contain_text("Transferred")
    ben.locator("#list-mine").get_by_text("Tom Baker").click()
    expect(ben.locator("#thread .msg-private")).to_contain_text("Wants the parcel sent to his office")
    # The thread marks the transfer with a line of its own, for operators only.
    expect(ben.locator("#thread .msg-system")).to_contain_text("Ana Silva transferred this conversation to Ben Okafor.")
    expect(ben.locator("#thread-meta")).to_contain_text("Transfers: 1")
    # The list's timer says what it counts.
    expect(ben.locator("#list-mine .conv-timer")).to_have_text(re.compile(r"^(reply due in|last message) "))
    send(ben, "Done: the parcel goes to your office.")
    visitor.wait_for("message.new", lambda f: f["message"]["author_name"] == "Ben Okafor")

    ben.locator("#act-resolve").click()
    ben.locator("#confirm-dialog").get_by_role("button", name="Resolve").click()
    ended = visitor.wait_for("conversation.updated", lambda f: f["conversation"]["status"] == "ended")
    assert ended["conversation"]["end_reason"] == "resolved"
    expect(ben.locator("#list-mine li")).to_have_count(0)
    expect(ben.locator("#readonly-note")).to_be_visible()
    expect(ben.locator("#composer")).to_be_hidden()
    assert "Wants the parcel sent to his office" not in visitor.bodies()
    assert not any("transferred" in body for body in visitor.bodies())
    invite = visitor.wait_for("survey.invite", timeout=30)
    assert [question["key"] for question in invite["questions"]][:1] == ["csat"]
    conversation = Conversation.objects.get(contact_id=visitor.contact_id)
    assert (conversation.transfer_count, conversation.end_reason) == (1, "resolved")


def test_a_survey_answered_while_its_conversation_is_open_appears_in_the_contact_column(
    desk, asgi_server, operator_page, visitors
):
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Rosa Diaz")
    visitor.say("Do you ship to Lisbon?")
    open_from_queue(page, "Rosa Diaz")
    claim(page)
    send(page, "Yes, in three days.")
    page.locator("#act-resolve").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Resolve").click()
    expect(page.locator("#readonly-note")).to_be_visible()
    expect(page.locator("#contact-pane")).to_contain_text("Rosa Diaz")
    expect(page.locator("#contact-pane .survey-card")).to_have_count(0)
    page.locator("#notes-input").fill("Ships to Portugal often")  # being typed, not yet saved

    conversation_id = Conversation.objects.get(contact_id=visitor.contact_id).pk
    invitation = in_a_thread(survey_invitation_create, conversation_id=conversation_id)
    visitor.send({"type": "survey.answer", "invitation": invitation.token, "answers": {"csat": 5}, "comment": "Quick!"})
    visitor.wait_for("survey.answered")

    card = page.locator("#contact-pane .survey-card")
    expect(card).to_contain_text("CSAT 5/5")
    expect(card).to_contain_text("Quick!")
    expect(page.locator("#notes-input")).to_have_value("Ships to Portugal often")


def test_sla_alerts_from_the_sweep_tell_the_assignee_and_mark_the_thread(
    desk, asgi_server, operator_page, visitors, monkeypatch, settings, screenshot_dir
):
    from chat import realtime
    from tickets.services.sla import sla_sweep

    # This test process plays the Celery worker that runs the sweep: its frames reach the server's sockets.
    monkeypatch.setattr(realtime, "_server_process", False)
    settings.SITE_URL = asgi_server.url
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Lena Berg")
    visitor.say("My refund has not arrived")
    open_from_queue(page, "Lena Berg")
    claim(page)
    send(page, "Let me check with accounting.")
    expect(page.locator("#thread-sla")).to_have_text("answered")

    ticket = Conversation.objects.get(contact_id=visitor.contact_id).ticket
    due = timezone.now() - timedelta(minutes=5)
    Ticket.objects.filter(pk=ticket.pk).update(resolution_due_at=due, resolution_at_risk_at=due - timedelta(hours=1))
    assert in_a_thread(sla_sweep) == 1  # breached (and so at risk: one alert, not two)

    clock, when = page.evaluate(
        """iso => [new Intl.DateTimeFormat('en', {hour: '2-digit', minute: '2-digit'}).format(new Date(iso)),
                   new Intl.DateTimeFormat('en', {dateStyle: 'medium', timeStyle: 'short'}).format(new Date(iso))]""",
        due.isoformat(),
    )
    expect(page.locator("#toasts .toast.error")).to_have_text(
        f"Lena Berg: the ticket is overdue (it was due to be resolved at {clock})."
    )
    expect(page.locator("#thread-sla")).to_have_class(re.compile(r"\bsla-breached\b"))
    expect(page.locator("#thread-sla")).to_have_text(f"resolution overdue since {when}")  # the alert's due time
    row_timer = page.locator("#list-mine .conv-timer")
    expect(row_timer).to_have_class(re.compile(r"\bsla-breached\b"))
    expect(row_timer).to_have_attribute("title", f"resolution overdue since {when}")
    page.screenshot(path=screenshot_dir / "inbox-sla-alert.png")


def in_a_thread(service, **kwargs):
    """Runs a service that sends realtime frames: not in this thread, where Playwright's event loop runs."""

    def run():
        try:
            return service(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def hold_conversation_updates(page):
    """Ben's page does not hear of Ana's claim before he clicks: the two click at the same moment."""

    def handler(ws):
        server = ws.connect_to_server()
        server.on_message(lambda message: None if '"conversation.updated"' in str(message) else ws.send(message))
        ws.on_message(server.send)

    page.route_web_socket(re.compile(r"/ws/agent/$"), handler)


def test_a_second_claim_of_a_taken_chat_says_clearly_that_someone_else_has_it(
    desk, asgi_server, operator_page, visitors
):
    ana = operator_page(desk.ana.user)
    ben = operator_page(desk.ben.user, before_load=hold_conversation_updates)
    visitors(asgi_server, desk.inbox, name="Lena Fischer").say("Is the tent waterproof?")
    open_from_queue(ben, "Lena Fischer")
    open_from_queue(ana, "Lena Fischer")
    claim(ana)

    ben.locator("#act-claim").click()
    expect(ben.locator(".toast.error")).to_have_text("Someone else already took this conversation.")
    expect(ben.locator("#thread-meta")).to_contain_text("Taken by Ana Silva")
    expect(ben.locator("#act-claim")).to_be_hidden()
    assert Conversation.objects.get(contact__name="Lena Fischer").assignee_id == desk.ana.user_id


def test_an_operator_outside_the_inbox_sees_nothing_of_its_chats(desk, asgi_server, operator_page, visitors):
    ana = operator_page(desk.ana.user)
    carl = operator_page(desk.carl.user)
    visitors(asgi_server, desk.inbox, name="Private Person").say("Only Acme may read this")
    expect(ana.locator("#list-queue")).to_contain_text("Private Person")
    conversation = Conversation.objects.get(contact__name="Private Person")

    carl.reload()
    carl.wait_for_selector("body[data-connection=open]", state="attached")
    expect(carl.locator("#list-all li")).to_have_count(0)
    assert "Private Person" not in carl.content()
    assert carl.request.get(f"{asgi_server.url}/inbox/conversations/{conversation.pk}/").status == 404
    carl.goto(f"{asgi_server.url}/inbox/#conversation-{conversation.pk}")
    expect(carl.locator(".toast.error")).to_be_visible()
    expect(carl.locator("#thread-empty")).to_be_visible()
    assert "Only Acme may read this" not in carl.content()


def test_what_a_visitor_types_is_shown_as_text_never_run(desk, asgi_server, operator_page, visitors):
    name = '<img src=x onerror="window.__xss=1">'
    page_url = "https://shop.test/search?q=<script>window.__xss=2</script>"
    body = '<script>window.__xss=3</script><b>bold</b> & "quoted"'
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name=name, page_url=page_url)
    visitor.say(body)

    expect(page.locator("#list-queue")).to_contain_text(name)
    page.locator("#list-queue .conv-btn").first.click()
    expect(page.locator("#thread-title")).to_have_text(name)
    expect(page.locator("#thread .msg-body").first).to_have_text(body)
    expect(page.locator("#contact-pane .page-url")).to_have_text(page_url)
    expect(page.locator("#contact-pane .contact-name")).to_have_text(name)
    assert page.evaluate("window.__notifications")[0]["body"].startswith(name)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#thread b, .conv-list img, #contact-pane img, #contact-pane script").count() == 0


def test_a_dropped_connection_shows_a_banner_reconnects_and_catches_up_without_reload(
    desk, asgi_server, operator_page, visitors
):
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Nina Roth")
    first = visitor.say("First question")
    open_from_queue(page, "Nina Roth")
    claim(page)
    page.evaluate("window.__samePage = true")

    asgi_server.kill()
    expect(page.locator("#banner")).to_contain_text("Connection lost")
    asgi_server.start()
    visitor.connect(last_message_id=first["id"])
    visitor.say("Are you still there?")
    visitors(asgi_server, desk.inbox, name="Paul Weber").say("Hello? Anyone?")

    expect(page.locator("#thread")).to_contain_text("Are you still there?")
    expect(page.locator("#list-queue")).to_contain_text("Paul Weber")
    expect(page.locator("#banner")).to_be_hidden(timeout=30_000)
    assert page.evaluate("window.__samePage") is True
    bodies = [n["body"] for n in page.evaluate("window.__notifications")]
    assert bodies == ["Nina Roth in Acme shop", "Paul Weber in Acme shop"]
    send(page, "Yes, still here!")
    visitor.wait_for("message.new", lambda f: f["message"]["body"] == "Yes, still here!")


def test_keyboard_alone_opens_claims_answers_with_a_saved_reply_and_resolves(
    desk, asgi_server, operator_page, visitors
):
    reply = CannedReplyFactory(
        team=desk.team, shortcut="size", title="Size exchange", body="We exchange sizes for free within 30 days."
    )
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Omar Haddad")
    visitor.say("Can I swap these boots for a bigger size?")
    expect(page.locator("#list-queue")).to_contain_text("Omar Haddad")

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Claim the open conversation")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("j")
    expect(page.locator("#thread-title")).to_have_text("Omar Haddad")
    page.keyboard.press("c")
    expect(page.locator("#list-mine")).to_contain_text("Omar Haddad")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#composer-input")).to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#canned-search")).to_be_focused()
    page.keyboard.type("siz")
    expect(page.locator("#canned-list")).to_contain_text("Size exchange")
    page.keyboard.press("Enter")
    expect(page.locator("#composer-input")).to_have_value("We exchange sizes for free within 30 days.")
    page.keyboard.press("End")
    page.keyboard.type(" Just tell us the size.")
    page.keyboard.press("Enter")
    visitor.wait_for(
        "message.new",
        lambda f: f["message"]["body"] == "We exchange sizes for free within 30 days. Just tell us the size.",
    )
    assert Message.objects.get(sender="operator").canned_reply_id == reply.pk
    assert CannedReply.objects.get(pk=reply.pk).use_count == 1

    page.keyboard.press("Escape")
    page.keyboard.press("e")
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    visitor.wait_for("conversation.updated", lambda f: f["conversation"]["status"] == "ended")
    expect(page.locator("#list-mine li")).to_have_count(0)


def test_the_contact_column_keeps_notes_and_history_and_the_ticket_can_change_and_continue_an_earlier_one(
    desk, asgi_server, operator_page, visitors
):
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Ivy Chen", email="ivy@example.org")
    contact = Contact.objects.get(pk=visitor.contact_id)
    yesterday = timezone.now() - timedelta(days=1)
    earlier_ticket = TicketFactory(
        inbox=desk.inbox, contact=contact, created_at=yesterday, status="resolved", resolved_at=yesterday
    )
    earlier = ConversationFactory(
        inbox=desk.inbox,
        contact=contact,
        ticket=earlier_ticket,
        requested_at=yesterday,
        status="ended",
        end_reason="resolved",
        ended_at=yesterday,
    )
    Message.objects.create(conversation=earlier, sender="visitor", body="Yesterday's question about tent pegs")
    visitor.say("Hello again, the pegs still do not fit")
    open_from_queue(page, "Ivy Chen")
    claim(page)

    pane = page.locator("#contact-pane")
    pane.locator("#notes-input").fill("Regular customer, camps a lot")
    pane.get_by_role("button", name="Save notes").click()
    expect(pane.locator("#notes-status")).to_have_text("Saved.")
    assert Contact.objects.get(pk=contact.pk).notes == "Regular customer, camps a lot"

    page.locator("#ticket-priority").select_option("high")
    expect(page.locator(".toast").last).to_have_text("Saved.")
    current = Conversation.objects.get(contact=contact, status="active")
    assert Ticket.objects.get(pk=current.ticket_id).priority == "high"

    page.get_by_role("button", name=f"Same issue as ticket #{earlier_ticket.pk}").click()
    expect(page.locator("#ticket-id")).to_have_text(f"Ticket #{earlier_ticket.pk}")
    assert Conversation.objects.get(pk=current.pk).ticket_id == earlier_ticket.pk
    assert Ticket.objects.get(pk=earlier_ticket.pk).status == "open"

    pane.locator(".contact-history").get_by_role("button").first.click()
    expect(page.locator("#thread")).to_contain_text("Yesterday's question about tent pegs")
    expect(page.locator("#readonly-note")).to_be_visible()


def test_the_contact_column_shows_the_ticket_status_as_it_changes_and_resolved_once_the_chat_is(
    desk, asgi_server, operator_page, visitors, screenshot_dir
):
    page = operator_page(desk.ana.user)
    visitor = visitors(asgi_server, desk.inbox, name="Hana Sato")
    visitor.say("Can I pay by invoice?")
    open_from_queue(page, "Hana Sato")
    claim(page)
    ticket_id = Conversation.objects.get(contact_id=visitor.contact_id).ticket_id
    status = page.locator("#contact-pane .contact-tickets li", has_text=f"#{ticket_id}").locator(".pill")
    expect(status).to_have_text("Open")

    page.locator("#ticket-status").select_option("pending")
    expect(status).to_have_text("Pending (waiting on the customer)")
    send(page, "Yes: invoices are due in 30 days.")
    page.locator("#act-resolve").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Resolve").click()

    expect(page.locator("#readonly-note")).to_be_visible()
    expect(status).to_have_text("Resolved")
    page.screenshot(path=screenshot_dir / "inbox-contact-ticket-resolved.png")


def test_going_online_takes_the_waiting_chat(desk, asgi_server, operator_page, visitors):
    page = operator_page(desk.ana.user)
    visitors(asgi_server, desk.inbox, name="Eva Novak").say("Hi there")
    expect(page.locator("#list-queue")).to_contain_text("Eva Novak")
    page.get_by_role("button", name="Online").click()
    expect(page.get_by_role("button", name="Online")).to_have_attribute("aria-pressed", "true")
    # An operator who comes online with a free slot gets the oldest waiting chat.
    expect(page.locator("#list-mine")).to_contain_text("Eva Novak")
    expect(page.locator("#list-queue li")).to_have_count(0)
    expect(page.locator("#my-load")).to_have_text("1/3 chats")
    desk.ana.refresh_from_db()
    assert desk.ana.status == "online"


def test_a_long_thread_shows_its_newest_messages_and_the_earlier_ones_on_request(desk, asgi_server, operator_page):
    conversation = ConversationFactory(inbox=desk.inbox, contact__name="Long Talker")
    Message.objects.bulk_create(
        Message(conversation=conversation, sender="visitor", body=f"Line {n}") for n in range(1, 531)
    )
    page = operator_page(desk.ana.user)
    page.locator("#list-queue").get_by_text("Long Talker").click()
    expect(page.locator("#thread .msg").last).to_have_text(re.compile("Line 530"))
    expect(page.locator("#thread .msg")).to_have_count(500)
    page.get_by_role("button", name="Show earlier messages").click()
    expect(page.locator("#thread .msg")).to_have_count(530)
    expect(page.locator("#thread .msg").first).to_have_text(re.compile("Line 1$"))
    expect(page.get_by_role("button", name="Show earlier messages")).to_have_count(0)


def test_unread_messages_are_counted_until_the_conversation_is_opened_even_across_a_reload(
    desk, asgi_server, operator_page, visitors
):
    first = ConversationFactory(inbox=desk.inbox, contact__name="First Person", status="active", assignee=desk.ana.user)
    ConversationFactory(inbox=desk.inbox, contact__name="Second Person", status="active", assignee=desk.ana.user)
    page = operator_page(desk.ana.user)
    page.locator("#list-mine").get_by_text("Second Person").click()
    visitor = visitors(asgi_server, desk.inbox, token=visitor_token_make(contact=first.contact))
    visitor.say("Are you there?")
    visitor.say("Hello?")
    first_item = page.locator("#list-mine .conv-item", has_text="First Person")
    expect(first_item.locator(".conv-badge")).to_have_text("2")
    expect(first_item).to_contain_text("Hello?")

    page.reload()
    expect(first_item.locator(".conv-badge")).to_have_text("2")
    first_item.click()
    expect(first_item.locator(".conv-badge")).to_be_hidden()
    expect(page.locator("#thread")).to_contain_text("Are you there?")


def test_persian_mirrors_the_layout(desk, asgi_server, operator_page):
    page = operator_page(desk.ana.user, language="fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    sidebar = page.locator(".sidebar").bounding_box()
    thread = page.locator(".thread-pane").bounding_box()
    assert sidebar["x"] > thread["x"]
    # Counts in Persian digits, as the inbox's times are.
    expect(page.locator("#my-load")).to_have_text(re.compile(r"^[۰-۹]+/[۰-۹]+ گفتگو$"))


def test_signing_in_leads_to_the_inbox(desk, asgi_server, browser_context):
    page = browser_context.new_page()
    page.goto(f"{asgi_server.url}/inbox/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/inbox/"))
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".me")).to_have_text("Ana Silva")
