"""The shared counters behind the visitor limits (chat/services/ratelimits.py), on the cache the suite runs with:
the embedded file cache by default, Redis when REDIS_URL is set."""

import uuid

from django.core.cache import cache

from chat.services import ratelimits


def _redis_client():
    """The Redis client under the suite's cache, or None for the embedded file cache."""
    backend = ratelimits.caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, ratelimits.RedisCache) else None


def test_a_window_counter_counts_every_hit_and_expires_with_its_window():
    key = f"test:count:{uuid.uuid4().hex}"
    assert [ratelimits.count_in_window(key, timeout=30) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    backend_client = _redis_client()
    if backend_client is not None:
        # Set by the first hit and kept by the others (EXPIRE NX): the window ends when it began plus its length.
        ttl = backend_client.ttl(ratelimits.caches["default"].make_and_validate_key(key))
        assert 0 < ttl <= 30


def test_a_counter_that_expired_starts_again_from_one():
    key = f"test:count:{uuid.uuid4().hex}"
    ratelimits.count_in_window(key, timeout=30)
    cache.delete(key)
    assert ratelimits.count_in_window(key, timeout=30) == 1


def test_counters_are_counted_in_order_and_counting_stops_at_the_first_past_its_bound():
    tight, wide, last = (f"test:count:{uuid.uuid4().hex}" for _ in range(3))
    counters = [
        ratelimits.Counter(tight, timeout=30, limit=1),
        ratelimits.Counter(wide, timeout=30, limit=5),
        ratelimits.Counter(last, timeout=30),
    ]
    assert ratelimits.first_over(counters) is None
    assert ratelimits.first_over(counters) == 0
    # What was refused used up nothing after it: one address past its limit does not eat the site's allowance.
    assert (cache.get(tight), cache.get(wide), cache.get(last)) == (2, 1, 1)
    assert ratelimits.first_over(counters[1:]) is None
    assert (cache.get(wide), cache.get(last)) == (2, 2)


def test_each_counter_of_a_batch_expires_with_its_own_window():
    short, long = f"test:count:{uuid.uuid4().hex}", f"test:count:{uuid.uuid4().hex}"
    ratelimits.first_over([ratelimits.Counter(short, timeout=5), ratelimits.Counter(long, timeout=300)])
    backend = ratelimits.caches["default"]
    client = _redis_client()
    if client is None:
        assert cache.get(short) == cache.get(long) == 1
        return
    assert 0 < client.ttl(backend.make_and_validate_key(short)) <= 5
    assert 5 < client.ttl(backend.make_and_validate_key(long)) <= 300


def test_an_unreachable_cache_counts_nothing_and_refuses_nobody(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    counters = [ratelimits.Counter(f"test:count:{uuid.uuid4().hex}", timeout=30, limit=1)] * 3
    assert ratelimits.count_until_over(counters) == [0, 0, 0]
    assert ratelimits.first_over(counters) is None
