"""Read models for selling limits: the SKUs the store does not sell on backorder because of a limit,
why, and when selling is expected to resume; and the merchant's per-SKU unit limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.domain.model import BackorderState
from connector.domain.selling_limit import Reason
from connector.storage.tables import BackorderLimitRow, BackorderRow, SellingStopRow, VariantRow


@dataclass(frozen=True)
class StoppedSku:
    sku: str
    title: str | None
    state: str  # stopped | overridden
    reason: str
    why: str  # the reason in a sentence
    ships_p90: date | None
    resume_on: date | None
    resumes: str  # when selling is expected to resume, in a sentence
    stopped_at: datetime
    waiting: int
    limit: int | None


@dataclass(frozen=True)
class UnitLimit:
    sku: str
    title: str | None
    max_units: int
    waiting: int


def _waiting(session: Session, shop_id: int) -> dict[str, int]:
    rows = session.execute(
        select(BackorderRow.sku, func.sum(BackorderRow.quantity))
        .where(BackorderRow.shop_id == shop_id, BackorderRow.state == str(BackorderState.WAITING))
        .group_by(BackorderRow.sku)
    )
    return {sku: int(total or 0) for sku, total in rows}


def _titles(session: Session, shop_id: int, skus: list[str]) -> dict[str, str]:
    if not skus:
        return {}
    rows = session.execute(
        select(VariantRow.sku, VariantRow.title).where(VariantRow.shop_id == shop_id, VariantRow.sku.in_(skus))
    )
    return dict(rows.all())


def _why(row: SellingStopRow, longest_wait: int | None, waiting: int, limit: int | None) -> str:
    if row.state == "overridden":
        return "you switched selling back on in your store: left as you set it until the promise is within limits"
    if row.reason == Reason.LIMIT_REACHED:
        return f"{waiting} units on backorder: its limit of {limit} is reached"
    when = f" (ships by {row.ships_p90:%d %b %Y})" if row.ships_p90 else ""
    wait = f"{longest_wait} days" if longest_wait is not None else "the limit"
    return f"one more unit could not ship within your longest wait of {wait}{when}"


def _resumes(row: SellingStopRow, longest_wait: int | None) -> str:
    if row.state == "overridden":
        return "selling now (your choice)"
    if row.resume_on is not None:
        return f"around {row.resume_on:%d %b %Y}, as the purchase order's arrival comes within the longest wait"
    if row.reason == Reason.LIMIT_REACHED:
        return "when waiting orders ship or are cancelled, or you raise the limit"
    return "when a purchase order or a restock brings the ship date within the longest wait"


def stopped_skus(session: Session, shop_id: int, longest_wait: int | None) -> list[StoppedSku]:
    rows = list(
        session.scalars(
            select(SellingStopRow)
            .where(SellingStopRow.shop_id == shop_id, SellingStopRow.state.in_(("stopped", "overridden")))
            .order_by(SellingStopRow.stopped_at, SellingStopRow.sku)
        )
    )
    waiting = _waiting(session, shop_id) if rows else {}
    limits = dict(
        session.execute(
            select(BackorderLimitRow.sku, BackorderLimitRow.max_units).where(BackorderLimitRow.shop_id == shop_id)
        ).all()
    ) if rows else {}
    titles = _titles(session, shop_id, [r.sku for r in rows])
    return [
        StoppedSku(
            sku=r.sku,
            title=titles.get(r.sku),
            state=r.state,
            reason=r.reason,
            why=_why(r, longest_wait, waiting.get(r.sku, 0), limits.get(r.sku)),
            ships_p90=r.ships_p90,
            resume_on=r.resume_on,
            resumes=_resumes(r, longest_wait),
            stopped_at=r.stopped_at,
            waiting=waiting.get(r.sku, 0),
            limit=limits.get(r.sku),
        )
        for r in rows
    ]


def unit_limits(session: Session, shop_id: int) -> list[UnitLimit]:
    rows = list(
        session.scalars(
            select(BackorderLimitRow).where(BackorderLimitRow.shop_id == shop_id).order_by(BackorderLimitRow.sku)
        )
    )
    waiting = _waiting(session, shop_id) if rows else {}
    titles = _titles(session, shop_id, [r.sku for r in rows])
    return [UnitLimit(r.sku, titles.get(r.sku), r.max_units, waiting.get(r.sku, 0)) for r in rows]
