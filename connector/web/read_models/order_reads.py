"""Orders as the dashboard's actions and the shopper's refund-offer page see them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import OrderLineRow, OrderRow, ShopRow


def shop_order(session: Session, shop_id: int, order_id: int) -> OrderRow | None:
    """Order `order_id` if it belongs to shop `shop_id` (any other shop's is not found)."""
    order = session.get(OrderRow, order_id)
    return order if order is not None and order.shop_id == shop_id else None


def order_skus(session: Session, order_id: int) -> set[str]:
    return set(session.scalars(select(OrderLineRow.sku).where(OrderLineRow.order_id == order_id)))


def offer_order_and_shop(session: Session, order_id: int, shop_id: int) -> tuple[OrderRow | None, ShopRow | None]:
    """The order a refund offer is about, and its shop (for the page's wording and currency)."""
    return session.get(OrderRow, order_id), session.get(ShopRow, shop_id)
