"""A shop's suppliers and which SKUs each supplies (primary or alternative, at what cost).

Every function takes the shop's id and touches only that shop's rows: an id of another shop is
not found. Functions that change what a SKU's promise is computed from return those SKUs, so the
caller re-evaluates them in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.storage.tables import SupplierOfferRow, SupplierRow
from connector.supply.csv_rows import (
    CsvImportError,
    parse_bool,
    parse_decimal,
    parse_float,
    read_rows,
    write_rows,
)

OFFER_COLUMNS = ("supplier", "sku", "cost", "lead_time_days", "primary")


class NotFound(LookupError):
    pass


class InvalidInput(ValueError):
    """`errors` maps a field name to a message a merchant can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SupplierInput:
    name: str
    email: str | None = None
    phone: str | None = None
    lead_time_mean_days: float = 14.0
    lead_time_spread_days: float = 3.0
    dropship_capable: bool = False
    local: bool = False
    urgent_unit_premium: Decimal | None = None
    urgent_lead_time_days: float | None = None


@dataclass(frozen=True)
class OfferInput:
    sku: str
    cost: Decimal
    lead_time_days: float | None = None
    primary: bool = True


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skus: frozenset[str]


# ---- suppliers ---------------------------------------------------------------------------


def list_suppliers(session: Session, shop_id: int) -> list[tuple[SupplierRow, int]]:
    """The shop's suppliers with how many SKUs each offers, by name."""
    counts = (
        select(SupplierOfferRow.supplier_id, func.count().label("n"))
        .where(SupplierOfferRow.shop_id == shop_id)
        .group_by(SupplierOfferRow.supplier_id)
        .subquery()
    )
    rows = session.execute(
        select(SupplierRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.supplier_id == SupplierRow.id)
        .where(SupplierRow.shop_id == shop_id)
        .order_by(func.lower(SupplierRow.name), SupplierRow.id)
    ).all()
    return [(row, int(n)) for row, n in rows]


def get_supplier(session: Session, shop_id: int, supplier_id: int) -> SupplierRow:
    row = session.get(SupplierRow, supplier_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound(f"no supplier {supplier_id}")
    return row


def _validate_supplier(session: Session, shop_id: int, data: SupplierInput, supplier_id: int | None) -> None:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "a supplier needs a name"
    else:
        clash = session.scalar(
            select(SupplierRow.id).where(
                SupplierRow.shop_id == shop_id,
                func.lower(SupplierRow.name) == name.lower(),
                SupplierRow.id != (supplier_id or 0),
            )
        )
        if clash is not None:
            errors["name"] = f"there is already a supplier called {name!r}"
    if not 0 <= data.lead_time_mean_days <= 365:
        errors["lead_time_mean_days"] = "must be between 0 and 365 days"
    if not 0 <= data.lead_time_spread_days <= 180:
        errors["lead_time_spread_days"] = "must be between 0 and 180 days"
    if (data.urgent_unit_premium is None) != (data.urgent_lead_time_days is None):
        field = "urgent_lead_time_days" if data.urgent_lead_time_days is None else "urgent_unit_premium"
        errors[field] = "urgent terms need both a premium per unit and a lead time"
    if data.urgent_unit_premium is not None and data.urgent_unit_premium < 0:
        errors["urgent_unit_premium"] = "cannot be negative"
    if data.urgent_lead_time_days is not None:
        if not 0 <= data.urgent_lead_time_days <= 365:
            errors["urgent_lead_time_days"] = "must be between 0 and 365 days"
        elif data.urgent_lead_time_days > data.lead_time_mean_days:
            errors["urgent_lead_time_days"] = "an urgent order should arrive sooner than a normal one"
    if errors:
        raise InvalidInput(errors)


def save_supplier(
    session: Session, shop_id: int, data: SupplierInput, supplier_id: int | None = None
) -> tuple[SupplierRow, set[str]]:
    """Create or update a supplier. Returns it and the SKUs whose lead time may have changed."""
    _validate_supplier(session, shop_id, data, supplier_id)
    if supplier_id is None:
        row = SupplierRow(shop_id=shop_id, name=data.name.strip())
        session.add(row)
    else:
        row = get_supplier(session, shop_id, supplier_id)
    row.name = data.name.strip()
    row.email = (data.email or "").strip() or None
    row.phone = (data.phone or "").strip() or None
    row.lead_time_mean_days = data.lead_time_mean_days
    row.lead_time_spread_days = data.lead_time_spread_days
    row.dropship_capable = data.dropship_capable
    row.local = data.local
    row.urgent_unit_premium = data.urgent_unit_premium
    row.urgent_lead_time_days = data.urgent_lead_time_days
    session.flush()
    return row, {o.sku for o in offers_of(session, shop_id, row.id)}


def delete_supplier(session: Session, shop_id: int, supplier_id: int) -> set[str]:
    row = get_supplier(session, shop_id, supplier_id)
    skus = {o.sku for o in offers_of(session, shop_id, row.id)}
    for offer in offers_of(session, shop_id, row.id):
        session.delete(offer)
    session.delete(row)
    session.flush()
    return skus


# ---- offers ------------------------------------------------------------------------------


def offers_of(session: Session, shop_id: int, supplier_id: int) -> list[SupplierOfferRow]:
    return list(
        session.scalars(
            select(SupplierOfferRow)
            .where(SupplierOfferRow.shop_id == shop_id, SupplierOfferRow.supplier_id == supplier_id)
            .order_by(SupplierOfferRow.sku)
        )
    )


def _validate_offer(data: OfferInput) -> None:
    errors: dict[str, str] = {}
    if not data.sku.strip():
        errors["sku"] = "a SKU is required"
    elif len(data.sku) > 255:
        errors["sku"] = "at most 255 characters"
    if not data.cost.is_finite() or data.cost < 0:
        errors["cost"] = "must be zero or more"
    if data.lead_time_days is not None and not 0 <= data.lead_time_days <= 365:
        errors["lead_time_days"] = "must be between 0 and 365 days"
    if errors:
        raise InvalidInput(errors)


def save_offer(session: Session, shop_id: int, supplier_id: int, data: OfferInput) -> tuple[SupplierOfferRow, bool]:
    """Add or update the supplier's offer for a SKU; a primary offer makes the SKU's others alternatives.

    Returns the offer and whether it was created."""
    get_supplier(session, shop_id, supplier_id)
    _validate_offer(data)
    sku = data.sku.strip()
    row = session.scalar(
        select(SupplierOfferRow).where(SupplierOfferRow.supplier_id == supplier_id, SupplierOfferRow.sku == sku)
    )
    created = row is None
    if row is None:
        row = SupplierOfferRow(shop_id=shop_id, supplier_id=supplier_id, sku=sku)
        session.add(row)
    row.cost = data.cost
    row.lead_time_days = data.lead_time_days
    row.primary = data.primary
    if data.primary:
        for other in session.scalars(
            select(SupplierOfferRow).where(
                SupplierOfferRow.shop_id == shop_id,
                SupplierOfferRow.sku == sku,
                SupplierOfferRow.supplier_id != supplier_id,
                SupplierOfferRow.primary.is_(True),
            )
        ):
            other.primary = False
    session.flush()
    return row, created


def delete_offer(session: Session, shop_id: int, offer_id: int) -> tuple[str, int]:
    """Remove an offer; returns its SKU and supplier."""
    row = session.get(SupplierOfferRow, offer_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound(f"no offer {offer_id}")
    sku, supplier_id = row.sku, row.supplier_id
    session.delete(row)
    session.flush()
    return sku, supplier_id


# ---- CSV ---------------------------------------------------------------------------------


def offers_csv(session: Session, shop_id: int) -> str:
    rows = session.execute(
        select(SupplierRow.name, SupplierOfferRow)
        .join(SupplierRow, SupplierRow.id == SupplierOfferRow.supplier_id)
        .where(SupplierOfferRow.shop_id == shop_id)
        .order_by(SupplierOfferRow.sku, SupplierOfferRow.primary.desc(), SupplierRow.name)
    ).all()
    return write_rows(
        OFFER_COLUMNS,
        (
            (
                name,
                o.sku,
                f"{o.cost.normalize():f}",
                "" if o.lead_time_days is None else f"{o.lead_time_days:g}",
                "yes" if o.primary else "no",
            )
            for name, o in rows
        ),
    )


def import_offers_csv(session: Session, shop_id: int, text: str) -> ImportResult:
    """Import ``supplier,sku,cost[,lead_time_days][,primary]``: all rows or, on any error, none.

    Suppliers are named, and must exist (a misspelt name would otherwise create a supplier). A
    SKU may be listed by several suppliers; at most one row per SKU may be primary."""
    rows = read_rows(text, ("supplier", "sku", "cost"), ("lead_time_days", "primary"))
    suppliers = {r.name.lower(): r for r, _ in list_suppliers(session, shop_id)}
    errors: list[tuple[int, str]] = []
    parsed: list[tuple[SupplierRow, OfferInput]] = []
    seen: dict[tuple[int, str], int] = {}
    primaries: dict[str, int] = {}
    for number, row in rows:
        problems: list[str] = []
        supplier = suppliers.get(row["supplier"].lower())
        if supplier is None:
            problems.append(
                f"no supplier called {row['supplier']!r} (add it first)"
                if row["supplier"]
                else "the supplier is missing"
            )
        try:
            cost = parse_decimal(row["cost"], "cost")
        except ValueError as exc:
            problems.append(str(exc))
            cost = Decimal(0)
        lead: float | None = None
        if row.get("lead_time_days"):
            try:
                lead = parse_float(row["lead_time_days"], "lead_time_days")
            except ValueError as exc:
                problems.append(str(exc))
        try:
            primary = parse_bool(row.get("primary", ""), "primary", default=True)
        except ValueError as exc:
            problems.append(str(exc))
            primary = False
        if not row["sku"]:
            problems.append("the SKU is missing")
        if supplier is not None and row["sku"]:
            key = (supplier.id, row["sku"])
            if key in seen:
                problems.append(f"{supplier.name} / {row['sku']} is already on line {seen[key]}")
            seen[key] = number
            if primary:
                if row["sku"] in primaries:
                    problems.append(f"{row['sku']} is already primary on line {primaries[row['sku']]}")
                primaries[row["sku"]] = number
        if problems:
            errors.append((number, "; ".join(problems)))
        elif supplier is not None:
            parsed.append((supplier, OfferInput(row["sku"], cost, lead, primary)))
    if errors:
        raise CsvImportError(errors)
    created = updated = 0
    for supplier, offer in parsed:
        _, was_created = save_offer(session, shop_id, supplier.id, offer)
        created += was_created
        updated += not was_created
    return ImportResult(created, updated, frozenset(o.sku for _, o in parsed))
