"""The deferred-payment part of the fake Shopify shop (issue 10): selling plan groups and mandate payments.

Behaviour, as Shopify documents it (and where the docs are silent, what the fake assumes, marked):
- `sellingPlanGroupCreate`: a group with one selling plan; `BLANK` user error without a name, `INVALID`
  unless the plan is a `PRE_ORDER` with a fixed billing policy (checkout charge 0-100 %).
- `sellingPlanGroup(id)`: null once the group is deleted (`delete_group`, the merchant in the admin);
  its `productVariants` in pages of at most `first`, cursor = position.
- `sellingPlanGroupAddProductVariants` / `...RemoveProductVariants`: `GROUP_DOES_NOT_EXIST` for a deleted
  group, `PRODUCT_VARIANT_DOES_NOT_EXIST` for a variant the shop does not have (nothing applied then);
  adding a member again or removing a non-member changes nothing (assumed: the docs do not say).
- `orderCreateMandatePayment`: the same idempotency key answers the same payment (never a second
  charge); otherwise a new payment whose outcome is the next of `mandate_outcomes[order id]`
  (default success). The job is asynchronous: the first `orderPaymentStatus` read answers `PROCESSING`,
  later reads the outcome. Success adds a SALE transaction and lowers what is outstanding; an order
  without a vaulted method (mandate) answers a user error.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from adapters.shopify.ids import gid, legacy_id

_ids = itertools.count(950_000_001)


def _errors(code: str, message: str, field: list[str]) -> dict[str, Any]:
    return {"userErrors": [{"field": field, "message": message, "code": code}]}


class DeferredPaymentsFake:
    orders: dict[str, dict[str, Any]]

    def _init_deferred(self) -> None:
        self.groups: dict[str, dict[str, Any]] = {}
        self.deleted_groups: set[str] = set()
        self.mandate_payments: dict[str, dict[str, Any]] = {}  # idempotency key -> payment
        self.mandate_outcomes: dict[str, list[tuple[str, str | None]]] = {}  # order id -> [(status, error)]

    # ---- seeding and the merchant's hand ---------------------------------------------------------

    def make_deferred(self, order_id: str, mandate: bool = True) -> None:
        """The order was bought through the purchase option: payment terms due on fulfilment, a vaulted card."""
        order = self.orders[str(order_id)]
        order["payment_terms"] = "FULFILLMENT"
        order["mandates"] = [gid("PaymentMandate", next(_ids))] if mandate else []

    def delete_group(self, group_id: str) -> None:
        self.groups.pop(group_id)
        self.deleted_groups.add(group_id)

    def group_variants(self) -> set[int]:
        (group,) = self.groups.values()
        return {int(legacy_id(v)) for v in group["variants"]}

    def _known_variant(self, ident: str) -> bool:
        return any(gid("ProductVariant", v["id"]) == ident for p in self.products for v in p["variants"])  # type: ignore[attr-defined]

    # ---- handlers ---------------------------------------------------------------------------------

    def _SellingPlanGroupCreate(self, v: dict[str, Any]) -> dict[str, Any]:
        data = v["input"]
        if not (data.get("name") or "").strip():
            return {"sellingPlanGroupCreate": {"sellingPlanGroup": None,
                                               **_errors("BLANK", "Name can't be blank", ["input", "name"])}}
        plans = data.get("sellingPlansToCreate") or []
        for plan in plans:
            fixed = (plan.get("billingPolicy") or {}).get("fixed") or {}
            pct = ((fixed.get("checkoutCharge") or {}).get("value") or {}).get("percentage", 0)
            if plan.get("category") != "PRE_ORDER" or not fixed or not 0 <= pct <= 100:
                return {"sellingPlanGroupCreate": {"sellingPlanGroup": None, **_errors(
                    "INVALID", "Selling plan is invalid", ["input", "sellingPlansToCreate"])}}
        group_id = gid("SellingPlanGroup", next(_ids))
        self.groups[group_id] = {"id": group_id, "input": data, "variants": [],
                                 "plans": [gid("SellingPlan", next(_ids)) for _ in plans]}
        return {"sellingPlanGroupCreate": {"userErrors": [], "sellingPlanGroup": {
            "id": group_id, "sellingPlans": {"nodes": [{"id": p} for p in self.groups[group_id]["plans"]]}}}}

    def _SellingPlanGroupVariants(self, v: dict[str, Any]) -> dict[str, Any]:
        group = self.groups.get(v["id"])
        if group is None:
            return {"sellingPlanGroup": None}
        start = int(v.get("after") or 0)
        page = group["variants"][start:start + 250]
        more = start + 250 < len(group["variants"])
        return {"sellingPlanGroup": {"id": group["id"], "productVariants": {
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + 250) if more else None},
            "nodes": [{"id": x} for x in page]}}}

    def _membership(self, v: dict[str, Any], payload: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        group = self.groups.get(v["id"])
        if group is None:
            return None, {payload: _errors("GROUP_DOES_NOT_EXIST", "Selling plan group does not exist.", ["id"])}
        unknown = [x for x in v["productVariantIds"] if not self._known_variant(x)]
        if unknown:
            return None, {payload: _errors("PRODUCT_VARIANT_DOES_NOT_EXIST", "Product variant does not exist.",
                                           ["productVariantIds"])}
        return group, None

    def _SellingPlanGroupAddProductVariants(self, v: dict[str, Any]) -> dict[str, Any]:
        group, refused = self._membership(v, "sellingPlanGroupAddProductVariants")
        if refused:
            return refused
        group["variants"] += [x for x in v["productVariantIds"] if x not in group["variants"]]
        return {"sellingPlanGroupAddProductVariants": {"userErrors": [], "sellingPlanGroup": {"id": group["id"]}}}

    def _SellingPlanGroupRemoveProductVariants(self, v: dict[str, Any]) -> dict[str, Any]:
        group, refused = self._membership(v, "sellingPlanGroupRemoveProductVariants")
        if refused:
            return refused
        removed = [x for x in v["productVariantIds"] if x in group["variants"]]
        group["variants"] = [x for x in group["variants"] if x not in removed]
        return {"sellingPlanGroupRemoveProductVariants": {"userErrors": [], "removedProductVariantIds": removed}}

    def _OrderBalance(self, v: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(str(legacy_id(v["id"])))
        if order is None:
            return {"order": None}
        money = {"amount": str(order["outstanding"]), "currencyCode": order["currency"]}
        status = "PAID" if order["outstanding"] <= 0 else order["rest"]["financial_status"].upper()
        return {"order": {
            "id": order["id"], "displayFinancialStatus": status, "presentmentCurrencyCode": order["currency"],
            "statusPageUrl": f"https://shop.example/orders/{legacy_id(order['id'])}/status",
            "totalOutstandingSet": {"presentmentMoney": money},
            "paymentTerms": {"id": gid("PaymentTerms", 1), "paymentTermsType": order["payment_terms"]}
            if order.get("payment_terms") else None,
            "paymentCollectionDetails": {"additionalPaymentCollectionUrl": None,
                                         "vaultedPaymentMethods": [{"id": m} for m in order.get("mandates", [])]},
            "transactions": [{k: t[k] for k in ("id", "kind", "status", "amountSet")} for t in order["transactions"]],
        }}

    def _OrderCreateMandatePayment(self, v: dict[str, Any]) -> dict[str, Any]:
        key = v["idempotencyKey"]
        if key not in self.mandate_payments:
            order = self.orders[str(legacy_id(v["id"]))]
            if v["mandateId"] not in order.get("mandates", []):
                return {"orderCreateMandatePayment": {"job": None, "paymentReferenceId": None, **_errors(
                    "ORDER_MANDATE_PAYMENT_ERROR_CODE", "Mandate not found for this order", ["mandateId"])}}
            queue = self.mandate_outcomes.get(str(legacy_id(order["id"])), [])
            status, error = queue.pop(0) if queue else ("SUCCESS", None)
            amount = Decimal(v["amount"]["amount"]) if v.get("amount") else order["outstanding"]
            payment = {"reference": f"pay-{next(_ids)}", "order": order, "amount": amount, "status": status,
                       "error": error, "reads": 0, "job": gid("Job", next(_ids))}
            if status == "SUCCESS":
                self._settle(order, amount)
            self.mandate_payments[key] = payment
        payment = self.mandate_payments[key]
        return {"orderCreateMandatePayment": {"userErrors": [], "paymentReferenceId": payment["reference"],
                                              "job": {"id": payment["job"], "done": False}}}

    def _settle(self, order: dict[str, Any], amount: Decimal) -> None:
        order["transactions"].append({
            "id": gid("OrderTransaction", next(_ids)), "kind": "SALE", "status": "SUCCESS",
            "gateway": "shopify_payments",
            "multiCapturable": False, "authorizationExpiresAt": None,
            "amountSet": {"presentmentMoney": {"amount": str(amount), "currencyCode": order["currency"]},
                          "shopMoney": {"amount": str(amount), "currencyCode": order["currency"]}},
            "parentTransaction": None})
        order["outstanding"] -= amount
        if order["outstanding"] <= 0:
            order["rest"]["financial_status"] = "paid"

    def _OrderPaymentStatus(self, v: dict[str, Any]) -> dict[str, Any]:
        payment = next((p for p in self.mandate_payments.values() if p["reference"] == v["paymentReferenceId"]), None)
        if payment is None:
            return {"orderPaymentStatus": None}
        payment["reads"] += 1
        status = "PROCESSING" if payment["reads"] == 1 else payment["status"]
        return {"orderPaymentStatus": {"paymentReferenceId": payment["reference"], "status": status,
                                       "errorMessage": payment["error"] if status != "PROCESSING" else None,
                                       "translatedErrorMessage": None, "transactions": []}}
