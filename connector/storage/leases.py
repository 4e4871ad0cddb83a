"""Named leases in the database: only one holder at a time, lost when not renewed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, tuple_, update
from sqlalchemy.exc import IntegrityError

from connector.storage.db import Database
from connector.storage.tables import LeaseRow

log = logging.getLogger(__name__)


def acquire(db: Database, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease. True when `holder` holds it until now + ttl."""
    try:
        with db.session() as s:
            row = s.get(LeaseRow, name, with_for_update=True)
            if row is None:
                s.add(LeaseRow(name=name, holder=holder, expires_at=now + ttl))
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            row.holder, row.expires_at = holder, now + ttl
            return True
    except IntegrityError:  # another process inserted it first
        return False


def release(db: Database, name: str, holder: str) -> None:
    with db.session() as s:
        row = s.get(LeaseRow, name)
        if row is not None and row.holder == holder:
            s.delete(row)


# ---- claims of queued work (inbox deliveries, outbox actions) ------------------------------

# A claim lasts this long unless renewed. The worker holding it renews it every CLAIM_LEASE / 4
# while the work runs (`Heartbeat`), so a slow but living worker keeps its claim, and the claims
# of a process that died (kill -9, power loss) lapse within CLAIM_LEASE and are taken over at the
# next pass of any worker (the in-process worker polls every second, the scheduler enqueues the
# queue tasks every OUTBOX_INTERVAL_SECONDS).
CLAIM_LEASE = timedelta(seconds=20)


def take_claims(entity: Any, status: str, *returning: Any) -> Update:
    """The one statement that claims rows of `entity` (the inbox's deliveries, the outbox's actions):
    those listed in `ours` as (id, status, attempts), each only if still as it was read, set to
    `status` under a lease until `lease_end`, the claim's token (`attempts`) counted up."""
    lease_end = bindparam("lease_end", type_=entity.__table__.c.lease_until.type)
    return (
        update(entity)
        .where(tuple_(entity.id, entity.status, entity.attempts).in_(bindparam("ours", expanding=True)))
        .values(status=status, lease_until=lease_end, attempts=entity.attempts + 1)
        .returning(*returning)
    )


def heartbeat_interval(lease: timedelta) -> float:
    """How often a claim of length `lease` is renewed: four chances before it lapses."""
    return max(lease.total_seconds() / 4, 0.01)


class Heartbeat:
    """Call `renew` every `interval` seconds on a daemon thread while the `with` block runs.

    A failed renewal (the database blinked) is logged and tried again at the next beat; if the
    claims lapse meanwhile, the fenced completion of the work (see the outbox and inbox) notices."""

    def __init__(self, renew: Callable[[], object], interval: float, name: str = "claim-heartbeat") -> None:
        self.renew = renew
        self.interval = interval
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.renew()
                self.beats += 1
            except Exception:  # noqa: BLE001 - retried at the next beat; a lapse is fenced
                log.warning("could not renew claims", exc_info=True)
