"""Keeps the figures of the dashboard's presets fresh in the cache, so that a manager never waits for them."""

from celery import shared_task

from supportdesk.reports import figures
from supportdesk.reports.query import ReportForm
from supportdesk.reports.views import TABLES, dashboard_context, table_context

WARM_PRESETS = ("7d", "30d", "90d")


@shared_task(name="reports.warm_cache")
def reports_warm_cache() -> None:
    """Recomputes every figure of the unfiltered dashboard (cards, charts, tables) for the common periods."""
    if figures.cache_seconds() <= 0:
        return
    for preset in WARM_PRESETS:
        form = ReportForm({"period": preset})
        form.is_valid()
        query = form.report_query()
        with figures.refreshing(), figures.report_session():
            dashboard_context(query)
            for by, _title in TABLES:
                table_context(query, by)
