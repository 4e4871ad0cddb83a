"""`ShopifyStoreClient`: the `adapters.base.StoreClient` actions and reads over Admin GraphQL.

Every action is safe to repeat with the same arguments:
- tags: `tagsAdd`/`tagsRemove` are set operations;
- holds carry a stable `handle`; quantities already held under it are not held again, and release
  only lifts holds with that handle (never a merchant's or another app's);
- captures keep a journal in an order metafield and refunds carry Shopify's `@idempotent(key:)`
  (payments.py);
- ETA and notes rewrite only our own line of the order note, and only when it changes;
- the start of an order's wait (`start_backorder`: tag, hold, date) is each of those, in two calls
  where the three apart take five.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from adapters.base import LineQuantity, PurchaseOptionSpec, StoreError, UserError
from connector.domain.model import Order, StockLevel, StorefrontValue, Variant

from . import storefront
from .graphql import GraphQLClient
from .ids import gid, legacy_id
from .mapping import DEFAULT_RESELLER_TAGS
from .payments import NAMESPACE, OrderPayments
from .purchase_options import DeferredPayments
from .reads import order_from_graphql, stock_level_from_graphql, variant_from_graphql

ETA_KEY = "eta"
HOLD_HANDLE = "backorder-connector"
ETA_NOTE_PREFIX = "Backorder ETA: "
NOTE_PREFIX = "Backorder: "
MAX_PAGES = 10_000
# Line items per fulfillment order in the first read of an order's fulfillment orders (more are paged
# in). Shopify must hold a query's *requested* cost before it runs: at 40 this read asked 874 points
# (10 fulfillment orders x 40 lines) for an order of a line or two, most of a bucket; at 10, 253.
FO_LINE_PAGE = 10


class ShopifyStoreClient:
    def __init__(
        self, shop: str, gql: GraphQLClient, *, reseller_tags: Collection[str] = DEFAULT_RESELLER_TAGS,
        hold_handle: str = HOLD_HANDLE, missing_scopes: Sequence[str] = (),
    ) -> None:
        self.shop = shop
        self.gql = gql
        self.reseller_tags = tuple(reseller_tags)
        self.hold_handle = hold_handle
        self.payments = OrderPayments(shop, gql)
        self.deferred = DeferredPayments(shop, gql, missing_scopes)

    # ---- tags ---------------------------------------------------------------------------------

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        if tags:
            self.gql.mutate("TagsAdd", {"id": gid("Order", order_id), "tags": list(tags)}, "tagsAdd")

    def remove_tags(self, order_id: str, tags: Sequence[str]) -> None:
        if tags:
            self.gql.mutate("TagsRemove", {"id": gid("Order", order_id), "tags": list(tags)}, "tagsRemove")

    # ---- fulfillment holds --------------------------------------------------------------------

    def _fulfillment_orders(self, order_id: str, read: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The order's fulfillment orders with all their line items. `read`: the order as an answer
        already gave it, with the first page (`OrderFulfillmentOrderPage`); the rest is paged in."""
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):  # an order split over many locations has more than one page
            if read is None:
                read = self.gql.query(
                    "OrderFulfillmentOrders", {"id": gid("Order", order_id), "lines": FO_LINE_PAGE, "after": after}
                ).get("order")
            if read is None:
                raise UserError(f"{self.shop}: order {order_id} not found")
            nodes += read["fulfillmentOrders"]["nodes"]
            page = read["fulfillmentOrders"]["pageInfo"]
            if not page["hasNextPage"]:
                break
            after, read = page["endCursor"], None
        fulfillment_orders = []
        for fo in nodes:
            items = list(fo["lineItems"]["nodes"])
            page = fo["lineItems"]["pageInfo"]
            while page["hasNextPage"]:
                more = self.gql.query("FulfillmentOrderLineItems", {"id": fo["id"], "after": page["endCursor"]})
                items += more["fulfillmentOrder"]["lineItems"]["nodes"]
                page = more["fulfillmentOrder"]["lineItems"]["pageInfo"]
            fulfillment_orders.append({**fo, "items": items})
        return fulfillment_orders

    def _our_holds(self, fo: Mapping[str, Any]) -> list[str]:
        return [h["id"] for h in fo.get("fulfillmentHolds") or () if h.get("handle") == self.hold_handle]

    def _held(self, fulfillment_orders: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Units of each line inside fulfillment orders that carry our hold."""
        held: dict[str, int] = {}
        for fo in fulfillment_orders:
            if self._our_holds(fo):
                for item in fo["items"]:
                    line_id = str(legacy_id(item["lineItem"]["id"]))
                    held[line_id] = held.get(line_id, 0) + item["remainingQuantity"]
        return held

    def _holds_for(self, fulfillment_orders: Sequence[Mapping[str, Any]], missing: dict[str, int],
                   reason: str) -> list[dict[str, Any]]:
        """The `FulfillmentOrderHold` variables that hold `missing` units per line on fulfillment orders
        we do not hold yet (takes from `missing`)."""
        holds = []
        for fo in fulfillment_orders:
            if self._our_holds(fo) or "HOLD" not in {a["action"] for a in fo.get("supportedActions") or ()}:
                continue
            items = []
            for item in fo["items"]:
                line_id = str(legacy_id(item["lineItem"]["id"]))
                take = min(missing.get(line_id, 0), item["remainingQuantity"])
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    missing[line_id] -= take
            if items:
                holds.append({"id": fo["id"], "fulfillmentHold": {
                    "reason": "INVENTORY_OUT_OF_STOCK",
                    "reasonNotes": reason[:255],
                    "handle": self.hold_handle,
                    "notifyMerchant": False,
                    "fulfillmentOrderLineItems": items,
                }})
        return holds

    def _hold_missing(self, fulfillment_orders: Sequence[Mapping[str, Any]], missing: dict[str, int],
                      reason: str) -> None:
        for hold in self._holds_for(fulfillment_orders, missing, reason):
            self.gql.mutate("FulfillmentOrderHold", hold, "fulfillmentOrderHold")

    def _none_left(self, order_id: str, missing: Mapping[str, int]) -> None:
        left = {line_id: q for line_id, q in missing.items() if q > 0}
        if left:
            raise UserError(f"{self.shop} order {order_id}: no open fulfillment order to hold "
                            f"{', '.join(f'{q} of line {line_id}' for line_id, q in left.items())}", details=left)

    def hold_fulfillment(self, order_id: str, lines: Sequence[LineQuantity], reason: str) -> None:
        """Hold exactly these quantities of these lines.

        What is missing is held first, on fulfillment orders not yet held. A fulfillment order we hold
        that carries more than is wanted now (part of the order can ship) is then released and the part
        of it that still waits held again at once: Shopify releases a hold for a whole fulfillment
        order, so only that order's waiting lines are free for the moment between the two calls."""
        self._hold_exactly(order_id, self._fulfillment_orders(order_id), lines, reason)

    def _hold_exactly(self, order_id: str, fulfillment_orders: list[dict[str, Any]], lines: Sequence[LineQuantity],
                      reason: str) -> None:
        """`hold_fulfillment` on the order's fulfillment orders as just read."""
        target = self._target(lines)
        held = self._held(fulfillment_orders)
        missing = {line_id: q - held.get(line_id, 0) for line_id, q in target.items()}
        self._hold_missing(fulfillment_orders, missing, reason)
        too_much = [
            fo for fo in fulfillment_orders if self._our_holds(fo) and any(
                held.get(line_id, 0) > target.get(line_id, 0)
                for line_id in (str(legacy_id(i["lineItem"]["id"])) for i in fo["items"] if i["remainingQuantity"]))
        ]
        if too_much:
            for fo in too_much:
                self.gql.mutate("FulfillmentOrderReleaseHold", {"id": fo["id"], "holdIds": self._our_holds(fo)},
                                "fulfillmentOrderReleaseHold")
            fulfillment_orders = self._fulfillment_orders(order_id)
            held = self._held(fulfillment_orders)
            missing = {line_id: q - held.get(line_id, 0) for line_id, q in target.items()}
            self._hold_missing(fulfillment_orders, missing, reason)
        self._none_left(order_id, missing)

    @staticmethod
    def _target(lines: Sequence[LineQuantity]) -> dict[str, int]:
        return {line.line_id: line.quantity for line in lines if line.quantity > 0}

    def release_fulfillment(self, order_id: str) -> None:
        for fo in self._fulfillment_orders(order_id):
            holds = self._our_holds(fo)
            if holds:
                self.gql.mutate("FulfillmentOrderReleaseHold", {"id": fo["id"], "holdIds": holds},
                                "fulfillmentOrderReleaseHold")

    # ---- payments (see payments.py) ---------------------------------------------------------

    def capture_payment(self, order_id: str, amount: Decimal, currency: str, idempotency_key: str) -> None:
        self.payments.capture(order_id, amount, currency, idempotency_key)

    def refund_lines(
        self, order_id: str, lines: Sequence[LineQuantity], amount: Decimal, currency: str, reason: str,
        idempotency_key: str,
    ) -> None:
        self.payments.refund(order_id, lines, amount, currency, reason, idempotency_key)

    # ---- the "pay when it ships" purchase option and its balance (purchase_options.py) ---------------

    def create_purchase_option(self, spec: PurchaseOptionSpec) -> str:
        return self.deferred.create(spec)

    def purchase_option_variants(self, option_id: str) -> set[str] | None:
        found = self.deferred.variants(option_id)
        return None if found is None else {str(legacy_id(v)) for v in found}

    def add_to_purchase_option(self, option_id: str, variant_ids: Sequence[str]) -> None:
        self.deferred.add(option_id, variant_ids)

    def remove_from_purchase_option(self, option_id: str, variant_ids: Sequence[str]) -> None:
        self.deferred.remove(option_id, variant_ids)

    def collect_balance(self, order_id: str, currency: str, idempotency_key: str) -> Decimal:
        return self.deferred.collect(order_id, currency, idempotency_key)

    # ---- stock ---------------------------------------------------------------------------------

    def _stock_target(self, sku: str) -> tuple[str, str | None]:
        """(inventory item id, primary location id) of a SKU, synthetic `shopify-variant:` keys included."""
        if sku.startswith("shopify-variant:"):
            data = self.gql.query("VariantStockTarget", {"id": gid("ProductVariant", sku.split(":", 1)[1])})
            item = (data.get("productVariant") or {}).get("inventoryItem")
            items = [item] if item else []
        else:
            escaped = sku.replace("\\", "\\\\").replace('"', '\\"')
            data = self.gql.query("StockTarget", {"query": f'sku:"{escaped}"'})
            items = [i for i in data["inventoryItems"]["nodes"] if (i.get("sku") or "") == sku]
        if not items:
            raise UserError(f"{self.shop}: no inventory item with SKU {sku!r}")
        if len(items) > 1:
            raise UserError(f"{self.shop}: {len(items)} inventory items share SKU {sku!r}; make it unique in Shopify")
        if not items[0].get("tracked", True):
            raise UserError(f"{self.shop}: SKU {sku!r} is not tracked by Shopify, so its stock cannot be adjusted")
        return items[0]["id"], (data.get("location") or {}).get("id")

    def adjust_stock(self, sku: str, delta: int, location: str | None, reason: str, idempotency_key: str) -> None:
        """Goods received (or removed): change the SKU's `available` quantity by `delta` at `location`
        (the shop's primary location when None), once per key (`@idempotent`)."""
        if delta == 0:
            return
        item_id, primary = self._stock_target(sku)
        try:
            location_id = gid("Location", location) if location else primary
        except ValueError as exc:
            raise UserError(f"{self.shop}: {exc}") from None
        if not location_id:
            raise UserError(f"{self.shop}: the shop has no primary location to receive {sku!r} at")
        key = idempotency_key if len(idempotency_key) <= 64 else hashlib.sha256(idempotency_key.encode()).hexdigest()
        self.gql.mutate("InventoryAdjustQuantities", {"input": {
            "name": "available",
            "reason": "received" if delta > 0 else "correction",
            "referenceDocumentUri": f"gid://backorder-connector/StockAdjustment/{quote(key, safe='')}",
            "changes": [{"inventoryItemId": item_id, "locationId": location_id, "delta": delta,
                         "changeFromQuantity": None}],
        }, "idempotencyKey": key}, "inventoryAdjustQuantities")

    # ---- selling on backorder (the selling limit) ---------------------------------------------

    def set_backorder_selling(self, sku: str, product_id: str | None, variant_id: str | None, selling: bool) -> None:
        """The variant's inventory policy: CONTINUE sells when out of stock, DENY stops it. Read first,
        so a repeated call (or a variant already as wanted) sends no mutation and no product webhook."""
        if not variant_id:
            raise UserError(f"{self.shop}: SKU {sku!r} has no variant id to switch")
        try:
            variant = gid("ProductVariant", variant_id)
        except ValueError as exc:
            raise UserError(f"{self.shop}: {exc}") from None
        policy = "CONTINUE" if selling else "DENY"
        node = self.gql.query("VariantInventoryPolicy", {"id": variant}).get("productVariant")
        if node is None:
            raise UserError(f"{self.shop}: variant {variant_id} (SKU {sku!r}) not found")
        if node.get("inventoryPolicy") == policy:
            return
        self.gql.mutate(
            "ProductVariantsBulkUpdate",
            {"productId": node["product"]["id"], "variants": [{"id": variant, "inventoryPolicy": policy}]},
            "productVariantsBulkUpdate",
        )

    # ---- ETA and notes ------------------------------------------------------------------------

    def _rewrite_note(self, order_id: str, prefix: str, line: str | None, *, replace: bool) -> None:
        data = self.gql.query("OrderNote", {"id": gid("Order", order_id)})
        if data.get("order") is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        current = data["order"].get("note") or ""
        new = _note_with(current, prefix, line, replace=replace)
        if new != current:
            self.gql.mutate("OrderUpdate", {"input": {"id": gid("Order", order_id), "note": new}}, "orderUpdate")

    def set_eta(self, order_id: str, eta: date | None, note: str) -> None:
        """Our ETA metafield and our line of the note: read together, and what differs written in one
        `orderUpdate` (two calls a waiting order, where a metafieldsSet, a note read and an
        orderUpdate were three; nothing is written again when a retry finds both done)."""
        owner = gid("Order", order_id)
        order = self.gql.query("OrderEta", {"id": owner, "namespace": NAMESPACE, "key": ETA_KEY}).get("order")
        if order is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        self._write_eta(owner, order, eta, note)

    @staticmethod
    def _stored_eta(order: Mapping[str, Any]) -> str | None:
        """Our ETA metafield's value on the order as just read (None when it has none)."""
        return (order.get("metafield") or {}).get("value")

    def _eta_changes(self, order: Mapping[str, Any], eta: date | None, note: str) -> dict[str, Any]:
        """What `orderUpdate` must change for this ETA and note on the order as just read (nothing
        when both are there already)."""
        stored = self._stored_eta(order)
        text = " ".join(note.split())
        current = order.get("note") or ""
        new = _note_with(current, ETA_NOTE_PREFIX, ETA_NOTE_PREFIX + text if text else None, replace=True)
        changes: dict[str, Any] = {}
        if new != current:
            changes["note"] = new
        if eta is not None and stored != eta.isoformat():
            changes["metafields"] = [
                {"namespace": NAMESPACE, "key": ETA_KEY, "type": "date", "value": eta.isoformat()}]
        return changes

    def _write_eta(self, owner: str, order: Mapping[str, Any], eta: date | None, note: str) -> None:
        """`set_eta` on the order's note and ETA metafield as just read."""
        if eta is None and self._stored_eta(order) is not None:
            self.gql.mutate("MetafieldsDelete", {"metafields": [
                {"ownerId": owner, "namespace": NAMESPACE, "key": ETA_KEY}]}, "metafieldsDelete")
        changes = self._eta_changes(order, eta, note)
        if changes:
            self.gql.mutate("OrderUpdate", {"input": {"id": owner, **changes}}, "orderUpdate")

    def start_backorder(
        self, order_id: str, tags: Sequence[str], lines: Sequence[LineQuantity], reason: str, eta: date | None,
        note: str,
    ) -> None:
        """The start of an order's wait (`adapters.base.BackorderStarter`) in two calls where its parts
        take five: `tagsAdd` answers with the fulfillment orders, the note and our ETA metafield that
        the hold and the date are decided on; then the hold and the `orderUpdate` go in one document
        (`OrderBackorderHoldAndDate`) when one fulfillment order is to be held and the order has no
        hold of ours yet, and one call each otherwise. Safe to repeat as each part is."""
        if not tags:  # nothing to add, so no tagsAdd to carry the read
            self.hold_fulfillment(order_id, lines, reason)
            self.set_eta(order_id, eta, note)
            return
        owner = gid("Order", order_id)
        started = self.gql.mutate("OrderBackorderStart", {
            "id": owner, "tags": list(tags), "lines": FO_LINE_PAGE, "after": None, "namespace": NAMESPACE,
            "key": ETA_KEY}, "tagsAdd")
        order = started.get("node")
        if order is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        fulfillment_orders = self._fulfillment_orders(order_id, order)
        changes = self._eta_changes(order, eta, note)
        deletes = eta is None and self._stored_eta(order) is not None
        if changes and not deletes and not any(self._our_holds(fo) for fo in fulfillment_orders):
            missing = self._target(lines)
            holds = self._holds_for(fulfillment_orders, missing, reason)
            if len(holds) == 1:
                (hold,) = holds
                self.gql.mutate_all("OrderBackorderHoldAndDate", {
                    "fulfillmentOrder": hold["id"], "fulfillmentHold": hold["fulfillmentHold"],
                    "order": {"id": owner, **changes}}, ("fulfillmentOrderHold", "orderUpdate"))
                self._none_left(order_id, missing)
                return
        self._hold_exactly(order_id, fulfillment_orders, lines, reason)
        self._write_eta(owner, order, eta, note)

    def publish_storefront(self, values: Sequence[StorefrontValue]) -> None:
        """Each variant's value into its `$app` metafield, which the theme app extension renders."""
        storefront.publish(self.gql, values)

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None:
        """Shopify orders have one staff-facing note and no customer-visible one: the line goes there
        either way (customers hear from the service's own emails)."""
        line = " ".join(text.split())
        if line:
            self._rewrite_note(order_id, NOTE_PREFIX, NOTE_PREFIX + line, replace=False)

    # ---- reads --------------------------------------------------------------------------------

    def _pages(self, operation: str, variables: Mapping[str, Any], *path: str) -> Iterator[Mapping[str, Any]]:
        """The nodes of the connection at `path` in the response, page after page."""
        after: str | None = None
        for _ in range(MAX_PAGES):
            connection: Any = self.gql.query(operation, {**variables, "after": after})
            for key in path:
                connection = (connection or {}).get(key)
            if connection is None:  # the parent object is gone (deleted between two reads)
                return
            yield from connection["nodes"]
            page = connection["pageInfo"]
            if not page["hasNextPage"]:
                return
            if not page.get("endCursor") or page["endCursor"] == after:
                raise StoreError(f"{self.shop} {operation}: pagination did not advance", retryable=True)
            after = page["endCursor"]
        raise StoreError(f"{self.shop} {operation}: more than {MAX_PAGES} pages", retryable=False)

    def orders_updated_since(self, since: datetime) -> Iterator[Order]:
        moment = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        search = f"updated_at:>='{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        terms = "read_payment_terms" not in self.deferred.missing_scopes
        for node in self._pages("OrdersUpdatedSince", {"query": search, "withPaymentTerms": terms}, "orders"):
            line_nodes = list(node["lineItems"]["nodes"])
            page = node["lineItems"]["pageInfo"]
            while page["hasNextPage"]:
                more = self.gql.query("OrderLineItems", {"id": node["id"], "after": page["endCursor"]})
                line_nodes += more["order"]["lineItems"]["nodes"]
                page = more["order"]["lineItems"]["pageInfo"]
            yield order_from_graphql(self.shop, node, line_nodes, self.reseller_tags)

    def stock_levels(self) -> Iterator[StockLevel]:
        for location in self._pages("Locations", {}, "locations"):
            if not location.get("isActive", True):
                continue
            location_id = str(legacy_id(location["id"]))
            variables = {"id": location["id"], "query": None}
            for node in self._pages("LocationInventoryLevels", variables, "location", "inventoryLevels"):
                level = stock_level_from_graphql(self.shop, location_id, node)
                if level is not None:
                    yield level

    def variants(self) -> Iterator[Variant]:
        for node in self._pages("ProductVariants", {"query": None}, "productVariants"):
            yield variant_from_graphql(self.shop, node)


def _note_with(current: str, prefix: str, line: str | None, *, replace: bool) -> str:
    """The note with our `line` in it (once), and with `replace` without our other lines of `prefix`;
    the merchant's lines stay as they are."""
    kept = current.splitlines()
    if replace:
        kept = [existing for existing in kept if not existing.startswith(prefix)]
    if line is not None and line not in kept:
        kept.append(line)
    return "\n".join(kept)
