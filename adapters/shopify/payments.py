"""Captures and refunds on a Shopify order, each safe to repeat.

Captures keep a journal in an order metafield (`backorder_connector.captures`, JSON): the key is
written with the amount captured so far *before* `orderCapture`, and marked done after. A retry of
the same key after a crash in between finds the capture among the order's transactions and does not
capture again. Refunds carry Shopify's own `@idempotent(key:)`.

An authorization that is not multi-capturable (multi-capture needs Shopify Plus) is closed by its
first capture: Shopify releases whatever was not captured, so nothing is left on it afterwards.

A capture never takes more than the order's outstanding amount as Shopify computes it (its current
total, after refunds and edits, less what was paid): the customer is never charged more than they owe,
even when the amount asked for was worked out before a refund of some lines (and their taxes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.base import LineQuantity, UserError

from .graphql import GraphQLClient
from .ids import gid

log = logging.getLogger(__name__)

NAMESPACE = "backorder_connector"
CAPTURE_JOURNAL_KEY = "captures"
ZERO = Decimal(0)


def amount_of(transaction: Mapping[str, Any]) -> Decimal:
    return Decimal(str(((transaction.get("amountSet") or {}).get("presentmentMoney") or {}).get("amount", "0")))


def _succeeded(t: Mapping[str, Any], *kinds: str) -> bool:
    return t["status"] == "SUCCESS" and t["kind"] in kinds


def _parent(t: Mapping[str, Any]) -> str | None:
    return (t.get("parentTransaction") or {}).get("id")


def capturable(transactions: Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    """What is left to capture on each successful authorization, by transaction id."""
    left: dict[str, Decimal] = {}
    for auth in transactions:
        if not _succeeded(auth, "AUTHORIZATION"):
            continue
        children = [t for t in transactions if _parent(t) == auth["id"]]
        if any(_succeeded(t, "VOID") for t in children):
            left[auth["id"]] = ZERO
            continue
        captures = [amount_of(t) for t in children if _succeeded(t, "CAPTURE")]
        if captures and not auth.get("multiCapturable"):
            left[auth["id"]] = ZERO
        else:
            left[auth["id"]] = max(amount_of(auth) - sum(captures, ZERO), ZERO)
    return left


def captured_total(transactions: Sequence[Mapping[str, Any]]) -> Decimal:
    return sum((amount_of(t) for t in transactions if _succeeded(t, "CAPTURE")), ZERO)


def refundable(transactions: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Decimal]]:
    """Each successful charge (capture or sale) with what has not been refunded of it yet."""
    refunded: dict[str, Decimal] = {}
    for t in transactions:
        if _succeeded(t, "REFUND") and _parent(t):
            refunded[_parent(t)] = refunded.get(_parent(t), ZERO) + amount_of(t)
    return [(t, amount_of(t) - refunded.get(t["id"], ZERO)) for t in transactions if _succeeded(t, "CAPTURE", "SALE")]


class OrderPayments:
    def __init__(self, shop: str, gql: GraphQLClient) -> None:
        self.shop = shop
        self.gql = gql

    def _read(self, order_id: str) -> dict[str, Any]:
        data = self.gql.query("OrderPayments", {
            "id": gid("Order", order_id), "namespace": NAMESPACE, "journalKey": CAPTURE_JOURNAL_KEY})
        if data.get("order") is None:
            raise UserError(f"{self.shop}: order {order_id} not found")
        return data["order"]

    def _write_journal(self, order_id: str, journal: Mapping[str, Any]) -> None:
        self.gql.mutate("MetafieldsSet", {"metafields": [{
            "ownerId": gid("Order", order_id), "namespace": NAMESPACE, "key": CAPTURE_JOURNAL_KEY,
            "type": "json", "value": json.dumps(journal, sort_keys=True),
        }]}, "metafieldsSet")

    def capture(self, order_id: str, amount: Decimal, currency: str, key: str) -> None:
        if amount <= 0:
            return
        order = self._read(order_id)
        transactions = order["transactions"]
        journal: dict[str, Any] = json.loads((order.get("journal") or {}).get("value") or "{}")
        so_far = captured_total(transactions)
        entry = journal.get(key)
        if entry is not None:
            if entry.get("state") == "done":
                return
            if so_far >= Decimal(entry["captured_before"]) + Decimal(entry["amount"]):
                journal[key] = {**entry, "state": "done"}  # Shopify took it; we were interrupted before noting it
                self._write_journal(order_id, journal)
                return
        paid_in = str(order["presentmentCurrencyCode"]).upper()
        if currency.upper() != paid_in:
            raise UserError(f"{self.shop} order {order_id}: capture in {currency} but the order was paid in {paid_in}")
        owed = Decimal(str(((order.get("totalOutstandingSet") or {}).get("presentmentMoney") or {}).get(
            "amount", amount)))
        if owed < amount:
            log.warning("%s order %s: asked to capture %s %s but only %s is owed; capturing what is owed",
                        self.shop, order_id, amount, paid_in, owed)
            amount = owed
        if amount <= 0:
            journal[key] = {"state": "done", "amount": "0", "captured_before": str(so_far)}
            self._write_journal(order_id, journal)
            return
        left = capturable(transactions)
        parent = next((t for t in transactions if left.get(t["id"], ZERO) >= amount), None)
        if parent is None:
            raise UserError(f"{self.shop} order {order_id}: {amount} {currency} cannot be captured, "
                            f"{sum(left.values(), ZERO)} is left authorized")
        journal[key] = {"state": "pending", "amount": str(amount), "captured_before": str(so_far)}
        self._write_journal(order_id, journal)
        self.gql.mutate("OrderCapture", {"input": {
            "id": gid("Order", order_id), "parentTransactionId": parent["id"], "amount": str(amount),
            "currency": paid_in,
        }}, "orderCapture")
        journal[key] = {**journal[key], "state": "done"}
        self._write_journal(order_id, journal)

    def refund(self, order_id: str, lines: Sequence[LineQuantity], amount: Decimal, currency: str, reason: str,
               key: str) -> None:
        """Cancel the lines' unshipped units (which gives their committed stock back) and pay back `amount`
        from what was really charged; money that was only authorized was never taken and needs no refund."""
        order = self._read(order_id)
        money_left = max(amount, ZERO)
        refund_transactions = []
        for charge, room in refundable(order["transactions"]):
            take = min(room, money_left)
            if take > 0:
                refund_transactions.append({"orderId": gid("Order", order_id), "parentId": charge["id"],
                                            "amount": str(take), "gateway": charge["gateway"], "kind": "REFUND"})
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
        self.gql.mutate("RefundCreate", {"input": refund_input, "idempotencyKey": key}, "refundCreate")
