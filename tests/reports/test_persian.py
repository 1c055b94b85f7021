"""A manager who reads the desk in Persian sees the reports as the inbox shows its times: Persian digits, the
Jalali calendar, and signed numbers kept left to right ("(+۷)", not "(۷+)"). CSV and the API stay Latin and ISO.

The history (conftest.py) runs 2–8 March 2026 = 11–17 Esfand 1404; the previous period 23 Feb – 1 Mar 2026 =
4–10 Esfand 1404 had nothing, so "Requested" went from 0 to 7.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings
from django.utils.html import strip_tags

from tests.reports.conftest import PERIOD

LTR_ISOLATE, POP_ISOLATE = "\u2066", "\u2069"
LATIN_DIGIT = re.compile(r"[0-9]")


def _get(client, user, url, language, params=PERIOD):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, params)
    assert response.status_code == 200
    return response


def _text(html: str, start: str, end: str) -> str:
    """The visible text between two markers of the page."""
    return " ".join(strip_tags(html.split(start, 1)[1].split(end, 1)[0]).split())


def _card(html: str, key: str) -> str:
    return _text(html, f'data-figure="{key}">', "</article>")


@pytest.mark.django_db
def test_the_persian_dashboard_shows_persian_digits_jalali_dates_and_signs_left_to_right(
    client, history, manager, frozen_now
):
    html = _get(client, manager, "/admin/reports/", "fa").content.decode()

    period = _text(html, 'id="report-period">', '<span class="report-exports">')
    assert period == "۱۱ اسفند ۱۴۰۴ – ۱۷ اسفند ۱۴۰۴، در مقایسه با ۴ اسفند ۱۴۰۴ – ۱۰ اسفند ۱۴۰۴"
    assert _text(html, 'id="report-as-of">', "</span>") == "به‌روز تا ساعت ۱۲:۰۰:۰۰"
    assert _card(html, "requested").startswith("درخواست‌شده ۷ ")
    assert "۵۰٫۰٪" in _card(html, "csat") and "(۸۰٫۰٪)" in _card(html, "csat")
    assert "۱ دقیقه ۳۰ ثانیه" in _card(html, "frt_median")
    # The change from 0 to 7 is a signed number: isolated left to right inside the right-to-left card.
    assert f"(<bdi>{LTR_ISOLATE}+۷{POP_ISOLATE}</bdi>" in html
    cards = _text(html, 'class="report-cards"', "</section>")
    assert not LATIN_DIGIT.search(cards), LATIN_DIGIT.findall(cards)

    charts = _text(html, 'class="report-charts"', "</section>")
    assert "۱۲-۱۱" in charts and "۱۲-۱۷" in charts  # the days under the charts: month-day, Jalali
    assert "دوشنبه" in charts  # the heat map's weekdays
    assert not LATIN_DIGIT.search(charts.replace("UTC", "")), LATIN_DIGIT.findall(charts)


@pytest.mark.django_db
def test_the_persian_tables_show_persian_digits(client, history, manager, frozen_now):
    html = _get(client, manager, "/admin/reports/table/operator/", "fa").content.decode()

    assert html.startswith("<h2>به تفکیک اپراتور ")

    body = _text(html, "<tbody>", "</tbody>")
    assert body.startswith("Olga ۳ ۳ ")
    assert not LATIN_DIGIT.search(body), LATIN_DIGIT.findall(body)


@pytest.mark.django_db
def test_the_english_dashboard_reads_as_before(client, history, manager, frozen_now):
    html = _get(client, manager, "/admin/reports/", "en").content.decode()

    period = _text(html, 'id="report-period">', '<span class="report-exports">')
    assert period == "2 Mar 2026 – 8 Mar 2026, compared with 23 Feb 2026 – 1 Mar 2026"
    assert _text(html, 'id="report-as-of">', "</span>") == "as of 12:00:00"
    assert "(<bdi>+7</bdi>" in html and LTR_ISOLATE not in html
    charts = _text(html, 'class="report-charts"', "</section>")
    assert "03-02" in charts and "03-08" in charts and "Mon" in charts


@pytest.mark.django_db
def test_csv_and_api_stay_machine_readable_in_persian(client, history, manager, frozen_now):
    export = _get(client, manager, "/admin/reports/export/timeseries.csv", "fa")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0]["day"] == "2026-03-02"
    summary = b"".join(_get(client, manager, "/admin/reports/export/summary.csv", "fa").streaming_content).decode()
    assert not re.search("[۰-۹]", summary) and LTR_ISOLATE not in summary

    api = _get(client, manager, "/api/v1/reports/timeseries", "fa").json()
    assert api["days"][0]["day"] == "2026-03-02"
