"""Every change of an operator's status is logged as stretches of time, which the reports read online time from."""

import datetime as dt

import pytest
import time_machine

from chat.models import PresenceInterval
from chat.services.presence import operator_status_set
from rollups import selectors as rollups
from tests.factories import OperatorFactory
from tickets.selectors.filters import MetricFilter

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2030, 1, 7, hour, minute, tzinfo=dt.UTC)


def _set(profile, status, when):
    with time_machine.travel(when, tick=False):
        operator_status_set(profile=profile, status=status)


def _online(day: dt.date, *, now: dt.datetime, **selection) -> dict:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    filters = MetricFilter(start=start, end=start + dt.timedelta(days=1), **selection)
    with time_machine.travel(now, tick=False):
        return {k: v["online_s"] for k, v in rollups.operator_time(filters=filters, by="operator").items()}


def test_online_and_away_stretches_are_logged_and_online_time_is_read_per_day():
    sara = OperatorFactory(status="offline")
    _set(sara, "online", at(9))
    _set(sara, "away", at(9, 30))
    _set(sara, "online", at(9, 40))
    _set(sara, "offline", at(10))
    _set(sara, "online", at(23))
    _set(sara, "offline", at(23) + dt.timedelta(hours=2))
    stretches = list(PresenceInterval.objects.order_by("started_at").values_list("status", "started_at", "ended_at"))
    assert stretches[:3] == [
        ("online", at(9), at(9, 30)),
        ("away", at(9, 30), at(9, 40)),
        ("online", at(9, 40), at(10)),
    ]

    later = at(12) + dt.timedelta(days=2)
    assert _online(at(0).date(), now=later) == {sara.user_id: 50 * 60 + 3600}
    # A stretch across midnight counts in each day for its part.
    assert _online(at(0).date() + dt.timedelta(days=1), now=later) == {sara.user_id: 3600}
    assert _online(at(0).date() + dt.timedelta(days=2), now=later) == {}


def test_an_open_stretch_counts_until_now_and_setting_the_same_status_logs_nothing():
    omar = OperatorFactory(status="offline")
    _set(omar, "online", at(8))
    _set(omar, "online", at(8, 30))
    assert PresenceInterval.objects.filter(operator=omar.user).count() == 1
    assert _online(at(0).date(), now=at(9)) == {omar.user_id: 3600}
    assert _online(at(0).date(), now=at(9, 30)) == {omar.user_id: 5400}


def test_the_selection_narrows_whose_time_is_read():
    sara, omar = OperatorFactory(status="offline"), OperatorFactory(status="offline")
    for operator in (sara, omar):
        _set(operator, "online", at(9))
        _set(operator, "offline", at(10))
    assert _online(at(0).date(), now=at(12)) == {sara.user_id: 3600, omar.user_id: 3600}
    assert _online(at(0).date(), now=at(12), operator_ids=(omar.user_id,)) == {omar.user_id: 3600}


def test_the_reports_api_gives_online_time_per_operator_per_team_and_in_all(client, settings):
    from tests.factories import TeamFactory
    from tests.reports.conftest import make_manager

    front = TeamFactory(name="Front")
    sara = OperatorFactory(display_name="Sara", status="offline", teams=[front])
    omar = OperatorFactory(display_name="Omar", status="offline")
    _set(sara, "online", at(9))
    _set(sara, "offline", at(10))
    _set(omar, "online", at(9))
    _set(omar, "away", at(9, 30))
    period = {"period": "custom", "start": "2030-01-07", "end": "2030-01-07"}
    with time_machine.travel(at(12), tick=False):
        client.force_login(make_manager())
        response = client.get("/api/v1/reports/summary", period)
        assert response.status_code == 200, response.content
        summary = response.json()["figures"]
        by_operator = client.get("/api/v1/reports/by-operator", period).json()
    assert summary["online_seconds"] == 3600 + 1800
    assert {r["label"]: r["online_seconds"] for r in by_operator["operators"]} == {"Omar": 1800, "Sara": 3600}
    assert {r["label"]: r["online_seconds"] for r in by_operator["teams"]} == {"Front": 3600}


def test_a_status_set_in_the_admin_is_logged_too(admin_client):
    sara = OperatorFactory(status="offline")
    form = {
        "user": sara.user_id,
        "display_name": sara.display_name,
        "status": "online",
        "max_chats": 3,
        "teams": [],
        "inboxes": [],
    }
    response = admin_client.post(f"/admin/chat/operatorprofile/{sara.pk}/change/", form)
    assert response.status_code == 302, response.content[:800]
    sara.refresh_from_db()
    assert sara.status == "online"
    assert list(PresenceInterval.objects.values_list("operator_id", "status", "ended_at")) == [
        (sara.user_id, "online", None)
    ]
