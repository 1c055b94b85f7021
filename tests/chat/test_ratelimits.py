"""The shared counters behind the visitor limits (chat/services/ratelimits.py), on the cache the suite runs with:
the embedded file cache by default, Redis when REDIS_URL is set."""

import uuid

from django.core.cache import cache

from chat.services import ratelimits


def test_a_window_counter_counts_every_hit_and_expires_with_its_window():
    key = f"test:count:{uuid.uuid4().hex}"
    assert [ratelimits.count_in_window(key, timeout=30) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    backend_client = ratelimits._redis_client(ratelimits.caches["default"])
    if backend_client is not None:
        # Set by the first hit and kept by the others (EXPIRE NX): the window ends when it began plus its length.
        ttl = backend_client.ttl(ratelimits.caches["default"].make_and_validate_key(key))
        assert 0 < ttl <= 30


def test_a_counter_that_expired_starts_again_from_one():
    key = f"test:count:{uuid.uuid4().hex}"
    ratelimits.count_in_window(key, timeout=30)
    cache.delete(key)
    assert ratelimits.count_in_window(key, timeout=30) == 1
