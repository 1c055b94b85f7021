"""Operators' presence, kept in the database so that any process (a sweep in any worker) can decide.

An operator's open sockets are counted across all server processes; when the last one closes they stay
as they were for PRESENCE_GRACE_SECONDS (a page reload is not going offline), then a sweep takes them offline.
A server process that dies (killed, out of memory, the machine lost) never closes its sockets: each open socket
refreshes `last_seen_at` every SOCKET_HEARTBEAT_SECONDS, and a count nobody refreshed for STALE_SOCKET_SECONDS is
dropped by the sweep, so an operator is not left "online", and given chats, by a server that is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat import realtime
from chat.models import OperatorProfile, PresenceInterval
from chat.selectors import operator_inbox_ids, operator_payload
from chat.services.assignment import conversation_assign_waiting
from chat.services.availability import availability_announce_changes, inboxes_online_locked
from chat.services.conversations import STALE_SOCKET_SECONDS


@transaction.atomic
def operator_status_set(*, profile: OperatorProfile, status: str) -> OperatorProfile:
    if status not in OperatorProfile.Status.values:
        raise ValueError(f"unknown operator status {status!r}")
    inbox_ids = operator_inbox_ids(profile)
    # Locks the operator's inboxes before her row (the one order of these locks): see inboxes_online_locked.
    online_before = inboxes_online_locked(inbox_ids)
    now = timezone.now()
    updated = (
        OperatorProfile.objects.filter(pk=profile.pk)
        .exclude(status=status)
        .update(status=status, status_changed_at=now)
    )
    profile.refresh_from_db()
    if updated:
        _presence_log(operator_id=profile.user_id, status=status, at=now)
        frame = {"type": realtime.OPERATOR_UPDATED, "operator": operator_payload(profile)}
        for inbox_id in inbox_ids:
            realtime.send_to_inbox_operators(inbox_id, frame)
        realtime.send_to_operator(profile.user_id, frame)
        availability_announce_changes(before=online_before)
    if status == OperatorProfile.Status.ONLINE:
        profile_id = profile.pk
        transaction.on_commit(lambda: conversation_assign_waiting(profile_id=profile_id))
    return profile


def _presence_log(*, operator_id: int, status: str, at: datetime) -> None:
    """Ends the operator's open stretch and, unless she went offline, opens the next (the row lock on her profile,
    taken by the status update, orders two changes of the same operator)."""
    PresenceInterval.objects.filter(operator_id=operator_id, ended_at__isnull=True).update(ended_at=at)
    if status != OperatorProfile.Status.OFFLINE:
        PresenceInterval.objects.create(operator_id=operator_id, status=status, started_at=at)


def operator_connected(*, profile: OperatorProfile) -> OperatorProfile:
    """A socket opened. An offline operator who opens the inbox is online; `away` stays away."""
    OperatorProfile.objects.filter(pk=profile.pk).update(
        connection_count=F("connection_count") + 1, disconnected_at=None, last_seen_at=timezone.now()
    )
    profile.refresh_from_db()
    if profile.status == OperatorProfile.Status.OFFLINE:
        profile = operator_status_set(profile=profile, status=OperatorProfile.Status.ONLINE)
    return profile


def operator_disconnected(*, profile: OperatorProfile) -> None:
    with transaction.atomic():
        OperatorProfile.objects.filter(pk=profile.pk).update(connection_count=F("connection_count") - 1)
        OperatorProfile.objects.filter(pk=profile.pk, connection_count__lte=0).update(
            connection_count=0, disconnected_at=timezone.now()
        )


def operator_heartbeat(*, profile: OperatorProfile) -> None:
    """An open socket says it is still there. If a sweep had dropped the count as stale (this socket's server was
    too slow to say so in time), the socket connects again: counted, and online if the sweep took them offline."""
    if not OperatorProfile.objects.filter(pk=profile.pk, connection_count__gt=0).update(last_seen_at=timezone.now()):
        operator_connected(profile=profile)


def operator_sweep_offline(*, now: datetime | None = None) -> int:
    """Operators whose last socket closed more than the grace period ago go offline; so do those whose sockets
    stopped refreshing (their server died): the stale count is dropped as if they had closed at their last sign."""
    now = now or timezone.now()
    stale = Q(last_seen_at__lt=now - timedelta(seconds=STALE_SOCKET_SECONDS)) | Q(last_seen_at__isnull=True)
    # A count from before the heartbeat existed (no last_seen_at) closes now: gone after the grace.
    OperatorProfile.objects.filter(stale, connection_count__gt=0).update(
        connection_count=0, disconnected_at=Coalesce(F("last_seen_at"), Value(now))
    )
    gone = OperatorProfile.objects.filter(
        connection_count__lte=0,
        disconnected_at__lt=now - timedelta(seconds=settings.PRESENCE_GRACE_SECONDS),
    ).exclude(status=OperatorProfile.Status.OFFLINE)
    count = 0
    for profile in gone:
        operator_status_set(profile=profile, status=OperatorProfile.Status.OFFLINE)
        count += 1
    return count
