"""A report's period is bounded: a date no report can cover is refused with its reason, never answered with a 500."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from supportdesk.reports.query import EARLIEST_DAY, MAX_DAYS, ReportForm
from tests.reports.conftest import PERIOD

TABLES = ["inbox", "channel_kind", "team", "operator"]
EXPORTS = ["summary", "timeseries", "conversations", *TABLES]
API = ["summary", "by-channel", "by-operator", "timeseries"]
# The dashboard shows the reason beside the field; everything a script or a link reads answers 400.
REFUSING = (
    [f"/admin/reports/table/{by}/" for by in TABLES]
    + [f"/admin/reports/export/{name}.csv" for name in EXPORTS]
    + [f"/api/v1/reports/{name}" for name in API]
)
BAD = {
    "end of time": ({"start": "9999-12-30", "end": "9999-12-31"}, "start"),
    "year one": ({"start": "0001-01-01", "end": "0001-01-02"}, "start"),
    "end before start": ({"start": "2026-03-08", "end": "2026-03-01"}, "end"),
    "too long": ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),
    "over a year ahead": ({"start": "2027-06-01", "end": "2027-06-02"}, "start"),
}


@pytest.fixture
def manager_client(manager, frozen_now):
    # A 500 comes back as a response here, as a user would get it, instead of being raised into the test.
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD)
def test_a_period_no_report_can_cover_is_refused_with_its_reason(manager_client, case):
    dates, field = BAD[case]
    params = {"period": "custom", **dates}

    dashboard = manager_client.get("/admin/reports/", params)
    assert dashboard.status_code == 200
    assert dashboard.context["form"].errors[field]
    assert 'class="field-error"' in dashboard.content.decode()
    for url in REFUSING:
        response = manager_client.get(url, params)
        assert response.status_code == 400, url
        if url.startswith("/api/"):
            assert field in response.json()["errors"], url
        else:
            assert _body(response).startswith(f"{field}: "), url


@pytest.mark.django_db
def test_a_valid_period_still_works_everywhere(manager_client, history):
    assert manager_client.get("/admin/reports/", PERIOD).status_code == 200
    for url in REFUSING:
        response = manager_client.get(url, PERIOD)
        assert response.status_code == 200, url
        _body(response)
    summary = list(csv.DictReader(io.StringIO(_body(manager_client.get("/admin/reports/export/summary.csv", PERIOD)))))
    assert summary[0]["requested"] == "7"


@pytest.mark.django_db
def test_the_earliest_longest_period_and_the_one_before_it_are_computed(manager_client):
    last = EARLIEST_DAY + timedelta(days=MAX_DAYS - 1)
    params = {"period": "custom", "start": EARLIEST_DAY.isoformat(), "end": last.isoformat()}
    form = ReportForm(params)
    assert form.is_valid(), form.errors
    assert form.report_query().previous().last_day == EARLIEST_DAY - timedelta(days=1)
    assert manager_client.get("/admin/reports/", params).context["form"].errors == {}
    for url in REFUSING:
        response = manager_client.get(url, params)
        assert response.status_code == 200, url
        _body(response)


@pytest.mark.django_db
def test_the_reason_reads_in_persian_with_a_jalali_date(manager_client):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    dashboard = manager_client.get("/admin/reports/", {"period": "custom", "start": "0001-01-01", "end": "2026-03-01"})
    assert "گزارش‌ها از ۱۱ دی ۱۳۷۸ آغاز می‌شوند" in dashboard.content.decode()
