"""Open widgets are told when their inbox's `online` changes: operators coming and going, business hours."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from chat.realtime import inbox_visitors_group
from chat.services.presence import operator_connected, operator_disconnected
from chat.tasks import chat_sweep
from tests.factories import BusinessHoursIntervalFactory, InboxFactory, OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)  # a Tuesday


def sweeps(start: dt.datetime, count: int) -> None:
    """The beat's sweeps from `start`, SWEEP_INTERVAL_SECONDS apart."""
    for n in range(count):
        with time_machine.travel(start + dt.timedelta(seconds=n * settings.SWEEP_INTERVAL_SECONDS), tick=False):
            chat_sweep()


def test_the_sweep_taking_the_last_operator_offline_tells_the_inbox_widgets(inbox, group_listener):
    operator = operator_connected(profile=OperatorFactory(inboxes=[inbox], status="offline"))
    widgets = group_listener(inbox_visitors_group(inbox.pk))
    elsewhere = group_listener(inbox_visitors_group(InboxFactory().pk))
    operator_disconnected(profile=operator)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PRESENCE_GRACE_SECONDS + 5)):
        assert chat_sweep()["operators_offline"] == 1
    assert widgets.frames() == [{"type": "availability", "online": False, "next_opening": None}]
    assert elsewhere.frames() == []


def test_widgets_hear_when_business_hours_open_and_close_with_an_operator_online(group_listener):
    inbox = InboxFactory(time_zone="UTC")
    for weekday in range(7):
        BusinessHoursIntervalFactory(inbox=inbox, weekday=weekday, opens_at=dt.time(9), closes_at=dt.time(17))
    OperatorFactory(inboxes=[inbox], status="online")
    widgets = group_listener(inbox_visitors_group(inbox.pk))

    sweeps(DAY.replace(hour=8, minute=59, second=40), 4)  # across 09:00, each sweep once
    assert widgets.frames() == [{"type": "availability", "online": True, "next_opening": None}]
    sweeps(DAY.replace(hour=16, minute=59, second=40), 4)
    assert widgets.frames() == [{"type": "availability", "online": False, "next_opening": "2026-11-25T09:00:00Z"}]


def test_opening_hours_change_nothing_for_widgets_while_nobody_is_online(group_listener):
    inbox = InboxFactory(time_zone="UTC")
    BusinessHoursIntervalFactory(inbox=inbox, weekday=DAY.weekday(), opens_at=dt.time(9), closes_at=dt.time(17))
    OperatorFactory(inboxes=[inbox], status="away")
    widgets = group_listener(inbox_visitors_group(inbox.pk))
    sweeps(DAY.replace(hour=8, minute=59, second=40), 4)
    assert widgets.frames() == []
