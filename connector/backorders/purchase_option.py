"""The "pay when it ships" purchase option: created in the store, its members following the engine.

- `ensure`: one option per shop, created in the store with the shop's deposit and its language; if
  the store no longer has it (the merchant deleted it), it is created again and the dashboard says so.
  Without the permissions it needs, the option waits and the dashboard asks the merchant to
  re-authorize the app.
- `follow_engine`: a tracked variant that sells while out of stock and whose next unit would be
  backordered (`availability.load_quotes` says BACKORDER) belongs in the option; in stock again, it
  leaves. The difference from the members we remember goes to the outbox in batches (idempotent keys
  carry the option's membership version); the members table records what was sent.
- `reconcile`: the periodic sweep reads the option's variants from the store and makes our memory
  agree with it before the next difference is sent, so a lost or refused change is sent again.

Runs inside the caller's transaction; store reads and the creation are made by the sweeps, never in
a webhook or a page request (the install callback aside, which also subscribes the webhooks).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from adapters.base import DeferredPaymentClient, PurchaseOptionSpec, ScopesMissing, StoreError
from connector.backorders.availability import Status, load_quotes
from connector.dispatch.outbox import Kind, enqueue
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import PurchaseOptionMemberRow, PurchaseOptionRow, ShopRow, VariantRow

log = logging.getLogger(__name__)

BATCH = 250
WORDS = {  # buyer-facing name and description, by the shop's language
    "en": ("Backorder — pay when it ships",
           "Nothing is charged today{deposit}: the rest is charged when your order ships."),
    "it": ("Preordine — paghi alla spedizione",
           "Oggi non paghi nulla{deposit}: il resto ti viene addebitato quando l'ordine parte."),
}
DEPOSIT = {"en": " but a {pct}% deposit", "it": " se non un acconto del {pct}%"}


@dataclass
class OptionReport:
    created: bool = False
    recreated: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    corrected: int = 0  # members our memory had wrong against the store
    error: str | None = None


def spec_for(shop: ShopRow, settings: ShopSettings) -> PurchaseOptionSpec:
    language = (shop.locale or "en").replace("_", "-").split("-")[0].lower()
    lang = language if language in WORDS else "en"
    name, description = WORDS[lang]
    deposit = DEPOSIT[lang].format(pct=settings.deposit_percent) if settings.deposit_percent else ""
    return PurchaseOptionSpec(name, description.format(deposit=deposit), settings.deposit_percent)


def option_row(session: Session, shop: ShopRow) -> PurchaseOptionRow:
    row = session.scalar(select(PurchaseOptionRow).where(PurchaseOptionRow.shop_id == shop.id))
    if row is None:
        row = PurchaseOptionRow(shop_id=shop.id, status="active", deposit_percent=0, recreated_count=0,
                                membership_version=0)
        session.add(row)
        session.flush()
    return row


def sync_shop(session: Session, shop: ShopRow, client: object, now: datetime) -> OptionReport:
    """The sweep's care of one shop's option: exists in the store, agrees with it, follows the engine."""
    report = OptionReport()
    if not isinstance(client, DeferredPaymentClient):
        return report  # this platform sells no deferred payment
    row = option_row(session, shop)
    try:
        in_store = _ensure(session, shop, row, client, now, report)
        _reconcile(session, shop, row, in_store, now, report)
    except ScopesMissing as exc:
        row.status, row.last_error = "needs_scopes", str(exc)
        report.error = str(exc)
        return report
    except StoreError as exc:  # retried on the next sweep
        row.last_error, report.error = f"{type(exc).__name__}: {exc}"[:2000], str(exc)
        log.warning("purchase option of %s: %s", shop.domain, exc)
        return report
    row.status, row.last_error, row.checked_at = "active", None, now
    follow_engine(session, shop, now, report)
    return report


def _ensure(session: Session, shop: ShopRow, row: PurchaseOptionRow, client: DeferredPaymentClient,
            now: datetime, report: OptionReport) -> set[str]:
    """The option's variants in the store, creating (or re-creating) the option first when needed."""
    if row.external_id:
        found = client.purchase_option_variants(row.external_id)
        if found is not None:
            return found
        report.recreated = True
        row.recreated_at, row.recreated_count = now, (row.recreated_count or 0) + 1
        log.warning("purchase option of %s was deleted in the store; creating it again", shop.domain)
    settings = ShopSettings.from_mapping(shop.settings)
    row.external_id = client.create_purchase_option(spec_for(shop, settings))
    row.deposit_percent = settings.deposit_percent
    row.created_at = row.created_at or now
    report.created = not report.recreated
    session.execute(delete(PurchaseOptionMemberRow).where(PurchaseOptionMemberRow.shop_id == shop.id))
    return set()


def _reconcile(session: Session, shop: ShopRow, row: PurchaseOptionRow, in_store: set[str], now: datetime,
               report: OptionReport) -> None:
    """Make the members we remember those the store has."""
    members = {m.variant_id: m for m in session.scalars(
        select(PurchaseOptionMemberRow).where(PurchaseOptionMemberRow.shop_id == shop.id))}
    for variant_id, member in members.items():
        if variant_id not in in_store:
            session.delete(member)
            report.corrected += 1
    skus = dict(session.execute(select(VariantRow.variant_id, VariantRow.sku).where(
        VariantRow.shop_id == shop.id, VariantRow.variant_id.in_(sorted(in_store - set(members))))).all())
    for variant_id in sorted(in_store - set(members)):
        session.add(PurchaseOptionMemberRow(shop_id=shop.id, variant_id=variant_id,
                                            sku=skus.get(variant_id) or "", joined_at=now))
        report.corrected += 1
    session.flush()


def wanted(session: Session, shop: ShopRow, now: datetime) -> dict[str, str]:
    """variant id -> SKU of every variant whose next unit would be backordered (and that sells so)."""
    quotes = load_quotes(session, shop, None, now)
    rows = session.execute(select(VariantRow.sku, VariantRow.variant_id, VariantRow.sells_when_out_of_stock).where(
        VariantRow.shop_id == shop.id, VariantRow.variant_id.is_not(None)))
    return {
        str(variant_id): sku for sku, variant_id, sells in rows
        if sells and sku in quotes and quotes[sku].quote.status == Status.BACKORDER
    }


def follow_engine(session: Session, shop: ShopRow, now: datetime, report: OptionReport | None = None) -> OptionReport:
    """Send the difference between the variants that belong in the option and those we remember."""
    report = report or OptionReport()
    row = session.scalar(select(PurchaseOptionRow).where(PurchaseOptionRow.shop_id == shop.id))
    if row is None or not row.external_id or row.status != "active":
        return report
    members = {m.variant_id: m for m in session.scalars(
        select(PurchaseOptionMemberRow).where(PurchaseOptionMemberRow.shop_id == shop.id))}
    want = wanted(session, shop, now)
    report.added = sorted(set(want) - set(members))
    report.removed = sorted(set(members) - set(want))
    if not report.added and not report.removed:
        return report
    row.membership_version = (row.membership_version or 0) + 1
    _send(session, shop, row, Kind.OPTION_ADD, report.added, now)
    _send(session, shop, row, Kind.OPTION_REMOVE, report.removed, now)
    for variant_id in report.added:
        session.add(PurchaseOptionMemberRow(shop_id=shop.id, variant_id=variant_id, sku=want[variant_id],
                                            joined_at=now))
    for variant_id in report.removed:
        session.delete(members[variant_id])
    return report


def _send(session: Session, shop: ShopRow, row: PurchaseOptionRow, kind: Kind, variant_ids: Sequence[str],
          now: datetime) -> None:
    verb = "add" if kind == Kind.OPTION_ADD else "remove"
    for index in range(0, len(variant_ids), BATCH):
        key = (f"{shop.platform}:{shop.domain}:purchase_option:{row.external_id}:"
               f"v{row.membership_version}:{verb}:{index // BATCH}")
        enqueue(session, shop_id=shop.id, order_id=None, kind=kind, key=key,
                payload={"option": row.external_id, "variants": list(variant_ids[index:index + BATCH])}, now=now)
