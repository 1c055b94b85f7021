"""Times the reports dashboard on a large history, through the same composition the admin page uses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench .venv/bin/python bench/reports.py

Loads `seed_demo --history 1000000` once (reused when the database already holds that many conversations),
then times the whole dashboard (cards for the period and the previous one, per-day charts, heat map, the four
tables) for the last 30 and 90 days: cold (a new connection after DISCARD ALL, so PostgreSQL's plan and
session caches are empty — the operating system's page cache stays warm, this machine cannot drop it) and
warm (median of 3 runs), with the number of queries. Beside it, in the same run, the baseline: a plain count(*)
over the same rows (each source's rows of the period, as many times as the dashboard reads them), and the floor of
the exact percentiles: only the percentile_cont sorts the dashboard's medians and p90s need, each in its narrowest
query (one measured column, its rows only, nothing else computed). Then, apart and labelled, the dashboard as served
from the cache the beat task fills (that is not computing it). Prints each part, the target beside the computed time,
and EXPLAIN (ANALYZE, BUFFERS) of the slowest query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Case, F, Q, When  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Conversation  # noqa: E402
from supportdesk.reports import figures  # noqa: E402
from supportdesk.reports.query import ReportForm  # noqa: E402
from supportdesk.reports.tasks import reports_warm_cache  # noqa: E402
from supportdesk.reports.views import TABLES, dashboard_context, table_context  # noqa: E402
from surveys.models import SurveyInvitation, SurveyResponse  # noqa: E402
from tickets.models import Ticket  # noqa: E402
from tickets.selectors.conversations import ABANDONED, LIVE_KINDS  # noqa: E402
from tickets.selectors.filters import CONVERSATION, TICKET_CREATED, TICKET_RESOLVED, breakdown_key  # noqa: E402
from tickets.selectors.stats import PERCENTILES, PercentilesCont, SecondsBetween  # noqa: E402

TARGET_WARM_SECONDS = 1.0


def load(conversations: int) -> None:
    call_command("migrate", verbosity=0)
    have = Conversation.objects.count()
    if have >= conversations * 0.99:
        print(f"history: {have:,} conversations already loaded (reused)")
        return
    started = time.perf_counter()
    call_command("seed_demo", history=conversations - have)
    print(f"history: loaded {conversations - have:,} conversations in {time.perf_counter() - started:.0f} s")


def query_for(days: int):
    form = ReportForm({"period": f"{days}d"})
    assert form.is_valid(), form.errors
    return form.report_query()


def parts(query) -> dict:
    """The dashboard's work, split as the page does it (dashboard_context runs all of these)."""
    now = timezone.now()
    work = {
        "cards (period)": lambda: figures.summary(query, now=now),
        "cards (previous period)": lambda: figures.summary(query.previous(), now=now),
        "charts per day": lambda: figures.timeseries(query),
        "heat map": lambda: figures.heatmap(query),
    }
    for by, _title in TABLES:
        work[f"table per {by}"] = lambda by=by: figures.breakdown(query, by=by, now=now)
    return work


def baseline(query) -> tuple[float, float, int]:
    """count(*) of each source's rows in the period and the previous one (every row the dashboard needs, read
    once), then also again for each of the four tables (the page loads them apart): seconds warm, and rows."""

    def counts(q):
        return [
            Ticket.objects.filter(created_at__gte=q.start, created_at__lt=q.end),
            Ticket.objects.filter(resolved_at__gte=q.start, resolved_at__lt=q.end, status=Ticket.Status.RESOLVED),
            Conversation.objects.filter(channel_kind__in=LIVE_KINDS, requested_at__gte=q.start, requested_at__lt=q.end),
            SurveyResponse.objects.filter(created_at__gte=q.start, created_at__lt=q.end),
            SurveyInvitation.objects.filter(sent_at__gte=q.start, sent_at__lt=q.end),
        ]

    once = counts(query) + counts(query.previous())
    for qs in once:
        qs.count()
    started = time.perf_counter()
    rows = sum(qs.count() for qs in once)
    single = time.perf_counter() - started
    started = time.perf_counter()
    for qs in counts(query) * 4:  # again for each of the four tables
        qs.count()
    return single, single + time.perf_counter() - started, rows


def measured_values(q):
    """The five measures whose median and p90 the dashboard shows, as metrics.md defines them: each one's rows of
    the period (only those that have a value) and the value. Same definitions as tickets.selectors.batch."""
    created = Ticket.objects.filter(created_at__gte=q.start, created_at__lt=q.end, first_response_seconds__isnull=False)
    resolved = Ticket.objects.filter(
        resolved_at__gte=q.start, resolved_at__lt=q.end, status=Ticket.Status.RESOLVED, resolution_seconds__isnull=False
    )
    answered_or_abandoned = Conversation.objects.filter(
        channel_kind__in=LIVE_KINDS, requested_at__gte=q.start, requested_at__lt=q.end
    ).filter(Q(first_response_at__isnull=False) | Q(end_reason=ABANDONED))
    waited_until = Case(When(first_response_at__isnull=False, then=F("first_response_at")), default=F("ended_at"))
    return [
        ("FRT wall", created, F("first_response_seconds"), TICKET_CREATED, "created_at"),
        ("FRT business", created, F("first_response_business_seconds"), TICKET_CREATED, "created_at"),
        ("resolution wall", resolved, F("resolution_seconds"), TICKET_RESOLVED, "resolved_at"),
        ("resolution business", resolved, F("resolution_business_seconds"), TICKET_RESOLVED, "resolved_at"),
        ("wait", answered_or_abandoned, SecondsBetween(waited_until, F("requested_at")), CONVERSATION, "requested_at"),
    ]


def percentile_floor(query) -> tuple[float, float, int]:
    """Seconds (warm) of only the exact percentile sorts: for the cards (each measure over the period and over the
    previous period, one group each), then for the whole dashboard (also per inbox, channel kind, team and
    operator, and FRT per day for the chart); and how many values the whole dashboard's sorts take in."""
    fractions = tuple(PERCENTILES.values())

    def run(q, by=None) -> None:
        for name, qs, value, source, period_field in measured_values(q):
            if by == "day" and name != "FRT wall":
                continue
            if by is None:
                qs.aggregate(p=PercentilesCont(value, fractions))
            else:
                rows = qs.annotate(_key=breakdown_key(by, source, period_field)).values("_key")
                list(rows.annotate(p=PercentilesCont(value, fractions)).order_by())

    with figures.report_session():
        values = sum(qs.count() for q in (query, query.previous()) for _n, qs, *_rest in measured_values(q))
        run(query)  # warm the pages
        started = time.perf_counter()
        run(query)
        run(query.previous())
        cards = time.perf_counter() - started
        started = time.perf_counter()
        for by in ("inbox", "channel_kind", "team", "operator", "day"):
            run(query, by=by)
        whole = cards + time.perf_counter() - started
    return cards, whole, values


def cold_connection() -> None:
    connection.close()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")


def whole_dashboard(query) -> None:
    """What a manager's browser asks for: the page (cards, charts, heat map) and its four tables."""
    with figures.report_session():
        dashboard_context(query)
    for by, _title in TABLES:
        with figures.report_session():
            table_context(query, by)


def time_dashboard(days: int, runs: int = 3) -> tuple[float, float, list[dict]]:
    query = query_for(days)
    cold_connection()
    started = time.perf_counter()
    whole_dashboard(query)
    cold = time.perf_counter() - started
    times = []
    captured: list[dict] = []
    for i in range(runs):
        started = time.perf_counter()
        if i == runs - 1:
            with CaptureQueriesContext(connection) as ctx:
                whole_dashboard(query)
            captured = ctx.captured_queries
        else:
            whole_dashboard(query)
        times.append(time.perf_counter() - started)
    return cold, statistics.median(times), captured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/reports.py runs on PostgreSQL: set DATABASE_URL")
    load(args.conversations)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0].split(",")[0], f"· {os.cpu_count()} cores · load average {os.getloadavg()[0]:.1f}")
    print(f"{Conversation.objects.count():,} conversations in the database\n")

    slowest = None
    for days in (30, 90):
        query = query_for(days)
        requested = Conversation.objects.filter(requested_at__gte=query.start, requested_at__lt=query.end).count()
        print(f"== last {days} days ({requested:,} conversations requested in the period)")
        # Computed on every view (REPORTS_CACHE_SECONDS=0): the selectors' queries themselves.
        settings.REPORTS_CACHE_SECONDS = 0
        for name, work in parts(query).items():
            with figures.report_session():
                work()
                started = time.perf_counter()
                work()
            print(f"   {name:<26} {time.perf_counter() - started:7.3f} s warm (computed)")
        cold, warm, captured = time_dashboard(days)
        verdict = "meets" if warm < TARGET_WARM_SECONDS else "MISSES"
        print(
            f"   WHOLE DASHBOARD, COMPUTED:  cold {cold:6.3f} s · warm {warm:6.3f} s ({len(captured)} queries) — "
            f"target {TARGET_WARM_SECONDS:.1f} s warm: {verdict}"
        )
        once, per_part, rows = baseline(query)
        print(
            f"   baseline, plain count(*) over the same rows ({rows:,} rows, 5 sources × 2 periods): "
            f"{once:6.3f} s warm;"
            f" again for each of the 4 tables: {per_part:6.3f} s warm"
        )
        cards_floor, whole_floor, values = percentile_floor(query)
        print(
            f"   floor, the exact percentile sorts alone ({values:,} measured values in the period and the previous"
            f" one): cards {cards_floor:6.3f} s warm; whole dashboard (+ 4 breakdowns and FRT per day)"
            f" {whole_floor:6.3f} s warm"
        )
        # As served: the beat task has refreshed the presets' figures in the shared cache.
        settings.REPORTS_CACHE_SECONDS = 300
        started = time.perf_counter()
        reports_warm_cache()
        refresh = time.perf_counter() - started
        cached_cold, cached_warm, _ = time_dashboard(days)
        print(
            f"   (not computed) whole dashboard served from the cache the beat task fills: cold {cached_cold:6.3f} s · "
            f"warm {cached_warm:6.3f} s"
        )
        print(f"   (the beat task refreshing 7/30/90 days took {refresh:.1f} s in the worker)\n")
        top = max(captured, key=lambda q: float(q["time"]))
        if slowest is None or float(top["time"]) > float(slowest["time"]):
            slowest = top
    print(f"== slowest query ({float(slowest['time']):.3f} s):\n{slowest['sql']}\n")
    # As the page runs it: in a report session (no JIT, work_mem for the sorts).
    with figures.report_session(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
