"""A report reads the rollups as beat left them while beat is on time (refreshing a big desk's day costs seconds,
and under live traffic there are always marks), says as of when, and refreshes them itself once beat is late."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from rollups import selectors as rollups
from rollups.services import refresh
from tests.factories import TicketFactory
from tickets.selectors.filters import MetricFilter

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = MetricFilter(start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 6, 2, tzinfo=UTC))


def _created() -> tuple[int, datetime]:
    with rollups.reading() as read:
        return rollups.ticket_created_metrics(filters=DAY)[None]["counts"]["created"], read.as_of


def test_a_report_reads_what_beat_left_until_beat_is_late(settings):
    settings.ROLLUPS_REFRESH_SECONDS = 20
    with time_machine.travel(NOW, tick=False):
        refresh()
        TicketFactory(created_at=NOW - timedelta(hours=1))
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        # Beat refreshed 30 s ago, within its two periods: the new ticket waits for the next refresh.
        assert _created() == (0, NOW)
    with time_machine.travel(NOW + timedelta(seconds=41), tick=False):
        assert _created() == (1, NOW + timedelta(seconds=41))
