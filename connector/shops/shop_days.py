"""The shop's calendar: which day a moment falls on where the shop is.

Every day the engine and the planner count from (today, the day a line began to wait, the day a
line was routed, the day a purchase order came in) is the shop's day. A stored moment's own
`.date()` is its UTC day: a day off for the hours in which the two calendars differ, which moved
promises a day (and emailed customers about it) for orders placed in those hours.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from connector.storage.tables import ShopRow
from connector.storage.types import as_utc


def shop_zone(shop: ShopRow | None) -> ZoneInfo:
    return ZoneInfo((shop.timezone if shop is not None else None) or "UTC")


def shop_day(zone: ZoneInfo, moment: datetime) -> date:
    """The shop's calendar day at `moment` (a stored moment without its zone is UTC)."""
    return as_utc(moment).astimezone(zone).date()


def shop_today(shop: ShopRow | None, now: datetime) -> date:
    return shop_day(shop_zone(shop), now)
