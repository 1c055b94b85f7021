"""Figures are kept for a few minutes, and beat refreshes the dashboard's presets before anyone waits."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from chat.models import ChannelKind
from supportdesk.reports import figures
from supportdesk.reports.query import ReportForm
from supportdesk.reports.tasks import reports_warm_cache
from tests.factories import ConversationFactory


@pytest.fixture
def cached(settings):
    settings.REPORTS_CACHE_SECONDS = 300
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _last_7_days():
    form = ReportForm({"period": "7d"})
    assert form.is_valid()
    return form.report_query()


@pytest.mark.django_db
def test_a_cached_report_is_refreshed_by_the_beat_task(cached, history, frozen_now):
    query = _last_7_days()
    # 3–9 March: c2 … c7.
    assert figures.summary(query)["requested"] == 6
    ConversationFactory(inbox=history.web, channel_kind=ChannelKind.WEB_WIDGET, requested_at=timezone.now())
    assert figures.summary(query)["requested"] == 6  # still the stored figures
    reports_warm_cache()
    assert figures.summary(query)["requested"] == 7


@pytest.mark.django_db
def test_with_the_default_settings_figures_are_at_most_a_minute_behind(history, frozen_now, settings):
    """metrics.md: figures are at most 60 s behind the events that make them (the default kept them 15 min)."""
    from supportdesk import settings as desk_settings

    settings.REPORTS_CACHE_SECONDS = desk_settings.REPORTS_CACHE_SECONDS
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # what an earlier test stored for the same selection
    query = _last_7_days()
    assert figures.summary(query)["requested"] == 6
    ConversationFactory(inbox=history.web, channel_kind=ChannelKind.WEB_WIDGET, requested_at=timezone.now())
    with time_machine.travel(frozen_now + dt.timedelta(seconds=61), tick=False):
        assert figures.summary(query)["requested"] == 7
    assert desk_settings.CELERY_BEAT_SCHEDULE["reports-warm-cache"]["schedule"] < 60


@pytest.mark.django_db
def test_without_cache_every_view_computes(history, frozen_now, settings):
    settings.REPORTS_CACHE_SECONDS = 0
    query = _last_7_days()
    assert figures.summary(query)["requested"] == 6
    ConversationFactory(inbox=history.web, channel_kind=ChannelKind.WEB_WIDGET, requested_at=timezone.now())
    assert figures.summary(query)["requested"] == 7


UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


@pytest.mark.django_db
def test_while_the_cache_is_unreachable_figures_are_computed(history, frozen_now, settings):
    # Redis restarting: the cache only saves work, so the report still answers.
    settings.REPORTS_CACHE_SECONDS = 300
    settings.CACHES = UNREACHABLE_REDIS
    assert figures.summary(_last_7_days())["requested"] == 6
