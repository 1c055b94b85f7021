"""The demo data that `make run` starts with: one team, two operators, a manager, two widget inboxes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string

from chat.models import CannedReply, ChannelKind, Inbox, Label, OperatorProfile, Team
from mail.models import MailAccount
from surveys.models import SurveyTemplate

DEMO_SITE_PORT = 8001
# The demo website's pages and the inbox each embeds.
DEMO_PAGES = {"index.html": "demo-site-key", "fa.html": "demo-site-key-fa"}
# A demo website on this machine, on whatever port rundesk serves it.
LOCAL_ORIGIN = re.compile(r"http://(127\.0\.0\.1|localhost):\d+")


def demo_site_origins(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


DEMO_ORIGINS = demo_site_origins(DEMO_SITE_PORT)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


MANAGER = DemoLogin("admin", "admin-demo", "manager (admin, reports)")
OPERATORS = [DemoLogin("sara", "sara-demo", "operator"), DemoLogin("ali", "ali-demo", "operator")]

CANNED_REPLIES = [
    ("hello", "Greeting", "Hi! Thanks for reaching out. How can I help you today?", "en"),
    ("wait", "One moment", "Thanks for waiting, I'm checking that for you now.", "en"),
    ("shipping", "Shipping times", "Orders ship within 1–2 business days; delivery takes 3–5 days.", "en"),
    ("bye", "Goodbye", "Glad I could help. Have a great day!", "en"),
    ("salam", "سلام", "سلام! ممنون که با ما در تماس هستید. چطور می‌توانم کمکتان کنم؟", "fa"),
]


def _user(login: DemoLogin, *, superuser: bool = False):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=login.username,
        defaults={"is_staff": True, "is_superuser": superuser, "email": f"{login.username}@example.com"},
    )
    if created:
        # Only on creation: a second run must change nothing (a new hash would).
        user.set_password(login.password)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def create_demo() -> dict:
    team, _ = Team.objects.get_or_create(name="Support")
    website, _ = Inbox.objects.get_or_create(
        site_key="demo-site-key",
        defaults={
            "name": "Acme Outdoor website",
            "kind": ChannelKind.WEB_WIDGET,
            "team": team,
            "allowed_origins": DEMO_ORIGINS,
            "greeting": "Hi there! Questions about gear or an order? We're happy to help.",
            "brand_color": "#2d6a4f",
            "language": "en",
        },
    )
    persian, _ = Inbox.objects.get_or_create(
        site_key="demo-site-key-fa",
        defaults={
            "name": "فروشگاه آکمه",
            "kind": ChannelKind.WEB_WIDGET,
            "team": team,
            "allowed_origins": DEMO_ORIGINS,
            "greeting": "سلام! سوالی دربارهٔ سفارش یا محصولات دارید؟ در خدمتیم.",
            "brand_color": "#6a2d5f",
            "position": Inbox.Position.LEFT,
            "language": "fa",
            "time_zone": "Asia/Tehran",
        },
    )
    helpdesk, _ = Inbox.objects.get_or_create(
        site_key="demo-email",
        defaults={"name": "Acme help by e-mail", "kind": ChannelKind.EMAIL, "team": team, "language": "en"},
    )
    for inbox in (website, persian, helpdesk):
        SurveyTemplate.objects.get_or_create(inbox=inbox, defaults={"ask_csat": True, "ask_ces": True})
    # Offline messages of the websites are answered from these addresses; mail to help@ opens e-mail tickets.
    for inbox, address in ((website, "shop@demo.test"), (persian, "shop-fa@demo.test"), (helpdesk, "help@demo.test")):
        MailAccount.objects.get_or_create(inbox=inbox, defaults={"address": address})

    _user(MANAGER, superuser=True)
    for login, name in zip(OPERATORS, ["Sara", "Ali"], strict=True):
        user = _user(login)
        profile, _ = OperatorProfile.objects.get_or_create(user=user, defaults={"display_name": name})
        profile.teams.add(team)
        profile.inboxes.add(website, persian, helpdesk)

    for shortcut, title, body, language in CANNED_REPLIES:
        CannedReply.objects.get_or_create(
            team=team, inbox=None, shortcut=shortcut, language=language, defaults={"title": title, "body": body}
        )
    # Labels operators tag conversations with (global: every inbox), and the reports break down by.
    for name, colour in DEMO_LABELS:
        Label.objects.get_or_create(inbox=None, name=name, defaults={"colour": colour})
    return {"team": team, "inboxes": [website, persian, helpdesk]}


DEMO_LABELS = [("Billing", "#8250df"), ("Shipping", "#1f6feb"), ("Returns", "#bf8700"), ("Bug", "#d1242f")]


def demo_origins_follow(*, site_port: int) -> None:
    """The demo inboxes allow the demo website where it is served now (`rundesk --site-port`), and no longer
    where it was served before; origins a manager added for other sites stay."""
    for inbox in Inbox.objects.filter(site_key__in=DEMO_PAGES.values()):
        kept = [origin for origin in inbox.allowed_origins or [] if not LOCAL_ORIGIN.fullmatch(str(origin))]
        origins = kept + demo_site_origins(site_port)
        if origins != inbox.allowed_origins:
            inbox.allowed_origins = origins
            inbox.save(update_fields=["allowed_origins"])


def render_demo_site(*, desk_url: str, site_key: str, persian: bool = False) -> str:
    """The demo shop's page, embedding the widget of `desk_url` with the one tag of the protocol."""
    return render_to_string("demo/site.html", {"site_key": site_key, "desk_url": desk_url, "persian": persian})
