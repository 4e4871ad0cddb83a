"""Publishing what the storefront shows per variant: only what changed, once per change, in batches.

`evaluate_and_publish` is evaluation followed by publication, what every caller of an evaluation
runs: after an evaluation (of the SKUs it touched; the periodic sweep's: every variant of the
shop) the values are computed again from the availability quotes and compared with the values
stored in `storefront_values`. A value that changed gets a new version and is published through
the outbox: one action per batch of `BATCH` changed variants, keyed by the versions it carries, so
evaluating again without a change enqueues nothing, and a change back and forth is published
each time. The action publishes the *current* stored values when it runs, so a late retry never
puts an older value back over a newer one. The adapter splits a batch into its platform's call
limit (Shopify: 25 metafields per `metafieldsSet`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.availability import load_quotes
from connector.backorders.evaluation import Evaluation, evaluate
from connector.backorders.storefront_values import storefront_value
from connector.dispatch import outbox
from connector.domain.model import ActionKind, StorefrontValue
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.storefront_rows import stored_rows
from connector.storage.tables import ShopRow, StorefrontValueRow, VariantRow

BATCH = 250  # variants per outbox action


def evaluate_and_publish(
    session: Session, shop: ShopRow, skus: Iterable[str] | None, now: datetime, orders: Iterable[int] = ()
) -> Evaluation:
    """`evaluation.evaluate`, then publish the storefront values of the same SKUs that changed
    (every variant of the shop when `skus` is None). The count is in `storefront_changed`."""
    sku_list = sorted(set(skus)) if skus is not None else None
    result = evaluate(session, shop, sku_list, now, orders)
    result.storefront_changed = publish_changes(session, shop, sku_list, now)
    return result


def compute_values(
    session: Session, shop: ShopRow, skus: Sequence[str] | None, now: datetime
) -> list[StorefrontValue]:
    """The value of each of `skus` (None: every variant of the shop) that the shop has as a variant."""
    ids = _variant_ids(session, shop.id, skus)
    quotes = load_quotes(session, shop, list(ids) if skus is not None else None, now)
    values = []
    for sku, found in quotes.items():
        if sku not in ids:  # stock without a product: nothing on a storefront shows it
            continue
        product_id, variant_id = ids[sku]
        value = storefront_value(found, product_id, variant_id, shop.locale)
        if value is not None:
            values.append(value)
    return values


def publish_changes(session: Session, shop: ShopRow, skus: Sequence[str] | None, now: datetime) -> int:
    """Store the values that changed as new versions and enqueue their publication. Returns how many changed."""
    values = compute_values(session, shop, skus, now)
    stored = stored_rows(session, shop.id, [v.sku for v in values])
    changed: list[StorefrontValueRow] = []
    for value in sorted(values, key=lambda v: v.sku):
        fields = value.fields()
        row = stored.get(value.sku)
        if row is None:
            row = StorefrontValueRow(
                shop_id=shop.id,
                sku=value.sku,
                product_id=value.product_id,
                variant_id=value.variant_id,
                value=fields,
                version=1,
                changed_at=now,
            )
            session.add(row)
        elif (row.value, row.product_id, row.variant_id) != (fields, value.product_id, value.variant_id):
            row.value, row.product_id, row.variant_id = fields, value.product_id, value.variant_id
            row.version += 1
            row.changed_at = now
        else:
            continue
        changed.append(row)
    for i in range(0, len(changed), BATCH):
        _enqueue_batch(session, shop.id, changed[i : i + BATCH], now)
    return len(changed)


def _enqueue_batch(session: Session, shop_id: int, rows: list[StorefrontValueRow], now: datetime) -> None:
    versions = ",".join(f"{r.sku}@{r.version}" for r in rows)
    digest = hashlib.sha256(versions.encode()).hexdigest()[:40]
    outbox.enqueue(
        session,
        shop_id=shop_id,
        order_id=None,
        kind=ActionKind.PUBLISH_STOREFRONT,
        key=f"storefront:{shop_id}:{digest}",
        payload={"skus": [r.sku for r in rows], "versions": [r.version for r in rows]},
        now=now,
    )


Ids = tuple[str | None, str | None]  # (product id, variant id)


def _variant_ids(session: Session, shop_id: int, skus: Sequence[str] | None) -> dict[str, Ids]:
    query = select(VariantRow.sku, VariantRow.product_id, VariantRow.variant_id).where(VariantRow.shop_id == shop_id)
    if skus is None:
        return {sku: (p, v) for sku, p, v in session.execute(query)}
    wanted = list(dict.fromkeys(skus))
    found: dict[str, Ids] = {}
    for chunk in chunks(wanted):
        for sku, p, v in session.execute(query.where(one_of(VariantRow.sku, chunk))):
            found[sku] = (p, v)
    return found
