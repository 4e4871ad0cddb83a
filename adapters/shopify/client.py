"""`ShopifyStoreClient`: the `adapters.base.StoreClient` actions and reads over Admin GraphQL.

Every action is safe to repeat with the same arguments:
- tags: `tagsAdd`/`tagsRemove` are set operations;
- holds carry a stable `handle`; quantities already held under it are not held again, and release
  only lifts holds with that handle (never a merchant's or another app's);
- captures keep a journal in an order metafield: the key is written (with the amount captured so
  far) before `orderCapture` and marked done after, so a retry after a crash in between sees the
  capture in the transactions instead of capturing twice;
- refunds go out with Shopify's `@idempotent(key:)`;
- ETA and notes rewrite only our own line of the order note, and only when it changes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from adapters.base import LineQuantity, StoreError, UserError
from connector.model import Order, StockLevel, Variant

from .graphql import GraphQLClient
from .ids import gid, legacy_id
from .mapping import DEFAULT_RESELLER_TAGS
from .reads import order_from_graphql, stock_levels_from_graphql, variant_from_graphql

NAMESPACE = "backorder_connector"
ETA_KEY = "eta"
CAPTURE_JOURNAL_KEY = "captures"
HOLD_HANDLE = "backorder-connector"
ETA_NOTE_PREFIX = "Backorder ETA: "
NOTE_PREFIX = "Backorder: "
MAX_PAGES = 10_000


def _amount(money_set: Mapping[str, Any] | None) -> Decimal:
    return Decimal(str(((money_set or {}).get("presentmentMoney") or {}).get("amount", "0")))


class ShopifyStoreClient:
    def __init__(
        self, shop: str, gql: GraphQLClient, *, reseller_tags: Collection[str] = DEFAULT_RESELLER_TAGS,
        hold_handle: str = HOLD_HANDLE,
    ) -> None:
        self.shop = shop
        self.gql = gql
        self.reseller_tags = tuple(reseller_tags)
        self.hold_handle = hold_handle

    # ---- tags ---------------------------------------------------------------------------------

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        if tags:
            self.gql.mutate("TagsAdd", {"id": gid("Order", order_id), "tags": list(tags)}, "tagsAdd")

    def remove_tags(self, order_id: str, tags: Sequence[str]) -> None:
        if tags:
            self.gql.mutate("TagsRemove", {"id": gid("Order", order_id), "tags": list(tags)}, "tagsRemove")

    # ---- fulfillment holds --------------------------------------------------------------------

    def _fulfillment_orders(self, order_id: str) -> list[dict[str, Any]]:
        data = self.gql.query("OrderFulfillmentOrders", {"id": gid("Order", order_id)})
        order = data.get("order")
        if order is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        fulfillment_orders = []
        for fo in order["fulfillmentOrders"]["nodes"]:
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

    def hold_fulfillment(self, order_id: str, lines: Sequence[LineQuantity], reason: str) -> None:
        fulfillment_orders = self._fulfillment_orders(order_id)
        need = {line.line_id: line.quantity for line in lines if line.quantity > 0}
        for fo in fulfillment_orders:  # what our earlier holds already cover
            if self._our_holds(fo):
                for item in fo["items"]:
                    line_id = legacy_id(item["lineItem"]["id"])
                    if line_id in need:
                        need[line_id] -= item["remainingQuantity"]
        for fo in fulfillment_orders:
            if self._our_holds(fo) or "HOLD" not in {a["action"] for a in fo.get("supportedActions") or ()}:
                continue
            items = []
            for item in fo["items"]:
                line_id = legacy_id(item["lineItem"]["id"])
                take = min(need.get(line_id, 0), item["remainingQuantity"])
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    need[line_id] -= take
            if items:
                self.gql.mutate("FulfillmentOrderHold", {"id": fo["id"], "fulfillmentHold": {
                    "reason": "INVENTORY_OUT_OF_STOCK",
                    "reasonNotes": reason[:255],
                    "handle": self.hold_handle,
                    "notifyMerchant": False,
                    "fulfillmentOrderLineItems": items,
                }}, "fulfillmentOrderHold")
        left = {line_id: q for line_id, q in need.items() if q > 0}
        if left:
            raise UserError(f"{self.shop} order {order_id}: no open fulfillment order to hold "
                            f"{', '.join(f'{q} of line {line_id}' for line_id, q in left.items())}", details=left)

    def release_fulfillment(self, order_id: str) -> None:
        for fo in self._fulfillment_orders(order_id):
            holds = self._our_holds(fo)
            if holds:
                self.gql.mutate("FulfillmentOrderReleaseHold", {"id": fo["id"], "holdIds": holds},
                                "fulfillmentOrderReleaseHold")

    # ---- payments -----------------------------------------------------------------------------

    def _payments(self, order_id: str) -> dict[str, Any]:
        data = self.gql.query("OrderPayments", {
            "id": gid("Order", order_id), "namespace": NAMESPACE, "journalKey": CAPTURE_JOURNAL_KEY})
        if data.get("order") is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        return data["order"]

    @staticmethod
    def _captured(transactions: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
        """Captured (or voided) amount per parent authorization id."""
        taken: dict[str, Decimal] = {}
        for t in transactions:
            parent = (t.get("parentTransaction") or {}).get("id")
            if parent and t["status"] == "SUCCESS" and t["kind"] in ("CAPTURE", "VOID"):
                amount = _amount(t["amountSet"]) if t["kind"] == "CAPTURE" else Decimal("Infinity")
                taken[parent] = taken.get(parent, Decimal(0)) + amount
        return taken

    def _write_journal(self, order_id: str, journal: Mapping[str, Any]) -> None:
        self.gql.mutate("MetafieldsSet", {"metafields": [{
            "ownerId": gid("Order", order_id), "namespace": NAMESPACE, "key": CAPTURE_JOURNAL_KEY,
            "type": "json", "value": json.dumps(journal, sort_keys=True),
        }]}, "metafieldsSet")

    def capture_payment(self, order_id: str, amount: Decimal, currency: str, idempotency_key: str) -> None:
        if amount <= 0:
            return
        order = self._payments(order_id)
        journal: dict[str, Any] = json.loads((order.get("journal") or {}).get("value") or "{}")
        transactions = order["transactions"]
        captured_total = sum(
            (_amount(t["amountSet"]) for t in transactions if t["kind"] == "CAPTURE" and t["status"] == "SUCCESS"),
            Decimal(0))
        entry = journal.get(idempotency_key)
        if entry is not None:
            if entry.get("state") == "done":
                return
            if captured_total >= Decimal(entry["captured_before"]) + Decimal(entry["amount"]):
                journal[idempotency_key] = {**entry, "state": "done"}  # captured, then we were interrupted
                self._write_journal(order_id, journal)
                return
        if currency.upper() != str(order["presentmentCurrencyCode"]).upper():
            raise UserError(f"{self.shop} order {order_id}: capture in {currency} but the order was paid in "
                            f"{order['presentmentCurrencyCode']}")
        taken = self._captured(transactions)
        parent = next((
            t for t in transactions
            if t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS"
            and _amount(t["amountSet"]) - taken.get(t["id"], Decimal(0)) >= amount
        ), None)
        if parent is None:
            left = sum((max(_amount(t["amountSet"]) - taken.get(t["id"], Decimal(0)), Decimal(0))
                        for t in transactions if t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS"),
                       Decimal(0))
            raise UserError(f"{self.shop} order {order_id}: {amount} {currency} cannot be captured, "
                            f"{left} is left authorized")
        journal[idempotency_key] = {"state": "pending", "amount": str(amount), "captured_before": str(captured_total)}
        self._write_journal(order_id, journal)
        self.gql.mutate("OrderCapture", {"input": {
            "id": gid("Order", order_id), "parentTransactionId": parent["id"], "amount": str(amount),
            "currency": currency.upper(),
        }}, "orderCapture")
        journal[idempotency_key] = {**journal[idempotency_key], "state": "done"}
        self._write_journal(order_id, journal)

    def refund_lines(
        self, order_id: str, lines: Sequence[LineQuantity], amount: Decimal, currency: str, reason: str,
        idempotency_key: str,
    ) -> None:
        """Cancel the lines' unshipped units (restocking their committed stock) and pay back `amount`
        from what was actually charged; money only authorized was never taken and needs no refund."""
        order = self._payments(order_id)
        transactions = order["transactions"]
        refunded: dict[str, Decimal] = {}
        for t in transactions:
            parent = (t.get("parentTransaction") or {}).get("id")
            if parent and t["kind"] == "REFUND" and t["status"] == "SUCCESS":
                refunded[parent] = refunded.get(parent, Decimal(0)) + _amount(t["amountSet"])
        money_left = max(amount, Decimal(0))
        refund_transactions = []
        for t in transactions:
            if money_left <= 0:
                break
            if t["kind"] in ("CAPTURE", "SALE") and t["status"] == "SUCCESS":
                room = _amount(t["amountSet"]) - refunded.get(t["id"], Decimal(0))
                take = min(room, money_left)
                if take > 0:
                    refund_transactions.append({"orderId": gid("Order", order_id), "parentId": t["id"],
                                                "amount": str(take), "gateway": t["gateway"], "kind": "REFUND"})
                    money_left -= take
        refund_input: dict[str, Any] = {
            "orderId": gid("Order", order_id),
            "note": reason[:255],
            "notify": True,
            "currency": currency.upper(),
            "refundLineItems": [
                {"lineItemId": gid("LineItem", line.line_id), "quantity": line.quantity, "restockType": "CANCEL"}
                for line in lines if line.quantity > 0
            ],
            "transactions": refund_transactions,
        }
        self.gql.mutate("RefundCreate", {"input": refund_input, "idempotencyKey": idempotency_key}, "refundCreate")

    # ---- ETA and notes ------------------------------------------------------------------------

    def _rewrite_note(self, order_id: str, prefix: str, line: str | None, *, replace: bool) -> None:
        data = self.gql.query("OrderNote", {"id": gid("Order", order_id)})
        if data.get("order") is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        current = data["order"].get("note") or ""
        kept = current.splitlines()
        if replace:
            kept = [existing for existing in kept if not existing.startswith(prefix)]
        if line is not None and line not in kept:
            kept.append(line)
        new = "\n".join(kept)
        if new != current:
            self.gql.mutate("OrderUpdateNote", {"input": {"id": gid("Order", order_id), "note": new}}, "orderUpdate")

    def set_eta(self, order_id: str, eta: date | None, note: str) -> None:
        owner = gid("Order", order_id)
        if eta is not None:
            self.gql.mutate("MetafieldsSet", {"metafields": [{
                "ownerId": owner, "namespace": NAMESPACE, "key": ETA_KEY, "type": "date", "value": eta.isoformat(),
            }]}, "metafieldsSet")
        else:
            self.gql.mutate("MetafieldsDelete", {"metafields": [
                {"ownerId": owner, "namespace": NAMESPACE, "key": ETA_KEY}]}, "metafieldsDelete")
        text = " ".join(note.split())
        self._rewrite_note(order_id, ETA_NOTE_PREFIX, ETA_NOTE_PREFIX + text if text else None, replace=True)

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None:
        """Shopify orders have one staff-facing note and no customer-visible one: the line goes there
        either way (customers hear from the service's own emails)."""
        line = " ".join(text.split())
        if line:
            self._rewrite_note(order_id, NOTE_PREFIX, NOTE_PREFIX + line, replace=False)

    # ---- reads --------------------------------------------------------------------------------

    def _pages(self, operation: str, variables: Mapping[str, Any], root: str) -> Iterator[Mapping[str, Any]]:
        after: str | None = None
        for _ in range(MAX_PAGES):
            connection = self.gql.query(operation, {**variables, "after": after})[root]
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
        for node in self._pages("OrdersUpdatedSince", {"query": search}, "orders"):
            line_nodes = list(node["lineItems"]["nodes"])
            page = node["lineItems"]["pageInfo"]
            while page["hasNextPage"]:
                more = self.gql.query("OrderLineItems", {"id": node["id"], "after": page["endCursor"]})
                line_nodes += more["order"]["lineItems"]["nodes"]
                page = more["order"]["lineItems"]["pageInfo"]
            yield order_from_graphql(self.shop, node, line_nodes, self.reseller_tags)

    def stock_levels(self) -> Iterator[StockLevel]:
        for item in self._pages("InventoryLevels", {"query": None}, "inventoryItems"):
            yield from stock_levels_from_graphql(self.shop, item)

    def variants(self) -> Iterator[Variant]:
        for node in self._pages("ProductVariants", {"query": None}, "productVariants"):
            yield variant_from_graphql(self.shop, node)

