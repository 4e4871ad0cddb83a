"""Storefront values -> the product and variation meta that the companion WordPress plugin reads.

One meta key (`meta.STOREFRONT`) per product or variation holds a JSON object::

    {"v": 1, "status": "backorder", "ships_by": "2026-12-15", "p50": "2026-12-10",
     "p90": "2026-12-18", "message": "Ships by 15 December", "updated": "2026-11-30T11:00:00Z"}

Simple products are written with ``PUT /products/batch``, variations with
``PUT /products/<parent>/variations/batch``, at most `BATCH_LIMIT` items per request (WooCommerce's
default ``woocommerce_rest_batch_items_limit``). Batch routes accept PUT, which the REST layer
may repeat after a lost answer: writing the same meta twice changes nothing.

A batch answers 200 even when some of its items failed; each failed item carries its own
``error`` (code, message, data.status). Those are collected per call: a 5xx item makes the call
retryable, anything else is the store refusing that item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.woocommerce import meta
from connector.domain.model import StorefrontValue

BATCH_LIMIT = 100
FORMAT_VERSION = 1
STATUSES = frozenset({"in_stock", "backorder", "sold_out", "untracked"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where one value is written: the batch endpoint and the item id within it."""

    endpoint: str  # "products/batch" or "products/<parent>/variations/batch"
    item_id: int


def meta_json(value: StorefrontValue, updated: datetime) -> str:
    """The JSON text stored under `meta.STOREFRONT` for one value."""
    if value.status not in STATUSES:
        raise ValueError(f"{value.sku}: unknown storefront status {value.status!r}")

    def day(when: Any) -> str | None:
        return when.isoformat() if when is not None else None

    body = {
        "v": FORMAT_VERSION,
        "status": value.status,
        "ships_by": day(value.ships_by),
        "p50": day(value.ships_p50),
        "p90": day(value.ships_p90),
        "message": value.message,
        "updated": updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def numeric_id(value: str | None) -> int | None:
    """A WooCommerce id given as text ("42"), or None when there is none or it is not one."""
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def target_from_ids(value: StorefrontValue) -> Target | None:
    """The target named by the value's own ids, or None when they do not name one."""
    product, variation = numeric_id(value.product_id), numeric_id(value.variant_id)
    if value.variant_id is not None:
        if product is None or variation is None:
            return None
        return Target(f"products/{product}/variations/batch", variation)
    return Target("products/batch", product) if product is not None else None


def target_from_endpoint(endpoint: str) -> Target:
    """``products/<id>`` or ``products/<parent>/variations/<id>`` -> its batch target."""
    parts = endpoint.split("/")
    if len(parts) == 4 and parts[2] == "variations":
        return Target(f"products/{parts[1]}/variations/batch", int(parts[3]))
    return Target("products/batch", int(parts[1]))


def batches(items: Mapping[Target, str], limit: int = BATCH_LIMIT) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(endpoint, update items) per request, `limit` items at most, in a stable order."""
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for target in sorted(items, key=lambda t: (t.endpoint, t.item_id)):
        entry = {"id": target.item_id, "meta_data": [{"key": meta.STOREFRONT, "value": items[target]}]}
        by_endpoint.setdefault(target.endpoint, []).append(entry)
    for endpoint, entries in by_endpoint.items():
        for start in range(0, len(entries), limit):
            yield endpoint, entries[start : start + limit]


@dataclass(frozen=True, slots=True)
class ItemFailure:
    endpoint: str
    item_id: object
    status: int | None
    message: str

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


def failures(endpoint: str, sent: Sequence[Mapping[str, Any]], answer: object) -> list[ItemFailure]:
    """The items of one batch answer that carry an ``error`` (or are missing from the answer)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("update"), list):
        return [ItemFailure(endpoint, "*", None, "the store's batch answer has no `update` list")]
    found: list[ItemFailure] = []
    answered: set[object] = set()
    for item in answer["update"]:
        if not isinstance(item, dict):
            continue
        answered.add(item.get("id"))
        error = item.get("error")
        if isinstance(error, dict):
            data = error.get("data") if isinstance(error.get("data"), dict) else {}
            status = data.get("status") if isinstance(data.get("status"), int) else 400
            message = str(error.get("message") or error.get("code") or "refused")[:200]
            found.append(ItemFailure(endpoint, item.get("id"), status, message))
    missing = [entry["id"] for entry in sent if entry["id"] not in answered]
    found += [ItemFailure(endpoint, item_id, None, "missing from the store's answer") for item_id in missing]
    return found


def describe(problems: Iterable[ItemFailure | str]) -> str:
    texts = [p if isinstance(p, str) else f"{p.endpoint} item {p.item_id}: {p.message}" for p in problems]
    shown = "; ".join(texts[:5])
    return shown + (f"; and {len(texts) - 5} more" if len(texts) > 5 else "")
