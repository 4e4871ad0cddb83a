"""Named leases in the database: only one holder at a time, lost when not renewed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from connector.storage.db import Database
from connector.storage.tables import LeaseRow


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
