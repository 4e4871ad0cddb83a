"""The shop a page acts for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from connector.shops.directory import ACTIVE, find_row
from connector.storage.tables import ShopRow

ShopRecord = ShopRow  # what pages receive (and may annotate with) for a shop


def shop_row(session: Session, shop_id: int) -> ShopRow | None:
    return session.get(ShopRow, shop_id)


def active_shop(session: Session, platform: str, domain: str) -> ShopRow | None:
    """The connected, active shop `domain` on `platform`; None for any other (unknown, uninstalled)."""
    row = find_row(session, platform, domain)
    return row if row is not None and row.status == ACTIVE else None
