"""Wake-ups sent by one background thread, so that answering a webhook never waits on Redis or the broker.

A stored webhook must wake the workers (`Services.notify`: a coalescing flag in Redis and, when it
was not set, a Celery message). Done in the request, that is a round trip to Redis for every
webhook, in a sale hundreds a second for one flag already set, and a Redis that answers slowly
(its client waits up to a second) holds up the store's answer for as long. Here the request only
notes the task's name and returns; this process's relay thread sends what was noted, one wake-up
per task for however many requests noted it meanwhile.

Nothing is lost by the relay: a name is noted after its work is committed, and sent after it is
noted, so the flag is always set (or the message sent) after the work is in the database, as when
the request sent it itself; a queued task that has not started yet will claim it (see
`connector.celery_app.Wakeups`). A send that raises is noted again and retried after
`RETRY_SECONDS`. What is still noted when the process exits is sent by `flush` (registered with
`atexit`); a process killed outright loses at most its last wake-up, which the scheduler's
periodic sends make good within seconds, as they do for a lost broker message.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # after a send raised: the broker or Redis is down, the scheduler's sweeps still run
FLUSH_SECONDS = 5.0  # the longest `flush` waits at exit


class WakeRelay:
    """Sends `send(name)` from a background thread for each name `note`d, coalescing repeats."""

    def __init__(self, send: Callable[[str], None], retry_seconds: float = RETRY_SECONDS) -> None:
        self._send = send
        self._retry_seconds = retry_seconds
        self._reset()

    def _reset(self) -> None:
        self._changed = threading.Condition()
        self._noted: set[str] = set()
        self._sending = 0  # names taken by the thread and not yet sent
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()  # the process whose thread serves this relay (a fork starts its own)

    def note(self, name: str) -> None:
        """Have `name` sent soon; returns at once."""
        if self._pid != os.getpid():  # forked with the parent's state: its thread did not come along
            self._reset()
        with self._changed:
            self._noted.add(name)
            if self._thread is None or not self._thread.is_alive():
                if self._thread is None:
                    atexit.register(self.flush)  # once per process: what is noted at exit still goes
                self._thread = threading.Thread(target=self._run, name="wake-relay", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def flush(self, timeout: float = FLUSH_SECONDS) -> bool:
        """Wait until everything noted so far is sent. Returns False if `timeout` passed first."""
        if self._pid != os.getpid():
            return True  # nothing was noted in this process
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._noted or self._sending:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._changed.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._noted:
                    self._changed.wait()
                names, self._noted = sorted(self._noted), set()
                self._sending = len(names)
            failed = []
            for name in names:
                try:
                    self._send(name)
                except Exception:  # noqa: BLE001 - the thread must outlive any failure: noted again, retried
                    log.warning("could not send the wake-up %s; trying again in %.0f s", name, self._retry_seconds,
                                exc_info=True)
                    failed.append(name)
            with self._changed:
                self._noted.update(failed)
                self._sending = 0
                self._changed.notify_all()
            if failed:
                time.sleep(self._retry_seconds)
