"""A privacy request's subject in the copies we keep besides the orders table: found (for an
export) and erased (for a redaction).

A customer's details are not only on their order rows. Every webhook is kept as it arrived for
its retention (the inbox's `DeliveryRow.body`, `connector.storage.retention`: a Shopify order
carries the email, name, phone and addresses), each
email waiting in or sent by the outbox names its recipient in its payload, and an earlier data
export holds what it gathered. A redaction erases those copies too, in the same transaction as the
order rows, so a request is honoured whole or retried whole.

Deliveries are keyed by shop domain, not by the shop's row: deleting the shop does not take them
with it, so a shop's redaction deletes them here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from connector.domain.model import ActionKind
from connector.storage.chunks import chunks
from connector.storage.tables import (
    EXPORT_EMPTIED,
    HANDLED,
    ActionRow,
    ComplianceRequestRow,
    DeliveryRow,
    ShopRow,
)

# A delivery being processed is the request itself (a shop's deliveries are processed one at a
# time, in order): its body names the customer too. Pending ones arrived after the request.
_HANDLED = (*HANDLED, "processing")
ERASED_NOTE = "body erased: it named a customer whose data the shop asked us to redact"
# Needles a statement looks for: bounds SQLite's expression depth (one OR term each) and the size
# of PostgreSQL's regular expression; a customer with more orders costs a statement more per part.
NEEDLES_PER_STATEMENT = 200
# Digits an id needs to name one customer in a body. Shopify's ids are 10-20 digits; WooCommerce's
# are the shop's own counters (order 727, customer 12), which any body's quantities, prices and
# product ids may hold too: a webhook of theirs is found by the customer's email instead.
DISTINCTIVE_ID_DIGITS = 8


@dataclass(frozen=True)
class Erased:
    deliveries: int = 0
    emails: int = 0
    exports: int = 0

    def summary(self) -> str:
        return (f"erased them from {self.deliveries} stored webhook(s), {self.emails} email(s) and "
                f"{self.exports} earlier export(s)")


@dataclass(frozen=True)
class CustomerKeys:
    """What names a customer in what we keep: their emails and ids as the request and their orders
    give them, and their orders by the store's id (None and blanks dropped)."""

    emails: frozenset[str]
    customer_ids: frozenset[str]
    order_ids: frozenset[str]

    @classmethod
    def of(cls, emails: Iterable[str | None], customer_ids: Iterable[str | None],
           order_ids: Iterable[str | None]) -> CustomerKeys:
        return cls(frozenset(_present(emails)), frozenset(_present(customer_ids)), frozenset(_present(order_ids)))

    def needles(self) -> list[bytes]:
        """What names the customer in a stored body (matched in any letter case): their emails, and
        their ids where an id is distinctive (`DISTINCTIVE_ID_DIGITS`)."""
        ids = {i for i in self.customer_ids | self.order_ids if not i.isdigit() or len(i) >= DISTINCTIVE_ID_DIGITS}
        found = {e.lower() for e in self.emails} | ids
        return sorted(n.encode("utf-8") for n in found)


def erase_customer(session: Session, shop: ShopRow, keys: CustomerKeys, order_row_ids: Collection[int]) -> Erased:
    """Erase the customer from the shop's stored webhooks, emails' payloads and earlier exports
    (`order_row_ids`: their orders' rows, whose emails go)."""
    return Erased(
        deliveries=_erase_deliveries(session, shop, keys.needles()),
        emails=_erase_emails(session, shop, keys.emails, order_row_ids),
        exports=_erase_exports(session, shop, keys.emails, keys.customer_ids),
    )


def _present(values: Iterable[str | None]) -> set[str]:
    return {str(v).strip() for v in values if v is not None and str(v).strip()}


def delete_shop_deliveries(session: Session, shop: ShopRow) -> int:
    """Delete every webhook the shop sent us that is handled (kept ones would outlive the shop)."""
    result = session.execute(
        delete(DeliveryRow).where(
            DeliveryRow.platform == shop.platform,
            DeliveryRow.shop_domain == shop.domain,
            DeliveryRow.status.in_(HANDLED),
        )
    )
    return result.rowcount or 0


def _token_pattern(needles: list[bytes]) -> re.Pattern[bytes]:
    """Any needle as a whole token, in any letter case, against a lowered body (order 12 is not
    order 123 or 4120): one search a body, however many orders the customer had."""
    alternatives = b"|".join(re.escape(n.lower()) for n in sorted(needles, key=len, reverse=True))
    return re.compile(rb"(?<![0-9A-Za-z])(?:" + alternatives + rb")(?![0-9A-Za-z])")


def _prefilter(session: Session, needles: list[bytes]) -> Any:
    """The database's "the body holds one of these, in any letter case" (an email may be Bob@ in
    the store's copy and bob@ in the request). PostgreSQL: one case-insensitive regular expression
    over the body in `encode(..., 'escape')` form (ASCII as it is, other bytes as octal escapes: the
    needles are escaped alike), so each body is read and encoded once. SQLite, whose REGEXP would
    need the body as valid text: the lowered body searched for each needle."""
    if session.get_bind().dialect.name == "sqlite":
        lowered = func.lower(cast(DeliveryRow.body, Text))
        return or_(*(func.instr(lowered, n.decode("utf-8").lower()) > 0 for n in needles))
    alternatives = "|".join(_regex_escaped(_escape_encoded(n)) for n in needles)
    return func.encode(DeliveryRow.body, "escape").regexp_match(alternatives, flags="i")


def _escape_encoded(data: bytes) -> str:
    """`data` as PostgreSQL's encode(data, 'escape') writes it."""
    return "".join("\\\\" if b == 0x5C else f"\\{b:03o}" if b == 0 or b >= 0x80 else chr(b) for b in data)


def _regex_escaped(text: str) -> str:
    """`text` as a literal in a PostgreSQL regular expression (ASCII only: see `_escape_encoded`)."""
    return "".join(c if c.isascii() and c.isalnum() else "\\" + c for c in text)


def customer_deliveries(
    session: Session, shop: ShopRow, keys: CustomerKeys, statuses: Collection[str] = HANDLED
) -> list[Row[Any]]:
    """The shop's stored webhooks that name the customer (id, topic, body, error, received_at), oldest first."""
    return _matching(session, shop, keys.needles(), statuses)


def _matching(session: Session, shop: ShopRow, needles: list[bytes], statuses: Collection[str]) -> list[Row[Any]]:
    if not needles:
        return []
    candidates: dict[int, Row[Any]] = {}
    for part in chunks(needles, NEEDLES_PER_STATEMENT):
        # The database narrows the shop's handled deliveries down; the token check below decides
        # (a substring of a longer number is not the customer's).
        rows = session.execute(
            select(DeliveryRow.id, DeliveryRow.topic, DeliveryRow.body, DeliveryRow.error, DeliveryRow.received_at)
            .where(
                DeliveryRow.platform == shop.platform,
                DeliveryRow.shop_domain == shop.domain,
                DeliveryRow.status.in_(tuple(statuses)),
                _prefilter(session, part),
            )
        )
        candidates.update({row.id: row for row in rows})
    tokens = _token_pattern(needles)
    return [row for _, row in sorted(candidates.items()) if row.body and tokens.search(row.body.lower())]


def _erase_deliveries(session: Session, shop: ShopRow, needles: list[bytes]) -> int:
    found = _matching(session, shop, needles, _HANDLED)
    for row in found:
        note = f"{row.error}; {ERASED_NOTE}" if row.error else ERASED_NOTE
        session.execute(update(DeliveryRow).where(DeliveryRow.id == row.id).values(body=b"", error=note))
    return len(found)


def _erase_emails(session: Session, shop: ShopRow, emails: Collection[str], order_row_ids: Collection[int]) -> int:
    """Strip the recipient and content from the customer's emails; those not sent are not sent."""
    wanted = {e.lower() for e in emails}
    clauses = [ActionRow.order_id.is_(None)]
    if order_row_ids:
        clauses.append(ActionRow.order_id.in_(sorted(order_row_ids)))
    rows = session.scalars(
        select(ActionRow).where(ActionRow.shop_id == shop.id, ActionRow.kind == str(ActionKind.EMAIL), or_(*clauses))
    )
    erased = 0
    for row in rows:
        payload = row.payload or {}
        theirs = row.order_id is not None or str(payload.get("to", "")).strip().lower() in wanted
        if not theirs or payload.get("erased"):
            continue
        row.payload = {**{k: payload[k] for k in ("template", "kind") if k in payload}, "erased": True}
        if row.status in ("pending", "running", "failed"):
            row.status, row.last_error = "cancelled", "not sent: the customer's data was redacted"
        erased += 1
    return erased


def _erase_exports(session: Session, shop: ShopRow, emails: Collection[str], customer_ids: Collection[str]) -> int:
    clauses = []
    if emails:
        clauses.append(func.lower(ComplianceRequestRow.customer_email).in_(sorted({e.lower() for e in emails})))
    if customer_ids:
        clauses.append(ComplianceRequestRow.customer_external_id.in_(sorted(customer_ids)))
    if not clauses:
        return 0
    result = session.execute(
        update(ComplianceRequestRow)
        .where(ComplianceRequestRow.shop_id == shop.id, ComplianceRequestRow.kind == "customer_export", or_(*clauses))
        .values(EXPORT_EMPTIED)
    )
    return result.rowcount or 0
