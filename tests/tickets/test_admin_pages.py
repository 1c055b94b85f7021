"""The manager's admin pages for tickets, in a real browser: breached tickets, an inbox's business hours."""

from datetime import time

import pytest

from tests.factories import (
    BusinessHoursIntervalFactory,
    HolidayFactory,
    InboxFactory,
    SlaTargetFactory,
    UserFactory,
)
from tests.tickets.histories import chat_ticket, utc
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, server, user):
    page.goto(f"{server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "secret-pass-1")
    page.click("input[type=submit]")


def test_manager_sees_breached_tickets_and_edits_business_hours(asgi_server, browser_context, screenshot_dir):
    manager = UserFactory(username="manager", is_superuser=True)
    inbox = InboxFactory(name="Shop", time_zone="Europe/Berlin")
    BusinessHoursIntervalFactory(inbox=inbox, weekday=0, opens_at=time(9), closes_at=time(17))
    BusinessHoursIntervalFactory(inbox=inbox, weekday=4, opens_at=time(22), closes_at=time(2))
    HolidayFactory(inbox=inbox, date="2026-12-25", name="Christmas")
    SlaTargetFactory(inbox=inbox, channel_kind="web_widget", first_response_seconds=60, resolution_seconds=3600)
    _, late = chat_ticket(inbox, at=utc(2026, 3, 9, 10))
    _, on_time = chat_ticket(inbox, at=utc(2026, 3, 9, 11))
    Ticket.objects.filter(pk=late.pk).update(first_response_breached=True, first_response_at_risk=True)

    page = browser_context.new_page()
    login(page, asgi_server, manager)
    page.goto(f"{asgi_server.url}/admin/tickets/breachedticket/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("th a").inner_text() == str(late.pk)
    page.screenshot(path=str(screenshot_dir / "tickets-admin-breached.png"), full_page=True)

    # The overlap is refused with a message beside the inline; nothing is saved.
    page.goto(f"{asgi_server.url}/admin/chat/inbox/{inbox.pk}/change/")
    page.screenshot(path=str(screenshot_dir / "tickets-admin-inbox-hours.png"), full_page=True)
    page.click("#business_hours-group .add-row a")
    page.select_option("select[name='business_hours-2-weekday']", "0")
    page.fill("input[name='business_hours-2-opens_at']", "16:00")
    page.fill("input[name='business_hours-2-closes_at']", "18:00")
    page.click("input[name='_save']")
    assert "overlap" in page.locator("#business_hours-group .errorlist").first.inner_text()
    page.screenshot(path=str(screenshot_dir / "tickets-admin-hours-overlap.png"), full_page=True)
    assert inbox.business_hours.count() == 2
    assert on_time.pk != late.pk
