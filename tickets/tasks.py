"""Celery tasks of the tickets app: thin, they call services."""

from celery import shared_task

from tickets.services import sla_sweep


@shared_task(name="tickets.sla_sweep", ignore_result=True)
def sla_sweep_task() -> int:
    """Beat, every SWEEP_INTERVAL_SECONDS: flag at-risk and breached SLAs once each and alert operators."""
    return sla_sweep()
