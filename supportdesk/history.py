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
import json
import math
import random
import secrets
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from chat.models import CannedReply, ChannelKind, Contact, Conversation, Inbox, Message, OperatorProfile, Team
from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from surveys.selectors import survey_questions_snapshot
from tickets.business_hours import schedule_for
from tickets.models import BusinessHoursInterval, ReportingEvent, Ticket
from tickets.services import sla_targets_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LIVE_KINDS = {ChannelKind.WEB_WIDGET, ChannelKind.API}
BATCH_STORIES = 5000
# Share of the traffic per channel kind; an inbox's share is its kind's share split between inboxes.
KIND_SHARE = {
    ChannelKind.WEB_WIDGET: 0.70,
    ChannelKind.API: 0.08,
    ChannelKind.OFFLINE_FORM: 0.10,
    ChannelKind.EMAIL: 0.12,
}
WEEKDAY_WEIGHT = [1.15, 1.1, 1.05, 1.0, 0.9, 0.45, 0.35]
# Requests per hour of the day (UTC): quiet nights, a morning and an afternoon peak.
HOUR_WEIGHT = [
    0.15,
    0.1,
    0.08,
    0.08,
    0.1,
    0.2,
    0.45,
    0.9,
    1.5,
    2.0,
    2.2,
    2.0,
    1.6,
    1.8,
    2.0,
    2.1,
    1.9,
    1.5,
    1.1,
    0.9,
    0.75,
    0.6,
    0.4,
    0.25,
]
HOUR_LOAD = [w / (sum(HOUR_WEIGHT) / 24) for w in HOUR_WEIGHT]

VISITOR_OPENERS = [
    "Hi, I can't log in to my account.",
    "Where is my order? It was due yesterday.",
    "How do I change my delivery address?",
    "Do you ship to Germany?",
    "I was charged twice this month.",
    "The app crashes when I upload a photo.",
    "Can I get a refund for my last order?",
    "Is the blue model back in stock?",
    "How do I cancel my subscription?",
    "I need an invoice with my company name.",
    "سلام، سفارش من هنوز نرسیده است.",
    "My discount code doesn't work.",
]
VISITOR_FOLLOWUPS = [
    "Thanks!",
    "OK, let me try that.",
    "It's order 48213.",
    "Still not working.",
    "Great, that worked.",
]
OPERATOR_REPLIES = [
    "Hi! Let me look into that for you.",
    "Thanks for waiting — I'm checking your account now.",
    "Could you tell me your order number?",
    "I've fixed it on our side; could you try again?",
    "Done! Anything else I can help with?",
]
PRIVATE_NOTES = ["Customer is on the old plan.", "Escalate to billing if it happens again."]
SYSTEM_MISSED = "No one is available right now. We'll reply by e-mail as soon as we can."


# --- Business time ----------------------------------------------------------------------------------


class BusinessClock:
    """Business seconds of one inbox between instants (epoch seconds), from its merged opening intervals."""

    def __init__(self, inbox: Inbox, start: datetime, end: datetime):
        schedule = schedule_for(inbox)
        self.always_open = schedule.always_open
        self.los: list[float] = []
        self.his: list[float] = []
        self.cum: list[float] = []  # business seconds before each interval
        total = 0.0
        if not self.always_open:
            for lo, hi in schedule.open_intervals(start, end):
                a, b = lo.timestamp(), hi.timestamp()
                self.los.append(a)
                self.his.append(b)
                self.cum.append(total)
                total += b - a
        self.cum_end = [c + (h - lo) for c, lo, h in zip(self.cum, self.los, self.his, strict=True)]

    def _at(self, t: float) -> float:
        i = bisect.bisect_right(self.los, t) - 1
        if i < 0:
            return 0.0
        return self.cum[i] + min(t, self.his[i]) - self.los[i]

    def between(self, a: float, b: float) -> float:
        if b <= a:
            return 0.0
        if self.always_open:
            return b - a
        return min(self._at(b) - self._at(a), b - a)

    def add(self, a: float, seconds: float) -> float:
        if self.always_open:
            return a + seconds
        target = self._at(a) + seconds
        j = bisect.bisect_left(self.cum_end, target)
        if j >= len(self.los):
            return self.his[-1] if self.his else a + seconds
        return max(self.los[j] + (target - self.cum[j]), a)

    def next_opening(self, t: float) -> float:
        if self.always_open or self.is_open(t):
            return t
        i = bisect.bisect_right(self.los, t)
        return self.los[i] if i < len(self.los) else t

    def is_open(self, t: float) -> bool:
        if self.always_open:
            return True
        i = bisect.bisect_right(self.los, t) - 1
        return i >= 0 and t < self.his[i]


# --- The world the history happens in (idempotent) -----------------------------------------------------


@dataclass
class OperatorTrait:
    user_id: int
    name: str
    team_id: int | None
    speed: float  # multiplies response times: < 1 is faster
    quality: float  # shifts survey scores
    canned: float  # share of replies sent from a saved reply


@dataclass
class InboxWorld:
    inbox: Inbox
    clock: BusinessClock
    weight: float
    operators: list[OperatorTrait]
    first_response_target: float
    resolution_target: float
    template: SurveyTemplate | None
    canned_ids: list[int]
    contacts: list[int] = field(default_factory=list)  # recent contacts, reused for returning visitors
    snapshots: dict = field(default_factory=dict)  # (language, includes NPS) -> what the invitation asks


EXTRA_TEAMS = ["Support", "Sales", "Billing"]
EXTRA_INBOXES = [
    # name, kind, team, time zone, weekly hours (None: always open)
    ("Website chat", ChannelKind.WEB_WIDGET, "Support", "UTC", None),
    ("Shop chat", ChannelKind.WEB_WIDGET, "Sales", "Europe/Berlin", ((0, 6), time(8), time(20))),
    ("Contact form", ChannelKind.OFFLINE_FORM, "Support", "Europe/Berlin", ((0, 5), time(9), time(17))),
    ("Support e-mail", ChannelKind.EMAIL, "Billing", "Europe/Berlin", ((0, 5), time(9), time(17))),
    ("Partner API", ChannelKind.API, "Sales", "UTC", None),
]
EXTRA_OPERATORS = [
    # username, display name, team, speed, quality, canned
    ("hist.alice", "Alice (history)", "Support", 0.6, 0.6, 0.10),
    ("hist.bahram", "Bahram (history)", "Support", 0.9, 0.3, 0.25),
    ("hist.chen", "Chen (history)", "Support", 1.6, -0.4, 0.05),
    ("hist.dana", "Dana (history)", "Sales", 0.8, 0.4, 0.40),
    ("hist.emil", "Emil (history)", "Sales", 1.3, 0.0, 0.15),
    ("hist.farah", "Farah (history)", "Billing", 1.0, 0.2, 0.20),
    ("hist.goran", "Goran (history)", "Billing", 2.0, -0.6, 0.30),
]


def _ensure_world(start: datetime, end: datetime, rng: random.Random) -> list[InboxWorld]:
    """Teams, inboxes of every channel kind, operators, schedules, survey templates and saved replies."""
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in EXTRA_TEAMS}
    for name, kind, team, tz, hours in EXTRA_INBOXES:
        inbox, created = Inbox.objects.get_or_create(
            name=name, defaults={"kind": kind, "team": teams[team], "time_zone": tz, "greeting": "Hi!"}
        )
        if created and hours:
            (first_day, last_day), opens, closes = hours
            BusinessHoursInterval.objects.bulk_create(
                BusinessHoursInterval(inbox=inbox, weekday=d, opens_at=opens, closes_at=closes)
                for d in range(first_day, last_day)
            )
    User = get_user_model()
    for username, display, team, *_ in EXTRA_OPERATORS:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_unusable_password()
            user.save()
        profile, _ = OperatorProfile.objects.get_or_create(user=user, defaults={"display_name": display})
        profile.teams.add(teams[team])
        profile.inboxes.add(*Inbox.objects.filter(team=teams[team]))
    traits = {u: (s, q, c) for u, _, _, s, q, c in EXTRA_OPERATORS}

    inboxes = list(Inbox.objects.filter(is_active=True).select_related("team").order_by("pk"))
    per_kind: dict[str, int] = {}
    for inbox in inboxes:
        per_kind[inbox.kind] = per_kind.get(inbox.kind, 0) + 1
    worlds = []
    for inbox in inboxes:
        profiles = list(OperatorProfile.objects.filter(inboxes=inbox).select_related("user").prefetch_related("teams"))
        if not profiles:
            profiles = list(OperatorProfile.objects.select_related("user").prefetch_related("teams")[:3])
        operators = []
        for p in profiles:
            speed, quality, canned = traits.get(
                p.user.username, (rng.uniform(0.6, 1.6), rng.uniform(-0.4, 0.5), rng.uniform(0.05, 0.35))
            )
            team_ids = [t.pk for t in p.teams.all()]
            team_id = inbox.team_id if inbox.team_id in team_ids else (team_ids[0] if team_ids else inbox.team_id)
            operators.append(OperatorTrait(p.user_id, p.display_name, team_id, speed, quality, canned))
        if not operators:
            continue
        template, _ = SurveyTemplate.objects.get_or_create(
            inbox=inbox,
            defaults={
                "ask_ces": inbox.kind in (ChannelKind.WEB_WIDGET, ChannelKind.EMAIL),
                "ask_nps": inbox.kind == ChannelKind.WEB_WIDGET,
                "csat_scale": "0-10" if inbox.kind == ChannelKind.API else "1-5",
                "ces_scale": "1-5" if inbox.kind == ChannelKind.EMAIL else "1-7",
            },
        )
        canned = list(CannedReply.objects.filter(inbox=inbox).values_list("pk", flat=True))
        if not canned:
            for i, body in enumerate(OPERATOR_REPLIES[:3]):
                CannedReply.objects.get_or_create(
                    inbox=inbox, team=None, shortcut=f"hist{i}", language="en", defaults={"title": body, "body": body}
                )
            canned = list(CannedReply.objects.filter(inbox=inbox).values_list("pk", flat=True))
        fr_target, res_target = sla_targets_for(inbox=inbox, channel_kind=inbox.kind)
        worlds.append(
            InboxWorld(
                inbox=inbox,
                clock=BusinessClock(inbox, start - timedelta(days=2), end + timedelta(days=120)),
                weight=KIND_SHARE.get(inbox.kind, 0.05) / per_kind[inbox.kind],
                operators=operators,
                first_response_target=fr_target,
                resolution_target=res_target,
                template=template if template.is_enabled else None,
                canned_ids=canned,
            )
        )
    return worlds


# --- Rows -------------------------------------------------------------------------------------------------


class Table:
    """Columns of one model's table: those the generator writes, plus defaults for any others."""

    def __init__(self, model: type[models.Model], columns: list[str]):
        self.model = model
        self.name = model._meta.db_table
        by_column = {f.column: f for f in model._meta.concrete_fields}
        missing = [c for c in columns if c not in by_column]
        if missing:
            raise ImproperlyConfigured(f"{self.name} has no column {missing}")
        self.fields = [by_column[c] for c in columns]
        self.extra: list = []  # per row: callables or constants for columns the generator does not know
        for column, f in by_column.items():
            if column in columns:
                continue
            if f.has_default():
                if callable(f.default) and f.unique:
                    self.extra.append(f.default)
                else:
                    self.extra.append(_Const(f.get_default()))
            elif f.null:
                self.extra.append(_Const(None))
            else:
                raise ImproperlyConfigured(f"history: {self.name}.{column} needs a value")
            self.fields.append(f)
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []

    def add(self, row: tuple) -> None:
        if self.extra:
            row = row + tuple(p() for p in self.extra)
        self.rows.append(row)


class _Const:
    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value


class Ids:
    """Reserves primary keys in blocks, so rows can reference each other before they are written."""

    def __init__(self, model: type[models.Model]):
        self.table = model._meta.db_table
        self.next = 0
        self.end = 0

    def reserve(self, count: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
                    [self.table, self.table, count - 1],
                )
                self.end = cursor.fetchone()[0] + 1
            else:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')  # noqa: S608 — our table
                self.end = max(cursor.fetchone()[0] + 1, self.end) + count
        self.next = self.end - count

    def take(self) -> int:
        if self.next >= self.end:
            self.reserve(BATCH_STORIES * 8)
        value = self.next
        self.next += 1
        return value


def _write(table: Table) -> None:
    if not table.rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(f'"{c}"' for c in table.columns)
            json_columns = [i for i, f in enumerate(table.fields) if isinstance(f, models.JSONField)]
            with cursor.cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in table.rows:
                    if json_columns:
                        row = list(row)
                        for i in json_columns:
                            row[i] = None if row[i] is None else json.dumps(row[i])
                    copy.write_row(row)
        else:
            preps = [f.get_db_prep_save if _needs_prep(f) else None for f in table.fields]
            rows = [[p(v, connection) if p else v for p, v in zip(preps, row, strict=True)] for row in table.rows]
            placeholders = ", ".join(["%s"] * len(table.columns))
            columns = ", ".join(f'"{c}"' for c in table.columns)
            cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({placeholders})', rows)  # noqa: S608
    table.rows = []


def _needs_prep(f: models.Field) -> bool:
    return isinstance(f, models.DateTimeField | models.UUIDField | models.JSONField | models.DecimalField)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else EPOCH + timedelta(seconds=ts)


# --- The generator ------------------------------------------------------------------------------------------


@dataclass
class ContactState:
    id: int
    has_email: bool
    opts_out: bool
    free_at: float = 0.0  # the contact's last conversation (or scheduled return) ends here
    last_invited: float = -1e18
    last_nps: float = -1e18
    opted_out: bool = False
    locale: str = "en"


class HistoryGenerator:
    def __init__(self, worlds: list[InboxWorld], *, now: datetime, rng: random.Random):
        self.worlds = worlds
        self.now = now.timestamp()
        self.rng = rng
        self.contacts_by_id: dict[int, ContactState] = {}
        self.ids = {
            m: Ids(m)
            for m in (Contact, Ticket, Conversation, Message, ReportingEvent, SurveyInvitation, SurveyResponse)
        }
        self.contact = Table(
            Contact,
            [
                "id",
                "inbox_id",
                "visitor_id",
                "name",
                "email",
                "locale",
                "last_page_url",
                "notes",
                "survey_opt_out",
                "first_seen_at",
                "last_seen_at",
            ],
        )
        self.ticket = Table(
            Ticket,
            [
                "id",
                "inbox_id",
                "channel_kind",
                "contact_id",
                "subject",
                "status",
                "priority",
                "assignee_id",
                "team_id",
                "created_at",
                "first_response_at",
                "first_response_seconds",
                "first_response_business_seconds",
                "resolved_at",
                "resolution_seconds",
                "resolution_business_seconds",
                "reopen_count",
                "last_reopened_at",
                "conversation_count",
                "min_reopen_gap_seconds",
                "pending_since",
                "pending_business_seconds",
                "first_response_due_at",
                "resolution_due_at",
                "first_response_at_risk_at",
                "resolution_at_risk_at",
                "first_response_at_risk",
                "first_response_breached",
                "resolution_at_risk",
                "resolution_breached",
                "updated_at",
            ],
        )
        self.conversation = Table(
            Conversation,
            [
                "id",
                "inbox_id",
                "channel_kind",
                "contact_id",
                "ticket_id",
                "status",
                "end_reason",
                "assignee_id",
                "team_id",
                "transfer_count",
                "requested_at",
                "assigned_at",
                "first_response_at",
                "ended_at",
                "last_message_at",
                "visitor_connection_count",
                "visitor_last_seen_at",
                "updated_at",
            ],
        )
        self.message = Table(
            Message,
            [
                "id",
                "conversation_id",
                "sender",
                "author_id",
                "author_name",
                "body",
                "private",
                "canned_reply_id",
                "client_id",
                "created_at",
            ],
        )
        self.event = Table(
            ReportingEvent,
            [
                "id",
                "name",
                "inbox_id",
                "channel_kind",
                "ticket_id",
                "conversation_id",
                "operator_id",
                "team_id",
                "event_start",
                "event_end",
                "value_seconds",
                "value_business_seconds",
                "created_at",
            ],
        )
        self.invitation = Table(
            SurveyInvitation,
            [
                "id",
                "conversation_id",
                "contact_id",
                "ticket_id",
                "inbox_id",
                "channel_kind",
                "operator_id",
                "team_id",
                "token",
                "questions",
                "language",
                "comment_label",
                "thank_you",
                "includes_nps",
                "status",
                "created_at",
                "sent_at",
                "widget_sent_at",
                "email_due_at",
                "emailed_at",
                "answered_at",
                "expires_at",
            ],
        )
        self.response = Table(
            SurveyResponse,
            [
                "id",
                "invitation_id",
                "csat",
                "csat_scale",
                "ces",
                "ces_scale",
                "nps",
                "comment",
                "channel",
                "created_at",
            ],
        )
        self.tables = [
            self.contact,
            self.ticket,
            self.conversation,
            self.message,
            self.event,
            self.invitation,
            self.response,
        ]
        self.counts = {"conversations": 0, "tickets": 0, "messages": 0, "events": 0, "invitations": 0, "responses": 0}

    # -- helpers
    def _lognormal(self, median: float, sigma: float) -> float:
        return self.rng.lognormvariate(math.log(median), sigma)

    def _event(
        self,
        w: InboxWorld,
        name: str,
        start: float,
        end: float,
        *,
        ticket=None,
        conversation=None,
        operator=None,
        team=None,
    ) -> None:
        end = max(end, start)
        self.event.add(
            (
                self.ids[ReportingEvent].take(),
                name,
                w.inbox.pk,
                w.inbox.kind,
                ticket,
                conversation,
                operator,
                team,
                _dt(start),
                _dt(end),
                end - start,
                w.clock.between(start, end),
                _dt(end),
            )
        )
        self.counts["events"] += 1

    def _message(
        self,
        conversation_id: int,
        sender: str,
        at: float,
        body: str,
        *,
        author: OperatorTrait | None = None,
        private: bool = False,
        canned: int | None = None,
    ) -> None:
        self.message.add(
            (
                self.ids[Message].take(),
                conversation_id,
                sender,
                author.user_id if author else None,
                author.name if author else "",
                body,
                private,
                canned,
                None,
                _dt(at),
            )
        )
        self.counts["messages"] += 1

    def _pick_contact(self, w: InboxWorld, at: float) -> ContactState:
        rng = self.rng
        if w.contacts and rng.random() < 0.35:
            candidate = self.contacts_by_id[w.contacts[rng.randrange(len(w.contacts))]]
            if candidate.free_at < at:
                return candidate
        contact_id = self.ids[Contact].take()
        has_email = rng.random() < 0.6 or w.inbox.kind == ChannelKind.EMAIL
        # Some contacts opt out from a survey e-mail later; the row holds the final state.
        locale = rng.choice(("en", "en", "fa", "de"))
        state = ContactState(contact_id, has_email, opts_out=has_email and rng.random() < 0.03, locale=locale)
        self.contact.add(
            (
                contact_id,
                w.inbox.pk,
                uuid.uuid4(),
                f"Visitor {contact_id}" if rng.random() < 0.7 else "",
                f"visitor{contact_id}@example.org" if has_email else "",
                locale,
                "https://shop.example.com/help",
                "",
                state.opts_out,
                _dt(at),
                _dt(at),
            )
        )
        self.contacts_by_id[contact_id] = state
        w.contacts.append(contact_id)
        if len(w.contacts) > 3000:
            del w.contacts[:1000]
        return state

    # -- one ticket with its conversation(s)
    def story(self, w: InboxWorld, at: float, contact: ContactState | None = None) -> int:
        """Generates a ticket and its conversation(s) starting at `at`; returns the number of conversations."""
        rng = self.rng
        if w.inbox.kind in LIVE_KINDS and not w.clock.is_open(at) and rng.random() < 0.85:
            # The widget said "closed": most visitors came back when it opened.
            at = w.clock.next_opening(at) + rng.uniform(0, 3600)
            if at > self.now - 3 * 3600:
                return 0
        contact = contact or self._pick_contact(w, at)
        ticket_id = self.ids[Ticket].take()
        team_id = w.inbox.team_id
        ticket = {
            "created": at,
            "first_response": None,
            "responder": None,
            "resolved": None,
            "resolver": None,
            "reopens": 0,
            "last_reopened": None,
            "conversations": 0,
            "pending_since": None,
            "paused": 0.0,
            "min_reopen_gap": None,
            "assignee": None,
        }
        self._event(w, ReportingEvent.Name.TICKET_CREATED, at, at, ticket=ticket_id, team=team_id)
        made = 1
        end = self._conversation(w, contact, ticket_id, ticket, at)
        # A reopen: the contact comes back about the same issue after the ticket was resolved.
        if ticket["resolved"] is not None and rng.random() < 0.06:
            back = ticket["resolved"] + self._lognormal(20 * 3600, 1.0)
            if back < self.now - 3 * 3600:
                self._event(
                    w, ReportingEvent.Name.TICKET_REOPENED, ticket["resolved"], back, ticket=ticket_id, team=team_id
                )
                ticket["reopens"] += 1
                ticket["last_reopened"] = back
                # The time it spent resolved does not count against its resolution target.
                ticket["paused"] += w.clock.between(ticket["resolved"], back)
                ticket["min_reopen_gap"] = back - ticket["resolved"]
                ticket["resolved"] = None
                end = self._conversation(w, contact, ticket_id, ticket, back)
                made += 1
        self._write_ticket(w, contact, ticket_id, team_id, ticket)
        contact.free_at = max(contact.free_at, end)
        # Sometimes the contact opens a new ticket on the same inbox soon after (breaks first contact resolution).
        if ticket["resolved"] is not None and rng.random() < 0.04:
            again = ticket["resolved"] + self._lognormal(30 * 3600, 0.9)
            if again < self.now - 3 * 3600:
                made += self.story(w, again, contact)
        return made

    def _write_ticket(self, w: InboxWorld, contact: ContactState, ticket_id: int, team_id, t: dict) -> None:
        created, fr, resolved = t["created"], t["first_response"], t["resolved"]
        clock = w.clock
        ratio = settings.SLA_AT_RISK_RATIO
        fr_due = clock.add(created, w.first_response_target)
        fr_risk = clock.add(created, w.first_response_target * ratio)
        res_due = clock.add(created, w.resolution_target + t["paused"])
        res_risk = clock.add(created, w.resolution_target * ratio + t["paused"])
        fr_wall = fr_business = res_wall = res_business = None
        if fr is not None:
            fr_wall, fr_business = fr - created, clock.between(created, fr)
        if resolved is not None:
            res_wall, res_business = resolved - created, clock.between(created, resolved)
            status = Ticket.Status.RESOLVED
        else:
            status = Ticket.Status.PENDING if t["pending_since"] is not None else Ticket.Status.OPEN
        pending_since = t["pending_since"] if status == Ticket.Status.PENDING else None
        # Flags as the SLA sweep and the services leave them.
        fr_breached = (fr if fr is not None else self.now) > fr_due
        fr_at_risk = fr_breached or (fr if fr is not None else self.now) >= fr_risk
        if resolved is not None:
            res_breached, res_at_risk = resolved > res_due, resolved >= res_risk
        else:
            running = status == Ticket.Status.OPEN
            res_breached, res_at_risk = running and self.now > res_due, running and self.now >= res_risk
        res_at_risk = res_at_risk or res_breached
        last = max(x for x in (created, fr, resolved, t["last_reopened"], pending_since) if x is not None)
        self.ticket.add(
            (
                ticket_id,
                w.inbox.pk,
                w.inbox.kind,
                contact.id,
                "",
                status,
                "high" if self.rng.random() < 0.1 else "normal",
                t["assignee"],
                team_id,
                _dt(created),
                _dt(fr),
                fr_wall,
                fr_business,
                _dt(resolved),
                res_wall,
                res_business,
                t["reopens"],
                _dt(t["last_reopened"]),
                t["conversations"],
                t["min_reopen_gap"],
                _dt(pending_since),
                t["paused"],
                _dt(fr_due),
                _dt(res_due),
                _dt(fr_risk),
                _dt(res_risk),
                fr_at_risk,
                fr_breached,
                res_at_risk,
                res_breached,
                _dt(last),
            )
        )
        self.counts["tickets"] += 1

    def _conversation(self, w: InboxWorld, contact: ContactState, ticket_id: int, ticket: dict, req: float) -> float:
        """One conversation of the ticket, requested at `req`; returns when it ended."""
        rng = self.rng
        kind = w.inbox.kind
        conv_id = self.ids[Conversation].take()
        ticket["conversations"] += 1
        team_id = w.inbox.team_id
        self._event(
            w,
            ReportingEvent.Name.CONVERSATION_REQUESTED,
            req,
            req,
            ticket=ticket_id,
            conversation=conv_id,
            team=team_id,
        )
        self._message(conv_id, Message.Sender.VISITOR, req, rng.choice(VISITOR_OPENERS))
        operator = rng.choice(w.operators)
        load = HOUR_LOAD[int((req % 86400) // 3600)]
        assigned = first_response = None
        transfers = 0
        end_reason = ""
        ended = None
        last_message = req
        if kind in LIVE_KINDS:
            frt = self._lognormal(28 * operator.speed * (0.6 + 0.4 * load), 0.85)
            patience = self._lognormal(420, 1.3)
            if not w.clock.is_open(req) or rng.random() < 0.008 * load:
                # Nobody available: turned into an offline message at once.
                end_reason, ended = Conversation.EndReason.MISSED, req + rng.uniform(2, 20)
            elif patience < min(frt, settings.QUEUE_TIMEOUT_SECONDS):
                if rng.random() < 0.5:
                    assigned = req + rng.uniform(0.5, 3)
                left = req + patience
                closed = rng.random() < 0.6
                end_reason = Conversation.EndReason.ABANDONED
                ended = left if closed else left + settings.ABANDONMENT_GRACE_SECONDS
                if rng.random() < 0.3:
                    self._message(conv_id, Message.Sender.VISITOR, req + patience * 0.7, "Hello? Anyone there?")
                    last_message = req + patience * 0.7
                self._event(
                    w,
                    ReportingEvent.Name.CONVERSATION_ABANDONED,
                    req,
                    left,
                    ticket=ticket_id,
                    conversation=conv_id,
                    operator=operator.user_id if assigned else None,
                    team=team_id,
                )
            elif frt >= settings.QUEUE_TIMEOUT_SECONDS:
                assigned = req + rng.uniform(0.5, 3)
                end_reason, ended = Conversation.EndReason.MISSED, req + settings.QUEUE_TIMEOUT_SECONDS
            else:
                assigned = req + rng.uniform(0.5, min(3, frt * 0.8))
                first_response = req + frt
            if end_reason == Conversation.EndReason.MISSED:
                self._message(conv_id, Message.Sender.SYSTEM, ended, SYSTEM_MISSED)
                last_message = ended
                self._event(
                    w,
                    ReportingEvent.Name.CONVERSATION_MISSED,
                    req,
                    ended,
                    ticket=ticket_id,
                    conversation=conv_id,
                    team=team_id,
                )
        else:
            # Offline form / e-mail: answered within business hours, hours later.
            business = self._lognormal((3 if kind == ChannelKind.EMAIL else 1.5) * 3600 * operator.speed, 1.0)
            assigned = req + rng.uniform(5, 60)
            first_response = w.clock.add(max(req, assigned), business)
            if first_response > self.now:
                first_response = None
        if assigned is not None:
            self._event(
                w,
                ReportingEvent.Name.CONVERSATION_ASSIGNED,
                req,
                assigned,
                ticket=ticket_id,
                conversation=conv_id,
                operator=operator.user_id,
                team=team_id,
            )
        status = Conversation.Status.QUEUED if assigned is None else Conversation.Status.ACTIVE
        if first_response is not None:
            answered_by = operator
            canned = rng.choice(w.canned_ids) if rng.random() < operator.canned else None
            self._message(
                conv_id,
                Message.Sender.OPERATOR,
                first_response,
                rng.choice(OPERATOR_REPLIES),
                author=operator,
                canned=canned,
            )
            last_message = first_response
            if ticket["first_response"] is None:
                ticket["first_response"] = first_response
                ticket["assignee"] = operator.user_id
                self._event(
                    w,
                    ReportingEvent.Name.FIRST_RESPONSE,
                    ticket["created"],
                    first_response,
                    ticket=ticket_id,
                    conversation=conv_id,
                    operator=operator.user_id,
                    team=team_id,
                )
            live = kind in LIVE_KINDS
            step = 90.0 if live else 4 * 3600.0
            t = first_response
            for _ in range(rng.choices((0, 1, 2, 3), (3, 4, 2, 1))[0]):
                t += self._lognormal(step * 0.5, 0.7)
                self._message(conv_id, Message.Sender.VISITOR, t, rng.choice(VISITOR_FOLLOWUPS))
                t += self._lognormal(step * 0.6 * operator.speed, 0.7)
                if live and transfers < 2 and len(w.operators) > 1 and rng.random() < 0.06:
                    operator = rng.choice([o for o in w.operators if o is not operator])
                    transfers += 1
                    self._event(
                        w,
                        ReportingEvent.Name.CONVERSATION_TRANSFERRED,
                        t - 5,
                        t - 5,
                        ticket=ticket_id,
                        conversation=conv_id,
                        operator=operator.user_id,
                        team=operator.team_id,
                    )
                    team_id = operator.team_id
                if rng.random() < 0.04:
                    self._message(
                        conv_id,
                        Message.Sender.OPERATOR,
                        t - 1,
                        rng.choice(PRIVATE_NOTES),
                        author=operator,
                        private=True,
                    )
                canned = rng.choice(w.canned_ids) if rng.random() < operator.canned else None
                self._message(
                    conv_id, Message.Sender.OPERATOR, t, rng.choice(OPERATOR_REPLIES), author=operator, canned=canned
                )
            last_message = t
            roll = rng.random()
            if not live:
                end_reason = Conversation.EndReason.RESOLVED if roll < 0.9 else Conversation.EndReason.CLOSED_BY_VISITOR
                ended = t + self._lognormal(3600, 1.0)
            elif roll < 0.72:
                end_reason, ended = Conversation.EndReason.RESOLVED, t + rng.uniform(10, 120)
            elif roll < 0.9:
                end_reason, ended = Conversation.EndReason.CLOSED_BY_VISITOR, t + rng.uniform(5, 60)
            else:
                end_reason = Conversation.EndReason.VISITOR_LEFT
                ended = t + settings.VISITOR_INACTIVITY_TIMEOUT_SECONDS
            if ended > self.now:
                end_reason, ended = "", None
            else:
                event_name = {
                    Conversation.EndReason.RESOLVED: ReportingEvent.Name.CONVERSATION_RESOLVED,
                    Conversation.EndReason.CLOSED_BY_VISITOR: ReportingEvent.Name.CONVERSATION_CLOSED,
                    Conversation.EndReason.VISITOR_LEFT: ReportingEvent.Name.CONVERSATION_VISITOR_LEFT,
                }[end_reason]
                self._event(
                    w,
                    event_name,
                    req,
                    ended,
                    ticket=ticket_id,
                    conversation=conv_id,
                    operator=operator.user_id,
                    team=team_id,
                )
                # The ticket: resolved with the conversation, mostly; sometimes left waiting on the customer.
                if end_reason == Conversation.EndReason.RESOLVED or rng.random() < 0.75:
                    ticket["resolved"] = ended
                    ticket["assignee"] = operator.user_id
                    ticket["pending_since"] = None
                    self._event(
                        w,
                        ReportingEvent.Name.TICKET_RESOLVED,
                        ticket["created"],
                        ended,
                        ticket=ticket_id,
                        conversation=conv_id,
                        operator=operator.user_id,
                        team=w.inbox.team_id,
                    )
                else:
                    ticket["pending_since"] = ended
                self._survey(w, contact, conv_id, ticket_id, answered_by, operator, team_id, ended)
        elif end_reason == Conversation.EndReason.MISSED and rng.random() < 0.7:
            # The offline message is answered by e-mail later; the conversation itself stays unanswered.
            later = w.clock.add(ended, self._lognormal(2 * 3600, 1.0))
            if later < self.now:
                if ticket["first_response"] is None:
                    ticket["first_response"] = later
                    ticket["assignee"] = operator.user_id
                    self._event(
                        w,
                        ReportingEvent.Name.FIRST_RESPONSE,
                        ticket["created"],
                        later,
                        ticket=ticket_id,
                        operator=operator.user_id,
                        team=team_id,
                    )
                resolved = later + self._lognormal(1800, 1.0)
                if resolved < self.now:
                    ticket["resolved"] = resolved
                    self._event(
                        w,
                        ReportingEvent.Name.TICKET_RESOLVED,
                        ticket["created"],
                        resolved,
                        ticket=ticket_id,
                        operator=operator.user_id,
                        team=team_id,
                    )
        if ended is not None:
            status = Conversation.Status.ENDED
        assignee = operator.user_id if (assigned is not None) else None
        updated = max(x for x in (req, assigned, first_response, ended, last_message) if x is not None)
        self.conversation.add(
            (
                conv_id,
                w.inbox.pk,
                kind,
                contact.id,
                ticket_id,
                status,
                end_reason,
                assignee,
                team_id,
                transfers,
                _dt(req),
                _dt(assigned),
                _dt(first_response),
                _dt(ended),
                _dt(last_message),
                0,
                _dt(ended or last_message),
                _dt(updated),
            )
        )
        self.counts["conversations"] += 1
        return ended if ended is not None else self.now + 365 * 86400

    def _survey(
        self,
        w: InboxWorld,
        contact: ContactState,
        conv_id: int,
        ticket_id: int,
        answered_by: OperatorTrait,
        operator: OperatorTrait,
        team_id,
        ended: float,
    ) -> None:
        """The one invitation after an answered, ended conversation (cooldown, opt-out and NPS interval kept)."""
        template = w.template
        if template is None or contact.opted_out or ended - contact.last_invited < settings.SURVEY_COOLDOWN_SECONDS:
            return
        rng = self.rng
        contact.last_invited = ended
        created = ended + rng.uniform(1, 5)
        includes_nps = template.ask_nps and created - contact.last_nps >= settings.NPS_INTERVAL_SECONDS
        if includes_nps:
            contact.last_nps = created
        language = "fa" if contact.locale == "fa" else (w.inbox.language or "en")
        snapshot_key = (language, includes_nps)
        if snapshot_key not in w.snapshots:
            w.snapshots[snapshot_key] = survey_questions_snapshot(
                template=template, language=language, include_nps=includes_nps
            )
        snapshot = w.snapshots[snapshot_key]
        live = w.inbox.kind in LIVE_KINDS
        in_widget = live and rng.random() < 0.85
        email_due = created + settings.SURVEY_EMAIL_DELAY_SECONDS if contact.has_email else None
        expires = created + settings.SURVEY_EXPIRY_SECONDS
        answered_at = channel = None
        emailed = None
        if in_widget and rng.random() < 0.35:
            answered_at, channel = created + rng.uniform(5, 120), "widget"
        elif email_due is not None:
            emailed = email_due
            if rng.random() < 0.18:
                answered_at, channel = email_due + self._lognormal(3 * 3600, 1.2), "email"
                if answered_at > expires:
                    answered_at = channel = None
            if contact.opts_out:
                contact.opted_out = True
        for t in (answered_at, emailed):
            if t is not None and t > self.now:
                if t == answered_at:
                    answered_at = channel = None
                else:
                    emailed = None
        if answered_at is not None:
            status = SurveyInvitation.Status.ANSWERED
        elif expires < self.now:
            status = SurveyInvitation.Status.EXPIRED
        else:
            status = SurveyInvitation.Status.SENT
        invitation_id = self.ids[SurveyInvitation].take()
        self.invitation.add(
            (
                invitation_id,
                conv_id,
                contact.id,
                ticket_id,
                w.inbox.pk,
                w.inbox.kind,
                operator.user_id,
                team_id,
                secrets.token_urlsafe(24),
                snapshot["questions"],
                language,
                snapshot["comment_label"],
                snapshot["thank_you"],
                includes_nps,
                status,
                _dt(created),
                _dt(created),
                _dt(created) if in_widget else None,
                _dt(email_due),
                _dt(emailed),
                _dt(answered_at),
                _dt(expires),
            )
        )
        self.counts["invitations"] += 1
        if answered_at is None:
            return
        # Scores lean on the operator's quality; a slow first answer costs a little.
        mood = rng.gauss(0.78 + 0.2 * operator.quality + 0.1 * answered_by.quality, 0.22)
        mood = min(max(mood, 0.0), 1.0)
        csat = ces = nps = None
        if template.ask_csat:
            csat = 1 + round(mood * 4) if template.csat_scale == "1-5" else round(mood * 10)
        if template.ask_ces:
            lo, hi = {"1-7": (1, 7), "1-5": (1, 5), "0-10": (0, 10), "0-3": (0, 3), "0-5": (0, 5)}[template.ces_scale]
            ease = min(max(mood + rng.gauss(0, 0.15), 0.0), 1.0)
            ces = lo + round(ease * (hi - lo))
        if includes_nps:
            nps = min(10, max(0, round(mood * 10 + rng.gauss(0.5, 1.2))))
        comment = rng.choice(("", "", "", "Quick and friendly, thanks!", "Took a while to get an answer."))
        self.response.add(
            (
                self.ids[SurveyResponse].take(),
                invitation_id,
                csat,
                template.csat_scale if csat is not None else "",
                ces,
                template.ces_scale if ces is not None else "",
                nps,
                comment,
                channel,
                _dt(answered_at),
            )
        )
        self.counts["responses"] += 1

    def flush(self) -> None:
        with transaction.atomic():
            for table in self.tables:
                _write(table)


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
    worlds = _ensure_world(first_day, now, rng)
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

        def one_story(base: float) -> bool:
            nonlocal made, stories
            hour = bisect.bisect_left(hour_cum, rng.random() * hour_cum[-1])
            at = base + hour * 3600 + rng.random() * 3600
            if at > end_ts:
                return False
            step = generator.story(rng.choices(worlds, inbox_weights)[0], at)
            made += step
            stories += 1
            bar.update(step)
            if stories % BATCH_STORIES == 0:
                generator.flush()
            return step > 0

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
    counts = dict(generator.counts, contacts=len(generator.contacts_by_id))
    return counts


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
