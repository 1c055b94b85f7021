"""Speed of the ticket and live chat metric selectors on PostgreSQL, beside a baseline in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_tickets \
        /work/main/.venv/bin/python bench/tickets_metrics.py --rows 1000000

Fills the database named by DATABASE_URL (it is migrated and its ticket / conversation data REPLACED) with
`rows` tickets and as many conversations over 90 days, two operator messages per conversation, 2 % of
tickets reopened and one in seven followed by a new ticket, then times every selector over the whole range
and over 30 days, with and without a breakdown. The baseline is a plain count(*) of the same tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)

FILL = """
TRUNCATE tickets_reportingevent, chat_message, chat_conversation, tickets_ticket, chat_contact,
    chat_inbox, chat_team, chat_operatorprofile_inboxes, chat_operatorprofile_teams, chat_operatorprofile,
    auth_user RESTART IDENTITY CASCADE;
INSERT INTO chat_team (name, created_at) SELECT 'Team ' || g, now() FROM generate_series(1, 3) g;
INSERT INTO chat_inbox (kind, name, site_key, allowed_origins, team_id, brand_color, position, greeting, language,
    prechat_name, prechat_email, time_zone, is_active, created_at)
SELECT CASE WHEN g = 5 THEN 'offline_form' ELSE 'web_widget' END, 'Inbox ' || g, 'key' || g, '[]', 1 + g % 3,
    '#1f6feb', 'right', '', 'en', 'optional', 'optional', 'UTC', true, now() FROM generate_series(1, 5) g;
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
    date_joined)
SELECT '', false, 'op' || g, '', '', '', true, true, now() FROM generate_series(1, 40) g;
INSERT INTO chat_contact (inbox_id, visitor_id, name, email, locale, last_page_url, notes, survey_opt_out,
    first_seen_at, last_seen_at)
SELECT 1 + g % 5, gen_random_uuid(), '', '', '', '', '', false, now(), now() FROM generate_series(1, %(contacts)s) g;
INSERT INTO tickets_ticket (inbox_id, channel_kind, contact_id, subject, status, priority, assignee_id, team_id,
    first_responder_id, resolved_by_id, created_at, first_response_at, first_response_seconds,
    first_response_business_seconds, resolved_at,
    resolution_seconds, resolution_business_seconds, reopen_count, conversation_count, pending_business_seconds,
    first_response_due_at, resolution_due_at, first_response_at_risk, first_response_breached, resolution_at_risk,
    resolution_breached, updated_at)
SELECT c.inbox_id, CASE WHEN c.inbox_id = 5 THEN 'offline_form' ELSE 'web_widget' END, c.id, '',
    CASE WHEN r.x < 0.9 THEN 'resolved' ELSE 'open' END, 'normal', 1 + g % 40, 1 + c.inbox_id % 3,
    1 + g % 40, CASE WHEN r.x < 0.9 THEN 1 + g % 40 END,
    t.created, t.created + make_interval(secs => r.frt), r.frt, r.frt * 0.8,
    CASE WHEN r.x < 0.9 THEN t.created + make_interval(secs => r.ttr) END,
    CASE WHEN r.x < 0.9 THEN r.ttr END, CASE WHEN r.x < 0.9 THEN r.ttr * 0.7 END,
    CASE WHEN r.x < 0.02 THEN 1 ELSE 0 END, CASE WHEN r.x < 0.1 THEN 2 ELSE 1 END, 0,
    t.created + interval '120 seconds', t.created + interval '8 hours', false, r.frt > 120, false, r.ttr > 28800,
    now()
FROM generate_series(1, %(rows)s) g
CROSS JOIN LATERAL (SELECT random() AS x, 5 + random() * 600 AS frt, 60 + random() * 40000 AS ttr) r
CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + make_interval(secs => g * 7776000.0 / %(rows)s) AS created) t
JOIN chat_contact c ON c.id = 1 + g % %(contacts)s;
INSERT INTO chat_conversation (inbox_id, channel_kind, contact_id, ticket_id, status, end_reason, assignee_id,
    team_id, transfer_count, requested_at, first_response_at, ended_at, visitor_connection_count,
    visitor_last_seen_at, updated_at)
SELECT t.inbox_id, t.channel_kind, t.contact_id, t.id, 'ended',
    CASE WHEN t.id % 20 = 0 THEN 'abandoned' WHEN t.id % 33 = 0 THEN 'missed' ELSE 'resolved' END,
    CASE WHEN t.id % 20 = 0 OR t.id % 33 = 0 THEN NULL ELSE t.assignee_id END, t.team_id,
    CASE WHEN t.id % 12 = 0 THEN 1 ELSE 0 END, t.created_at,
    CASE WHEN t.id % 20 = 0 OR t.id % 33 = 0 THEN NULL ELSE t.first_response_at END,
    t.created_at + interval '20 minutes', 0, now(), now()
FROM tickets_ticket t;
INSERT INTO chat_message (conversation_id, sender, author_id, author_name, body, private, canned_reply_id,
    client_id, created_at)
SELECT c.id, 'operator', c.assignee_id, '', 'Hello', false, NULL, NULL, c.first_response_at
FROM chat_conversation c, generate_series(1, 2) k WHERE c.assignee_id IS NOT NULL;
UPDATE tickets_ticket SET min_reopen_gap_seconds = 3600 WHERE reopen_count > 0;
UPDATE tickets_ticket SET next_ticket_at = resolved_at + interval '1 day' WHERE id % 7 = 0 AND resolved_at IS NOT NULL;
ANALYZE;
"""


def timed(label: str, function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    print(f"{label:<58} {best * 1000:9.1f} ms")
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-fill", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("this benchmark runs on PostgreSQL (set DATABASE_URL)")

    from tickets.selectors import (
        MetricFilter,
        canned_reply_share,
        conversation_outcomes,
        fcr,
        first_response_time,
        report_session,
        resolution_time,
        sla_compliance,
        wait_time,
    )

    call_command("migrate", verbosity=0)
    if not args.skip_fill:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                FILL.replace("%(rows)s", str(int(args.rows)))
                .replace("%(contacts)s", str(max(1, args.rows // 5)))
                .replace("%(start)s", f"'{START.isoformat()}'")
            )
        print(f"filled {args.rows} tickets and conversations in {time.perf_counter() - began:.1f} s")

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tickets_ticket")
            cursor.execute("SELECT count(*) FROM chat_conversation")

    whole = MetricFilter(start=START, end=START + timedelta(days=91))
    month = MetricFilter(start=START + timedelta(days=30), end=START + timedelta(days=60))
    now = START + timedelta(days=100)
    selectors = [
        ("first_response_time", lambda f, by: first_response_time(filters=f, by=by)),
        ("resolution_time", lambda f, by: resolution_time(filters=f, by=by)),
        ("wait_time", lambda f, by: wait_time(filters=f, by=by)),
        ("sla_compliance", lambda f, by: sla_compliance(filters=f, by=by, now=now)),
        ("fcr", lambda f, by: fcr(filters=f, by=by, now=now)),
        ("conversation_outcomes", lambda f, by: conversation_outcomes(filters=f, by=by)),
        ("canned_reply_share", lambda f, by: canned_reply_share(filters=f, by=by)),
    ]
    print(f"\n{'query':<58} {'best of 3':>12}")
    base = timed("baseline: count(*) of tickets and conversations", baseline)
    for period_name, filters in (("90 days", whole), ("30 days", month)):
        for session_name, session in (("", nullcontext), (", report_session", report_session)):
            with session():
                total = 0.0
                for name, function in selectors:
                    total += timed(
                        f"{name} ({period_name}{session_name})", lambda f=function, flt=filters: f(flt, None)
                    )
                # Each single-metric selector reads its source's batch row; the dashboard itself (one batch query
                # per source) is timed by bench/reports.py.
                label = f"  sum of the single-metric selectors ({period_name}{session_name})"
                print(f"{label:<58} {total * 1000:9.1f} ms  = {total / base:.1f}x baseline")
                for by in ("inbox", "operator", "day"):
                    timed(
                        f"first_response_time by {by} ({period_name}{session_name})",
                        lambda b=by, flt=filters: first_response_time(filters=flt, by=b),
                    )


if __name__ == "__main__":
    main()
