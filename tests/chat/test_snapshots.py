"""chat.snapshots: a site's settings kept a moment per process, forgotten on a save, one instance while unchanged."""

import pytest

from chat import selectors, snapshots
from chat.models import Inbox
from tests.factories import InboxFactory


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(snapshots.time, "monotonic", lambda: now[0])
    return now


@pytest.mark.django_db
def test_an_inbox_is_read_once_within_the_snapshot_and_again_after_it(clock, django_assert_num_queries):
    inbox = InboxFactory()
    with django_assert_num_queries(1):
        first = selectors.active_inbox(inbox.site_key)
        assert selectors.active_inbox(inbox.site_key) is first
    clock[0] += snapshots.SNAPSHOT_SECONDS + 0.1
    with django_assert_num_queries(1):
        assert selectors.active_inbox(inbox.site_key).pk == inbox.pk


@pytest.mark.django_db
def test_the_sockets_of_an_unchanged_inbox_share_one_instance_across_reloads(clock):
    inbox = InboxFactory()
    first = selectors.active_inbox(inbox.site_key)
    clock[0] += snapshots.SNAPSHOT_SECONDS + 0.1
    assert selectors.active_inbox(inbox.site_key) is first

    # Changed in another process: no signal here, the reload after the moment brings the new values.
    Inbox.objects.filter(pk=inbox.pk).update(name="Renamed elsewhere")
    clock[0] += snapshots.SNAPSHOT_SECONDS + 0.1
    renamed = selectors.active_inbox(inbox.site_key)
    assert renamed is not first
    assert renamed.name == "Renamed elsewhere"


@pytest.mark.django_db
def test_a_save_in_this_process_is_seen_at_once(clock):
    inbox = InboxFactory()
    assert selectors.active_inbox(inbox.site_key).is_active
    inbox.is_active = False
    inbox.save()
    assert selectors.active_inbox(inbox.site_key) is None
