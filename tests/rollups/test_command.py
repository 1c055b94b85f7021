"""manage.py rollups rebuild | refresh, as an operator of the desk runs them."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rollups.models import Rollup, RollupMark
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_rebuild_builds_every_day_of_history_and_clears_the_marks():
    TicketFactory(created_at=datetime(2026, 6, 1, 10, tzinfo=UTC))
    TicketFactory(created_at=datetime(2026, 6, 3, 10, tzinfo=UTC))
    assert RollupMark.objects.count() == 2
    out = StringIO()
    call_command("rollups", "rebuild", stdout=out)
    assert "rebuilt" in out.getvalue()
    assert sorted(
        str(d) for d in Rollup.objects.filter(source="created", grain="day", grouping=0).values_list("day", flat=True)
    ) == [
        "2026-06-01",
        "2026-06-03",
    ]
    assert not RollupMark.objects.exists()


def test_rebuild_since_a_day_keeps_the_days_before_and_rebuilds_marked_ones():
    TicketFactory(created_at=datetime(2026, 6, 1, 10, tzinfo=UTC))
    call_command("rollups", "rebuild", stdout=StringIO())
    TicketFactory(created_at=datetime(2026, 6, 1, 11, tzinfo=UTC))
    call_command("rollups", "rebuild", "--since", "2026-06-02", stdout=StringIO())
    june_first = Rollup.objects.filter(source="created", grain="day", grouping=15, day="2026-06-01")
    assert sum(row.data["created"] for row in june_first) == 2
    assert not RollupMark.objects.exists()


def test_a_malformed_day_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rollups", "rebuild", "--since", "1 June", stdout=StringIO())


def test_refresh_rebuilds_the_marked_days():
    TicketFactory(created_at=datetime(2026, 6, 1, 10, tzinfo=UTC))
    out = StringIO()
    call_command("rollups", "refresh", stdout=out)
    assert "from 1 marks" in out.getvalue()
    assert Rollup.objects.get(source="created", grain="month", grouping=0, day="2026-06-01").data["created"] == 1
