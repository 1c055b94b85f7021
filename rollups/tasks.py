"""Beat brings the rollups up to date every ROLLUPS_REFRESH_SECONDS (figures are at most 60 s behind, metrics.md)."""

from celery import shared_task

from rollups import services


@shared_task(name="rollups.refresh")
def rollups_refresh() -> None:
    # Another refresh holding the lock is doing this one's work: skip rather than queue behind it.
    services.refresh(wait=False)
