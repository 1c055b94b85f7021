"""Times the reports dashboard on a large history, through the same composition the admin page uses.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench .venv/bin/python bench/reports.py

Loads `seed_demo --history 1000000` once (reused when the database already holds that many conversations),
then times the whole dashboard (cards for the period and the previous one, per-day charts, heat map, the four
tables) for the last 30 and 90 days: cold (a new connection after DISCARD ALL, so PostgreSQL's plan and
session caches are empty — the operating system's page cache stays warm, this machine cannot drop it) and
warm (median of 3 runs). Prints each part, the target beside it, and EXPLAIN (ANALYZE, BUFFERS) of the slowest
query.
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

from django.core.management import call_command, get_commands  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Conversation  # noqa: E402
from supportdesk.reports import figures  # noqa: E402
from supportdesk.reports.query import ReportForm  # noqa: E402
from supportdesk.reports.views import TABLES, dashboard_context  # noqa: E402

TARGET_WARM_SECONDS = 1.0


def load(conversations: int) -> None:
    call_command("migrate", verbosity=0)
    have = Conversation.objects.count()
    if have >= conversations * 0.99:
        print(f"history: {have:,} conversations already loaded (reused)")
        return
    started = time.perf_counter()
    if "seed_demo" in get_commands():
        call_command("seed_demo", history=conversations - have)
    else:
        from supportdesk.history import generate_history

        print("(seed_demo is not on this branch yet: calling its history generator directly)")
        generate_history(conversations - have, stdout=sys.stdout)
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
        "charts per day": lambda: figures.timeseries(query, now=now),
        "heat map": lambda: figures.heatmap(query),
    }
    for by, _title in TABLES:
        work[f"table per {by}"] = lambda by=by: figures.breakdown(query, by=by, now=now)
    return work


def cold_connection() -> None:
    connection.close()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")


def time_dashboard(days: int) -> tuple[float, float, list[dict]]:
    query = query_for(days)
    cold_connection()
    started = time.perf_counter()
    dashboard_context(query)
    cold = time.perf_counter() - started
    runs = []
    captured: list[dict] = []
    for i in range(3):
        started = time.perf_counter()
        if i == 2:
            with CaptureQueriesContext(connection) as ctx:
                dashboard_context(query)
            captured = ctx.captured_queries
        else:
            dashboard_context(query)
        runs.append(time.perf_counter() - started)
    return cold, statistics.median(runs), captured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/reports.py runs on PostgreSQL: set DATABASE_URL")
    load(args.conversations)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0].split(",")[0], f"· {os.cpu_count()} cores")
    print(f"{Conversation.objects.count():,} conversations in the database\n")

    slowest = None
    for days in (30, 90):
        query = query_for(days)
        requested = Conversation.objects.filter(requested_at__gte=query.start, requested_at__lt=query.end).count()
        print(f"== last {days} days ({requested:,} conversations requested in the period)")
        for name, work in parts(query).items():
            work()
            started = time.perf_counter()
            work()
            print(f"   {name:<26} {time.perf_counter() - started:7.3f} s warm")
        cold, warm, captured = time_dashboard(days)
        verdict = "meets" if warm < TARGET_WARM_SECONDS else "MISSES"
        print(
            f"   whole dashboard: cold {cold:.3f} s · warm {warm:.3f} s "
            f"({len(captured)} queries) — target {TARGET_WARM_SECONDS:.1f} s warm: {verdict}\n"
        )
        top = max(captured, key=lambda q: float(q["time"]))
        if slowest is None or float(top["time"]) > float(slowest["time"]):
            slowest = top
    print(f"== slowest query ({float(slowest['time']):.3f} s):\n{slowest['sql']}\n")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
