"""Privacy requests: export what we store about a customer, redact a customer, redact a shop.

What we store about a customer is the contact details on their orders (email, name, locale,
external id), the order lines and promises that follow from them, and, for the retention's time
(`connector.storage.retention`), the webhooks that named them as the store sent them. An export
gathers exactly that. A redaction erases the personal fields and keeps the anonymous quantities
the shop still needs for stock and planning, and erases the customer from the copies kept
elsewhere: the stored webhooks, the emails' payloads and earlier exports (`connector.intake.erasure`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from connector.domain.model import CustomerDataRequested, CustomerRedactRequested
from connector.intake.erasure import CustomerKeys, customer_deliveries, delete_shop_deliveries, erase_customer
from connector.storage.tables import (
    BackorderRow,
    ComplianceRequestRow,
    OrderRow,
    ShopRow,
)
from connector.storage.types import utcnow

REDACTED = "redacted"


def _customer_orders(
    session: Session, shop: ShopRow, email: str | None, customer_id: str | None, order_ids: tuple[str, ...]
) -> list[OrderRow]:
    clauses = []
    if email:
        clauses.append(OrderRow.customer_email == email)
    if customer_id:
        clauses.append(OrderRow.customer_external_id == customer_id)
    if order_ids:
        clauses.append(OrderRow.external_id.in_(order_ids))
    if not clauses:
        return []
    return list(session.scalars(select(OrderRow).where(OrderRow.shop_id == shop.id, or_(*clauses))))


def _keys(event: CustomerDataRequested | CustomerRedactRequested, orders: list[OrderRow]) -> CustomerKeys:
    """The customer as the request names them and as their orders we found carry them."""
    return CustomerKeys.of(
        emails=(event.customer_email, *(o.customer_email for o in orders)),
        customer_ids=(event.customer_id, *(o.customer_external_id for o in orders)),
        order_ids=(*event.order_ids, *(o.external_id for o in orders)),
    )


def _readable(body: bytes) -> Any:
    """A stored webhook's body as the export shows it: its JSON, or its text when it is not JSON."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON a database stores")


def export_customer(session: Session, shop: ShopRow, event: CustomerDataRequested) -> str:
    """Gather the customer's data and record it for the merchant's Privacy page; the summary."""
    return record_export(session, shop, event)[0]


def record_export(session: Session, shop: ShopRow, event: CustomerDataRequested) -> tuple[str, dict[str, Any]]:
    """Gather the customer's data and record it for the merchant's Privacy page: (summary, the data)."""
    orders = _customer_orders(session, shop, event.customer_email, event.customer_id, event.order_ids)
    data: dict[str, Any] = {
        "shop": shop.domain,
        "customer": {"email": event.customer_email, "id": event.customer_id},
        "request_id": event.request_id,
        "orders": [],
    }
    for order in orders:
        backorders = {
            b.line_id: b for b in session.scalars(select(BackorderRow).where(BackorderRow.order_id == order.id))
        }
        data["orders"].append(
            {
                "id": order.external_id,
                "name": order.name,
                "email": order.customer_email,
                "customer_name": order.customer_name,
                "locale": order.customer_locale,
                "placed_at": order.placed_at.isoformat(),
                "lines": [
                    {
                        "sku": li.sku,
                        "title": li.title,
                        "quantity": li.quantity,
                        "backordered": backorders[li.id].quantity if li.id in backorders else 0,
                        "promised_on": (
                            backorders[li.id].promised_on.isoformat()
                            if li.id in backorders and backorders[li.id].promised_on
                            else None
                        ),
                    }
                    for li in order.lines
                ],
            }
        )
    data["stored_webhooks"] = [
        {"topic": row.topic, "received_at": row.received_at.isoformat(), "body": _readable(row.body)}
        for row in customer_deliveries(session, shop, _keys(event, orders))
    ]
    summary = (f"exported {len(orders)} order(s) and {len(data['stored_webhooks'])} stored webhook(s) "
               "for the customer")
    session.add(
        ComplianceRequestRow(
            shop_id=shop.id,
            shop_domain=shop.domain,
            kind="customer_export",
            customer_email=event.customer_email,
            customer_external_id=event.customer_id,
            export=data,
            summary=summary,
            requested_at=utcnow(),
        )
    )
    return summary, data


def redact_customer(session: Session, shop: ShopRow, event: CustomerRedactRequested) -> str:
    orders = _customer_orders(session, shop, event.customer_email, event.customer_id, event.order_ids)
    erased = erase_customer(session, shop, _keys(event, orders), {o.id for o in orders})
    for order in orders:
        order.customer_email = None
        order.customer_name = REDACTED
        order.customer_external_id = None
    summary = f"redacted the customer's details on {len(orders)} order(s); {erased.summary()}"
    session.add(
        ComplianceRequestRow(
            shop_id=shop.id,
            shop_domain=shop.domain,
            kind="customer_redact",
            customer_email=None,
            customer_external_id=None,
            summary=summary,
            requested_at=utcnow(),
        )
    )
    return summary


def redact_shop(session: Session, shop: ShopRow) -> str:
    """Forget the shop: 48 hours after uninstall Shopify asks us to erase everything about it
    (its webhooks kept in the inbox too: they are keyed by domain, not by the shop's row)."""
    domain = shop.domain
    delete_shop_deliveries(session, shop)
    session.execute(delete(ComplianceRequestRow).where(ComplianceRequestRow.shop_id == shop.id))
    session.delete(shop)  # every shop-owned row goes with it (ON DELETE CASCADE)
    session.flush()
    session.add(
        ComplianceRequestRow(
            shop_id=None,
            shop_domain=domain,
            kind="shop_redact",
            summary="erased every record of the shop",
            requested_at=utcnow(),
        )
    )
    return "erased every record of the shop"
