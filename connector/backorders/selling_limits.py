"""Selling only what we can promise: apply the selling-limit decision to a shop's SKUs.

Called after each evaluation with the SKUs it touched (and by the periodic sweep with None: every
variant). For each SKU it loads the promise of one more unit (`availability.load_quotes`), the
units waiting and the SKU's limit, decides (`connector.domain.selling_limit`), records the SKUs
whose selling we stopped (`SellingStopRow`) and enqueues the store switch in the outbox, in the
caller's transaction.

Our own switch comes back to us as a variant webhook saying the item no longer sells when out of
stock: the stored variant then says "not selling", and the stop record says it was us. A variant
that says "selling" again while we hold it stopped, changed after our stop reached the store, is
the merchant switching it back on: we leave it alone (state `overridden`) until its promise is
within the limits again, and never stop it again meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connector.backorders.availability import SkuQuote, Status, load_quotes
from connector.dispatch.outbox import Kind, enqueue
from connector.domain.model import BackorderState
from connector.domain.selling_limit import Reason, SellingDecision, SellingPicture, Verdict, decide
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import ActionRow, BackorderLimitRow, BackorderRow, SellingStopRow, ShopRow, VariantRow
from connector.storage.types import as_utc

STOPPED, OVERRIDDEN, RESUMED = "stopped", "overridden", "resumed"


@dataclass
class Limited:
    stopped: int = 0
    resumed: int = 0
    overridden: int = 0

    @property
    def actions(self) -> int:
        return self.stopped + self.resumed


def _by_sku(session: Session, model, shop_id: int, skus: list[str] | None) -> dict:  # type: ignore[no-untyped-def]
    query = select(model).where(model.shop_id == shop_id)
    if skus is None:
        return {row.sku: row for row in session.scalars(query)}
    return {row.sku: row for chunk in chunks(skus) for row in session.scalars(query.where(one_of(model.sku, chunk)))}


def _waiting_units(session: Session, shop_id: int, skus: list[str]) -> dict[str, int]:
    units: dict[str, int] = {}
    for chunk in chunks(skus):
        for sku, total in session.execute(
            select(BackorderRow.sku, func.sum(BackorderRow.quantity))
            .where(
                BackorderRow.shop_id == shop_id,
                BackorderRow.state == BackorderState.WAITING,
                one_of(BackorderRow.sku, chunk),
            )
            .group_by(BackorderRow.sku)
        ):
            units[sku] = int(total or 0)
    return units


def _anything_limited(session: Session, shop_id: int) -> bool:
    limits = select(BackorderLimitRow.id).where(BackorderLimitRow.shop_id == shop_id).exists()
    stops = select(SellingStopRow.id).where(SellingStopRow.shop_id == shop_id, SellingStopRow.state != RESUMED)
    return bool(session.scalar(select(limits | stops.exists())))


def _wanted(
    session: Session, shop: ShopRow, skus: Iterable[str] | None, settings: ShopSettings
) -> tuple[list[str] | None, dict[str, BackorderLimitRow], dict[str, SellingStopRow]]:
    """The SKUs to decide on (None: every variant), with their limits and stop records."""
    asked = None if skus is None else sorted(set(skus))
    if settings.longest_wait_days is None and not _anything_limited(session, shop.id):
        return [], {}, {}  # the common case when the feature is off: one query
    limits = _by_sku(session, BackorderLimitRow, shop.id, asked)
    stops = _by_sku(session, SellingStopRow, shop.id, asked)
    if settings.longest_wait_days is not None:
        return asked, limits, stops
    live = {sku for sku, row in stops.items() if row.state != RESUMED}
    return sorted(set(limits) | live), limits, stops  # no longest wait: only SKUs with a limit or a stop


def limit_selling(session: Session, shop: ShopRow, skus: Iterable[str] | None, now: datetime) -> Limited:
    """Decide and act on the selling of `skus` (None: every variant of the shop). Returns what changed."""
    result = Limited()
    if shop.status != "active":
        return result
    settings = ShopSettings.from_mapping(shop.settings)
    wanted, limits, stops = _wanted(session, shop, skus, settings)
    if wanted is not None and not wanted:
        return result
    held = {sku for sku, row in stops.items() if row.state == STOPPED}
    quotes = load_quotes(session, shop, wanted, now, as_selling=held)
    variants = _by_sku(session, VariantRow, shop.id, sorted(quotes))
    units = _waiting_units(session, shop.id, sorted(quotes))
    today = shop_today(shop, now)
    for sku, sq in quotes.items():
        variant = variants.get(sku)
        if variant is None or sq.quote.status in (Status.UNKNOWN, Status.UNTRACKED):
            continue
        stop = stops.get(sku)
        limit = limits.get(sku)
        picture = SellingPicture(
            today=today,
            ships_p90=_p90(sq),
            promise_is_dated=(sq.quote.source or "").startswith("po:"),
            longest_wait_days=settings.longest_wait_days,
            units_on_backorder=units.get(sku, 0),
            unit_limit=limit.max_units if limit is not None else None,
            store_sells=variant.sells_when_out_of_stock,
            stopped_by_us=stop is not None and stop.state in (STOPPED, OVERRIDDEN),
            merchant_overrode=stop is not None and _overridden(session, shop, stop, variant),
        )
        _act(session, shop, variant, stop, picture, decide(picture), now, result)
    return result


def _p90(sq: SkuQuote):  # type: ignore[no-untyped-def]
    return sq.quote.ships_p90 if sq.quote.status == Status.BACKORDER else None


def _action_key(shop: ShopRow, sku: str, switches: int, what: str) -> str:
    return f"selling:{shop.id}:{sku}:{switches}:{what}"


def _overridden(session: Session, shop: ShopRow, stop: SellingStopRow, variant: VariantRow) -> bool:
    """Whether the merchant switched selling back on after our stop reached the store."""
    if stop.state == OVERRIDDEN:
        return True
    if stop.state != STOPPED or not variant.sells_when_out_of_stock:
        return False
    done_at = session.scalar(
        select(ActionRow.done_at).where(
            ActionRow.idempotency_key == _action_key(shop, stop.sku, stop.switches, "stop"),
            ActionRow.status == "done",
        )
    )
    if done_at is None or variant.updated_at is None:
        return False  # our stop has not reached the store: "selling" is what the store said before it
    return as_utc(variant.updated_at) > as_utc(done_at)



def _act(
    session: Session,
    shop: ShopRow,
    variant: VariantRow,
    stop: SellingStopRow | None,
    picture: SellingPicture,
    decision: SellingDecision,
    now: datetime,
    result: Limited,
) -> None:
    if decision.verdict is Verdict.STOP:
        if stop is None:
            stop = SellingStopRow(shop_id=shop.id, sku=variant.sku, switches=0, stopped_at=now)
            session.add(stop)
        stop.switches = (stop.switches or 0) + 1
        stop.state, stop.stopped_at = STOPPED, now
        _record(stop, variant, picture, decision, now)
        _switch(session, shop, stop, selling=False, now=now)
        result.stopped += 1
    elif decision.verdict is Verdict.RESUME and stop is not None:
        stop.state = RESUMED
        _record(stop, variant, picture, decision, now)
        _switch(session, shop, stop, selling=True, now=now)
        result.resumed += 1
    elif stop is not None and stop.state != RESUMED:
        if decision.reason is Reason.MERCHANT_RESUMED:
            result.overridden += stop.state != OVERRIDDEN
            stop.state = OVERRIDDEN
        elif stop.state == OVERRIDDEN and not decision.stopped:
            stop.state = RESUMED  # back within limits: the merchant's selling is theirs again, nothing to undo
        _record(stop, variant, picture, decision, now)


def _record(
    stop: SellingStopRow, variant: VariantRow, picture: SellingPicture, decision: SellingDecision, now: datetime
) -> None:
    stop.product_id, stop.variant_id = variant.product_id, variant.variant_id
    stop.reason = str(decision.reason)
    stop.ships_p90 = picture.ships_p90
    stop.resume_on = decision.resume_on
    stop.updated_at = now


def _switch(session: Session, shop: ShopRow, stop: SellingStopRow, *, selling: bool, now: datetime) -> None:
    """Enqueue the store switch. Resuming before our stop was even sent cancels the stop instead."""
    if selling:
        cancelled = session.execute(
            update(ActionRow)
            .where(
                ActionRow.idempotency_key == _action_key(shop, stop.sku, stop.switches, "stop"),
                ActionRow.status == "pending",
            )
            .values(status="cancelled", last_error="selling resumed before the stop was sent")
        ).rowcount
        if cancelled:
            return
    enqueue(
        session,
        shop_id=shop.id,
        order_id=None,
        kind=Kind.SET_SELLING,
        key=_action_key(shop, stop.sku, stop.switches, "resume" if selling else "stop"),
        payload={
            "sku": stop.sku,
            "product_id": stop.product_id,
            "variant_id": stop.variant_id,
            "selling": selling,
            "reason": stop.reason,
        },
        now=now,
    )
