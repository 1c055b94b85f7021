"""Times conversation search (chat.search_selectors.conversation_search) on a large history, as the inbox asks it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_search_bench .venv/bin/python bench/search.py \
        [--messages 1000000] [--repeat 20] [--sqlite-messages 100000]

Fills the database once (reused when it already holds that many messages): 4 inboxes, a contact and a conversation
for every 10 messages (English and Persian names, their e-mails; most conversations ended), a ticket for every 10th
conversation, and message bodies of 4 to 20 words drawn from an English and Persian vocabulary with a skewed
(Zipf-like) frequency, one word in 100,000 messages a rare one. Contacts and conversations are written with
`INSERT … SELECT generate_series`, messages with COPY. The operator searching is in 2 of the 4 inboxes.

Then each kind of query (a name, an e-mail, a word, two words, a ticket number, a rare and a common word, a
Persian word) runs through the real selector `--repeat` times after one warm-up, and its p50 and p95 are printed
beside the baseline of the same run: the same question as a plain `ILIKE '%…%'` scan of message bodies and
contact names in her inboxes (what search without the indexes costs), timed `--baseline-repeat` times.

With `--sqlite-messages N` the same is then run on the embedded default (SQLite and FTS5) with N messages, in a
database of its own (`var/bench-search/`), by a second process of this script.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
if "--sqlite-only" in sys.argv:
    os.environ.pop("DATABASE_URL", None)
    os.environ["SUPPORTDESK_VAR_DIR"] = str(ROOT / "var" / "bench-search")
else:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_search_bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from chat.models import Conversation, Inbox, Message, OperatorProfile  # noqa: E402
from chat.search_selectors import conversation_search  # noqa: E402
from tickets.models import Ticket  # noqa: E402

TARGET_MS = 200
MESSAGES_PER_CONVERSATION = 10
INBOXES = 4
RARE_WORD = "zanzibar"
FIRST = ["Maria", "Tom", "Ana", "Ben", "Sara", "Ali", "Greta", "Yuki", "Omar", "Lena", "Ivan", "Chen", "Priya", "Noah"]
FIRST_FA = ["سارا", "علی", "مریم", "رضا", "زهرا", "حسین", "نگار", "امیر"]
LAST = ["Lopez", "Berg", "Silva", "Okafor", "Weiss", "Tanaka", "Haddad", "Novak", "Kumar", "Smith", "Rossi", "Dubois"]
LAST_FA = ["احمدی", "محمدی", "رضایی", "کریمی", "حسینی", "موسوی"]
# Ordered from the most to the least frequent.
WORDS = (
    "the to I my is and a for it of you order in this not was have on with can please refund hello thanks "
    "payment card account delivery parcel invoice charged twice password login error shipping address "
    "cancel subscription discount coupon size colour return exchange broken missing late tracking number "
    "email phone support help urgent today tomorrow week price plan upgrade downgrade receipt bank transfer "
    "سلام سفارش من لطفا کمک پرداخت بازپرداخت ارسال مرسوله فاکتور رمز حساب تخفیف لغو مرجوعی پیگیری ممنون "
    "warehouse checkout voucher wallet gift wrapping estimate customs duty courier signature pickup locker "
    "firmware battery charger warranty repair replacement serial activation licence download"
).split()


def zipf_word(rng: random.Random) -> str:
    return WORDS[int(len(WORDS) * rng.random() ** 2.5)]


def bodies(count: int, seed: int = 7):
    rng = random.Random(seed)
    for n in range(count):
        words = [zipf_word(rng) for _ in range(rng.randint(4, 20))]
        if n % 100_000 == 50_000:
            words.insert(rng.randrange(len(words)), RARE_WORD)
        yield " ".join(words)


def fill(messages: int) -> None:
    call_command("migrate", verbosity=0)
    have = Message.objects.count()
    if have >= messages * 0.99:
        print(f"history: {have:,} messages already loaded (reused)")
        return
    if have:
        sys.exit(f"the database holds {have:,} messages, not {messages:,}: use an empty database")
    started = time.perf_counter()
    inboxes = [Inbox.objects.create(name=f"Bench {i}") for i in range(INBOXES)]
    conversations = messages // MESSAGES_PER_CONVERSATION
    names = [f"{f} {ln}" for f in FIRST for ln in LAST] + [f"{f} {ln}" for f in FIRST_FA for ln in LAST_FA]
    inbox_ids = [inbox.pk for inbox in inboxes]
    now = timezone.now()
    if connection.vendor == "postgresql":
        _fill_postgresql(conversations, names, inbox_ids, now)
    else:
        _fill_sqlite(conversations, names, inbox_ids, now)
    first = Conversation.objects.order_by("pk").values_list("pk", flat=True).first()
    with transaction.atomic():
        rows = list(Conversation.objects.filter(pk__gte=first).values_list("pk", "contact_id", "inbox_id")[::10])
        tickets = Ticket.objects.bulk_create(
            Ticket(inbox_id=inbox_id, contact_id=contact_id, channel_kind="web_widget")
            for _, contact_id, inbox_id in rows
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE chat_conversation SET ticket_id = %s WHERE id = %s",
                [(ticket.pk, pk) for ticket, (pk, _, _) in zip(tickets, rows, strict=True)],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"history: loaded {messages:,} messages in {time.perf_counter() - started:.0f} s")


def _fill_postgresql(conversations: int, names: list[str], inbox_ids: list[int], now) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO chat_contact (visitor_id, name, email, locale, last_page_url, notes, survey_opt_out,
                                      first_seen_at, last_seen_at, inbox_id)
            SELECT gen_random_uuid(), (%s::text[])[1 + g %% %s],
                   lower(replace((%s::text[])[1 + g %% %s], ' ', '.')) || '.' || g || '@example.org',
                   '', '', '', false, %s, %s, (%s::bigint[])[1 + g %% %s]
            FROM generate_series(1, %s) g ORDER BY g
            """,
            [names, len(names), names, len(names), now, now, inbox_ids, len(inbox_ids), conversations],
        )
        cursor.execute("SELECT min(id) FROM chat_contact")
        first_contact = cursor.fetchone()[0]
        # The newest 1 % open (one conversation per contact), the rest ended; a minute apart.
        cursor.execute(
            """
            INSERT INTO chat_conversation (channel_kind, status, end_reason, transfer_count, requested_at,
                visitor_connection_count, visitor_last_seen_at, updated_at, contact_id, inbox_id,
                canned_message_count, operator_message_count, ended_at, last_message_at)
            SELECT 'web_widget', CASE WHEN g > %(open_after)s THEN 'active' ELSE 'ended' END,
                   CASE WHEN g > %(open_after)s THEN '' ELSE 'resolved' END, 0,
                   %(now)s - (%(n)s - g) * interval '1 minute', 0, %(now)s, %(now)s, c.id, c.inbox_id, 0, 0,
                   CASE WHEN g > %(open_after)s THEN NULL ELSE %(now)s - (%(n)s - g) * interval '1 minute' END,
                   %(now)s - (%(n)s - g) * interval '1 minute'
            FROM generate_series(1, %(n)s) g JOIN chat_contact c ON c.id = %(first_contact)s + g - 1 ORDER BY g
            """,
            {"open_after": conversations * 99 // 100, "now": now, "n": conversations, "first_contact": first_contact},
        )
        cursor.execute("SELECT min(id) FROM chat_conversation")
        first_conversation = cursor.fetchone()[0]
        columns = "conversation_id, sender, author_name, body, private, created_at"
        with cursor.connection.cursor().copy(f"COPY chat_message ({columns}) FROM STDIN") as copy:
            for n, body in enumerate(bodies(conversations * MESSAGES_PER_CONVERSATION)):
                sender = "visitor" if n % 2 == 0 else "operator"
                copy.write_row(
                    (first_conversation + n // MESSAGES_PER_CONVERSATION, sender, "", body, n % 50 == 7, now)
                )


def _fill_sqlite(conversations: int, names: list[str], inbox_ids: list[int], now) -> None:
    import uuid

    with connection.cursor() as cursor, transaction.atomic():
        cursor.executemany(
            """INSERT INTO chat_contact (visitor_id, name, email, locale, last_page_url, notes, survey_opt_out,
                   first_seen_at, last_seen_at, inbox_id) VALUES (%s, %s, %s, '', '', '', 0, %s, %s, %s)""",
            [
                (
                    uuid.uuid4().hex,
                    names[g % len(names)],
                    f"{names[g % len(names)].lower().replace(' ', '.')}.{g}@example.org",
                    now,
                    now,
                    inbox_ids[g % len(inbox_ids)],
                )
                for g in range(1, conversations + 1)
            ],
        )
        cursor.execute("SELECT min(id) FROM chat_contact")
        first_contact = cursor.fetchone()[0]
        open_after = conversations * 0.99
        rows = []
        for g in range(1, conversations + 1):
            at = now - timezone.timedelta(minutes=conversations - g)
            ended = g <= open_after
            rows.append(
                (
                    "ended" if ended else "active",
                    "resolved" if ended else "",
                    at,
                    now,
                    now,
                    first_contact + g - 1,
                    inbox_ids[g % len(inbox_ids)],
                    at if ended else None,
                    at,
                )
            )
        cursor.executemany(
            """INSERT INTO chat_conversation (channel_kind, status, end_reason, transfer_count, requested_at,
                   visitor_connection_count, visitor_last_seen_at, updated_at, contact_id, inbox_id,
                   canned_message_count, operator_message_count, ended_at, last_message_at)
               VALUES ('web_widget', %s, %s, 0, %s, 0, %s, %s, %s, %s, 0, 0, %s, %s)""",
            rows,
        )
        cursor.execute("SELECT min(id) FROM chat_conversation")
        first_conversation = cursor.fetchone()[0]
        cursor.executemany(
            """INSERT INTO chat_message (conversation_id, sender, author_name, body, private, created_at)
               VALUES (%s, %s, '', %s, %s, %s)""",
            (
                (
                    first_conversation + n // MESSAGES_PER_CONVERSATION,
                    "visitor" if n % 2 == 0 else "operator",
                    body,
                    n % 50 == 7,
                    now,
                )
                for n, body in enumerate(bodies(conversations * MESSAGES_PER_CONVERSATION))
            ),
        )


def searcher() -> OperatorProfile:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-search", defaults={"is_staff": True})
    profile, _ = OperatorProfile.objects.get_or_create(user=user, defaults={"display_name": "Bench"})
    profile.inboxes.set(Inbox.objects.order_by("pk")[:2])
    return profile


def queries(operator: OperatorProfile) -> dict[str, str]:
    mine = Conversation.objects.filter(inbox__in=operator.inboxes.all()).select_related("contact")
    middle = mine.order_by("pk")[mine.count() // 2]
    return {
        "name": "maria lop",
        "e-mail": middle.contact.email,
        "word": "invoice",
        "two words": "refund parcel",
        "ticket number": f"#{mine.exclude(ticket=None).order_by('-pk').values_list('ticket_id', flat=True)[100]}",
        "rare word": RARE_WORD,
        "common word": "order",
        "Persian word": "بازپرداخت",
    }


def baseline_sql(query: str) -> str:
    """The question without the indexes: a substring scan of names, e-mails and message bodies in her inboxes."""
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    ids = (
        "c.inbox_id = ANY(%s)"
        if connection.vendor == "postgresql"
        else "c.inbox_id IN (SELECT value FROM json_each(%s))"
    )
    return f"""
        SELECT c.id FROM chat_conversation c JOIN chat_contact p ON p.id = c.contact_id
        WHERE {ids} AND (p.name {like} %s OR p.email {like} %s)
        UNION ALL
        SELECT id FROM (SELECT m.conversation_id AS id FROM chat_message m
            JOIN chat_conversation c ON c.id = m.conversation_id
            WHERE {ids} AND m.body {like} %s ORDER BY m.id DESC LIMIT 200) AS hits
    """  # noqa: S608 — only the operator's name and a placeholder are formatted in


def timed(run, repeat: int) -> tuple[float, float, int]:
    result = run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, len(result)


def bench(repeat: int, baseline_repeat: int) -> None:
    import json

    operator = searcher()
    inbox_ids = list(operator.inboxes.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(",")[0]
        else:
            import sqlite3

            server = f"SQLite {sqlite3.sqlite_version}"
    print(f"{server} · {os.cpu_count()} cores · load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{Message.objects.count():,} messages, {Conversation.objects.count():,} conversations; she sees 2 of 4 inboxes"
    )
    print(f"\n{'kind':<14} {'query':<34} {'p50 ms':>8} {'p95 ms':>8} {'found':>5}   baseline ILIKE p50 / p95 ms")
    worst = 0.0
    for kind, query in queries(operator).items():
        p50, p95, found = timed(lambda q=query: conversation_search(operator=operator, query=q), repeat)
        worst = max(worst, p95)
        pattern = f"%{query.lstrip('#')}%"
        ids = inbox_ids if connection.vendor == "postgresql" else json.dumps(inbox_ids)

        def scan(query=query, pattern=pattern, ids=ids):
            with connection.cursor() as cursor:
                cursor.execute(baseline_sql(query), [ids, pattern, pattern, ids, pattern])
                return cursor.fetchall()

        b50, b95, _ = timed(scan, baseline_repeat)
        print(f"{kind:<14} {query[:34]:<34} {p50:8.1f} {p95:8.1f} {found:5d}   {b50:8.1f} / {b95:.1f}")
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"\nslowest p95 {worst:.1f} ms: {verdict} the {TARGET_MS} ms target")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--sqlite-messages", type=int, default=0, help="then the same on SQLite with N messages")
    parser.add_argument("--sqlite-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    fill(args.messages)
    bench(args.repeat, args.baseline_repeat)
    if args.sqlite_messages and not args.sqlite_only:
        print(f"\n== the embedded default: SQLite + FTS5, {args.sqlite_messages:,} messages")
        command = [sys.executable, __file__, "--sqlite-only", "--messages", str(args.sqlite_messages)]
        command += ["--repeat", str(args.repeat), "--baseline-repeat", str(args.baseline_repeat)]
        subprocess.run(command, check=True)  # noqa: S603 — this script, again


if __name__ == "__main__":
    main()
