"""The secret in each shop's feed address (Google Merchant Center fetches it without signing in).

One token per shop, made on first use, replaced by `rotate` (the old address stops working at once),
compared in constant time. The feed it guards holds availability only, never customers or prices.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from connector.storage.tables import FeedTokenRow


def feed_token(session: Session, shop_id: int, now: datetime) -> str:
    row = session.get(FeedTokenRow, shop_id)
    if row is None:
        row = FeedTokenRow(shop_id=shop_id, token=secrets.token_urlsafe(24), created_at=now)
        session.add(row)
        session.flush()
    return row.token


def rotate(session: Session, shop_id: int, now: datetime) -> str:
    row = session.get(FeedTokenRow, shop_id)
    token = secrets.token_urlsafe(24)
    if row is None:
        session.add(FeedTokenRow(shop_id=shop_id, token=token, created_at=now))
    else:
        row.token, row.created_at = token, now
    session.flush()
    return token


def token_matches(session: Session, shop_id: int, given: str) -> bool:
    row = session.get(FeedTokenRow, shop_id)
    expected = row.token if row is not None else secrets.token_urlsafe(24)  # same work either way
    return hmac.compare_digest(expected.encode(), given.encode()) and row is not None
