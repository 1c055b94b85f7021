"""Bulk generation of a realistic past: `manage.py seed_demo --history N`.

Writes N past conversations with their tickets, messages, reporting events and survey answers, as the
services would have written them (ticket columns and ReportingEvent rows agree; conversation timestamps
and end reasons are consistent), but in bulk: rows are built as tuples in Python and written with COPY on
PostgreSQL (executemany elsewhere), one transaction per batch. Business seconds come from each inbox's real
schedule (tickets.business_hours), turned once into cumulative opening intervals so that each event costs
a binary search instead of a scan.
"""

from __future__ import annotations

import bisect
import random
import sys
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from chat.models import Contact, Conversation, Message
from supportdesk.history.generator import HistoryGenerator
from supportdesk.history.world import BATCH_STORIES, HOUR_WEIGHT, WEEKDAY_WEIGHT, ensure_world
from surveys.models import SurveyInvitation, SurveyResponse
from tickets.models import ReportingEvent, Ticket


def _day_counts(n: int, days: list[datetime], rng: random.Random) -> list[int]:
    """N split over the days: weekdays busier than weekends, a slow growth, some noise."""
    weights = []
    for i, day in enumerate(days):
        trend = 0.8 + 0.4 * i / max(len(days) - 1, 1)
        weights.append(WEEKDAY_WEIGHT[day.weekday()] * trend * rng.uniform(0.9, 1.1))
    total = sum(weights)
    raw = [n * w / total for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    return counts


def generate_history(
    n: int, *, stdout=None, days: int = 180, seed: int = 20260101, now: datetime | None = None
) -> dict:
    """Writes about `n` past conversations over the last `days` days; returns the counts of rows written."""
    rng = random.Random(seed)
    now = (now or timezone.now()).replace(microsecond=0)
    # Live conversations start at least a few hours ago so that they have all ended.
    end = now - timedelta(hours=3)
    first_day = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0)
    worlds = ensure_world(first_day, now, rng)
    if not worlds:
        raise ImproperlyConfigured("history: no active inbox with operators")
    generator = HistoryGenerator(worlds, now=now, rng=rng)
    day_list = [first_day + timedelta(days=i) for i in range(days + 1)]
    counts = _day_counts(n, day_list, rng)
    inbox_weights = [w.weight for w in worlds]
    hour_cum = [sum(HOUR_WEIGHT[: h + 1]) for h in range(24)]
    out = getattr(stdout, "_out", stdout) or sys.stderr
    made = stories = 0
    end_ts = end.timestamp()
    with tqdm(total=n, file=out, unit="conv", desc="history", mininterval=1.0) as bar:

        def one_story(base: float) -> None:
            nonlocal made, stories
            hour = bisect.bisect_left(hour_cum, rng.random() * hour_cum[-1])
            at = base + hour * 3600 + rng.random() * 3600
            if at > end_ts:
                return
            step = generator.story(rng.choices(worlds, inbox_weights)[0], at)
            made += step
            stories += 1
            bar.update(step)
            if stories % BATCH_STORIES == 0:
                generator.flush()

        for day, count in zip(day_list, counts, strict=True):
            start_made = made
            attempts = 0
            # A story may bring follow-up conversations (counted here) or none (a closed widget, too late).
            while made - start_made < count and made < n and attempts < 3 * count:
                attempts += 1
                one_story(day.timestamp())
        # What the last, partial day could not hold goes to random earlier days.
        attempts = 0
        while made < n and attempts < 3 * n:
            attempts += 1
            one_story(rng.choice(day_list[:-1]).timestamp())
        generator.flush()
    derive_columns()
    return dict(generator.counts, contacts=len(generator.contacts_by_id))


def derive_columns() -> None:
    """Columns the services keep across rows: a contact's last visit, a resolved ticket's next ticket (FCR)."""
    ticket = Ticket._meta.db_table
    with connection.cursor() as cursor:
        # FCR rule 3: the contact's first ticket on the same inbox after this one's last resolution.
        cursor.execute(
            f"""UPDATE "{ticket}" SET next_ticket_at = sub.next FROM (
                    SELECT t1.id, (SELECT MIN(t2.created_at) FROM "{ticket}" t2
                                   WHERE t2.contact_id = t1.contact_id AND t2.inbox_id = t1.inbox_id
                                   AND t2.created_at >= t1.resolved_at AND t2.id <> t1.id) AS next
                    FROM "{ticket}" t1 WHERE t1.resolved_at IS NOT NULL AND t1.next_ticket_at IS NULL) AS sub
                WHERE sub.id = "{ticket}".id AND sub.next IS NOT NULL"""  # noqa: S608
        )
        cursor.execute(
            f"""UPDATE "{Contact._meta.db_table}" SET last_seen_at = sub.last FROM (
                    SELECT contact_id, MAX(requested_at) AS last FROM "{Conversation._meta.db_table}"
                    GROUP BY contact_id) AS sub
                WHERE sub.contact_id = "{Contact._meta.db_table}".id AND sub.last > last_seen_at"""  # noqa: S608
        )
        if connection.vendor == "postgresql":
            # VACUUM sets the visibility map, so that the reports' index-only scans skip the heap.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for model in (Contact, Ticket, Conversation, Message, ReportingEvent, SurveyInvitation, SurveyResponse):
                cursor.execute(f'{command} "{model._meta.db_table}"')
