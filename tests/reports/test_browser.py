"""A manager logs into the admin, opens the reports, picks a period and downloads a CSV."""

import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.reports.conftest import PERIOD, build_history, make_manager

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _in_plain_thread(build):
    """Builds data outside the thread where Playwright runs its event loop (services send realtime on commit)."""

    def run():
        try:
            return build()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def committed_history(transactional_db):
    history = _in_plain_thread(build_history)
    _in_plain_thread(make_manager)
    return history


def test_manager_changes_the_period_and_downloads_the_conversations(
    committed_history, asgi_server_factory, browser_context, screenshot_dir
):
    history = committed_history
    # Fresh figures: the server must not serve a report cached by an earlier run on another database.
    asgi_server = asgi_server_factory(REPORTS_CACHE_SECONDS="0")
    page = browser_context.new_page()
    page.goto(f"{asgi_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "secret-pass-1")
    page.click("input[type=submit]")
    page.click("text=Dashboard: FRT, FCR, abandonment, CSAT, CES, NPS")
    page.wait_for_selector("#report-period")
    # The default period (last 30 days) is far from the March history: nothing requested.
    assert page.inner_text("[data-figure=requested] .card-value") == "0"

    page.select_option("#id_period", "custom")
    page.fill("#id_start", PERIOD["start"])
    page.fill("#id_end", PERIOD["end"])
    page.click("#report-apply")
    page.wait_for_url("**period=custom**")
    assert "2 Mar 2026 – 8 Mar 2026" in page.inner_text("#report-period")
    assert page.inner_text("[data-figure=requested] .card-value") == "7"
    csat = page.inner_text("[data-figure=csat]")
    assert "50.0 %" in csat and "Off target (80.0 %)" in csat
    assert page.locator(".report-chart").count() == 4
    page.wait_for_selector("#table-operator tbody th")
    # Olga, Omar, and "(none)" for the abandoned and the missed chat that no operator held.
    assert page.locator("#table-operator tbody th").all_inner_texts() == ["Olga", "Omar", "(none)"]
    page.screenshot(path=str(screenshot_dir / "reports-browser.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#export-conversations")
    download = download_info.value
    assert download.suggested_filename == "conversations_2026-03-02_2026-03-08.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(rows) == 8
    c2 = next(r for r in rows if r["conversation_id"] == str(history.conversations[2].pk))
    assert (c2["operator"], c2["transfers"], c2["wait_s"], c2["csat"]) == ("omar", "1", "90.0", "3")
