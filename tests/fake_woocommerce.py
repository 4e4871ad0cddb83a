"""A WooCommerce store's REST v3 API, simulated behind `responses` for integration tests.

Only the store's HTTP API is faked (the rule for tests here); state lives in plain dicts so a
test can look at what the service did to the store. It follows WooCommerce's documented
behaviour for what the adapter uses: Basic auth over https (401 on wrong keys), order
status/meta updates (meta updated by key), notes newest first, refunds with meta,
``modified_after`` + ``X-WP-Total(Pages)`` pagination, products and variations (and their
``batch`` updates: per-item errors in a 200 answer, 413 beyond 100 items), system_status,
and webhooks whose secret is write-only. `delivery` builds the signed request WooCommerce
would send for a resource as it is now.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from adapters.woocommerce.verify import signature


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class FakeWooStore:
    def __init__(
        self,
        rsps: responses.RequestsMock,
        url: str = "https://shop.example.com",
        *,
        key: str = "ck_test",
        secret: str = "cs_test",
        currency: str = "USD",
        home_url: str | None = None,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.clock = clock  # the store's time: its date_modified/date_created stamps (the tests' clock)
        self.url = url.rstrip("/")
        self.api = self.url + "/wp-json/wc/v3/"
        self.key, self.secret = key, secret
        self.currency = currency
        self.home_url = home_url or self.url + "/"
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.webhook_secrets: dict[int, str] = {}
        self.failures: list[int] = []  # statuses to answer before serving normally
        self.lose_answer_to: tuple[str, str] | None = None  # (method, path end): act once, then time out
        self.gateway_refuses_refunds = False
        self.batch_item_errors: dict[int, int] = {}  # item id -> HTTP status of its error inside a batch
        self.calls: list[tuple[str, str]] = []
        self._ids = itertools.count(1000)
        pattern = re.compile(re.escape(self.api) + r".*")
        for method in ("GET", "POST", "PUT", "DELETE"):
            rsps.add_callback(method, pattern, callback=self._handle)

    # ---- seeding ----------------------------------------------------------------------------

    def add_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        order = copy.deepcopy(payload)
        self.orders[int(order["id"])] = order
        self.notes.setdefault(int(order["id"]), [])
        return order

    def add_product(self, payload: dict[str, Any], variations: list[dict[str, Any]] | None = None) -> dict:
        product = copy.deepcopy(payload)
        self.products[int(product["id"])] = product
        if variations is not None:
            self.variations[int(product["id"])] = copy.deepcopy(variations)
        return product

    def add_webhook(self, topic: str, delivery_url: str, secret: str, status: str = "active") -> dict[str, Any]:
        """A hook made outside the service (by the merchant, another app, or an earlier run)."""
        data = {"topic": topic, "delivery_url": delivery_url, "secret": secret, "status": status}
        return self._webhooks("POST", [], {}, data)[1]

    def meta(self, order_id: int, key: str) -> Any:
        values = [m["value"] for m in self.orders[order_id].get("meta_data", []) if m["key"] == key]
        return values[-1] if values else None

    def product_meta(self, item_id: int, key: str) -> Any:
        """A meta value of a product or a variation."""
        item = self.products.get(item_id) or self._variation(item_id)[1]
        values = [m["value"] for m in item.get("meta_data", []) if m["key"] == key]
        return values[-1] if values else None

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] != "GET"]

    # ---- deliveries ---------------------------------------------------------------------------

    def delivery(self, topic: str, resource: dict[str, Any], *, delivery_id: str | None = None) -> tuple[bytes, dict]:
        """The body and headers WooCommerce sends for `topic` through our active hook."""
        hook = next(h for h in self.webhooks.values() if h["topic"] == topic and h["status"] == "active")
        body = json.dumps(resource, ensure_ascii=False).encode()
        resource_name, _, event = topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": self.home_url,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource_name,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(self.webhook_secrets[hook["id"]].encode(), body),
            "X-WC-Webhook-ID": str(hook["id"]),
            "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
        }
        return body, headers

    # ---- HTTP -------------------------------------------------------------------------------

    def _handle(self, request):
        parts = urlsplit(request.url)
        path = parts.path.split("/wp-json/wc/v3/", 1)[1].strip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.calls.append((request.method, path))
        if self.failures:
            status = self.failures.pop(0)
            return status, {}, json.dumps({"code": "fake_failure", "message": f"injected {status}"})
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            body = {
                "code": "woocommerce_rest_cannot_view",
                "message": "Sorry, you cannot list resources.",
                "data": {"status": 401},
            }
            return 401, {}, json.dumps(body)
        data = json.loads(request.body) if request.body else None
        try:
            status, payload, headers = self._route(request.method, path.split("/"), query, data)
        except KeyError:
            status, payload, headers = 404, {"code": "woocommerce_rest_invalid_id", "message": "Invalid ID."}, {}
        except ValueError as exc:  # WordPress's argument validation
            status, payload, headers = 400, {"code": "rest_invalid_param", "message": str(exc)}, {}
        if self.lose_answer_to and request.method == self.lose_answer_to[0] and path.endswith(self.lose_answer_to[1]):
            self.lose_answer_to = None
            return requests.ReadTimeout(f"{request.method} {path}: the answer was lost")
        return status, headers, json.dumps(payload)

    def _page(self, items: list, query: dict) -> tuple[int, list, dict]:
        per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        return 200, copy.deepcopy(chunk), {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(total_pages)}

    def _route(self, method: str, seg: list[str], query: dict, data: Any):
        head = seg[0]
        if head == "system_status" and method == "GET":
            env = {"home_url": self.home_url, "site_url": self.home_url, "version": "9.4.2", "language": "en_US"}
            return 200, {"environment": env, "settings": {"currency": self.currency}}, {}
        if head == "orders":
            return self._orders(method, seg[1:], query, data)
        if head == "products":
            return self._products(method, seg[1:], query, data)
        if head == "webhooks":
            return self._webhooks(method, seg[1:], query, data)
        return 404, {"code": "rest_no_route", "message": "No route was found."}, {}

    def _variation(self, variation_id: int) -> tuple[int, dict[str, Any]]:
        for parent_id, variations in self.variations.items():
            for variation in variations:
                if variation["id"] == variation_id:
                    return parent_id, variation
        raise KeyError(variation_id)

    def _save_product(self, item: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if "stock_quantity" in data:
            item["stock_quantity"] = data["stock_quantity"]
        if "backorders" in data:  # as WooCommerce: one of no / notify / yes, and backorders_allowed follows
            if data["backorders"] not in ("no", "notify", "yes"):
                raise ValueError(f"backorders is not one of no, notify, yes: {data['backorders']!r}")
            item["backorders"] = data["backorders"]
            item["backorders_allowed"] = data["backorders"] != "no"
        for entry in data.get("meta_data", []):
            existing = [m for m in item.setdefault("meta_data", []) if m["key"] == entry["key"]]
            if existing:
                existing[0]["value"] = entry["value"]
            else:
                item["meta_data"].append({"id": len(item["meta_data"]) + 1, **entry})
        item["date_modified_gmt"] = self._now()
        return copy.deepcopy(item)

    def _now(self) -> str:
        return self.clock().astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()

    def _products(self, method: str, seg: list[str], query: dict, data: Any):
        """Products; as in WooCommerce, ``?sku=`` finds no variations, ``/products/<id>`` does."""
        if seg and seg[-1] == "batch" and method in ("POST", "PUT"):
            return self._batch(seg[:-1], data)
        if not seg:
            items = sorted(self.products.values(), key=lambda p: p["id"])
            if "sku" in query:
                items = [p for p in items if p.get("sku") == query["sku"]]
            return self._page(items, query)
        item_id = int(seg[0])
        if len(seg) >= 2 and seg[1] == "variations":
            if len(seg) == 2:
                return self._page(self.variations.get(item_id, []), query)
            parent_id, variation = self._variation(int(seg[2]))
            if parent_id != item_id:
                raise KeyError(seg)
            if method == "PUT":
                return 200, self._save_product(variation, data), {}
            return 200, copy.deepcopy(variation), {}
        if item_id in self.products:
            if method == "PUT":
                return 200, self._save_product(self.products[item_id], data), {}
            return 200, copy.deepcopy(self.products[item_id]), {}
        parent_id, variation = self._variation(item_id)
        return 200, copy.deepcopy(variation) | {"type": "variation", "parent_id": parent_id}, {}

    BATCH_LIMIT = 100  # WooCommerce's default `woocommerce_rest_batch_items_limit`

    def _batch(self, seg: list[str], data: Any):
        """``products/batch`` or ``products/<id>/variations/batch``: updates only (all we use)."""
        updates = (data or {}).get("update", [])
        if len(updates) + len(data.get("create", [])) + len(data.get("delete", [])) > self.BATCH_LIMIT:
            message = f"Unable to accept more than {self.BATCH_LIMIT} items for this request."
            return 413, {"code": "rest_request_entity_too_large", "message": message, "data": {"status": 413}}, {}
        answers = []
        for entry in updates:
            if entry.get("id") in self.batch_item_errors:
                status = self.batch_item_errors[entry["id"]]
                error = {"code": "fake_item_failure", "message": f"injected {status}", "data": {"status": status}}
                answers.append({"id": entry["id"], "error": error})
                continue
            try:
                if seg:  # variations of one parent
                    parent_id, item = self._variation(int(entry["id"]))
                    if parent_id != int(seg[0]):
                        raise KeyError(entry["id"])
                else:
                    item = self.products[int(entry["id"])]
            except (KeyError, ValueError, TypeError):
                code = "woocommerce_rest_product_invalid_id"
                error = {"code": code, "message": "Invalid ID.", "data": {"status": 400}}
                answers.append({"id": entry.get("id"), "error": error})
                continue
            answers.append(self._save_product(item, entry))
        return 200, {"update": answers}, {}

    def _orders(self, method: str, seg: list[str], query: dict, data: Any):
        if not seg:
            items = sorted(self.orders.values(), key=lambda o: o["id"])
            if "modified_after" in query:
                items = [o for o in items if o["date_modified_gmt"] > query["modified_after"]]
            return self._page(items, query)
        order_id = int(seg[0])
        order = self.orders[order_id]
        if len(seg) == 1 and method == "GET":
            return 200, copy.deepcopy(order), {}
        if len(seg) == 1 and method == "PUT":
            if "status" in data:
                order["status"] = data["status"]
                if order["status"] == "completed" and not order.get("date_completed_gmt"):
                    order["date_completed_gmt"] = self._now()
            for entry in data.get("meta_data", []):
                existing = [m for m in order.setdefault("meta_data", []) if m["key"] == entry["key"]]
                if existing:
                    existing[0]["value"] = entry["value"]
                else:
                    order["meta_data"].append({"id": next(self._ids), **entry})
            order["date_modified_gmt"] = self._now()
            return 200, copy.deepcopy(order), {}
        if seg[1] == "notes":
            notes = self.notes.setdefault(order_id, [])
            if method == "POST":
                note = {
                    "id": next(self._ids),
                    "author": "system",
                    "date_created_gmt": self._now(),
                    "note": data["note"],
                    "customer_note": bool(data.get("customer_note")),
                }
                notes.append(note)
                return 201, note, {}
            kind = query.get("type", "any")
            chosen = [n for n in notes if kind == "any" or n["customer_note"] is (kind == "customer")]
            return 200, list(reversed(copy.deepcopy(chosen))), {}
        if seg[1] == "refunds":
            refunds = self.refunds.setdefault(order_id, [])
            if method == "POST":
                if data.get("api_refund") and self.gateway_refuses_refunds:
                    refused = "The payment gateway for this order does not support automatic refunds."
                    return 500, {"code": "woocommerce_rest_cannot_create_order_refund", "message": refused}, {}
                refund = {
                    "id": next(self._ids),
                    "date_created_gmt": self._now(),
                    "amount": data["amount"],
                    "reason": data.get("reason", ""),
                    "refunded_payment": bool(data.get("api_refund")),
                    "line_items": data.get("line_items", []),
                    "meta_data": [{"id": next(self._ids), **m} for m in data.get("meta_data", [])],
                }
                refunds.insert(0, refund)
                return 201, refund, {}
            return self._page(refunds, query)
        raise KeyError(seg)

    def _webhooks(self, method: str, seg: list[str], query: dict, data: Any):
        if not seg and method == "GET":
            wanted = query.get("status", "all")
            items = [
                h
                for h in sorted(self.webhooks.values(), key=lambda h: h["id"])
                if wanted == "all" or h["status"] == wanted
            ]
            return self._page(items, query)
        if not seg and method == "POST":
            if not str(data.get("delivery_url", "")).startswith(("https://", "http://")):
                return 400, {"code": "woocommerce_rest_invalid_delivery_url", "message": "Invalid URL."}, {}
            hook_id = next(self._ids)
            resource, _, event = data["topic"].partition(".")
            hook = {
                "id": hook_id,
                "name": data.get("name", ""),
                "status": data.get("status", "active"),
                "topic": data["topic"],
                "resource": resource,
                "event": event,
                "delivery_url": data["delivery_url"],
                "date_created_gmt": self._now(),
            }
            self.webhooks[hook_id] = hook
            self.webhook_secrets[hook_id] = data.get("secret", "")
            return 201, copy.deepcopy(hook), {}
        hook_id = int(seg[0])
        hook = self.webhooks[hook_id]
        if method == "PUT":
            if "secret" in data:
                self.webhook_secrets[hook_id] = data["secret"]
            hook.update({k: v for k, v in data.items() if k in ("status", "name", "delivery_url", "topic")})
            return 200, copy.deepcopy(hook), {}
        if method == "DELETE":
            del self.webhooks[hook_id]
            self.webhook_secrets.pop(hook_id, None)
            return 200, hook, {}
        return 200, copy.deepcopy(hook), {}
