"""Mail tests: an e-mail inbox with its account and operator, and the SMTP sink the desk sends through."""

from __future__ import annotations

import pytest

from chat.models import ChannelKind
from mail.models import MailAccount
from tests.factories import InboxFactory, OperatorFactory
from tests.mail.mails import ADDRESS, Sink


@pytest.fixture(autouse=True)
def _limits_of_earlier_tests_forgotten():
    """The per-sender limits count in the shared cache, which outlives a test: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def account(db):
    inbox = InboxFactory(kind=ChannelKind.EMAIL, name="Shop help")
    return MailAccount.objects.create(inbox=inbox, address=ADDRESS)


@pytest.fixture
def operator(account):
    return OperatorFactory(inboxes=[account.inbox], display_name="Sara")


@pytest.fixture
def smtp_sink(settings):
    """The desk sends through a real SMTP session to this server (Django's SMTP backend)."""
    sink = Sink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()
