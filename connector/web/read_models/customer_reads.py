"""The customer's backorder page: one order as its customer sees it, and the choices the merchant sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.order_actions import line_values, payment_values
from connector.domain.backorder_decision import CAPTURING
from connector.domain.charges import Charges, charges
from connector.domain.model import BackorderState
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import BackorderRow, CustomerChoiceRow, OrderRow, PromiseRow, ShopRow


@dataclass(frozen=True)
class PromiseChange:
    made_at: datetime
    promised_on: date | None
    reason: str  # initial | later | earlier
    cause: str | None  # connector.domain.promise_causes.CAUSES


@dataclass
class LineView:
    title: str
    sku: str
    quantity: int
    shipped: int
    waiting: int = 0
    cancelled: bool = False
    promised_on: date | None = None
    eta_p50: date | None = None
    eta_p90: date | None = None
    history: list[PromiseChange] = field(default_factory=list)

    @property
    def ready(self) -> int:
        return max(self.quantity - self.shipped - self.waiting, 0)


@dataclass
class OrderPage:
    lines: list[LineView]
    charges: Charges | None
    choices: list[CustomerChoiceRow]

    @property
    def waiting(self) -> list[LineView]:
        return [li for li in self.lines if li.waiting]

    @property
    def window(self) -> tuple[date | None, date | None]:
        """The P50-P90 window of the whole waiting order (its latest line decides)."""
        p50 = max((li.eta_p50 for li in self.waiting if li.eta_p50), default=None)
        p90 = max((li.eta_p90 for li in self.waiting if li.eta_p90), default=None)
        return p50, p90


def find_order(session: Session, platform: str, domain: str, external_id: str) -> tuple[ShopRow, OrderRow] | None:
    """The order a page link names, if its shop is connected (any other shop's order is not found)."""
    shop = session.scalar(select(ShopRow).where(ShopRow.platform == platform, ShopRow.domain == domain))
    if shop is None or shop.status == "uninstalled":
        return None
    order = session.scalar(select(OrderRow).where(OrderRow.shop_id == shop.id, OrderRow.external_id == external_id))
    return (shop, order) if order is not None else None


def is_done(order: OrderRow) -> bool:
    """Cancelled, or every line shipped or cancelled: the page has nothing more to say."""
    return bool(order.cancelled) or all(
        li.quantity - (li.fulfilled_quantity or 0) <= 0 for li in order.lines if li.requires_shipping
    )


def order_page(session: Session, shop: ShopRow, order: OrderRow) -> OrderPage:
    backorders = {b.line_id: b for b in session.scalars(select(BackorderRow).where(BackorderRow.order_id == order.id))}
    history: dict[int, list[PromiseChange]] = {}
    for row in session.scalars(
        select(PromiseRow)
        .where(PromiseRow.backorder_id.in_([b.id for b in backorders.values()]))
        .order_by(PromiseRow.made_at, PromiseRow.id)
    ):
        history.setdefault(row.backorder_id, []).append(
            PromiseChange(row.made_at, row.promised_on, row.reason, row.cause)
        )
    lines: list[LineView] = []
    for li in order.lines:
        view = LineView(li.title, li.sku, li.quantity, li.fulfilled_quantity or 0)
        b = backorders.get(li.id)
        if b is not None and b.state == BackorderState.WAITING and b.quantity > 0:
            view.waiting, view.promised_on, view.eta_p50, view.eta_p90 = b.quantity, b.promised_on, b.eta_p50, b.eta_p90
            view.history = history.get(b.id, [])
        view.cancelled = li.quantity <= 0 and b is not None and b.state == BackorderState.REFUNDED
        lines.append(view)
    choices = list(
        session.scalars(
            select(CustomerChoiceRow).where(CustomerChoiceRow.order_id == order.id).order_by(CustomerChoiceRow.id)
        )
    )
    return OrderPage(lines, _charges(shop, order), choices)


def _charges(shop: ShopRow, order: OrderRow) -> Charges | None:
    settings = ShopSettings.from_mapping(shop.settings)
    pay = payment_values(order)
    later = settings.charge_policy == "authorize_then_capture" and pay.status in CAPTURING
    amounts = (li.amount(li.quantity) for li in line_values(order))
    return charges(pay.status, pay.total, amounts, pay.captured, pay.refunded, later)


def recent_choices(session: Session, shop_id: int, limit: int = 25) -> list[tuple[CustomerChoiceRow, str]]:
    """The shop's latest customer choices with their order's name (the dashboard lists them)."""
    rows = session.execute(
        select(CustomerChoiceRow, OrderRow.name)
        .join(OrderRow, OrderRow.id == CustomerChoiceRow.order_id)
        .where(CustomerChoiceRow.shop_id == shop_id)
        .order_by(CustomerChoiceRow.made_at.desc(), CustomerChoiceRow.id.desc())
        .limit(limit)
    ).all()
    return [(c, name) for c, name in rows]
