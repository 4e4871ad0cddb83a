"""Meta keys this service writes on WooCommerce orders and products (underscore: hidden from the shopper)."""

TAGS = "_backorder_tags"  # comma-separated: WooCommerce orders have no tags of their own
ETA = "_backorder_eta"  # ISO date the customer was promised, "" when none
HOLD = "_backorder_hold"  # the status the order had when we put it on-hold; "" when we hold nothing
REFUND_KEY = "_backorder_refund_key"  # on refunds we create: the idempotency key that made them
STOCK_RECEIPTS = "_backorder_stock_receipts"  # on products: idempotency keys of the last stock adjustments
# on products and variations: what the storefront shows (JSON, read by plugins/woocommerce/backorder-connector)
STOREFRONT = "_backorder_connector_eta"
SELLING_BEFORE = "_backorder_selling_before"  # on products: their `backorders` before the selling limit stopped them


def meta_value(meta_data: object, key: str) -> object:
    """The value of the last meta entry named `key` in a REST `meta_data` list, or None."""
    found = None
    if isinstance(meta_data, list):
        for entry in meta_data:
            if isinstance(entry, dict) and entry.get("key") == key:
                found = entry.get("value")
    return found


def split_tags(value: object) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    seen: dict[str, None] = {}
    for part in value.split(","):
        tag = part.strip()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)
