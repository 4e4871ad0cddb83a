"""`WooStoreClient`: the actions the core asks of a WooCommerce store, through REST v3.

Every call reads the order first and writes only what differs, so repeating a call with the
same arguments changes nothing (the `StoreClient` contract):

- tags: WooCommerce orders have none; ours live in order meta ``_backorder_tags``.
- hold: a ``processing`` order (or a plugin's "ready to ship" status) goes ``on-hold`` and the
  status it had is kept in ``_backorder_hold``; release puts exactly that status back, and only
  if the order is still on-hold (a merchant's own change wins). A ``pending`` order or one
  already on-hold for payment is not ours to move: it cannot ship anyway, so only a private
  note is written. Moving on-hold -> processing makes WooCommerce email the shopper its
  "processing order" message, which is what a release means to them.
- notes: a note is not added again when the latest note of the same visibility has the same
  text (a retried call after a partial failure); customer notes reach the shopper by email.
- ETA: ``_backorder_eta`` (ISO date, "" when withdrawn) plus a customer note (WooCommerce emails
  it to the shopper; ``eta_note_to_customer=False`` keeps it private for merchants who let only
  our own emails speak to shoppers).
- refunds: ``POST /orders/<id>/refunds`` with the idempotency key in the refund's meta; a key
  already present on a refund is a refund already made. Through the payment gateway when the
  order was paid through one (the money really goes back; a gateway that refuses gives a
  `UserError` and nothing is recorded); bank transfer, cheque and cash-on-delivery orders, or
  ``refund_via_gateway=False``, get the refund recorded and a private note asking the merchant
  to pay it back by hand. Refunded lines are restocked: their demand is gone.
- stock received: the product's (or variation's, or for a variation stocked by its parent, the
  parent's) ``stock_quantity`` is set to what it was plus the delta, and the idempotency key is
  kept in the product's meta ``_backorder_stock_receipts`` (the last 50), so a repeated call adds
  nothing. WooCommerce's REST API only sets stock, it cannot add to it: a sale landing between
  our read and our write is overwritten (a window of one request; the next reconciliation shows
  the true figure if the store corrects it).
- storefront: `publish_storefront` writes each value as JSON in the product's (or variation's)
  meta ``_backorder_connector_eta``, in batches of at most 100 (see `storefront`); the companion
  plugin (plugins/woocommerce/backorder-connector) shows it on product pages, in the cart, at
  checkout and on order lines, without ever calling this service.
- capture: WooCommerce has no capture API. A paid order has nothing to capture (a private note
  records the request); a charge a gateway only authorised (Stripe, WooPayments "capture
  later") must be captured by the merchant in the order's actions, so we write a private note
  saying so and raise a non-retryable `UserError` the merchant sees; an unpaid order raises
  `UserError` too.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.base import LineQuantity, NormalisationError, StoreError, UserError
from adapters.woocommerce import meta, storefront
from adapters.woocommerce.orders import CANCELLED_STATUSES, NormaliseOptions, orders_from_payloads, payment_status
from adapters.woocommerce.products import LOCATION, catalogue_records
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.values import money, whole
from connector.domain.model import Order, PaymentStatus, StockLevel, StorefrontValue, Variant

log = logging.getLogger(__name__)

OFFLINE_GATEWAYS = frozenset({"bacs", "cheque", "cod"})
DONE_STATUSES = CANCELLED_STATUSES | {"completed"}
NOT_OURS_TO_HOLD = frozenset({"pending", "on-hold"})
CENT = Decimal("0.01")

_TAG = re.compile(r"<[^>]+>")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _same_text(a: str, b: str) -> bool:
    def plain(text: str) -> str:
        return " ".join(html.unescape(_TAG.sub(" ", text or "")).translate(_QUOTES).split())

    return plain(a) == plain(b)


def _gmt(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("`since` must be timezone-aware")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class WooStoreClient:
    """`adapters.base.StoreClient` for one WooCommerce store."""

    def __init__(
        self,
        shop: str,
        rest: WooRest,
        *,
        options: NormaliseOptions | None = None,
        refund_via_gateway: bool = True,
        eta_note_to_customer: bool = True,
        note_prefix: str = "Backorder Connector: ",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shop = shop
        self.rest = rest
        self.options = options or NormaliseOptions()
        self.refund_via_gateway = refund_via_gateway
        self.eta_note_to_customer = eta_note_to_customer
        self.note_prefix = note_prefix
        self.clock = clock
        self._catalogue: tuple[float, tuple[list[Variant], list[StockLevel]]] | None = None

    # ---- helpers --------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.rest.get(f"orders/{order_id}")
        if not isinstance(order, dict) or "status" not in order:
            raise UserError(f"order {order_id}: the store did not return an order")
        return order

    def _put_order(self, order_id: str, *, status: str | None = None, **meta_values: str) -> None:
        data: dict[str, Any] = {}
        if status is not None:
            data["status"] = status
        if meta_values:
            data["meta_data"] = [{"key": key, "value": value} for key, value in meta_values.items()]
        self.rest.put(f"orders/{order_id}", data)

    def _note_once(self, order_id: str, text: str, customer_visible: bool) -> None:
        self._notes_once(order_id, [text], customer_visible)

    def _notes_once(self, order_id: str, texts: Sequence[str], customer_visible: bool) -> None:
        """Add these notes of one visibility, in order, unless an earlier attempt of the same call added
        them: the order's latest notes of that visibility are then the first of them, in the same
        order, and only the rest are added (one read of the notes)."""
        kind = "customer" if customer_visible else "internal"
        notes = self.rest.get(f"orders/{order_id}/notes", type=kind)
        same_kind = [n for n in notes or [] if isinstance(n, dict) and bool(n.get("customer_note")) is customer_visible]
        same_kind.sort(key=lambda n: (n.get("date_created_gmt") or "", n.get("id") or 0))
        latest = [str(n.get("note", "")) for n in same_kind]
        done = next((k for k in range(min(len(texts), len(latest)), 0, -1)
                     if all(_same_text(a, b) for a, b in zip(latest[-k:], texts[:k], strict=True))), 0)
        for text in texts[done:]:
            self.rest.post(f"orders/{order_id}/notes", {"note": text, "customer_note": customer_visible})

    def _private(self, order_id: str, text: str) -> None:
        self._note_once(order_id, self.note_prefix + text, customer_visible=False)

    # ---- tags -----------------------------------------------------------------------------

    @staticmethod
    def _tags_of(order: Mapping[str, Any]) -> tuple[str, ...]:
        return meta.split_tags(meta.meta_value(order.get("meta_data"), meta.TAGS))

    def _set_tags(self, order_id: str, change) -> None:
        current = self._tags_of(self._order(order_id))
        wanted = change(current)
        if wanted != current:
            self._put_order(order_id, **{meta.TAGS: ",".join(wanted)})

    @staticmethod
    def _adding(order_id: str, tags: Sequence[str]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
        new = [t.strip() for t in tags if t and t.strip() and "," not in t]
        if len(new) != len([t for t in tags if t and t.strip()]):
            raise UserError(f"order {order_id}: a tag cannot contain a comma: {list(tags)!r}")
        return lambda cur: cur + tuple(t for t in dict.fromkeys(new) if t not in cur)

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        self._set_tags(order_id, self._adding(order_id, tags))

    def remove_tags(self, order_id: str, tags: Sequence[str]) -> None:
        gone = {t.strip() for t in tags}
        self._set_tags(order_id, lambda cur: tuple(t for t in cur if t not in gone))

    # ---- fulfilment -----------------------------------------------------------------------

    @staticmethod
    def _hold_of(order_id: str, order: Mapping[str, Any]) -> dict[str, str]:
        """What holding the order changes: its status and the status kept to go back to (nothing for
        an order that is not ours to move); a done order has no shipment to hold."""
        status = order["status"]
        if status in DONE_STATUSES:
            raise UserError(f"order {order_id} is {status}: there is no shipment to hold")
        return {} if status in NOT_OURS_TO_HOLD else {"status": "on-hold", meta.HOLD: status}

    def _hold_note(self, lines: Sequence[LineQuantity], reason: str) -> str:
        waiting = ", ".join(f"line {li.line_id} × {li.quantity}" for li in lines)
        return self.note_prefix + (f"on hold for backorder ({waiting}): {reason}" if waiting else f"on hold: {reason}")

    def hold_fulfillment(self, order_id: str, lines: Sequence[LineQuantity], reason: str) -> None:
        hold = self._hold_of(order_id, self._order(order_id))
        if hold:
            self._put_order(order_id, **hold)
        self._note_once(order_id, self._hold_note(lines, reason), customer_visible=False)

    def start_backorder(
        self, order_id: str, tags: Sequence[str], lines: Sequence[LineQuantity], reason: str, eta: date | None,
        note: str,
    ) -> None:
        """The start of an order's wait (`adapters.base.BackorderStarter`): the order read once and its
        tags, hold and date written in one update, where the parts apart read it three times and
        write it up to three times; the notes as `hold_fulfillment` and `set_eta` write them, and not
        again when the start is made again, whichever visibility the date's note has."""
        adding = self._adding(order_id, tags)
        order = self._order(order_id)
        changes = self._hold_of(order_id, order)
        current = self._tags_of(order)
        if (wanted := adding(current)) != current:
            changes[meta.TAGS] = ",".join(wanted)
        changes.update(self._eta_change(order, eta))
        if changes:
            self._put_order(order_id, **changes)
        # The hold's private note, then the date's: read once per visibility, and what an earlier attempt
        # of this start already added is not added again.
        notes = [(self._hold_note(lines, reason), False)]
        if note.strip():
            notes.append((note, self.eta_note_to_customer))
        for visible in dict.fromkeys(v for _, v in notes):
            self._notes_once(order_id, [text for text, v in notes if v is visible], visible)

    def release_fulfillment(self, order_id: str) -> None:
        order = self._order(order_id)
        held_from = meta.meta_value(order.get("meta_data"), meta.HOLD)
        if not isinstance(held_from, str) or not held_from:
            return
        if order["status"] == "on-hold":
            self._put_order(order_id, status=held_from, **{meta.HOLD: ""})
            self._private(order_id, f"backorder hold released (back to {held_from}).")
        else:
            self._put_order(order_id, **{meta.HOLD: ""})

    # ---- notes and ETA ----------------------------------------------------------------------

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None:
        if not text.strip():
            raise UserError(f"order {order_id}: an empty note")
        self._note_once(order_id, text, customer_visible)

    @staticmethod
    def _eta_change(order: Mapping[str, Any], eta: date | None) -> dict[str, str]:
        value = eta.isoformat() if eta else ""
        return {} if (meta.meta_value(order.get("meta_data"), meta.ETA) or "") == value else {meta.ETA: value}

    def set_eta(self, order_id: str, eta: date | None, note: str) -> None:
        change = self._eta_change(self._order(order_id), eta)
        if change:
            self._put_order(order_id, **change)
        if note.strip():
            self._note_once(order_id, note, customer_visible=self.eta_note_to_customer)

    # ---- money ------------------------------------------------------------------------------

    def capture_payment(self, order_id: str, amount: Decimal, currency: str, idempotency_key: str) -> None:
        order = self._order(order_id)
        self._same_currency(order, currency)
        status = payment_status(order)
        due = f"{amount} {currency}"
        if status is PaymentStatus.PAID:
            self._private(order_id, f"{due} due for the backordered items; the order is already paid.")
            return
        method = order.get("payment_method_title") or order.get("payment_method") or "the payment gateway"
        if status is PaymentStatus.AUTHORIZED:
            self._private(order_id, f"please capture {due} with {method}: WooCommerce cannot capture it for us.")
            raise UserError(f"order {order_id}: capture {due} by hand with {method} (WooCommerce has no capture API)")
        raise UserError(f"order {order_id}: nothing to capture, the payment is {status.value}")

    def _same_currency(self, order: Mapping[str, Any], currency: str) -> None:
        if (order.get("currency") or "").upper() != currency.upper():
            raise UserError(f"order {order.get('id')} is in {order.get('currency')}, not {currency}")

    def refund_lines(
        self,
        order_id: str,
        lines: Sequence[LineQuantity],
        amount: Decimal,
        currency: str,
        reason: str,
        idempotency_key: str,
    ) -> None:
        if amount <= 0:
            raise UserError(f"order {order_id}: a refund must be positive, not {amount}")
        order = self._order(order_id)
        self._same_currency(order, currency)
        for refund in self.rest.pages(f"orders/{order_id}/refunds"):
            if meta.meta_value(refund.get("meta_data"), meta.REFUND_KEY) == idempotency_key:
                return
        items = {str(item.get("id")): item for item in order.get("line_items") or []}
        for li in lines:
            item = items.get(li.line_id)
            if item is None:
                raise UserError(f"order {order_id} has no line {li.line_id}")
            if not 0 < li.quantity <= int(item.get("quantity") or 0):
                raise UserError(f"order {order_id} line {li.line_id}: cannot refund {li.quantity}")
        paid_by_gateway = bool(order.get("date_paid_gmt") or order.get("date_paid")) and (
            order.get("payment_method") not in OFFLINE_GATEWAYS
        )
        through_gateway = self.refund_via_gateway and paid_by_gateway
        self.rest.post(
            f"orders/{order_id}/refunds",
            {
                "amount": str(amount.quantize(CENT, rounding=ROUND_HALF_UP)),
                "reason": reason,
                "line_items": _refund_lines(items, lines, amount),
                "api_refund": through_gateway,
                "api_restock": True,
                "meta_data": [{"key": meta.REFUND_KEY, "value": idempotency_key}],
            },
        )
        if not through_gateway:
            method = order.get("payment_method_title") or order.get("payment_method") or "the original method"
            self._private(order_id, f"refund of {amount} {currency} recorded; please pay it back by hand ({method}).")

    # ---- stock received -----------------------------------------------------------------------

    KEEP_RECEIPTS = 50

    def adjust_stock(self, sku: str, delta: int, location: str | None, reason: str, idempotency_key: str) -> None:
        if location not in (None, "", LOCATION):
            raise UserError(f"{sku}: WooCommerce keeps one stock figure per product, not one at {location!r}")
        endpoint, item = self._stock_holder(sku)
        if item.get("manage_stock") is not True:
            raise UserError(f"{sku}: the store does not track its stock (turn on “Manage stock?” in WooCommerce)")
        done = meta.meta_value(item.get("meta_data"), meta.STOCK_RECEIPTS)
        done = [k for k in done if isinstance(k, str)] if isinstance(done, list) else []
        if idempotency_key in done:
            return
        current = whole(item.get("stock_quantity") or 0, f"{sku} stock_quantity")
        receipts = [*done, idempotency_key][-self.KEEP_RECEIPTS :]
        self.rest.put(
            endpoint,
            {"stock_quantity": current + delta, "meta_data": [{"key": meta.STOCK_RECEIPTS, "value": receipts}]},
        )
        log.info("%s: stock of %s %+d (%s)", self.shop, sku, delta, reason)

    def _stock_holder(self, sku: str) -> tuple[str, dict[str, Any]]:
        """The endpoint and resource that hold the stock of `sku` (its product, variation or parent)."""
        kind, _, number = sku.partition(":")
        if kind in ("wc-product", "wc-variation") and number.isdigit():
            item = self.rest.get(f"products/{number}")
            if item.get("type") == "variation":
                return self._variation_holder(int(item["parent_id"]), int(number))
            return f"products/{number}", item
        for item in self.rest.get("products", sku=sku):
            if item.get("sku") == sku and item.get("type") != "variation":
                return f"products/{item['id']}", item
        for item, parent in self.catalogue_payloads():
            if item.get("sku") == sku and parent is not None:
                return self._variation_holder(int(parent["id"]), int(item["id"]))
        raise UserError(f"no product or variation with SKU {sku!r} in the store")

    def _variation_holder(self, parent_id: int, variation_id: int) -> tuple[str, dict[str, Any]]:
        endpoint = f"products/{parent_id}/variations/{variation_id}"
        variation = self.rest.get(endpoint)
        if variation.get("manage_stock") == "parent":
            return f"products/{parent_id}", self.rest.get(f"products/{parent_id}")
        return endpoint, variation

    # ---- storefront ---------------------------------------------------------------------------

    def publish_storefront(self, values: Sequence[StorefrontValue]) -> None:
        """Write each value into its product's or variation's meta, in batches of at most 100.

        Every writable value is written even when others fail; then a value the store refused
        (or whose product cannot be found) raises `UserError`, a batch or item the store could
        not process raises a retryable `StoreError`. Writing the same values again is harmless."""
        updated = self.clock()
        items: dict[storefront.Target, str] = {}
        problems: list[storefront.ItemFailure | str] = []
        for value in values:
            try:
                target = storefront.target_from_ids(value) or self._storefront_target(value.sku)
                items[target] = storefront.meta_json(value, updated)
            except (UserError, ValueError) as exc:
                problems.append(f"{value.sku}: {exc}")
        retry = False
        for endpoint, entries in storefront.batches(items):
            try:
                answer = self.rest.put(endpoint, {"update": entries})
            except UserError as exc:
                problems.append(f"{endpoint}: {exc}")
                continue
            except StoreError as exc:
                if not exc.retryable:
                    raise
                problems.append(f"{endpoint}: {exc}")
                retry = True
                continue
            failed = storefront.failures(endpoint, entries, answer)
            problems += failed
            retry = retry or any(f.retryable for f in failed)
        if problems:
            message = f"storefront values not written: {storefront.describe(problems)}"
            log.warning("%s: %s", self.shop, message)
            if retry:
                raise StoreError(message, retryable=True)
            raise UserError(message)

    def _storefront_target(self, sku: str) -> storefront.Target:
        """The product or variation of a value that came without usable ids, found by its SKU."""
        kind, _, number = sku.partition(":")
        if kind in ("wc-product", "wc-variation") and number.isdigit():
            item = self.rest.get(f"products/{number}")
            if item.get("type") == "variation" and storefront.numeric_id(str(item.get("parent_id"))):
                return storefront.Target(f"products/{int(item['parent_id'])}/variations/batch", int(number))
            return self._simple_target(sku, item)
        for item in self.rest.get("products", sku=sku):
            if item.get("sku") == sku and item.get("type") != "variation":
                return self._simple_target(sku, item)
        for item, parent in self.catalogue_payloads():
            if item.get("sku") == sku and parent is not None:
                return storefront.Target(f"products/{int(parent['id'])}/variations/batch", int(item["id"]))
        raise UserError(f"no product or variation with SKU {sku!r} in the store")

    @staticmethod
    def _simple_target(sku: str, item: Mapping[str, Any]) -> storefront.Target:
        if item.get("type") == "variable":
            raise UserError(f"{sku} names a variable product; its variations carry the values")
        return storefront.Target("products/batch", int(item["id"]))

    # ---- selling on backorder (the selling limit) -------------------------------------------------

    SELLING = ("notify", "yes")

    def set_backorder_selling(self, sku: str, product_id: str | None, variant_id: str | None, selling: bool) -> None:
        """The product's (or variation's) `backorders`: `no` stops selling when out of stock; resuming
        restores what it was before we stopped it (kept in our meta; `notify` when unknown). Read
        first: a repeated call, or an item already as wanted, writes nothing."""
        if not product_id or not str(product_id).isdigit() or (variant_id and not str(variant_id).isdigit()):
            raise UserError(f"{sku}: no WooCommerce product id to switch")
        endpoint = f"products/{product_id}/variations/{variant_id}" if variant_id else f"products/{product_id}"
        item = self.rest.get(endpoint)
        if not isinstance(item, dict) or "backorders" not in item:
            raise UserError(f"{sku}: the store did not return a product with a backorders setting")
        current = item.get("backorders")
        if not selling:
            if current != "no":
                remember = [{"key": meta.SELLING_BEFORE, "value": current}]
                self.rest.put(endpoint, {"backorders": "no", "meta_data": remember})
                log.info("%s: stopped selling %s on backorder (was %s)", self.shop, sku, current)
            return
        if current == "no":
            before = meta.meta_value(item.get("meta_data"), meta.SELLING_BEFORE)
            restored = before if before in self.SELLING else "notify"
            self.rest.put(endpoint, {"backorders": restored, "meta_data": [{"key": meta.SELLING_BEFORE, "value": ""}]})
            log.info("%s: selling %s on backorder again (%s)", self.shop, sku, restored)

    # ---- reads for reconciliation ---------------------------------------------------------------

    def order_payloads_updated_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Raw order resources modified at or after `since` (oldest id first).

        WooCommerce's ``modified_after`` is exclusive and whole-second, so we ask from one second
        earlier: an order seen twice is harmless, a missed one is not."""
        after = _gmt(since - timedelta(seconds=1))
        params = {"modified_after": after, "dates_are_gmt": "true", "orderby": "id", "order": "asc"}
        yield from self.rest.pages("orders", params)

    def orders_updated_since(self, since: datetime) -> Iterable[Order]:
        """Orders modified since `since`. One that cannot be read is logged and skipped, so it does
        not stop the others; its webhook delivery is in the dead letter with the same reason."""
        for payload in self.order_payloads_updated_since(since):
            try:
                yield from orders_from_payloads(self.shop, [payload], self.options)
            except NormalisationError as exc:
                log.warning("%s: reconciliation skips an order it cannot read: %s", self.shop, exc)

    def catalogue_payloads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Every product, and every variation of variable products with its parent."""
        for product in self.rest.pages("products"):
            yield product, None
            if product.get("type") == "variable":
                for variation in self.rest.pages(f"products/{product['id']}/variations"):
                    yield variation, product

    CATALOGUE_TTL = 60.0  # seconds: reconciliation asks for variants, then stock levels, of one read

    def catalogue(self) -> tuple[list[Variant], list[StockLevel]]:
        if self._catalogue is not None and time.monotonic() - self._catalogue[0] < self.CATALOGUE_TTL:
            return self._catalogue[1]
        variants: list[Variant] = []
        levels: list[StockLevel] = []
        for item, parent in self.catalogue_payloads():
            try:
                found_variants, found_levels = catalogue_records(self.shop, item, parent)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("%s: reconciliation skips product %s: %s", self.shop, item.get("id", "?"), exc)
                continue
            variants += found_variants
            levels += found_levels
        self._catalogue = (time.monotonic(), (variants, levels))
        return variants, levels

    def stock_levels(self) -> Iterable[StockLevel]:
        return self.catalogue()[1]

    def variants(self) -> Iterable[Variant]:
        return self.catalogue()[0]


def _refund_lines(items: Mapping[str, Mapping[str, Any]], lines: Sequence[LineQuantity], amount: Decimal) -> list:
    """Spread `amount` over the refunded lines in proportion to what each cost (tax included)."""
    weights = []
    for li in lines:
        item = items[li.line_id]
        per_unit = (money(item.get("total")) + money(item.get("total_tax"))) / max(int(item.get("quantity") or 1), 1)
        weights.append(per_unit * li.quantity)
    whole = sum(weights)
    shares: list[Decimal] = []
    for index, weight in enumerate(weights):
        if index == len(weights) - 1:
            shares.append(amount - sum(shares))
        elif whole > 0:
            shares.append((amount * weight / whole).quantize(CENT, rounding=ROUND_HALF_UP))
        else:
            shares.append((amount / len(weights)).quantize(CENT, rounding=ROUND_HALF_UP))
    return [
        {"id": int(li.line_id), "quantity": li.quantity, "refund_total": str(share.quantize(CENT))}
        for li, share in zip(lines, shares, strict=True)
    ]
