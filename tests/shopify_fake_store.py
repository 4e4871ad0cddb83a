"""A stateful fake of one Shopify shop's Admin GraphQL API, on top of `ShopifyAdminMock`.

It keeps orders (seeded from the real REST fixtures), their fulfillment orders, holds, transactions,
metafields, tags and note, and applies the adapter's mutations the way Shopify does (a partial hold
splits the fulfillment order; a capture adds a CAPTURE child of the authorization), so tests can
assert on the shop's state and on how many times each mutation was sent."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.shopify.ids import gid, legacy_id
from tests.shopify_deferred_fake import DeferredPaymentsFake
from tests.shopify_schema import ShopifyAdminMock

_ids = itertools.count(900_000_001)


def _money(amount: Any, currency: str) -> dict[str, Any]:
    bag = {"amount": str(amount), "currencyCode": currency}
    return {"presentmentMoney": bag, "shopMoney": bag}


def _payload(**fields: Any) -> dict[str, Any]:
    return {"userErrors": [], **fields}


DEFERRED_OPERATIONS = ("SellingPlanGroupCreate", "SellingPlanGroupVariants", "SellingPlanGroupAddProductVariants",
                       "SellingPlanGroupRemoveProductVariants", "OrderBalance", "OrderCreateMandatePayment",
                       "OrderPaymentStatus")


class FakeShopifyStore(DeferredPaymentsFake):
    def __init__(self, mock: ShopifyAdminMock, shop_resource: dict[str, Any] | None = None) -> None:
        self.mock = mock
        self.shop_resource = shop_resource or {"name": "Test shop", "currency": "USD",
                                               "iana_timezone": "America/New_York"}
        self.orders: dict[str, dict[str, Any]] = {}
        self.subscriptions: list[dict[str, Any]] = []
        self.refund_keys: dict[str, str] = {}
        self.products: list[dict[str, Any]] = []
        self.levels: dict[tuple[int, int], int] = {}  # (inventory item, location) -> available
        self.primary_location = 905684977
        self.adjustments: dict[str, list[dict[str, Any]]] = {}  # idempotency key -> changes applied
        self.policy_updates: list[dict[str, Any]] = []  # productVariantsBulkUpdate calls applied
        # storefront (issue 11): metafield definitions by (owner type, namespace, key); variant metafields
        self.definitions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.variant_metafields: dict[str, dict[tuple[str, str], str]] = {}  # variant gid -> (ns, key) -> value
        self.metafields_set_calls: list[int] = []  # metafields per metafieldsSet call
        for name in ("TagsAdd", "OrderBackorderStart", "OrderBackorderHoldAndDate", "TagsRemove",
                     "OrderFulfillmentOrders", "FulfillmentOrderLineItems", "FulfillmentOrderHold",
                     "FulfillmentOrderReleaseHold", "OrderPayments", "OrderCapture", "MetafieldsSet",
                     "MetafieldsDelete", "OrderNote", "OrderEta", "OrderUpdate", "RefundCreate",
                     "WebhookSubscriptions", "WebhookSubscriptionCreate", "WebhookSubscriptionUpdate", "ShopDetails",
                     "OrdersUpdatedSince", "Locations", "LocationInventoryLevels", "ProductVariants", "StockTarget",
                     "VariantStockTarget", "InventoryAdjustQuantities", "VariantInventoryPolicy",
                     "ProductVariantsBulkUpdate", "MetafieldDefinitionCreate", *DEFERRED_OPERATIONS):
            mock.on(name, getattr(self, "_" + name))
        self._init_deferred()

    # ---- seeding --------------------------------------------------------------------------------

    def add_rest_order(self, rest: dict[str, Any], transactions: list[dict[str, Any]] = ()) -> dict[str, Any]:
        currency = rest.get("presentment_currency") or rest["currency"]
        fo_items = [{"id": gid("FulfillmentOrderLineItem", next(_ids)), "lineItem": {"id": gid("LineItem", li["id"])},
                     "remainingQuantity": li["quantity"], "totalQuantity": li["quantity"]}
                    for li in rest.get("line_items", []) if li.get("requires_shipping", True)]
        order = {
            "id": gid("Order", rest["id"]), "name": rest["name"], "currency": currency,
            "tags": set(t.strip() for t in (rest.get("tags") or "").split(",") if t.strip()),
            "note": rest.get("note"), "metafields": {},
            "transactions": [self._transaction_from_rest(t, currency) for t in transactions],
            "fulfillmentOrders": [self._fo(fo_items)] if fo_items else [],
        }
        order["rest"] = rest
        # what the customer still owes: current total (after cancelled lines and their tax) less net payments
        order["outstanding"] = Decimal(str(rest.get("total_price", "0")))
        order["tax_rate"] = Decimal(str((rest.get("tax_lines") or [{}])[0].get("rate", 0)))
        self.orders[str(rest["id"])] = order
        return order

    def add_product(self, product: dict[str, Any]) -> None:
        self.products.append(product)

    def set_level(self, inventory_item_id: int, location_id: int, available: int) -> None:
        self.levels[(inventory_item_id, location_id)] = available

    @staticmethod
    def _fo(items: list[dict[str, Any]], status: str = "OPEN") -> dict[str, Any]:
        return {"id": gid("FulfillmentOrder", next(_ids)), "status": status, "holds": [], "items": items}

    @staticmethod
    def _transaction_from_rest(t: dict[str, Any], currency: str) -> dict[str, Any]:
        return {
            "id": gid("OrderTransaction", t["id"]), "kind": t["kind"].upper(), "status": t["status"].upper(),
            "gateway": t["gateway"], "multiCapturable": False, "authorizationExpiresAt": None,
            "amountSet": _money(t["amount"], t.get("currency") or currency),
            "parentTransaction": {"id": gid("OrderTransaction", t["parent_id"])} if t.get("parent_id") else None,
        }

    def order(self, order_id: str | int) -> dict[str, Any]:
        return self.orders[str(legacy_id(str(order_id)))]

    def _order_by_gid(self, ident: str) -> dict[str, Any] | None:
        return self.orders.get(str(legacy_id(ident)))

    def _fo_by_gid(self, ident: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for order in self.orders.values():
            for fo in order["fulfillmentOrders"]:
                if fo["id"] == ident:
                    return order, fo
        raise AssertionError(f"no fulfillment order {ident}")

    # ---- views --------------------------------------------------------------------------------

    @staticmethod
    def _line_page(fo: dict[str, Any], first: int, after: str | None = None) -> dict[str, Any]:
        """One page of a fulfillment order's line items, as Shopify pages them (cursor: an offset here)."""
        start = int(after) if after else 0
        more = start + first < len(fo["items"])
        return {"pageInfo": {"hasNextPage": more, "endCursor": str(start + first) if more else None},
                "nodes": fo["items"][start:start + first]}

    @classmethod
    def _fo_view(cls, fo: dict[str, Any], lines: int) -> dict[str, Any]:
        actions = ["RELEASE_HOLD"] if fo["status"] == "ON_HOLD" else []
        if fo["status"] in ("OPEN", "ON_HOLD"):
            actions.append("HOLD")
        return {
            "id": fo["id"], "status": fo["status"], "supportedActions": [{"action": a} for a in actions],
            "fulfillmentHolds": [{"id": h["id"], "handle": h["handle"], "heldByRequestingApp": True}
                                 for h in fo["holds"]],
            "lineItems": cls._line_page(fo, lines),
        }

    # ---- handlers -----------------------------------------------------------------------------

    def _TagsAdd(self, v: dict[str, Any]) -> dict[str, Any]:
        self._order_by_gid(v["id"])["tags"].update(v["tags"])
        return {"tagsAdd": _payload()}

    def _TagsRemove(self, v: dict[str, Any]) -> dict[str, Any]:
        self._order_by_gid(v["id"])["tags"].difference_update(v["tags"])
        return {"tagsRemove": _payload()}

    def _OrderBackorderStart(self, v: dict[str, Any]) -> dict[str, Any]:
        """tagsAdd, answering with the order (as Shopify: `node` is the tagged object, after the change)."""
        order = self._order_by_gid(v["id"])
        if order is None:
            return {"tagsAdd": {"node": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}}
        order["tags"].update(v["tags"])
        value = order["metafields"].get((v["namespace"], v["key"]))
        node = {"__typename": "Order", "id": order["id"], "note": order["note"],
                "metafield": None if value is None else {"value": value}, **self._fo_page(order, v)}
        return {"tagsAdd": _payload(node=node)}

    def _fo_page(self, order: dict[str, Any], v: dict[str, Any]) -> dict[str, Any]:
        start = int(v.get("after") or 0)  # pages of 10, as the documents ask; the cursor is an offset here
        page = order["fulfillmentOrders"][start:start + 10]
        more = start + 10 < len(order["fulfillmentOrders"])
        return {"fulfillmentOrders": {
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + 10) if more else None},
            "nodes": [self._fo_view(fo, v["lines"]) for fo in page]}}

    def _OrderFulfillmentOrders(self, v: dict[str, Any]) -> dict[str, Any]:
        order = self._order_by_gid(v["id"])
        if order is None:
            return {"order": None}
        return {"order": {"id": order["id"], **self._fo_page(order, v)}}

    def _FulfillmentOrderLineItems(self, v: dict[str, Any]) -> dict[str, Any]:
        _, fo = self._fo_by_gid(v["id"])
        return {"fulfillmentOrder": {"id": fo["id"], "lineItems": self._line_page(fo, 100, v.get("after"))}}

    def _FulfillmentOrderHold(self, v: dict[str, Any]) -> dict[str, Any]:
        order, fo = self._fo_by_gid(v["id"])
        hold_input = v["fulfillmentHold"]
        wanted = {i["id"]: i["quantity"] for i in hold_input.get("fulfillmentOrderLineItems") or []}
        hold = {"id": gid("FulfillmentHold", next(_ids)), "handle": hold_input.get("handle"),
                "reason": hold_input["reason"], "notes": hold_input.get("reasonNotes")}
        remaining = None
        if wanted and any(wanted.get(i["id"], 0) < i["remainingQuantity"] for i in fo["items"]):
            held_items, rest_items = [], []
            for item in fo["items"]:
                take = wanted.get(item["id"], 0)
                assert take <= item["remainingQuantity"], "holding more than remains"
                if take:
                    held_items.append({**item, "remainingQuantity": take, "totalQuantity": take})
                if item["remainingQuantity"] - take:
                    rest_items.append({**item, "id": gid("FulfillmentOrderLineItem", next(_ids)),
                                       "remainingQuantity": item["remainingQuantity"] - take,
                                       "totalQuantity": item["remainingQuantity"] - take})
            fo["items"] = held_items
            remaining = self._fo(rest_items)
            order["fulfillmentOrders"].append(remaining)
        fo["status"] = "ON_HOLD"
        fo["holds"].append(hold)
        return {"fulfillmentOrderHold": _payload(
            fulfillmentHold={"id": hold["id"], "handle": hold["handle"]},
            fulfillmentOrder={"id": fo["id"], "status": fo["status"]},
            remainingFulfillmentOrder={"id": remaining["id"], "status": "OPEN"} if remaining else None)}

    def _OrderBackorderHoldAndDate(self, v: dict[str, Any]) -> dict[str, Any]:
        """fulfillmentOrderHold, then orderUpdate, as Shopify runs a document's mutations: each whatever
        the one before answered."""
        return {**self._FulfillmentOrderHold({"id": v["fulfillmentOrder"], "fulfillmentHold": v["fulfillmentHold"]}),
                **self._OrderUpdate({"input": v["order"]})}

    def _FulfillmentOrderReleaseHold(self, v: dict[str, Any]) -> dict[str, Any]:
        _, fo = self._fo_by_gid(v["id"])
        release = set(v.get("holdIds") or [h["id"] for h in fo["holds"]])
        fo["holds"] = [h for h in fo["holds"] if h["id"] not in release]
        if not fo["holds"]:
            fo["status"] = "OPEN"
        return {"fulfillmentOrderReleaseHold": _payload(fulfillmentOrder={"id": fo["id"], "status": fo["status"]})}

    def _OrderPayments(self, v: dict[str, Any]) -> dict[str, Any]:
        order = self._order_by_gid(v["id"])
        if order is None:
            return {"order": None}
        value = order["metafields"].get((v["namespace"], v["journalKey"]))
        return {"order": {"id": order["id"], "presentmentCurrencyCode": order["currency"],
                          "totalOutstandingSet": _money(order["outstanding"], order["currency"]),
                          "metafield": {"value": value} if value is not None else None,
                          "transactions": order["transactions"]}}

    def _OrderCapture(self, v: dict[str, Any]) -> dict[str, Any]:
        data = v["input"]
        order = self._order_by_gid(data["id"])
        parent = next(t for t in order["transactions"] if t["id"] == data["parentTransactionId"])
        taken = sum((Decimal(t["amountSet"]["presentmentMoney"]["amount"]) for t in order["transactions"]
                     if (t.get("parentTransaction") or {}).get("id") == parent["id"] and t["kind"] == "CAPTURE"),
                    Decimal(0))
        closed = taken > 0 and not parent["multiCapturable"]  # a single-capture authorization is used up
        if closed or Decimal(data["amount"]) > Decimal(parent["amountSet"]["presentmentMoney"]["amount"]) - taken:
            return {"orderCapture": {"transaction": None, "userErrors": [
                {"field": ["amount"], "message": "Amount exceeds the capturable amount"}]}}
        capture = {"id": gid("OrderTransaction", next(_ids)), "kind": "CAPTURE", "status": "SUCCESS",
                   "gateway": parent["gateway"], "multiCapturable": False, "authorizationExpiresAt": None,
                   "amountSet": _money(data["amount"], data.get("currency") or order["currency"]),
                   "parentTransaction": {"id": parent["id"]}}
        order["transactions"].append(capture)
        order["outstanding"] -= Decimal(data["amount"])
        return {"orderCapture": _payload(transaction=capture)}

    def _MetafieldsSet(self, v: dict[str, Any]) -> dict[str, Any]:
        """As Shopify: at most 25 per call, all or nothing; json values must parse; owners must exist."""
        inputs = v["metafields"]
        self.metafields_set_calls.append(len(inputs))
        if len(inputs) > 25:
            return {"metafieldsSet": {"metafields": None, "userErrors": [{
                "field": ["metafields"], "code": "LESS_THAN_OR_EQUAL_TO",
                "message": "Exceeded the maximum metafields input limit of 25."}]}}
        errors = []
        for i, m in enumerate(inputs):
            if not self._owner_exists(m["ownerId"]):
                errors.append({"field": ["metafields", str(i), "ownerId"], "code": "INVALID",
                               "message": "Owner does not exist"})
            if m.get("type") == "json":
                try:
                    json.loads(m["value"])
                except ValueError:
                    errors.append({"field": ["metafields", str(i), "value"], "code": "INVALID_VALUE",
                                   "message": "Value is invalid JSON"})
        if errors:
            return {"metafieldsSet": {"metafields": None, "userErrors": errors}}
        out = []
        for m in inputs:
            if "/ProductVariant/" in m["ownerId"]:
                self.variant_metafields.setdefault(m["ownerId"], {})[(m["namespace"], m["key"])] = m["value"]
            else:
                self._order_by_gid(m["ownerId"])["metafields"][(m["namespace"], m["key"])] = m["value"]
            out.append({"id": gid("Metafield", next(_ids)), "namespace": m["namespace"], "key": m["key"]})
        return {"metafieldsSet": _payload(metafields=out)}

    def _owner_exists(self, owner: str) -> bool:
        if "/ProductVariant/" in owner:
            return any(gid("ProductVariant", var["id"]) == owner for _, var in self._variants())
        return self._order_by_gid(owner) is not None

    def _MetafieldDefinitionCreate(self, v: dict[str, Any]) -> dict[str, Any]:
        d = v["definition"]
        ident = (d["ownerType"], d["namespace"], d["key"])
        if ident in self.definitions:
            return {"metafieldDefinitionCreate": {"createdDefinition": None, "userErrors": [{
                "field": ["definition", "key"], "code": "TAKEN", "message": "Key is in use for Product variant "
                "metafields on the 'app' namespace."}]}}
        if not d.get("name"):
            return {"metafieldDefinitionCreate": {"createdDefinition": None, "userErrors": [{
                "field": ["definition", "name"], "code": "BLANK", "message": "Name can't be blank"}]}}
        self.definitions[ident] = dict(d)
        created = {"id": gid("MetafieldDefinition", next(_ids)), "namespace": d["namespace"], "key": d["key"]}
        return {"metafieldDefinitionCreate": _payload(createdDefinition=created)}

    def _MetafieldsDelete(self, v: dict[str, Any]) -> dict[str, Any]:
        for m in v["metafields"]:
            self._order_by_gid(m["ownerId"])["metafields"].pop((m["namespace"], m["key"]), None)
        return {"metafieldsDelete": _payload(deletedMetafields=v["metafields"])}

    def _OrderNote(self, v: dict[str, Any]) -> dict[str, Any]:
        order = self._order_by_gid(v["id"])
        return {"order": {"id": order["id"], "note": order["note"]} if order else None}

    def _OrderEta(self, v: dict[str, Any]) -> dict[str, Any]:
        order = self._order_by_gid(v["id"])
        if order is None:
            return {"order": None}
        value = order["metafields"].get((v["namespace"], v["key"]))
        return {"order": {"id": order["id"], "note": order["note"],
                          "metafield": None if value is None else {"value": value}}}

    def _OrderUpdate(self, v: dict[str, Any]) -> dict[str, Any]:
        """orderUpdate with a note, metafields or both, as Shopify: a metafield is found by namespace and key,
        and creating one needs its type; nothing is written when an input is refused."""
        data = v["input"]
        order = self._order_by_gid(data["id"])
        errors = [{"field": ["metafields", str(i), "type"], "message": "Type can't be blank"}
                  for i, m in enumerate(data.get("metafields") or ())
                  if (m["namespace"], m["key"]) not in order["metafields"] and not m.get("type")]
        if errors:
            return {"orderUpdate": {"order": None, "userErrors": errors}}
        if "note" in data:
            order["note"] = data["note"]
        for m in data.get("metafields") or ():
            order["metafields"][(m["namespace"], m["key"])] = m["value"]
        return {"orderUpdate": _payload(order={"id": order["id"]})}

    def _RefundCreate(self, v: dict[str, Any]) -> dict[str, Any]:
        key = v["idempotencyKey"]
        if key not in self.refund_keys:
            order = self._order_by_gid(v["input"]["orderId"])
            prices = {gid("LineItem", li["id"]): Decimal(li["price"]) for li in order["rest"].get("line_items", [])}
            for item in v["input"].get("refundLineItems") or []:
                cancelled = prices[item["lineItemId"]] * item["quantity"] * (1 + order["tax_rate"])
                order["outstanding"] -= cancelled.quantize(Decimal("0.01"))
            for t in v["input"].get("transactions") or []:
                order["outstanding"] += Decimal(t["amount"])
                order["transactions"].append({
                    "id": gid("OrderTransaction", next(_ids)), "kind": "REFUND", "status": "SUCCESS",
                    "gateway": t["gateway"], "multiCapturable": False, "authorizationExpiresAt": None,
                    "amountSet": _money(t["amount"], order["currency"]), "parentTransaction": {"id": t["parentId"]}})
            self.refund_keys[key] = gid("Refund", next(_ids))
        return {"refundCreate": _payload(refund={"id": self.refund_keys[key]})}

    def _WebhookSubscriptions(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"webhookSubscriptions": {"pageInfo": {"hasNextPage": False, "endCursor": None},
                                         "nodes": [dict(s) for s in self.subscriptions]}}

    def _WebhookSubscriptionCreate(self, v: dict[str, Any]) -> dict[str, Any]:
        sub = {"id": gid("WebhookSubscription", next(_ids)), "topic": v["topic"],
               "uri": v["webhookSubscription"]["uri"]}
        self.subscriptions.append(sub)
        return {"webhookSubscriptionCreate": _payload(webhookSubscription=dict(sub))}

    def _WebhookSubscriptionUpdate(self, v: dict[str, Any]) -> dict[str, Any]:
        sub = next(s for s in self.subscriptions if s["id"] == v["id"])
        sub["uri"] = v["webhookSubscription"]["uri"]
        return {"webhookSubscriptionUpdate": _payload(webhookSubscription=dict(sub))}

    def _ShopDetails(self, v: dict[str, Any]) -> dict[str, Any]:
        r = self.shop_resource
        return {"shop": {"id": gid("Shop", r.get("id", 1)), "name": r["name"], "myshopifyDomain": self.mock.shop,
                         "currencyCode": r["currency"], "ianaTimezone": r.get("iana_timezone") or "UTC",
                         "contactEmail": r.get("email") or "owner@example.com",
                         "primaryDomain": {"host": r.get("domain") or self.mock.shop}},
                "shopLocales": [{"locale": r.get("primary_locale", "en"), "primary": True}]}

    # ---- reconciliation reads (one page each; paging is covered by the client's own tests) --------

    def _OrdersUpdatedSince(self, v: dict[str, Any]) -> dict[str, Any]:
        nodes = []
        for order in self.orders.values():
            rest = order["rest"]
            customer = rest.get("customer") or {}
            bag = _money(rest["total_price"], order["currency"])
            lines = [{
                "id": gid("LineItem", li["id"]), "sku": li.get("sku"), "name": li.get("name") or li["title"],
                "quantity": li["quantity"], "currentQuantity": li["quantity"], "unfulfilledQuantity": li["quantity"],
                "requiresShipping": li.get("requires_shipping", True), "isGiftCard": bool(li.get("gift_card")),
                "variant": {"id": gid("ProductVariant", li["variant_id"])} if li.get("variant_id") else None,
                "product": {"id": gid("Product", li["product_id"])} if li.get("product_id") else None,
                "originalUnitPriceSet": _money(li["price"], order["currency"]),
                "discountAllocations": [{"allocatedAmountSet": _money(d["amount"], order["currency"])}
                                        for d in li.get("discount_allocations", [])],
                "taxLines": [{"priceSet": _money(t["price"], order["currency"])} for t in li.get("tax_lines", [])],
            } for li in rest.get("line_items", [])]
            nodes.append({
                "id": order["id"], "name": rest["name"], "createdAt": rest["created_at"],
                "updatedAt": rest["updated_at"], "processedAt": rest.get("processed_at") or rest["created_at"],
                "cancelledAt": rest.get("cancelled_at"), "displayFinancialStatus": rest["financial_status"].upper(),
                "currencyCode": rest["currency"], "presentmentCurrencyCode": order["currency"],
                "taxesIncluded": bool(rest.get("taxes_included")),
                "totalPriceSet": bag, "email": rest.get("email"), "customerLocale": rest.get("customer_locale"),
                "statusPageUrl": rest.get("order_status_url") or f"https://{self.mock.shop}/orders/{rest['id']}",
                "paymentTerms": {"paymentTermsType": str(rest["payment_terms"]["payment_terms_type"]).upper()}
                if rest.get("payment_terms") else None,
                "tags": sorted(order["tags"]),
                "customer": {"id": gid("Customer", customer["id"]), "firstName": customer.get("first_name"),
                             "lastName": customer.get("last_name"), "locale": customer.get("locale") or "en",
                             "tags": [t.strip() for t in (customer.get("tags") or "").split(",") if t.strip()]}
                if customer else None,
                "purchasingEntity": None,
                "lineItems": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": lines},
            })
        return {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}

    def _variants(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(p, v) for p in self.products for v in p["variants"]]

    def _Locations(self, v: dict[str, Any]) -> dict[str, Any]:
        locations = sorted({loc for _, loc in self.levels})
        return {"locations": {"pageInfo": {"hasNextPage": False, "endCursor": None},
                              "nodes": [{"id": gid("Location", loc), "isActive": True} for loc in locations]}}

    def _LocationInventoryLevels(self, v: dict[str, Any]) -> dict[str, Any]:
        location = int(legacy_id(v["id"]))
        by_item = {variant["inventory_item_id"]: variant for _, variant in self._variants()}
        nodes = [{
            "updatedAt": "2026-11-25T12:00:00Z", "quantities": [{"name": "available", "quantity": qty}],
            "item": {"id": gid("InventoryItem", item), "sku": by_item[item].get("sku"), "tracked": True,
                     "variant": {"id": gid("ProductVariant", by_item[item]["id"])}},
        } for (item, loc), qty in self.levels.items() if loc == location]
        return {"location": {"id": v["id"], "inventoryLevels": {
            "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}}

    def _ProductVariants(self, v: dict[str, Any]) -> dict[str, Any]:
        nodes = [{
            "id": gid("ProductVariant", variant["id"]), "sku": variant.get("sku"), "title": variant["title"],
            "price": variant["price"], "inventoryPolicy": variant["inventory_policy"].upper(),
            "updatedAt": variant["updated_at"],
            "inventoryItem": {"id": gid("InventoryItem", variant["inventory_item_id"])},
            "product": {"id": gid("Product", product["id"]), "title": product["title"], "handle": product["handle"]},
        } for product, variant in self._variants()]
        return {"productVariants": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}

    # ---- goods received ---------------------------------------------------------------------------

    def _item_node(self, variant: dict[str, Any]) -> dict[str, Any]:
        return {"id": gid("InventoryItem", variant["inventory_item_id"]), "sku": variant.get("sku"), "tracked": True}

    def _StockTarget(self, v: dict[str, Any]) -> dict[str, Any]:
        wanted = v["query"].removeprefix('sku:"').removesuffix('"').replace('\\"', '"').replace("\\\\", "\\")
        nodes = [self._item_node(var) for _, var in self._variants() if (var.get("sku") or "") == wanted]
        return {"inventoryItems": {"nodes": nodes}, "location": {"id": gid("Location", self.primary_location)}}

    def _VariantStockTarget(self, v: dict[str, Any]) -> dict[str, Any]:
        variant = next((var for _, var in self._variants() if gid("ProductVariant", var["id"]) == v["id"]), None)
        return {"productVariant": {"id": v["id"], "inventoryItem": self._item_node(variant)} if variant else None,
                "location": {"id": gid("Location", self.primary_location)}}

    def _InventoryAdjustQuantities(self, v: dict[str, Any]) -> dict[str, Any]:
        key = v["idempotencyKey"]
        data = v["input"]
        assert data["name"] == "available" and data["reason"] in ("received", "correction")
        if key not in self.adjustments:
            for change in data["changes"]:
                assert "changeFromQuantity" in change, "Shopify requires changeFromQuantity (null allowed)"
                slot = (int(legacy_id(change["inventoryItemId"])), int(legacy_id(change["locationId"])))
                self.levels[slot] = self.levels.get(slot, 0) + change["delta"]
            self.adjustments[key] = data["changes"]
        return {"inventoryAdjustQuantities": _payload(
            inventoryAdjustmentGroup={"id": gid("InventoryAdjustmentGroup", 1), "reason": data["reason"]})}

    # ---- inventory policy (the selling limit) --------------------------------------------------

    def variant(self, variant_id: int | str) -> dict[str, Any]:
        wanted = int(legacy_id(str(variant_id)))
        return next(var for _, var in self._variants() if int(var["id"]) == wanted)

    def _VariantInventoryPolicy(self, v: dict[str, Any]) -> dict[str, Any]:
        found = next(((p, var) for p, var in self._variants() if gid("ProductVariant", var["id"]) == v["id"]), None)
        if found is None:
            return {"productVariant": None}
        product, variant = found
        return {"productVariant": {"id": v["id"], "inventoryPolicy": variant["inventory_policy"].upper(),
                                   "product": {"id": gid("Product", product["id"])}}}

    def _ProductVariantsBulkUpdate(self, v: dict[str, Any]) -> dict[str, Any]:
        """As Shopify: a product that does not exist, or a variant not of that product, is a userError
        and nothing is changed; an invalid inventory policy never reaches here (the schema's enum)."""
        product = next((p for p in self.products if gid("Product", p["id"]) == v["productId"]), None)
        if product is None:
            return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": [
                {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}]}}
        by_gid = {gid("ProductVariant", var["id"]): var for var in product["variants"]}
        errors = [{"field": ["variants", str(i), "id"], "message": "Product variant does not exist",
                   "code": "PRODUCT_VARIANT_DOES_NOT_EXIST"} for i, item in enumerate(v["variants"])
                  if item["id"] not in by_gid]
        if errors:
            return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": errors}}
        changed = []
        for item in v["variants"]:
            variant = by_gid[item["id"]]
            if "inventoryPolicy" in item:
                assert item["inventoryPolicy"] in ("CONTINUE", "DENY")
                variant["inventory_policy"] = item["inventoryPolicy"].lower()
                variant["updated_at"] = datetime.now(UTC).isoformat()
            changed.append({"id": item["id"], "inventoryPolicy": variant["inventory_policy"].upper()})
        self.policy_updates.append(v)
        return {"productVariantsBulkUpdate": _payload(productVariants=changed)}
