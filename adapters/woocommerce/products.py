"""WooCommerce products and variations -> `Variant` and `StockLevel`.

Products
  ``manage_stock`` true -> a `StockLevel` at location "default" with ``stock_quantity``
  (negative when sold beyond stock on backorder). Unmanaged stock has no quantity, so no level
  is invented: only the `Variant` (``backorders`` notify/yes -> sells when out of stock).
  A variation whose stock is managed by its parent (``manage_stock`` = "parent") gets no level
  of its own; its parent's level is keyed by the parent. Variable products' payloads list only
  variation ids: the parent gives a level only when it manages stock; the variations arrive in
  their own ``product.updated`` deliveries or through the client's catalogue reads.
  Grouped and external products hold no stock and are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.woocommerce.values import ident, money, parse_gmt, product_key, text, whole
from connector.domain.model import Event, StockChanged, StockLevel, Variant, VariantChanged

LOCATION = "default"  # WooCommerce core keeps one stock figure per product


def _variation_title(parent: Mapping[str, Any] | None, variation: Mapping[str, Any]) -> str:
    name = text(variation.get("name"))
    if name:
        return name
    base = text(parent.get("name")) if parent else ""
    options = [
        text(a.get("option")) for a in variation.get("attributes") or [] if isinstance(a, dict) and a.get("option")
    ]
    return " – ".join(p for p in (base, ", ".join(options)) if p) or f"Variation {variation.get('id')}"


def catalogue_records(
    shop: str, product: Mapping[str, Any], parent: Mapping[str, Any] | None = None
) -> tuple[list[Variant], list[StockLevel]]:
    """A product or variation resource -> its `Variant` and, when it manages stock, its `StockLevel`.

    `parent` is given for items of the ``/products/<id>/variations`` endpoint, which do not
    always say whose variations they are."""
    kind = product.get("type") or ("variation" if parent is not None else "simple")
    if kind in ("grouped", "external"):
        return [], []
    item_id = ident(product["id"])
    if kind == "variation":
        parent_id = ident((parent or {}).get("id") or product.get("parent_id") or 0)
        key = product_key(product.get("sku"), parent_id, item_id)
        product_id, variant_id = (str(parent_id) if parent_id else None), str(item_id)
        title = _variation_title(parent, product)
    else:
        key = product_key(product.get("sku"), item_id)
        product_id, variant_id = str(item_id), None
        title = text(product.get("name")) or key
    updated = parse_gmt(product.get("date_modified_gmt")) or parse_gmt(product.get("date_modified"))
    backorders = product.get("backorders")
    sells = backorders in ("notify", "yes") or product.get("backorders_allowed") is True
    variants: list[Variant] = []
    if kind != "variable" or product.get("manage_stock") is True:
        variants.append(
            Variant(
                shop=shop,
                sku=key,
                title=title,
                price=money(product.get("price") or product.get("regular_price")),
                sells_when_out_of_stock=sells,
                product_id=product_id,
                variant_id=variant_id,
                product_url=product.get("permalink") or None,
                updated_at=updated,
            )
        )
    levels: list[StockLevel] = []
    if product.get("manage_stock") is True and product.get("stock_quantity") is not None:
        levels.append(
            StockLevel(
                shop=shop,
                sku=key,
                location=LOCATION,
                available=whole(product.get("stock_quantity"), f"product {item_id} stock_quantity"),
                updated_at=updated,
            )
        )
    return variants, levels


def product_events(shop: str, product: Mapping[str, Any]) -> list[Event]:
    variants, levels = catalogue_records(shop, product)
    events: list[Event] = []
    if variants:
        events.append(VariantChanged(tuple(variants)))
    if levels:
        events.append(StockChanged(tuple(levels)))
    return events
