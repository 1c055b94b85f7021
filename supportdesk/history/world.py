"""The world a history happens in: traffic shape, texts, and the inboxes, teams and operators (idempotent)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.contrib.auth import get_user_model

from chat.models import CannedReply, ChannelKind, Inbox, OperatorProfile, Team
from supportdesk.history.clock import BusinessClock
from surveys.models import SurveyTemplate
from tickets.models import BusinessHoursInterval
from tickets.services import sla_targets_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


def ensure_world(start: datetime, end: datetime, rng: random.Random) -> list[InboxWorld]:
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
