"""Times the reports dashboard on a large history, read from the daily rollups as the admin page reads it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench .venv/bin/python bench/reports.py \
        [--conversations 1000000] [--rebuild]

Loads `seed_demo --history N` once (reused when the database already holds that many conversations; the seed
builds the rollups), then for the periods 7, 30, 90 and 365 days (each with its previous period) and for every
selection (unfiltered, each filter alone, and two filters together) times the whole dashboard a manager's browser
asks for (cards for the period and the previous one, per-day charts, heat map, and the four tables): cold (a new
connection after DISCARD ALL: PostgreSQL's plan and session caches are empty; the operating system's page cache
stays warm, this machine cannot drop it) and warm (median of 3). No cache is in front of it. Beside it, in the same
run, the baseline: a plain count(*) over the source rows of the period and the previous one. Then the cost of a
refresh of today, and with --rebuild a full `rollups rebuild`. Prints the EXPLAIN (ANALYZE, BUFFERS) of the
slowest query. Run it on databases of 100,000, 300,000 and 1,000,000 conversations to see the cost stay flat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_bench")
# The views are timed apart from the refresh a report makes when the rollups are older than this.
os.environ.setdefault("ROLLUPS_REFRESH_SECONDS", "86400")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import ChannelKind, Conversation, Inbox, Team  # noqa: E402
from rollups import services as rollup_services  # noqa: E402
from rollups.models import Rollup  # noqa: E402
from supportdesk.reports import figures  # noqa: E402
from supportdesk.reports.query import ReportForm  # noqa: E402
from supportdesk.reports.views import TABLES, dashboard_context, table_context  # noqa: E402
from surveys.models import SurveyInvitation, SurveyResponse  # noqa: E402
from tickets.models import Ticket  # noqa: E402
from tickets.selectors.conversations import LIVE_KINDS  # noqa: E402

TARGET_WARM_SECONDS = 1.0
TARGET_COLD_SECONDS = 2.0
PERIODS = (7, 30, 90, 365)


def load(conversations: int) -> None:
    call_command("migrate", verbosity=0)
    have = Conversation.objects.count()
    if have >= conversations * 0.99:
        print(f"history: {have:,} conversations already loaded (reused)")
        return
    started = time.perf_counter()
    call_command("seed_demo", history=conversations - have)
    print(f"history: loaded {conversations - have:,} conversations in {time.perf_counter() - started:.0f} s")


def selections() -> dict[str, dict]:
    """Unfiltered, each filter alone (the busiest inbox, team and operator), and two filters together."""
    inbox = Inbox.objects.filter(kind=ChannelKind.WEB_WIDGET).order_by("pk").first()
    team = Team.objects.filter(pk=inbox.team_id).first() if inbox and inbox.team_id else Team.objects.first()
    operator = (
        Conversation.objects.filter(inbox=inbox, assignee__isnull=False)
        .values_list("assignee_id", flat=True)
        .order_by("assignee_id")
        .first()
    )
    from chat.models import OperatorProfile

    profile = OperatorProfile.objects.filter(user_id=operator).first()
    return {
        "unfiltered": {},
        "inbox": {"inbox": [inbox.pk]},
        "channel kind": {"channel_kind": [ChannelKind.WEB_WIDGET]},
        "team": {"team": [team.pk]},
        "operator": {"operator": [profile.user_id]},
        "inbox + operator": {"inbox": [inbox.pk], "operator": [profile.user_id]},
    }


def query_for(days: int, selection: dict):
    form = ReportForm({"period": "custom", **_custom(days), **selection})
    assert form.is_valid(), form.errors
    return form.report_query()


def _custom(days: int) -> dict:
    today = timezone.localdate()
    return {"start": (today - timedelta(days=days - 1)).isoformat(), "end": today.isoformat()}


def whole_dashboard(query) -> None:
    """What a manager's browser asks for: the page (cards, charts, heat map) and its four tables."""
    with figures.report_session():
        dashboard_context(query)
    for by, _title in TABLES:
        with figures.report_session():
            table_context(query, by)


def cold_connection() -> None:
    connection.close()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")


def time_dashboard(query, runs: int = 3) -> tuple[float, float, list[dict]]:
    cold_connection()
    started = time.perf_counter()
    whole_dashboard(query)
    cold = time.perf_counter() - started
    times, captured = [], []
    for i in range(runs):
        started = time.perf_counter()
        if i == runs - 1:
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as ctx:
                whole_dashboard(query)
            captured = ctx.captured_queries
        else:
            whole_dashboard(query)
        times.append(time.perf_counter() - started)
    return cold, statistics.median(times), captured


def baseline(query) -> tuple[float, int]:
    """count(*) of each source's rows in the period and the previous one: seconds warm, and rows."""

    def counts(q):
        return [
            Ticket.objects.filter(created_at__gte=q.start, created_at__lt=q.end),
            Ticket.objects.filter(resolved_at__gte=q.start, resolved_at__lt=q.end, status=Ticket.Status.RESOLVED),
            Conversation.objects.filter(channel_kind__in=LIVE_KINDS, requested_at__gte=q.start, requested_at__lt=q.end),
            SurveyResponse.objects.filter(created_at__gte=q.start, created_at__lt=q.end),
            SurveyInvitation.objects.filter(sent_at__gte=q.start, sent_at__lt=q.end),
        ]

    both = counts(query) + counts(query.previous())
    for qs in both:
        qs.count()
    started = time.perf_counter()
    rows = sum(qs.count() for qs in both)
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="also time a full rollups rebuild")
    parser.add_argument("--periods", type=int, nargs="*", default=list(PERIODS))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/reports.py runs on PostgreSQL: set DATABASE_URL")
    load(args.conversations)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0].split(",")[0], f"· {os.cpu_count()} cores · load average {os.getloadavg()[0]:.2f}")
    print(f"{Conversation.objects.count():,} conversations, {Rollup.objects.count():,} rollup rows\n")
    if args.rebuild:
        started = time.perf_counter()
        done = rollup_services.rebuild()
        print(
            f"full rollups rebuild: {time.perf_counter() - started:.1f} s ({done['days']} days, {done['rows']:,} rows)"
        )
    started = time.perf_counter()
    rollup_services.rebuild_days([timezone.localdate()])
    print(f"refresh of today (what beat does every 20 s): {time.perf_counter() - started:.3f} s\n")

    slowest, worst_warm, worst_cold = None, 0.0, 0.0
    chosen = selections()
    print(f"{'period':>6}  {'selection':<18} {'cold':>7} {'warm':>7} {'queries':>7}   baseline count(*)")
    for days in args.periods:
        for name, selection in chosen.items():
            query = query_for(days, selection)
            cold, warm, captured = time_dashboard(query)
            count_time, rows = baseline(query)
            worst_warm, worst_cold = max(worst_warm, warm), max(worst_cold, cold)
            print(
                f"{days:>5}d  {name:<18} {cold:6.3f}s {warm:6.3f}s {len(captured):>7}   "
                f"{count_time:6.3f}s over {rows:,} source rows"
            )
            top = max(captured, key=lambda q: float(q["time"]))
            if slowest is None or float(top["time"]) > float(slowest["time"]):
                slowest = top
    verdict_warm = "meets" if worst_warm < TARGET_WARM_SECONDS else "MISSES"
    verdict_cold = "meets" if worst_cold < TARGET_COLD_SECONDS else "MISSES"
    print(
        f"\nslowest whole dashboard: warm {worst_warm:.3f} s (target {TARGET_WARM_SECONDS:.0f} s: {verdict_warm}), "
        f"cold {worst_cold:.3f} s (target {TARGET_COLD_SECONDS:.0f} s: {verdict_cold})"
    )
    print(f"\n== slowest query ({float(slowest['time']):.3f} s):\n{slowest['sql'][:2000]}\n")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
