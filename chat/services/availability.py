"""Whether an inbox is online for its widgets (inside business hours with an operator online), and telling its open
widgets when that changes: an operator comes or goes (presence), the inbox opens or closes (the sweep)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chat import realtime
from chat.models import Inbox, OperatorProfile
from chat.selectors import inbox_availability, inbox_online, iso
from tickets.business_hours import schedule_for


def _announce(inbox_id: int, online: bool, next_opening: datetime | None) -> None:
    realtime.send_to_inbox_visitors(
        inbox_id, {"type": realtime.AVAILABILITY, "online": online, "next_opening": iso(next_opening)}
    )


def inboxes_online_locked(inbox_ids: Iterable[int]) -> dict[int, bool]:
    """Locks the inboxes (in id order) and reads whether each is online, in the caller's transaction.

    Two operators of an inbox changing status at once are then taken one after the other, each comparing with the
    other's result, so a change is never announced from a state that is already gone.
    """
    inboxes = Inbox.objects.select_for_update().filter(pk__in=list(inbox_ids)).order_by("pk")
    return {inbox.pk: inbox_online(inbox) for inbox in inboxes}


def availability_announce_changes(*, before: dict[int, bool]) -> None:
    """Tells the widgets of every inbox whose `online` is no longer what `before` read (on commit)."""
    for inbox in Inbox.objects.filter(pk__in=before):
        online, next_opening = inbox_availability(inbox)
        if online != before[inbox.pk]:
            _announce(inbox.pk, online, next_opening)


def availability_sweep(*, now: datetime | None = None) -> int:
    """Inboxes with an operator online that opened or closed since the previous sweep, SWEEP_INTERVAL_SECONDS ago.

    Nothing is stored: a sweep that comes late can miss an opening (those widgets learn it when they reconnect).
    """
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS)
    staffed = Inbox.objects.filter(is_active=True, operators__status=OperatorProfile.Status.ONLINE).distinct()
    changed = 0
    for inbox in staffed:
        schedule = schedule_for(inbox)
        is_open = schedule.is_open(now)
        if is_open != schedule.is_open(since):
            _announce(inbox.pk, is_open, None if is_open else schedule.next_opening(now))
            changed += 1
    return changed
