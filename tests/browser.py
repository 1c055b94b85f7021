"""Playwright's sync API on a thread of its own, so the tests' thread never has an event loop running in it.

Playwright's sync API drives its event loop from the thread that started it and leaves that loop marked as
running between calls. In the tests' own thread Django would then refuse every ORM call of the test as made from
async code. Here one thread starts Playwright and makes every Playwright call; the tests hold proxies that hand
each call to that thread and wait for its result. Handlers a test gives Playwright (`page.on`, `page.route`) run
in that thread and get proxies too, whose calls then run at once.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
_thread: list[threading.Thread] = []


def _in_thread() -> bool:
    return bool(_thread) and threading.current_thread() is _thread[0]


def _call(fn, *args, **kwargs):
    if _in_thread():
        return fn(*args, **kwargs)
    return _executor.submit(fn, *args, **kwargs).result()


def _is_playwright(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.")


def _wrap(value: Any) -> Any:
    if isinstance(value, Remote) or not (_is_playwright(value) or isinstance(value, list | tuple)):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_wrap(item) for item in value)
    return Remote(value)


def _unwrap(value: Any) -> Any:
    if isinstance(value, Remote):
        return value._target
    if isinstance(value, list | tuple):
        return type(value)(_unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    if callable(value) and not _is_playwright(value):
        return _handler(value)
    return value


def _handler(fn):
    # Playwright reads a handler's signature (a route handler may take the request too): keep the test's.
    @functools.wraps(fn)
    def handler(*args, **kwargs):
        return _unwrap(fn(*[_wrap(a) for a in args], **{k: _wrap(v) for k, v in kwargs.items()}))

    return handler


def _invoke(fn, args, kwargs):
    return _wrap(_call(fn, *_unwrap(args), **_unwrap(kwargs)))


class Remote:
    """A Playwright object living in the Playwright thread; attribute reads and calls run there."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = _call(getattr, self._target, name)
        if callable(value) and not _is_playwright(value):
            return lambda *args, **kwargs: _invoke(value, args, kwargs)
        return _wrap(value)

    def __call__(self, *args, **kwargs):
        return _invoke(self._target, args, kwargs)

    def __enter__(self):
        return _wrap(_call(self._target.__enter__))

    def __exit__(self, *exc):
        return _call(self._target.__exit__, *exc)

    def __iter__(self):
        return iter(_wrap(_call(list, self._target)))

    def __bool__(self) -> bool:
        return _call(bool, self._target)

    def __len__(self) -> int:
        return _call(len, self._target)

    def __eq__(self, other: object) -> bool:
        return self._target == _unwrap(other)

    def __hash__(self) -> int:
        return hash(self._target)

    def __repr__(self) -> str:
        return f"Remote({_call(repr, self._target)})"


def expect(actual, *args, **kwargs):
    """playwright.sync_api.expect, run in the Playwright thread."""
    from playwright.sync_api import expect as playwright_expect

    return _invoke(playwright_expect, (actual, *args), kwargs)


def start() -> Remote:
    """Start Playwright in its thread; returns the proxy of `sync_playwright()`'s Playwright object."""
    from playwright.sync_api import sync_playwright

    def begin():
        _thread[:] = [threading.current_thread()]
        manager = sync_playwright()
        return manager, manager.__enter__()

    manager, playwright = _executor.submit(begin).result()
    _started.append(manager)
    return Remote(playwright)


def stop() -> None:
    while _started:
        _call(_started.pop().__exit__, None, None, None)


_started: list[Any] = []
