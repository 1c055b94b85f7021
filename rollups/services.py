"""Building the rollups: a day at a time from the source rows, for the days marked stale (refresh, every
ROLLUPS_REFRESH_SECONDS from beat and before a report reads marked days) or for all of history (rebuild).

Marking and rebuilding go by whole days: a day's rows of every source and slice are replaced together, so a change
that moves a figure from one slice to another (a transfer, a team change, a reopen by someone else) leaves no stale
copy in the slice it left.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from chat.models import Conversation, PresenceInterval
from rollups import histograms
from rollups.models import Rollup, RollupMark, RollupState
from rollups.sources import SOURCES
from surveys.models import SurveyInvitation, SurveyResponse
from tickets.models import Ticket

logger = logging.getLogger(__name__)

MARKS_PER_PASS = 20000
DAYS_PER_BUILD = 31
STATE_ID = 1


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def local_days(since: datetime, until: datetime) -> list[date]:
    first, last = timezone.localdate(since), timezone.localdate(max(since, until))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _runs(days) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most DAYS_PER_BUILD days."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1) and (day - runs[-1][0]).days < DAYS_PER_BUILD:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def add(into: dict, data: dict, *, skip: frozenset = frozenset()) -> dict:
    """Adds one rollup's data to another: numbers, histograms ("h:"), element-wise counts ("a:"), instants ("p:").
    The histograms named in `skip` are left out (a reader that shows no percentile of them)."""
    for name, value in data.items():
        kind = name[:2]
        if kind == "h:":
            if name not in skip:
                histograms.merge(into.setdefault(name, {}), value)
        elif kind == "a:":
            counts = into.setdefault(name, [0] * len(value))
            for i, n in enumerate(value):
                counts[i] += n
        elif kind == "p:":
            into.setdefault(name, []).extend(value)
        else:
            into[name] = into.get(name, 0) + value
    return into


INBOX, KIND, TEAM, OPERATOR = 1, 2, 4, 8
FINEST = INBOX | KIND | TEAM | OPERATOR


def grouped(key: tuple, grouping: int) -> tuple:
    """A finest slice's (inbox, channel kind, team, operator, label) as one grouping keeps it: every grouping keeps
    the label (None on the sources that have none), the per-label breakdown's key."""
    inbox, kind, team, operator, label = key
    return (
        inbox if grouping & INBOX else None,
        kind if grouping & KIND else "",
        team if grouping & TEAM else None,
        operator if grouping & OPERATOR else None,
        label,
    )


def _groupings(finest: dict[tuple, dict]) -> dict[tuple, dict]:
    """{(grouping, inbox, kind, team, operator, label): data} of every grouping, added up from the finest slices."""
    out: dict[tuple, dict] = {}
    for key, data in finest.items():
        for grouping in range(FINEST + 1):
            add(out.setdefault((grouping, *grouped(key, grouping)), {}), data)
    return out


def _rows(grain: str, day: date, source: str, sums: dict[tuple, dict]) -> list[Rollup]:
    return [
        Rollup(
            grain=grain,
            day=day,
            source=source,
            grouping=grouping,
            inbox_id=inbox_id,
            channel_kind=kind or "",
            team_id=team_id,
            operator_id=operator_id,
            label_id=label_id,
            data=_in_order(data),
        )
        for (grouping, inbox_id, kind, team_id, operator_id, label_id), data in sums.items()
    ]


def _in_order(data: dict) -> dict:
    """The instants ("p:") sorted: readers count them as a set, and a row must not depend on the order the rows it
    was summed from came in (a month from its days, a refresh against a rebuild)."""
    for name, value in data.items():
        if name[:2] == "p:":
            value.sort()
    return data


def _build(first: date, last: date, now: datetime) -> list[Rollup]:
    """The day rows of [first, last]: each source's finest slices, and every coarser grouping of them."""
    start, end = midnight(first), midnight(last + timedelta(days=1))
    rows = []
    for name, build in SOURCES.items():
        per_day: dict[date, dict] = defaultdict(dict)
        for (day, inbox_id, kind, team_id, operator_id, *label), data in build(start, end, now).items():
            # The per-label sources' keys end with the label; the others' have none.
            per_day[day][(inbox_id, kind or "", team_id, operator_id, label[0] if label else None)] = data
        for day, finest in per_day.items():
            rows += _rows(Rollup.Grain.DAY, day, name, _groupings(finest))
    return rows


COLUMNS = (
    "grain", "day", "source", "grouping", "inbox_id", "channel_kind", "team_id", "operator_id", "label_id", "data"
)  # fmt: skip


def _insert(rows: list[Rollup]) -> None:
    """Writes rollup rows; on PostgreSQL by COPY (bulk_create's array parameters cost seconds to quote)."""
    if connection.vendor != "postgresql":
        Rollup.objects.bulk_create(rows, batch_size=2000)
        return
    with connection.cursor() as cursor:
        sql = f"COPY {Rollup._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for r in rows:
                values = (
                    r.grain, r.day, r.source, r.grouping, r.inbox_id, r.channel_kind, r.team_id, r.operator_id,
                    r.label_id,
                )  # fmt: skip
                copy.write_row((*values, json.dumps(r.data)))


def _rebuild_month(month: date) -> int:
    """A month's rows: the sum of its days' finest slices, per source, then every coarser grouping of them."""
    following = (month + timedelta(days=32)).replace(day=1)
    finest: dict[str, dict[tuple, dict]] = defaultdict(dict)
    days = Rollup.objects.filter(grain=Rollup.Grain.DAY, grouping=FINEST, day__gte=month, day__lt=following)
    fields = ("source", "inbox_id", "channel_kind", "team_id", "operator_id", "label_id", "day", "data")
    for source, *key, day, data in days.values_list(*fields).order_by():
        total = add(finest[source].setdefault(tuple(key), {}), data)
        hours = data.get("a:hours")
        if hours:
            # The heat map's weekday of each hour: a month's hours alone would have lost it.
            week = total.setdefault("a:week_hours", [0] * 168)
            offset = (day.isoweekday() - 1) * 24
            for hour, count in enumerate(hours):
                week[offset + hour] += count
    Rollup.objects.filter(grain=Rollup.Grain.MONTH, day=month).delete()
    rows = [
        row for source, keyed in finest.items() for row in _rows(Rollup.Grain.MONTH, month, source, _groupings(keyed))
    ]
    _insert(rows)
    return len(rows)


def rebuild_days(days, *, now: datetime | None = None) -> int:
    """Replaces the rollups of `days`, and of the months they are in, by what their source rows hold now; returns
    the rows written."""
    now = now or timezone.now()
    written = 0
    for first, last in _runs(days):
        rows = _build(first, last, now)
        Rollup.objects.filter(grain=Rollup.Grain.DAY, day__gte=first, day__lte=last).delete()
        _insert(rows)
        written += len(rows)
    for month in sorted({day.replace(day=1) for day in days}):
        written += _rebuild_month(month)
    return written


def _lock_state(*, wait: bool) -> RollupState | None:
    """Locks the state row first thing in the transaction: refreshes take turns, and on SQLite the write lock taken
    here makes the reads that follow see every commit before it. None when another refresh holds it (wait=False)."""
    RollupState.objects.get_or_create(pk=STATE_ID)
    if connection.vendor == "postgresql":
        try:
            # In a savepoint: a refused lock leaves a caller's transaction usable (the lock, once taken, is held to
            # the end of the outer one).
            with transaction.atomic():
                return RollupState.objects.select_for_update(nowait=not wait).get(pk=STATE_ID)
        except DatabaseError:
            return None
    RollupState.objects.filter(pk=STATE_ID).update(refreshed_at=F("refreshed_at"))
    return RollupState.objects.get(pk=STATE_ID)


def _delete_marks(ids: list[int]) -> None:
    table = RollupMark._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for i in range(0, len(ids), 200_000):
                cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [ids[i : i + 200_000]])  # noqa: S608
        return
    for i in range(0, len(ids), 10_000):
        RollupMark.objects.filter(id__in=ids[i : i + 10_000]).delete()


def refresh(*, wait: bool = True, now: datetime | None = None) -> dict | None:
    """Rebuilds every day a mark names, and the days since the last refresh (a day gets one build after it ended,
    so that an operator's stretch online or a chat still open then is counted to its end). Deletes the marks read.
    Returns what it did, or None when another refresh was running and wait is False."""
    with transaction.atomic():
        state = _lock_state(wait=wait)
        if state is None:
            return None
        now = now or timezone.now()
        days: set[date] = set()
        if state.refreshed_at is not None:
            days.update(local_days(state.refreshed_at, now))
        marks = 0
        while True:
            batch = list(RollupMark.objects.order_by("id").values_list("id", "since", "until")[:MARKS_PER_PASS])
            if not batch:
                break
            for _id, since, until in batch:
                days.update(local_days(since, until))
            _delete_marks([row[0] for row in batch])
            marks += len(batch)
        written = rebuild_days(days, now=now)
        RollupState.objects.filter(pk=STATE_ID).update(refreshed_at=now)
    return {"marks": marks, "days": len(days), "rows": written, "refreshed_at": now}


# Past this many marks (a bulk load, a long outage of beat), a report does not refresh before reading: beat does.
READ_THROUGH_MARKS = 5000


def refresh_if_late() -> None:
    """Before a report reads: bring the rollups up to date when beat is late, i.e. they were last refreshed more than
    two beat periods ago (2 × ROLLUPS_REFRESH_SECONDS, inside metrics.md's 60 s) or never, unless a refresh is under
    way or the backlog is beat's to work through. With beat on time a report only reads: refreshing a day of a big
    desk costs seconds, and under live traffic there are always marks."""
    last = refreshed_at()
    if last is not None and last >= timezone.now() - timedelta(seconds=2 * settings.ROLLUPS_REFRESH_SECONDS):
        return
    if RollupMark.objects.order_by()[: READ_THROUGH_MARKS + 1].count() > READ_THROUGH_MARKS:
        return
    try:
        refresh(wait=False)
    except DatabaseError:
        logger.warning("rollups: refresh before a read failed; reading the rollups as they are", exc_info=True)


def history_span() -> tuple[date, date] | None:
    """The first and last day any source row is placed on."""
    bounds = []
    for qs, field in (
        (Ticket.objects, "created_at"),
        (Ticket.objects, "resolved_at"),
        (Conversation.objects, "requested_at"),
        (SurveyResponse.objects, "created_at"),
        (SurveyInvitation.objects, "sent_at"),
        (PresenceInterval.objects, "started_at"),
    ):
        row = qs.aggregate(first=Min(field), last=Max(field))
        bounds += [v for v in row.values() if v is not None]
    if not bounds:
        return None
    return timezone.localdate(min(bounds)), timezone.localdate(max(bounds))


def rebuild(*, since: date | None = None, now: datetime | None = None) -> dict:
    """Rebuilds the rollups from scratch (from the first of `since`'s month, or of history's) up to today."""
    with transaction.atomic():
        _lock_state(wait=True)
        now = now or timezone.now()
        span = history_span()
        today = timezone.localdate(now)
        first = since or (span[0] if span else today)
        last = max(today, span[1] if span else today)
        # The marks seen now are covered by this rebuild; one committed later is left for the next refresh.
        mark_ids = list(RollupMark.objects.values_list("id", flat=True))
        # From the first of its month: a month's row is rebuilt from all of its days.
        first = first.replace(day=1)
        Rollup.objects.filter(day__gte=first).delete()
        days = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        # Days before `since` that changes marked are rebuilt too: their marks are deleted with the others.
        for start, end in RollupMark.objects.filter(since__lt=midnight(first)).values_list("since", "until"):
            days.update(day for day in local_days(start, end) if day < first)
        written = rebuild_days(days, now=now)
        _delete_marks(mark_ids)
        RollupState.objects.filter(pk=STATE_ID).update(refreshed_at=now, rebuilt_at=now)
    return {"days": len(days), "rows": written, "first": first, "last": last}


def refreshed_at() -> datetime | None:
    return RollupState.objects.filter(pk=STATE_ID).values_list("refreshed_at", flat=True).first()
