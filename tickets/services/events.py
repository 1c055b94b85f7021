"""The append-only reporting events: every timing in the reports is read from these rows or from ticket columns."""

from __future__ import annotations

from datetime import datetime

from tickets.business_hours import Schedule, schedule_for
from tickets.models import ReportingEvent, Ticket


def reporting_event_record(
    *,
    name: str,
    inbox,
    channel_kind: str,
    start: datetime,
    end: datetime,
    ticket: Ticket | None = None,
    conversation=None,
    operator=None,
    team=None,
    schedule: Schedule | None = None,
) -> ReportingEvent:
    """Appends one event, its value in wall and in business seconds of the inbox's schedule."""
    end = max(end, start)
    schedule = schedule or schedule_for(inbox)
    wall = (end - start).total_seconds()
    business = min(schedule.business_seconds(start, end), wall)
    return ReportingEvent.objects.create(
        name=name,
        inbox=inbox,
        channel_kind=channel_kind,
        ticket=ticket,
        conversation=conversation,
        operator=operator,
        team=team,
        event_start=start,
        event_end=end,
        value_seconds=wall,
        value_business_seconds=business,
    )
