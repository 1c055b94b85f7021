"""Conversation search for the inbox (docs/inbox.md, Search): by ticket number, contact name or e-mail, and message
text, among every conversation, open or ended, of the operator's inboxes.

Ranking: the ticket of that number first, then conversations whose contact's name or e-mail matches (the name or
e-mail starting with the query before containing it), then those with matching messages, by the message's rank
(ts_rank on PostgreSQL, bm25 on SQLite) and then recency. Words match by prefix ("refun" finds "refund"), every word
of the query in one message. Private notes are found too: only operators search, and notes are theirs; a hit in a
note says so. System lines (transfers and the like) are not searched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce

from chat.inbox_selectors import operator_inbox_ids
from chat.models import Conversation, Message, OperatorProfile
from chat.search_index import FTS_TABLE

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 100
MAX_TERMS = 8
# The newest matching messages that are ranked: a common word matches a large part of the history, and ranking all
# of it would be slow; among these the best per conversation wins.
MESSAGE_CANDIDATES = 200
# Words in at least this share of the newest messages are found by walking the messages newest first (PostgreSQL).
DENSE_SAMPLE = 1000
DENSE_SHARE = 0.06
SNIPPET_CHARS = 160
SNIPPET_LEAD = 40

WORD = re.compile(r"\w+")
TICKET_NUMBER = re.compile(r"#?\s*(\d{1,12})")


class QueryTooShort(ValueError):
    pass


@dataclass
class SearchHit:
    conversation: Conversation
    # "ticket", "name", "email" or "message": what matched.
    field: str
    # The matching text in pieces, [(text, matched)], to be written as text with the matched pieces marked.
    segments: list[tuple[str, bool]] = field(default_factory=list)
    private: bool = False
    sender: str = ""


def search_terms(query: str) -> list[str]:
    return [word.lower() for word in WORD.findall(query)][:MAX_TERMS]


def conversation_search(*, operator: OperatorProfile, query: str, limit: int = 20) -> list[SearchHit]:
    """The conversations of the operator's active inboxes that match `query`, best first (the module's ranking).
    Raises QueryTooShort for a query of fewer than MIN_QUERY_CHARS letters or digits (but a ticket number)."""
    # Control characters mean nothing in a search, and PostgreSQL refuses NUL in any text.
    query = "".join(ch for ch in query if unicodedata.category(ch) != "Cc").strip()[:MAX_QUERY_CHARS]
    terms = search_terms(query)
    number = TICKET_NUMBER.fullmatch(query)
    if not number and sum(len(term) for term in terms) < MIN_QUERY_CHARS:
        raise QueryTooShort(query)
    inbox_ids = operator_inbox_ids(operator=operator)
    if not inbox_ids:
        return []
    scope = Conversation.objects.filter(inbox_id__in=inbox_ids).select_related("contact")
    recent_first = Coalesce("last_message_at", "requested_at").desc()
    hits: dict[int, SearchHit] = {}

    def add(hit: SearchHit) -> None:
        if hit.conversation.pk not in hits and len(hits) < limit:
            hits[hit.conversation.pk] = hit

    if number:
        for conversation in scope.filter(ticket_id=int(number.group(1))).order_by(recent_first)[:limit]:
            add(SearchHit(conversation, "ticket", [(f"#{conversation.ticket_id}", True)]))

    if len(query) >= MIN_QUERY_CHARS and not number:
        for hit in _contact_hits(scope, query, limit, recent_first):
            add(hit)

    if terms and len(hits) < limit:
        for message, conversation in _message_hits(inbox_ids, terms, scope):
            add(
                SearchHit(
                    conversation,
                    "message",
                    snippet(message.body, terms),
                    private=message.private,
                    sender=message.sender,
                )
            )
    return list(hits.values())


def _contact_hits(scope, query: str, limit: int, recent_first) -> list[SearchHit]:
    matches = scope.filter(Q(contact__name__icontains=query) | Q(contact__email__icontains=query))
    found = []
    for conversation in matches.order_by(recent_first)[: limit * 2]:
        contact = conversation.contact
        on_name = query.lower() in contact.name.lower()
        text = contact.name if on_name else contact.email
        found.append(SearchHit(conversation, "name" if on_name else "email", mark_substring(text, query)))
    # Those whose name or e-mail starts with the query first; the sort keeps recency within each.
    found.sort(key=lambda hit: not "".join(t for t, _ in hit.segments).lower().startswith(query.lower()))
    return found


def _message_hits(inbox_ids: list[int], terms: list[str], scope) -> list[tuple[Message, Conversation]]:
    """The best matching message of each conversation among the newest MESSAGE_CANDIDATES matches, best first."""
    ranked = _ranked_messages_postgresql if connection.vendor == "postgresql" else _ranked_messages_sqlite
    rows = ranked(inbox_ids, terms)
    best: dict[int, tuple[float, int]] = {}
    for message_id, conversation_id, score in rows:
        if conversation_id not in best or (score, message_id) > best[conversation_id]:
            best[conversation_id] = (score, message_id)
    messages = Message.objects.in_bulk([message_id for _, message_id in best.values()])
    conversations = scope.in_bulk(list(best))
    order = sorted(best.items(), key=lambda item: item[1], reverse=True)
    return [(messages[message_id], conversations[cid]) for cid, (_, message_id) in order if cid in conversations]


def _ranked_messages_postgresql(inbox_ids: list[int], terms: list[str]) -> list[tuple[int, int, float]]:
    """The newest matches, ranked, by one of two plans chosen by how common the words are. PostgreSQL cannot
    estimate prefix queries: left to itself it walked the messages newest first, computing each one's words, through
    the whole history for a word nobody wrote (3.5 s on 1,000,000 messages). A probe counts the matches among the
    newest DENSE_SAMPLE messages: a common word (at least DENSE_SHARE of them) is found by that walk within a few
    thousand messages; any other is read through the GIN index (a bitmap) and its matches sorted, which costs in
    proportion to how many they are."""
    # Every word a prefix ('refun':*), all of them in the message. Words are \w+ only: nothing in them to quote.
    tsquery = " & ".join(f"'{term}':*" for term in terms)
    probe = """
        SELECT count(*) FROM (SELECT body FROM chat_message ORDER BY id DESC LIMIT %s) AS recent
        WHERE to_tsvector('simple', body) @@ to_tsquery('simple', %s)
    """
    # "m.id + 0" cannot be read from the primary key's index in order: the plan reads the matches by the GIN index.
    order = "m.id DESC"
    with transaction.atomic(), connection.cursor() as cursor:
        # One core per search: parallel workers (a Gather over the bitmap) tripled its p95 on a busy 2-core machine
        # (bench/search.py), and a search should not take every core from the desk's other work.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(probe, [DENSE_SAMPLE, tsquery])
        if cursor.fetchone()[0] < DENSE_SAMPLE * DENSE_SHARE:
            order = "m.id + 0 DESC"
        sql = f"""
            WITH hits AS (
                SELECT m.id, m.conversation_id, m.body
                FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id
                WHERE to_tsvector('simple', m.body) @@ to_tsquery('simple', %s)
                  AND c.inbox_id = ANY(%s) AND m.sender <> %s
                ORDER BY {order}
                LIMIT %s
            )
            SELECT id, conversation_id, ts_rank(to_tsvector('simple', body), to_tsquery('simple', %s)) FROM hits
        """  # noqa: S608 — one of two fixed orders
        cursor.execute(sql, [tsquery, list(inbox_ids), Message.Sender.SYSTEM, MESSAGE_CANDIDATES, tsquery])
        return cursor.fetchall()


def _ranked_messages_sqlite(inbox_ids: list[int], terms: list[str]) -> list[tuple[int, int, float]]:
    # FTS5 syntax: each word a quoted prefix ("refun"*), all of them required. \w+ words hold no quote.
    match = " ".join(f'"{term}"*' for term in terms)
    placeholders = ", ".join(["%s"] * len(inbox_ids))
    # bm25 is lower for better matches: negated, a higher score is better, as with ts_rank.
    sql = f"""
        SELECT m.id, m.conversation_id, -bm25({FTS_TABLE})
        FROM {FTS_TABLE}
        JOIN chat_message m ON m.id = {FTS_TABLE}.rowid
        JOIN chat_conversation c ON c.id = m.conversation_id
        WHERE {FTS_TABLE} MATCH %s AND c.inbox_id IN ({placeholders}) AND m.sender <> %s
        ORDER BY {FTS_TABLE}.rowid DESC
        LIMIT %s
    """  # noqa: S608 — only the table's name and placeholders are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *inbox_ids, Message.Sender.SYSTEM, MESSAGE_CANDIDATES])
        return cursor.fetchall()


def mark_substring(text: str, query: str) -> list[tuple[str, bool]]:
    start = text.lower().find(query.lower())
    if start < 0:
        return [(text, False)]
    end = start + len(query)
    return [piece for piece in [(text[:start], False), (text[start:end], True), (text[end:], False)] if piece[0]]


def snippet(body: str, terms: list[str]) -> list[tuple[str, bool]]:
    """About SNIPPET_CHARS of `body` around its first match, in pieces, the words starting with a term marked (as
    the indexes match them: by prefix, at the start of a word)."""
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(term) for term in terms) + r")\w*", re.IGNORECASE)
    matches = list(pattern.finditer(body))
    start = 0
    if matches and matches[0].start() > SNIPPET_LEAD:
        start = matches[0].start() - SNIPPET_LEAD
        space = body.find(" ", start, matches[0].start())
        start = space + 1 if space != -1 else start
    end = min(len(body), start + SNIPPET_CHARS)
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for match in matches:
        if match.start() < start:
            continue
        if match.start() >= end:
            break
        if match.start() > at:
            pieces.append((body[at : match.start()], False))
        pieces.append((body[match.start() : match.end()], True))
        at = match.end()
    if at < end:
        pieces.append((body[at:end], False))
    if end < len(body):
        pieces.append(("…", False))
    return _merged(pieces)


def _merged(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    merged: list[tuple[str, bool]] = []
    for text, matched in pieces:
        if merged and merged[-1][1] == matched:
            merged[-1] = (merged[-1][0] + text, matched)
        else:
            merged.append((text, matched))
    return merged
