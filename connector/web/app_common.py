"""What the merchant app's blueprints share: the signed-in shop's unit of work, re-evaluation, filters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency
from flask import Flask, abort, current_app, g
from sqlalchemy.orm import Session

from connector.backorders.selling_limits import limit_selling
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.bootstrap import Services
from connector.shops.shop_days import shop_today
from connector.web.auth import SignedInShop
from connector.web.read_models.shop_reads import ShopRecord, shop_row


def services() -> Services:
    return current_app.extensions["connector"]


def signed_in() -> SignedInShop:
    return g.shop  # set by `login_required`


@contextmanager
def shop_session() -> Iterator[tuple[Session, ShopRecord]]:
    """A unit of work on the signed-in shop's row (commits on success)."""
    with services().db.session() as s:
        shop = shop_row(s, signed_in().id)
        if shop is None:
            abort(404)
        yield s, shop


def reevaluate(session: Session, shop: ShopRecord, skus: Iterable[str] | None) -> None:
    """Re-evaluate SKUs whose facts the merchant just changed (None: all of the shop's), in the same
    transaction, so promises follow at once; the worker is woken to carry out what changed."""
    wanted = None if skus is None else set(skus)
    if (wanted is None or wanted) and shop.status == "active":
        session.flush()
        evaluate(session, shop, wanted, services().clock())
        limit_selling(session, shop, wanted, services().clock())
    g.wake_worker = True


def today() -> date:
    with services().db.session() as s:
        shop = shop_row(s, signed_in().id)
        assert shop is not None  # nosec B101  # narrows the type; an invariant, not a check of input
        return shop_today(shop, services().clock())


def _zone() -> ZoneInfo:
    shop = g.get("shop")
    return ZoneInfo(shop.timezone if shop else "UTC")


def shop_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(_zone())
    return value.strftime(fmt)


def shop_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(_zone()).strftime("%d %b %H:%M")


def money(amount: Decimal | float | None, currency: str | None = None) -> str:
    if amount is None:
        return "—"
    shop = g.get("shop")
    return format_currency(amount, currency or (shop.currency if shop else "USD"), locale="en")


def register(app: Flask) -> None:
    app.add_template_filter(shop_date, "shopdate")
    app.add_template_filter(shop_time, "shoptime")
    app.add_template_filter(money, "money")

    @app.teardown_request
    def _wake(_exc: BaseException | None) -> None:
        if g.pop("wake_worker", False) and _exc is None:
            services().notify("drain_outbox")
