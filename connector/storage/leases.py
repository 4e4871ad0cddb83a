"""Named leases in the database: only one holder at a time, lost when not renewed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Update, bindparam, func, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
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


@dataclass(frozen=True)
class ClaimStatement:
    """The one statement that claims rows of a queue (the inbox's deliveries, the outbox's actions),
    built once (`take_claims`), and the parameters of each claim."""

    statement: Update
    joined: bool  # PostgreSQL: the rows listed are joined as three arrays; elsewhere a list of rows

    def params(self, ours: Sequence[tuple[int, str, int]], lease_end: datetime) -> dict[str, Any]:
        """Claim the rows listed as (id, status, attempts) until `lease_end`."""
        if not self.joined:
            return {"ours": [tuple(row) for row in ours], "lease_end": lease_end}
        return {"ids": [row[0] for row in ours], "statuses": [row[1] for row in ours],
                "tokens": [row[2] for row in ours], "lease_end": lease_end}


def take_claims(entity: Any, status: str, *returning: Any, postgresql: bool) -> ClaimStatement:
    """The statement that claims rows of `entity`: those listed as (id, status, attempts), each only
    if still as it was read, set to `status` under a lease until `lease_end`, the claim's token
    (`attempts`) counted up.

    On PostgreSQL the list travels as three arrays, joined (`UPDATE ... FROM unnest(...)`) and looked
    up by the primary key (`id = ANY(...)`, which keeps that plan when the statistics still describe
    the tables of before a sale). Listed as row values, `(id, status, attempts) IN (...)`, the rows
    were planned as a filter of a thousand ORs over every open row: with a sale's 40,000 deliveries
    waiting, half a second of the database's time a claim of 1,000, longer the longer the backlog
    (benchmarks/flash_pipe.py, 20,000 orders: 24.7 of the 58.6 s its statements took)."""
    lease_end = bindparam("lease_end", type_=entity.__table__.c.lease_until.type)
    if postgresql:
        ids = bindparam("ids", type_=ARRAY(BigInteger))
        ours = func.unnest(
            ids, bindparam("statuses", type_=ARRAY(String)), bindparam("tokens", type_=ARRAY(Integer))
        ).table_valued("id", "status", "attempts").render_derived(name="ours")
        listed = (entity.id == ours.c.id, entity.status == ours.c.status, entity.attempts == ours.c.attempts,
                  entity.id == func.any(ids))
    else:
        listed = (tuple_(entity.id, entity.status, entity.attempts).in_(bindparam("ours", expanding=True)),)
    statement = (
        update(entity)
        .where(*listed)
        .values(status=status, lease_until=lease_end, attempts=entity.attempts + 1)
        .returning(*returning)
    )
    return ClaimStatement(statement, joined=postgresql)


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
