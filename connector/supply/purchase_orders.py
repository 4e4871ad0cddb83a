"""A shop's purchase orders: create, edit, approve, list, CSV import/export (receiving: `purchasing`).

As in `suppliers`, every function is scoped to one shop and returns the SKUs whose incoming
stock changed, for the caller to re-evaluate in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import PurchaseOrderLineRow, PurchaseOrderRow, SupplierRow
from connector.supply.csv_rows import CsvImportError, parse_bool, parse_date, parse_int, read_rows, write_rows
from connector.supply.suppliers import InvalidInput, NotFound

PO_COLUMNS = ("reference", "supplier", "expected_on", "sku", "quantity", "ordered_on", "draft")
EXPORT_COLUMNS = (*PO_COLUMNS, "received_quantity", "received_on")


@dataclass(frozen=True)
class PurchaseOrderInput:
    reference: str
    expected_on: date | None
    lines: Sequence[tuple[str, int]]
    supplier_id: int | None = None
    ordered_on: date | None = None
    draft: bool = False


@dataclass(frozen=True)
class PoImportResult:
    created: int
    lines: int
    skus: frozenset[str] = field(default_factory=frozenset)


def list_purchase_orders(session: Session, shop_id: int) -> list[PurchaseOrderRow]:
    """Open ones first (by expected date), then received ones (latest first)."""
    rows = list(session.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.shop_id == shop_id)))
    open_ = sorted((r for r in rows if r.received_on is None), key=lambda r: (r.expected_on, r.id))
    done = sorted((r for r in rows if r.received_on is not None), key=lambda r: (r.received_on, r.id), reverse=True)
    return open_ + done


def get_purchase_order(session: Session, shop_id: int, po_id: int) -> PurchaseOrderRow:
    row = session.get(PurchaseOrderRow, po_id)
    if row is None or row.shop_id != shop_id:
        raise NotFound(f"no purchase order {po_id}")
    return row


def _validate(session: Session, shop_id: int, data: PurchaseOrderInput, po: PurchaseOrderRow | None) -> None:
    errors: dict[str, str] = {}
    reference = data.reference.strip()
    if not reference:
        errors["reference"] = "a reference is required (your PO number)"
    elif len(reference) > 100:
        errors["reference"] = "at most 100 characters"
    else:
        clash = session.scalar(
            select(PurchaseOrderRow.id).where(
                PurchaseOrderRow.shop_id == shop_id,
                PurchaseOrderRow.reference == reference,
                PurchaseOrderRow.id != (po.id if po else 0),
            )
        )
        if clash is not None:
            errors["reference"] = f"purchase order {reference} already exists"
    if data.expected_on is None:
        errors["expected_on"] = "when do you expect the goods?"
    if data.ordered_on and data.expected_on and data.ordered_on > data.expected_on:
        errors["expected_on"] = "cannot be before the order date"
    if data.supplier_id is not None:
        supplier = session.get(SupplierRow, data.supplier_id)
        if supplier is None or supplier.shop_id != shop_id:
            errors["supplier_id"] = "choose one of your suppliers"
    line_errors: list[str] = []
    seen: set[str] = set()
    for sku, qty in data.lines:
        if not sku.strip():
            line_errors.append("every line needs a SKU")
        elif sku in seen:
            line_errors.append(f"{sku} is listed twice")
        if qty < 1:
            line_errors.append(f"{sku or 'a line'}: the quantity must be at least 1")
        seen.add(sku)
    if not data.lines:
        line_errors.append("add at least one line")
    if po is not None:
        received = {li.sku: li.received_quantity for li in po.lines if li.received_quantity}
        wanted = dict(data.lines)
        for sku, got in received.items():
            if wanted.get(sku, 0) < got:
                line_errors.append(f"{sku}: {got} already received, the quantity cannot go below that")
    if line_errors:
        errors["lines"] = "; ".join(dict.fromkeys(line_errors))
    if errors:
        raise InvalidInput(errors)


def save_purchase_order(
    session: Session, shop_id: int, data: PurchaseOrderInput, now: datetime, po_id: int | None = None
) -> tuple[PurchaseOrderRow, set[str]]:
    """Create or edit a purchase order. Returns it and the SKUs whose incoming stock changed."""
    po = get_purchase_order(session, shop_id, po_id) if po_id is not None else None
    if po is not None and po.received_on is not None:
        raise InvalidInput({"reference": "a received purchase order cannot be changed"})
    _validate(session, shop_id, data, po)
    assert data.expected_on is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    touched: set[str] = set()
    if po is None:
        po = PurchaseOrderRow(
            shop_id=shop_id, created_at=now, reference=data.reference.strip(), expected_on=data.expected_on
        )
        session.add(po)
    else:
        touched |= {li.sku for li in po.lines}
    po.reference = data.reference.strip()
    po.supplier_id = data.supplier_id
    po.expected_on = data.expected_on
    po.ordered_on = data.ordered_on
    po.draft = data.draft
    existing = {li.sku: li for li in po.lines}
    wanted = {sku.strip(): qty for sku, qty in data.lines}
    for sku, line in existing.items():
        if sku not in wanted:
            po.lines.remove(line)
    for sku, qty in wanted.items():
        if sku in existing:
            existing[sku].quantity = qty
        else:
            po.lines.append(PurchaseOrderLineRow(sku=sku, quantity=qty, received_quantity=0))
    touched |= set(wanted)
    session.flush()
    return po, touched


def approve_purchase_order(session: Session, shop_id: int, po_id: int, today: date | None = None) -> set[str]:
    """A draft (e.g. proposed by planning) becomes an order placed `today` (unless it has an order date):
    its stock counts as incoming, and its lead time is measured from then (supplier agility)."""
    po = get_purchase_order(session, shop_id, po_id)
    if not po.draft:
        return set()
    po.draft = False
    if po.ordered_on is None:
        po.ordered_on = today
    session.flush()
    return {li.sku for li in po.lines}


def delete_purchase_order(session: Session, shop_id: int, po_id: int) -> set[str]:
    po = get_purchase_order(session, shop_id, po_id)
    if any(li.received_quantity for li in po.lines):
        raise InvalidInput({"reference": "goods were received against this purchase order: it cannot be deleted"})
    skus = {li.sku for li in po.lines}
    session.delete(po)
    session.flush()
    return skus


# ---- CSV ---------------------------------------------------------------------------------


def purchase_orders_csv(session: Session, shop_id: int) -> str:
    names = dict(session.execute(select(SupplierRow.id, SupplierRow.name).where(SupplierRow.shop_id == shop_id)).all())
    rows = []
    for po in list_purchase_orders(session, shop_id):
        for li in po.lines:
            rows.append(
                (
                    po.reference,
                    names.get(po.supplier_id, ""),
                    po.expected_on.isoformat(),
                    li.sku,
                    li.quantity,
                    po.ordered_on.isoformat() if po.ordered_on else "",
                    "yes" if po.draft else "no",
                    li.received_quantity,
                    po.received_on.isoformat() if po.received_on else "",
                )
            )
    return write_rows(EXPORT_COLUMNS, rows)


def _po_row(
    row: dict[str, str], suppliers: dict[str, int]
) -> tuple[date | None, date | None, int, bool, int | None, list[str]]:
    """One CSV row's expected date, order date, quantity, draft flag and supplier, and what is wrong with it."""
    problems: list[str] = []
    if not row["reference"]:
        problems.append("the reference is missing")
    try:
        expected = parse_date(row["expected_on"], "expected_on")
    except ValueError as exc:
        problems.append(str(exc))
        expected = None
    ordered = None
    if row.get("ordered_on"):
        try:
            ordered = parse_date(row["ordered_on"], "ordered_on")
        except ValueError as exc:
            problems.append(str(exc))
    try:
        qty = parse_int(row["quantity"], "quantity")
    except ValueError as exc:
        problems.append(str(exc))
        qty = 0
    try:
        draft = parse_bool(row.get("draft", ""), "draft", default=False)
    except ValueError as exc:
        problems.append(str(exc))
        draft = False
    supplier_id = None
    if row.get("supplier"):
        supplier_id = suppliers.get(row["supplier"].lower())
        if supplier_id is None:
            problems.append(f"no supplier called {row['supplier']!r} (add it first)")
    if not row["sku"]:
        problems.append("the SKU is missing")
    return expected, ordered, qty, draft, supplier_id, problems


def import_purchase_orders_csv(session: Session, shop_id: int, text: str, now: datetime) -> PoImportResult:
    """Import new purchase orders, one row per line (rows sharing a reference make one PO).

    All or nothing: any bad row, or a reference that already exists, imports nothing. An exported
    file's ``received_*`` columns are accepted and ignored (receiving is done in the app)."""
    rows = read_rows(
        text,
        ("reference", "expected_on", "sku", "quantity"),
        ("supplier", "ordered_on", "draft", "received_quantity", "received_on"),
    )
    suppliers = {
        name.lower(): sid
        for sid, name in session.execute(
            select(SupplierRow.id, SupplierRow.name).where(SupplierRow.shop_id == shop_id)
        ).all()
    }
    existing = set(session.scalars(select(PurchaseOrderRow.reference).where(PurchaseOrderRow.shop_id == shop_id)))
    errors: list[tuple[int, str]] = []
    orders: dict[str, dict] = {}
    for number, row in rows:
        ref = row["reference"]
        expected, ordered, qty, draft, supplier_id, problems = _po_row(row, suppliers)
        if ref in existing:
            problems.insert(0, f"purchase order {ref} already exists")
        order = orders.setdefault(
            ref,
            {
                "first": number,
                "expected": expected,
                "ordered": ordered,
                "supplier": supplier_id,
                "draft": draft,
                "lines": {},
            },
        )
        if ref and order["first"] != number:
            header = (order["expected"], order["ordered"], order["supplier"], order["draft"])
            if header != (expected, ordered, supplier_id, draft):
                problems.append(f"{ref}: date, supplier or draft differ from line {order['first']}")
        if row["sku"] in order["lines"]:
            problems.append(f"{row['sku']} is already on line {order['lines'][row['sku']][1]} of {ref}")
        if problems:
            errors.append((number, "; ".join(problems)))
        else:
            order["lines"][row["sku"]] = (qty, number)
    if errors:
        raise CsvImportError(errors)
    skus: set[str] = set()
    count = 0
    for ref, order in orders.items():
        data = PurchaseOrderInput(
            reference=ref,
            expected_on=order["expected"],
            lines=[(sku, qty) for sku, (qty, _) in order["lines"].items()],
            supplier_id=order["supplier"],
            ordered_on=order["ordered"],
            draft=order["draft"],
        )
        _, touched = save_purchase_order(session, shop_id, data, now)
        skus |= touched
        count += len(data.lines)
    return PoImportResult(len(orders), count, frozenset(skus))
