"""The rollups are brought up to date by a worker process, from changes another process committed; a refresh that
finds another one under way leaves its work to the next, so two never write a day over each other."""

import threading
from datetime import timedelta

from django.db import connections, transaction
from django.utils import timezone

from rollups.models import Rollup, RollupMark, RollupState
from rollups.services import STATE_ID, refresh
from rollups.tasks import rollups_refresh
from tests.factories import TicketFactory
from tests.processes import require_services
from tests.surveys.test_workers import succeeded, wait_for


def test_a_worker_refreshes_what_another_process_changed_and_waits_its_turn(celery_worker_factory):
    require_services()
    worker = celery_worker_factory(name="rollups")
    RollupState.objects.get_or_create(pk=STATE_ID)
    TicketFactory(created_at=timezone.now() - timedelta(hours=1))
    assert RollupMark.objects.count() == 1

    # Another refresh holds the state row: the worker's refresh skips, and leaves the mark.
    with transaction.atomic():
        RollupState.objects.select_for_update().get(pk=STATE_ID)
        rollups_refresh.delay()
        wait_for(lambda: succeeded([worker], "rollups.refresh") == 1, 30, "the first refresh")
    assert RollupMark.objects.count() == 1
    assert not Rollup.objects.exists()

    rollups_refresh.delay()
    wait_for(lambda: succeeded([worker], "rollups.refresh") == 2, 30, "the second refresh")
    assert not RollupMark.objects.exists()
    whole_day = Rollup.objects.get(source="created", grain=Rollup.Grain.DAY, grouping=0)
    assert whole_day.data["created"] == 1


def test_a_refresh_refused_the_lock_leaves_the_callers_transaction_usable(transactional_db):
    require_services()
    RollupState.objects.get_or_create(pk=STATE_ID)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            RollupState.objects.select_for_update().get(pk=STATE_ID)
            held.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with transaction.atomic():
            assert refresh(wait=False) is None
            # A report goes on reading in the same transaction.
            assert RollupState.objects.filter(pk=STATE_ID).exists()
    finally:
        release.set()
        holder.join()
