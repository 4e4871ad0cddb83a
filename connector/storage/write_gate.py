"""SQLite has one writer at a time: this process's writers queue here instead of in SQLite.

Waiting in SQLite's busy handler means sleeping in growing steps (up to 100 ms) and waking to
find the lock taken again; waiting on a condition variable wakes the next writer the moment the
lock is free. Writers come in two kinds: foreground (a webhook being answered, a merchant's
page) and background (the inbox worker, the outbox, the scheduler). Background writers let any
waiting foreground writer go first, so a store never waits on our own processing: Shopify gives
a webhook five seconds, and our answer should take milliseconds.

Re-entrant per thread (a session opened inside another in the same thread does not deadlock).
Other processes writing the same file still meet in SQLite's busy handler; production runs on
PostgreSQL, where none of this applies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriteGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._foreground_waiting = 0

    @contextmanager
    def hold(self, background: bool = False) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
            else:
                if not background:
                    self._foreground_waiting += 1
                try:
                    while self._owner is not None or (background and self._foreground_waiting):
                        self._cond.wait()
                finally:
                    if not background:
                        self._foreground_waiting -= 1
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._cond.notify_all()
