"""The shared cache of the embedded default (no Redis): files in VAR_DIR, used by every process of `make run`.

Django's FileBasedCache has two faults for what we keep in it, the rate and socket counters of
chat/services/ratelimits.py: `incr` is a read and a write that two processes can interleave (one count lost),
and when the directory is full it deletes a random third of the entries, live counters among them, so that a
flood of new addresses would wipe the counts that hold it back. This backend counts under a lock shared by all
processes, keeps each entry's expiry when it counts, and makes room by deleting the expired entries first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import time
import zlib

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class EmbeddedFileCache(FileBasedCache):
    @contextlib.contextmanager
    def _counting(self):
        self._createdir()
        fd = os.open(os.path.join(self._dir, "counters.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._counting():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._counting():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "r+b") as f:
                    expiry = pickle.load(f)
                    if expiry is not None and expiry < time.time():
                        raise EOFError
                    value = pickle.loads(zlib.decompress(f.read())) + delta
                    f.seek(0)
                    f.write(pickle.dumps(expiry, self.pickle_protocol))
                    f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
                    f.truncate()
                    return value
            except (FileNotFoundError, EOFError):
                raise ValueError(f"Key '{key}' not found") from None

    def _cull(self):
        files = self._list_cache_files()
        if len(files) < self._max_entries:
            return
        for fname in files:
            with contextlib.suppress(FileNotFoundError, EOFError), open(fname, "rb") as f:
                self._is_expired(f)  # deletes it when expired
        super()._cull()
