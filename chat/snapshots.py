"""What every widget call reads about a site and rarely changes, kept in this process for a moment.

A visitor arriving costs a session call, a socket and a hello; each read the inbox by its site key, the origins every
active inbox allows (CORS), the inbox's business hours and holidays, and its survey settings: five queries of
the six a session call made. Each process keeps what it read for SNAPSHOT_SECONDS (a change made in the admin reaches
other processes within that), and forgets it at once when this process saves or deletes one of those rows.
The operators online are not kept: they are counted on every call.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save

SNAPSHOT_SECONDS = 2.0

_kept: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()


def snapshot(key: tuple, load, same=None):
    """`load()`, or what it returned for `key` less than SNAPSHOT_SECONDS ago in this process.

    With `same(kept, loaded)`, a reload equal to what was kept keeps the earlier object: the sockets that hold it
    then share one instance for as long as the row is unchanged (bench/chat_load.py, memory per idle visitor).
    """
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    value = load()
    if kept is not None and same is not None and same(kept[1], value):
        value = kept[1]
    with _lock:
        _kept[key] = (now + SNAPSHOT_SECONDS, value)
    return value


def same_row(kept, loaded) -> bool:
    """Two model instances (or None) holding the same row with the same values."""
    if kept is None or loaded is None:
        return kept is loaded
    fields = type(loaded)._meta.concrete_fields
    return type(kept) is type(loaded) and all(getattr(kept, f.attname) == getattr(loaded, f.attname) for f in fields)


def forget(**_kwargs) -> None:
    with _lock:
        _kept.clear()


def connect_receivers() -> None:
    from chat.models import Inbox
    from surveys.models import SurveyTemplate
    from tickets.models import BusinessHoursInterval, Holiday

    for model in (Inbox, BusinessHoursInterval, Holiday, SurveyTemplate):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(forget, sender=model, dispatch_uid=f"chat.snapshots.{model.__name__}.{name}")
