"""The embedded default's shared cache (supportdesk/cache.py): counters that every process of `make run` shares."""

import datetime as dt
import subprocess
import sys
import textwrap

import pytest
import time_machine

from supportdesk.cache import EmbeddedFileCache

COUNT_IN_A_PROCESS = textwrap.dedent(
    """
    import sys
    from supportdesk.cache import EmbeddedFileCache

    cache = EmbeddedFileCache(sys.argv[1], {})
    for _ in range(int(sys.argv[2])):
        cache.add("hits", 0, timeout=600)
        cache.incr("hits")
    """
)


def test_processes_counting_at_once_lose_no_count(tmp_path):
    runs = [subprocess.Popen([sys.executable, "-c", COUNT_IN_A_PROCESS, str(tmp_path), "150"]) for _ in range(4)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    assert EmbeddedFileCache(str(tmp_path), {}).get("hits") == 600


def test_a_full_cache_makes_room_from_expired_entries_and_keeps_live_counters(tmp_path):
    cache = EmbeddedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 20}})
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)):
        cache.add("live", 0, timeout=3600)
        cache.incr("live")
        for n in range(18):
            cache.set(f"short-{n}", n, timeout=60)
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 5, tzinfo=dt.UTC)):
        for n in range(18):
            cache.set(f"later-{n}", n, timeout=60)
        assert cache.incr("live") == 2


def test_counting_keeps_the_entry_expiry(tmp_path):
    cache = EmbeddedFileCache(str(tmp_path), {})
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)):
        cache.add("window", 0, timeout=61)
        assert cache.incr("window") == 1
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 1, 2, tzinfo=dt.UTC)):
        assert cache.get("window") is None
        with pytest.raises(ValueError):
            cache.incr("window")
