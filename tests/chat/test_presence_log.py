"""Every change of an operator's status is logged as stretches of time, which the reports read online time from."""

import datetime as dt

import pytest
import time_machine

from chat.models import PresenceInterval
from chat.services.presence import operator_status_set
from supportdesk.reports.selectors import operator_online_seconds
from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2030, 1, 7, hour, minute, tzinfo=dt.UTC)


def _set(profile, status, when):
    with time_machine.travel(when, tick=False):
        operator_status_set(profile=profile, status=status)


def test_online_and_away_stretches_are_logged_and_online_time_is_read_within_the_period():
    sara = OperatorFactory(status="offline")
    _set(sara, "online", at(9))
    _set(sara, "away", at(9, 30))
    _set(sara, "online", at(9, 40))
    _set(sara, "offline", at(10))
    stretches = list(PresenceInterval.objects.order_by("started_at").values_list("status", "started_at", "ended_at"))
    assert stretches == [("online", at(9), at(9, 30)), ("away", at(9, 30), at(9, 40)), ("online", at(9, 40), at(10))]

    def online(start, end):
        return operator_online_seconds(start=start, end=end, now=at(12)).get(sara.user_id)

    assert online(at(9), at(10)) == 50 * 60
    assert online(at(9, 15), at(9, 50)) == 25 * 60  # clipped to the period at both ends
    assert online(at(10), at(11)) is None


def test_an_open_stretch_counts_until_now_and_setting_the_same_status_logs_nothing():
    omar = OperatorFactory(status="offline")
    _set(omar, "online", at(8))
    _set(omar, "online", at(8, 30))
    assert PresenceInterval.objects.filter(operator=omar.user).count() == 1
    assert operator_online_seconds(start=at(0), end=at(23), now=at(9))[omar.user_id] == 3600


def test_the_selection_narrows_whose_time_is_read():
    sara, omar = OperatorFactory(status="offline"), OperatorFactory(status="offline")
    for operator in (sara, omar):
        _set(operator, "online", at(9))
        _set(operator, "offline", at(10))
    both = operator_online_seconds(start=at(0), end=at(23), now=at(12))
    assert both == {sara.user_id: 3600, omar.user_id: 3600}
    assert operator_online_seconds(start=at(0), end=at(23), operator_ids=[omar.user_id], now=at(12)) == {
        omar.user_id: 3600
    }


def test_the_reports_api_gives_online_time_per_operator_per_team_and_in_all(client, settings):
    from tests.factories import TeamFactory
    from tests.reports.conftest import make_manager

    settings.REPORTS_CACHE_SECONDS = 0
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
