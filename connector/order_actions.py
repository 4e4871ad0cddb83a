"""Enqueue actions for one order, and what every email about an order carries.

Shared by the lifecycle (decisions on evaluation), the timers (promises and authorizations that
run out) and refunds (the customer's answer to an offer). Keys are namespaced by platform, shop
and order, so the same decision made twice enqueues nothing new.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from connector.outbox import Kind, enqueue
from connector.shop_settings import ShopSettings
from connector.storage.tables import OrderLineRow, OrderRow, ShopRow

ZERO = Decimal(0)
CENT = Decimal("0.01")


def line_amount(line: OrderLineRow, quantity: int) -> Decimal:
    return (line.unit_price or ZERO) * quantity


def outstanding(order: OrderRow) -> Decimal:
    """What is authorized and neither captured nor refunded yet."""
    total = (
        order.total_price
        if order.total_price is not None
        else sum((line_amount(li, li.quantity) for li in order.lines), ZERO)
    )
    return total - (order.captured_amount or ZERO) - (order.refunded_amount or ZERO)


class OrderActions:
    """Adds outbox actions for one order; counts how many were new."""

    def __init__(self, session: Session, shop: ShopRow, order: OrderRow, now: datetime) -> None:
        self.session, self.shop, self.order, self.now = session, shop, order, now
        self.added = 0

    def add(self, kind: Kind, key: str, payload: dict[str, Any]) -> bool:
        full_key = f"{self.shop.platform}:{self.shop.domain}:order:{self.order.external_id}:{key}"
        new = enqueue(
            self.session,
            shop_id=self.shop.id,
            order_id=self.order.id,
            kind=kind,
            key=full_key,
            payload={"order": self.order.external_id, **payload},
            now=self.now,
        )
        self.added += new
        return new

    def capture(self, amount: Decimal, key: str) -> None:
        """Capture part of the authorization, and count it as captured from now on."""
        if amount <= 0:
            return
        if self.add(Kind.CAPTURE, key, {"amount": str(amount.quantize(CENT)), "currency": self.order.currency}):
            self.order.captured_amount = (self.order.captured_amount or ZERO) + amount


def email_locale(customer: str | None, shop: str | None, languages: tuple[str, ...]) -> str:
    """The customer's language when the shop writes emails in it, else the shop's, else the first it uses.

    Locales keep their region ("it-IT") so dates and money are formatted the customer's way."""
    allowed = {lang.split("-")[0].split("_")[0].lower() for lang in languages} or {"en"}
    for locale in (customer, shop):
        if locale and locale.replace("_", "-").split("-")[0].lower() in allowed:
            return locale
    return languages[0] if languages else "en"


def email_payload(
    template: str,
    shop: ShopRow,
    order: OrderRow,
    settings: ShopSettings,
    lines: list[dict[str, Any]],
    **context: Any,
) -> dict[str, Any]:
    """Everything an email needs, frozen at decision time (the send may happen later)."""
    return {
        "template": template,
        "to": order.customer_email,
        "locale": email_locale(order.customer_locale, shop.locale, settings.email_languages),
        "shop": {
            "name": shop.name,
            "domain": shop.domain,
            "timezone": shop.timezone,
            "currency": order.currency,
            "sender_name": settings.sender_name or shop.name,
            "reply_to": settings.reply_to,
            "brand_color": settings.brand_color,
            "logo_url": settings.logo_url,
        },
        "order": {"id": order.external_id, "name": order.name, "customer_name": order.customer_name},
        "lines": lines,
        **context,
    }
