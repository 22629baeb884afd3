"""What a process keeps of the catalog between requests: values built from the database, each with the state it
was built under (a tuple the caller reads again in one indexed query), so a kept value is served only while the
state is unchanged, and any change by any process or machine shows at once. A value is kept from its key's second
ask on: a crawler or harvester walking the whole catalog once would otherwise push out what visitors come back to.
"""
from __future__ import annotations

import threading

from cachetools import Cache, LRUCache


class KeptByState:
    """Values kept in ``kept`` (a cachetools cache of (state, value) pairs) from their key's second ask on,
    remembering the last ``asked`` keys asked once (by hash); thread-safe. Kept values are shared: callers must
    not change them."""

    def __init__(self, kept: Cache, asked: int) -> None:
        self._kept = kept
        self._asked: LRUCache = LRUCache(asked)
        self._lock = threading.Lock()

    def kept(self, key: tuple) -> tuple | None:
        """The (state, value) kept under ``key``, if any."""
        with self._lock:
            return self._kept.get(key)

    def get(self, key: tuple, state: tuple):
        """The value kept under ``key`` if it was built under ``state``, else None."""
        kept = self.kept(key)
        return kept[1] if kept is not None and kept[0] == state else None

    def admits(self, key: tuple) -> bool:
        """Whether a value for ``key`` is to be kept now: asked for before; else remember that it was."""
        with self._lock:
            if self._asked.get(hash(key)) is None:
                self._asked[hash(key)] = True
                return False
            return True

    def store(self, key: tuple, state: tuple, value) -> None:
        with self._lock:
            self._kept[key] = (state, value)

    def keep(self, key: tuple, state: tuple, value) -> None:
        """Keep ``value``, built under ``state``, if its key was asked for before."""
        if self.admits(key):
            self.store(key, state, value)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._asked.clear()
