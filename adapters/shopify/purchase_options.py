"""The "pay when it ships" purchase option on Shopify, and charging its balance (issue 10).

- The option is one selling plan group per shop (`sellingPlanGroupCreate`): category `PRE_ORDER`, a
  fixed billing policy (the shop's deposit as a percentage at checkout, the remaining balance charged
  `ON_FULFILLMENT`), a fixed delivery policy (fulfilment as soon as possible: the service holds it
  until the goods are in), inventory reserved on sale. Variants join and leave in batches of at most
  250 (`sellingPlanGroupAddProductVariants` / `...RemoveProductVariants`); the group's variants are
  read back page by page, and a group that reads as null was deleted by the merchant.
- The balance is charged to the customer's vaulted payment method with `orderCreateMandatePayment`
  (Shopify answers a repeated idempotency key with the same payment, never a second one), after
  checking what the order still owes; the payment runs as a job whose result is read with
  `orderPaymentStatus`, a bounded number of times.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from adapters.base import PaymentFailed, PurchaseOptionSpec, ScopesMissing, StoreError, UserError

from .graphql import GraphQLClient
from .ids import gid

log = logging.getLogger(__name__)

APP_CODE = "backorder-connector-pay-when-it-ships"
BATCH = 250  # variants per add/remove call
MAX_PAGES = 400  # 100,000 variants
STATUS_POLLS = 3
POLL_SECONDS = 0.5
OPTION_SCOPES = ("write_products", "write_purchase_options", "write_payment_mandate", "read_payment_terms")
SUCCEEDED = {"SUCCESS", "CAPTURED", "AUTHORIZED", "PURCHASED"}
PROCESSING = {"INITIATED", "PENDING", "PROCESSING", "UNKNOWN"}


def batches(ids: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def failure_reason(status: str, message: str) -> str:
    """A `PaymentFailed.REASONS` value from Shopify's payment status and error message."""
    text = message.lower()
    if status == "REDIRECT_REQUIRED" or "authenticat" in text or "3d secure" in text:
        return "authentication_required"
    if "expir" in text:
        return "card_expired"
    if "declin" in text or "insufficient" in text:
        return "declined"
    return "failed"


def mandate_key(key: str) -> str:
    """Our action key as Shopify's idempotency key: short and stable (a digest when long)."""
    return key if len(key) <= 32 else hashlib.sha256(key.encode()).hexdigest()[:32]


def group_input(spec: PurchaseOptionSpec) -> dict[str, Any]:
    """The `SellingPlanGroupInput` of the purchase option."""
    return {
        "name": spec.name[:255],
        "merchantCode": "backorder-pay-when-it-ships",
        "description": spec.description[:255],
        "appId": APP_CODE,
        "options": [spec.name[:255]],
        "sellingPlansToCreate": [{
            "name": spec.name[:255],
            "description": spec.description[:255],
            "category": "PRE_ORDER",
            "options": [spec.name[:255]],
            "billingPolicy": {"fixed": {
                "checkoutCharge": {"type": "PERCENTAGE", "value": {"percentage": float(spec.deposit_percent)}},
                "remainingBalanceChargeTrigger": "ON_FULFILLMENT",
            }},
            "deliveryPolicy": {"fixed": {"fulfillmentTrigger": "ASAP"}},
            "inventoryPolicy": {"reserve": "ON_SALE"},
        }],
    }


class DeferredPayments:
    def __init__(self, shop: str, gql: GraphQLClient, missing_scopes: Sequence[str] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.shop, self.gql, self.missing_scopes, self.sleep = shop, gql, tuple(missing_scopes), sleep

    def _check_scopes(self) -> None:
        if self.missing_scopes:
            raise ScopesMissing(self.missing_scopes)

    # ---- the purchase option ----------------------------------------------------------------------

    def create(self, spec: PurchaseOptionSpec) -> str:
        self._check_scopes()
        result = self.gql.mutate("SellingPlanGroupCreate", {"input": group_input(spec)}, "sellingPlanGroupCreate")
        group = result.get("sellingPlanGroup") or {}
        if not group.get("id"):
            raise StoreError(f"{self.shop} sellingPlanGroupCreate answered without a group", retryable=True)
        return str(group["id"])

    def variants(self, option_id: str) -> set[str] | None:
        self._check_scopes()
        found: set[str] = set()
        after: str | None = None
        for _ in range(MAX_PAGES):
            data = self.gql.query("SellingPlanGroupVariants", {"id": option_id, "after": after})
            group = data.get("sellingPlanGroup")
            if group is None:
                return None
            connection = group["productVariants"]
            found.update(str(node["id"]) for node in connection["nodes"])
            if not connection["pageInfo"]["hasNextPage"]:
                return found
            after = connection["pageInfo"]["endCursor"]
        raise StoreError(f"{self.shop}: purchase option {option_id} has more than {MAX_PAGES} pages", retryable=False)

    def add(self, option_id: str, variant_ids: Sequence[str]) -> None:
        self._check_scopes()
        for batch in batches([gid("ProductVariant", v) for v in variant_ids]):
            self.gql.mutate("SellingPlanGroupAddProductVariants", {"id": option_id, "productVariantIds": batch},
                            "sellingPlanGroupAddProductVariants")

    def remove(self, option_id: str, variant_ids: Sequence[str]) -> None:
        self._check_scopes()
        for batch in batches([gid("ProductVariant", v) for v in variant_ids]):
            self.gql.mutate("SellingPlanGroupRemoveProductVariants", {"id": option_id, "productVariantIds": batch},
                            "sellingPlanGroupRemoveProductVariants")

    # ---- the balance ------------------------------------------------------------------------------

    def collect(self, order_id: str, currency: str, key: str) -> Decimal:
        self._check_scopes()
        order = self.gql.query("OrderBalance", {"id": gid("Order", order_id)}).get("order")
        if order is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        owed_set = (order.get("totalOutstandingSet") or {}).get("presentmentMoney") or {}
        owed = Decimal(str(owed_set.get("amount", "0")))
        paid_in = str(order.get("presentmentCurrencyCode") or currency).upper()
        if owed <= 0:
            return Decimal(0)  # paid already (by Shopify on fulfilment, by the customer, or by an earlier key)
        mandates = ((order.get("paymentCollectionDetails") or {}).get("vaultedPaymentMethods")) or []
        if not mandates:
            raise PaymentFailed("no_payment_method", "the customer has no saved payment method for this order",
                                owed, paid_in)
        try:
            result = self.gql.mutate("OrderCreateMandatePayment", {
                "id": order["id"], "mandateId": mandates[0]["id"], "idempotencyKey": mandate_key(key),
                "amount": {"amount": str(owed), "currencyCode": paid_in},
            }, "orderCreateMandatePayment")
        except UserError as exc:
            raise PaymentFailed(failure_reason("ERROR", str(exc)), str(exc), owed, paid_in) from exc
        reference = result.get("paymentReferenceId")
        if not reference:
            raise StoreError(f"{self.shop} order {order_id}: mandate payment without a reference", retryable=True)
        return self._follow(order["id"], str(reference), owed, paid_in)

    def _follow(self, order_gid: str, reference: str, owed: Decimal, currency: str) -> Decimal:
        """Read the payment's status until it is decided, a bounded number of times."""
        status = "UNKNOWN"
        for attempt in range(STATUS_POLLS):
            if attempt:
                self.sleep(POLL_SECONDS)
            payment = self.gql.query("OrderPaymentStatus", {"orderId": order_gid, "paymentReferenceId": reference})
            state = payment.get("orderPaymentStatus") or {}
            status = str(state.get("status") or "UNKNOWN")
            if status in SUCCEEDED:
                return owed
            if status not in PROCESSING:
                message = state.get("errorMessage") or state.get("translatedErrorMessage") or status.lower()
                raise PaymentFailed(failure_reason(status, message), message, owed, currency)
        raise StoreError(f"{self.shop}: payment {reference} still {status.lower()}; asking again later",
                         retryable=True)
