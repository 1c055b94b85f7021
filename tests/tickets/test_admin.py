"""The manager's admin: breached tickets list, status / priority through services, business hours validation."""

from datetime import time

import pytest
from django.forms import inlineformset_factory

from chat.models import Inbox
from tests.factories import InboxFactory
from tests.tickets.histories import chat_ticket, seconds, utc
from tickets.admin import BusinessHoursFormSet
from tickets.models import BusinessHoursInterval, ReportingEvent, Ticket

pytestmark = pytest.mark.django_db
T0 = utc(2026, 3, 9, 10)


@pytest.fixture
def inbox():
    return InboxFactory()


def test_breached_tickets_list_shows_only_breached_tickets(admin_client, inbox):
    _, late = chat_ticket(inbox, at=T0)
    _, fine = chat_ticket(inbox, at=T0)
    Ticket.objects.filter(pk=late.pk).update(resolution_breached=True)
    page = admin_client.get("/admin/tickets/breachedticket/")
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert shown == {late.pk}
    filtered = admin_client.get("/admin/tickets/ticket/", {"sla": "breached"})
    assert {row.pk for row in filtered.context["cl"].result_list} == {late.pk}
    assert fine.pk not in shown


def test_admin_action_resolves_through_the_service(admin_client, inbox):
    _, ticket = chat_ticket(inbox, at=T0)
    response = admin_client.post(
        "/admin/tickets/ticket/",
        {"action": "mark_resolved", "_selected_action": [ticket.pk]},
        follow=True,
    )
    assert "1 ticket changed." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ReportingEvent.objects.filter(ticket=ticket, name=ReportingEvent.Name.TICKET_RESOLVED).count() == 1


def test_admin_change_form_sets_pending_and_priority_through_the_services(admin_client, inbox, time_machine):
    _, ticket = chat_ticket(inbox, at=T0)
    time_machine.move_to(T0 + seconds(600), tick=False)
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    # The page's inlines (e.g. survey answers) post their management forms too.
    management = {}
    for inline in admin_client.get(url).context["inline_admin_formsets"]:
        form = inline.formset.management_form
        management.update({form.add_prefix(name): value for name, value in form.initial.items()})
    response = admin_client.post(
        url,
        {"subject": "Refund", "status": "pending", "priority": "high", "assignee": "", "team": "", **management},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.status, ticket.priority) == ("Refund", "pending", "high")
    assert ticket.pending_since == T0 + seconds(600)


def business_hours(inbox, rows, time_zone="UTC"):
    inbox.time_zone = time_zone
    formset_class = inlineformset_factory(
        Inbox, BusinessHoursInterval, formset=BusinessHoursFormSet, fields=["weekday", "opens_at", "closes_at"]
    )
    data = {
        "business_hours-TOTAL_FORMS": str(len(rows)),
        "business_hours-INITIAL_FORMS": "0",
    }
    for i, (weekday, opens, closes) in enumerate(rows):
        data.update(
            {
                f"business_hours-{i}-weekday": str(weekday),
                f"business_hours-{i}-opens_at": opens,
                f"business_hours-{i}-closes_at": closes,
            }
        )
    return formset_class(data, instance=inbox, prefix="business_hours")


def test_business_hours_accept_split_days_and_overnight_intervals(inbox):
    formset = business_hours(inbox, [(0, "09:00", "12:00"), (0, "13:00", "17:00"), (4, "22:00", "02:00")])
    assert formset.is_valid(), formset.non_form_errors()
    formset.save()
    assert inbox.business_hours.count() == 3


@pytest.mark.parametrize(
    "rows",
    [
        [(0, "09:00", "12:00"), (0, "11:00", "17:00")],
        [(0, "22:00", "06:00"), (1, "05:00", "09:00")],
        [(6, "22:00", "03:00"), (0, "02:00", "09:00")],  # Sunday night into Monday morning
    ],
)
def test_overlapping_business_hours_are_refused(inbox, rows):
    formset = business_hours(inbox, rows)
    assert not formset.is_valid()
    assert "overlap" in str(formset.non_form_errors())


def test_unknown_time_zone_is_refused(inbox):
    formset = business_hours(inbox, [(0, "09:00", "17:00")], time_zone="Europe/Atlantis")
    assert not formset.is_valid()
    assert "Europe/Atlantis" in str(formset.non_form_errors())


def test_zero_length_interval_other_than_all_day_is_refused(inbox):
    formset = business_hours(inbox, [(0, "09:00", "09:00")])
    assert not formset.is_valid()
    all_day = business_hours(inbox, [(0, "00:00", "00:00")])
    assert all_day.is_valid(), all_day.errors
    assert time(0) == all_day.forms[0].cleaned_data["opens_at"]
