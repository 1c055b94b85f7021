"""Limits on what anonymous visitors may do, per client address and per site key (docs/security.md).

Fixed-window counters in the shared cache (Redis in production, where `incr` is atomic), so that every server
process counts against the same numbers. Each action names its window and the two settings that bound it; a
setting of 0 turns that bound off.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Action:
    name: str
    window_seconds: int
    per_address_setting: str
    per_site_setting: str


SESSION = Action("session", 60, "WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE", "WIDGET_SESSIONS_PER_SITE_PER_MINUTE")
HELLO = Action("hello", 60, "WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE", "WIDGET_HELLOS_PER_SITE_PER_MINUTE")
MESSAGE = Action("message", 60, "VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE", "VISITOR_MESSAGES_PER_SITE_PER_MINUTE")
OFFLINE_MESSAGE = Action("offline", 3600, "OFFLINE_MESSAGES_PER_ADDRESS_PER_HOUR", "OFFLINE_MESSAGES_PER_SITE_PER_HOUR")
NEW_CONTACT = Action("contact", 3600, "NEW_CONTACTS_PER_ADDRESS_PER_HOUR", "NEW_CONTACTS_PER_SITE_PER_HOUR")
UPLOAD = Action("upload", 3600, "WIDGET_UPLOADS_PER_ADDRESS_PER_HOUR", "WIDGET_UPLOADS_PER_SITE_PER_HOUR")

logger = logging.getLogger(__name__)

RATE_LIMITED_DETAIL = _("Too many requests; please try again in %(seconds)s seconds.")


def client_address(*, remote_addr: str | None, forwarded_for: str | None) -> str:
    """The visitor's address: the peer, or the hop the outermost trusted proxy saw (TRUSTED_PROXY_COUNT).

    X-Forwarded-For is anyone's to write; only the entries appended by our own proxies (the last N) can be
    believed, so with N trusted proxies the client is the N-th entry from the right.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0 and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if hops:
            return hops[max(0, len(hops) - trusted)]
    return remote_addr or "unknown"


def client_address_of_request(request) -> str:
    return client_address(
        remote_addr=request.META.get("REMOTE_ADDR"), forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR")
    )


def client_address_of_scope(scope) -> str:
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for")
    peer = scope.get("client") or (None, None)
    return client_address(
        remote_addr=peer[0], forwarded_for=forwarded.decode("latin-1") if forwarded is not None else None
    )


@dataclass(frozen=True)
class Counter:
    """One shared fixed-window counter: its cache key, how long it lives, and its bound (0: counted, unbounded)."""

    key: str
    timeout: int
    limit: int = 0


# INCR each counter in order and set its expiry with the first hit (EXPIRE NX); stop after the first one past its
# bound, so that what was refused does not use up the counters after it. Returns the counts made.
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[2 * i - 1], 'NX')
  counts[i] = n
  local limit = tonumber(ARGV[2 * i])
  if limit > 0 and n > limit then
    break
  end
end
return counts
"""


def count_in_window(key: str, timeout: int) -> int:
    """Adds one to the shared counter `key` (kept `timeout` seconds) and returns it."""
    return count_until_over([Counter(key, timeout)])[0]


def first_over(counters: list[Counter]) -> int | None:
    """Counts one hit on each of `counters` in order, in one round trip to Redis; the index of the first one past
    its bound (the later ones are then not counted), or None."""
    for index, (counter, count) in enumerate(zip(counters, count_until_over(counters), strict=False)):
        if counter.limit > 0 and count > counter.limit:
            return index
    return None


def count_until_over(counters: list[Counter]) -> list[int]:
    """The counts after one more hit on each counter, up to and including the first one past its bound.

    When the shared cache is unreachable (Redis restarting) every count is 0: the limits fail open, so that an
    outage of the cache does not stop every visitor from chatting; each socket's own pace still holds (the
    consumer's).
    """
    if not counters:
        return []
    try:
        backend = caches["default"]
        script = _count_script(backend)
        if script is not None:
            keys = [backend.make_and_validate_key(c.key) for c in counters]
            args = [value for c in counters for value in (c.timeout, c.limit)]
            return [int(n) for n in script(keys=keys, args=args)]
        counts = []
        for counter in counters:
            counts.append(_cache_api_count(counter))
            if 0 < counter.limit < counts[-1]:
                break
        return counts
    except Exception:
        _cache_unreachable()
        return [0] * len(counters)


def _cache_api_count(counter: Counter) -> int:
    cache.add(counter.key, 0, timeout=counter.timeout)
    try:
        return cache.incr(counter.key)
    except ValueError:  # expired between add and incr
        cache.set(counter.key, 1, timeout=counter.timeout)
        return 1


# Per Redis cache client (Django keeps one per thread): a client made once, and the counting script registered on
# it. Django's cache makes a new client object for each call (`get_client`), whose construction cost a visitor's
# message more CPU than the count itself (bench/chat_load.py, profile).
_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _count_script(backend):
    if not isinstance(backend, RedisCache):
        return None
    holder = backend._cache
    script = _scripts.get(holder)
    if script is None:
        script = _scripts[holder] = holder.get_client(write=True).register_script(_COUNT_SCRIPT)
    return script


_warned_at = 0.0


def _cache_unreachable() -> None:
    global _warned_at
    if time.monotonic() - _warned_at > 10:
        _warned_at = time.monotonic()
        logger.warning("shared cache unreachable: visitor limits are not counted until it is back", exc_info=True)


def _key(action: Action, scope: str, value: str, window_index: int) -> str:
    # Hashed: an address or key of any spelling makes a short, safe cache key.
    digest = hashlib.blake2b(value.encode(), digest_size=12).hexdigest()
    return f"chat:limit:{action.name}:{scope}:{digest}:{window_index}"


def rate_limit_counters(*, action: Action, address: str, site_key: str) -> list[Counter]:
    """The bounded counters one `action` from `address` on `site_key` counts on, the address's first: one address
    past its own limit must not use up the site's."""
    index = int(time.time() // action.window_seconds)
    timeout = action.window_seconds + 1
    counters = []
    for scope, value, setting in (
        ("address", address, action.per_address_setting),
        ("site", site_key, action.per_site_setting),
    ):
        limit = getattr(settings, setting)
        if limit > 0:
            counters.append(Counter(_key(action, scope, value, index), timeout, limit))
    return counters


def retry_after_for(action: Action) -> int:
    """Seconds until the current window of `action` ends."""
    now = time.time()
    window = action.window_seconds
    return max(1, math.ceil((int(now // window) + 1) * window - now))


def rate_limit_hit(*, action: Action, address: str, site_key: str) -> int | None:
    """Counts one `action` from `address` on `site_key`; None if it is allowed, else the seconds until it is."""
    if first_over(rate_limit_counters(action=action, address=address, site_key=site_key)) is None:
        return None
    return retry_after_for(action)


class RateLimitedError(Exception):
    """Raised by a service that was asked to count an action (`rate_limit_check`); the transport answers it."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def rate_limit_check(*, action: Action, address: str, site_key: str) -> None:
    retry_after = rate_limit_hit(action=action, address=address, site_key=site_key)
    if retry_after is not None:
        raise RateLimitedError(retry_after)


def rate_limited_detail(retry_after: int) -> str:
    return RATE_LIMITED_DETAIL % {"seconds": retry_after}


SOCKET_WINDOW_SECONDS = 60


class SocketSlot:
    """One open widget socket, counted against its client address in every server process (WS_MAX_SOCKETS_PER_ADDRESS).

    A count that is only ever incremented and decremented would keep a crashed server's sockets forever. Instead
    counts live in windows of SOCKET_WINDOW_SECONDS, and each socket is counted in the current window and, ahead
    of time, in the next one: on opening, and again in every window from its own loop (`refresh`, which counts
    the window after). So whenever a window turns, every open socket is already in it, and the current window's
    count is the address's count; the sockets of a server that died stop being counted within two windows.
    """

    def __init__(self, address: str):
        self.address = address
        self.counted: list[int] = []

    def _key(self, index: int) -> str:
        digest = hashlib.blake2b(self.address.encode(), digest_size=12).hexdigest()
        return f"chat:sockets:{digest}:{index}"

    @staticmethod
    def _window() -> int:
        return int(time.time() // SOCKET_WINDOW_SECONDS)

    def _count_in(self, index: int) -> int:
        self.counted.append(index)
        return count_in_window(self._key(index), timeout=3 * SOCKET_WINDOW_SECONDS)

    def open(self) -> bool:
        """Counts this socket; False (and nothing counted) when its address already has as many as allowed."""
        limit = settings.WS_MAX_SOCKETS_PER_ADDRESS
        if limit <= 0:
            return True
        index = self._window()
        if self._count_in(index) > limit:
            self.close()
            return False
        self._count_in(index + 1)
        return True

    def refresh(self) -> None:
        """Counts this socket in the next window, once; called at least once in every window it stays open."""
        if not self.counted:
            return
        index = self._window()
        if index + 1 not in self.counted:
            if index not in self.counted:  # the loop was late for a whole window: be counted in this one too
                self._count_in(index)
            self._count_in(index + 1)
        self.counted = [i for i in self.counted if i >= index]

    def close(self) -> None:
        current = self._window()
        for index in self.counted:
            if index >= current:
                try:
                    cache.decr(self._key(index))
                except ValueError:  # already expired
                    pass
                except Exception:  # unreachable: the count expires with its window
                    _cache_unreachable()
        self.counted = []
