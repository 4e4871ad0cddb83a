"""Shared helpers for the WooCommerce adapter tests: the published payloads and signed deliveries."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from adapters.woocommerce.verify import signature

_ROOT = Path(__file__).resolve().parent.parent


def _fixtures_dir() -> Path:
    env = os.environ.get("FIXTURES_DIR")
    candidates = [Path(env)] if env else []
    candidates += [_ROOT / "fixtures", _ROOT.parent / "shared" / "fixtures"]
    candidates += [_ROOT.parent.parent / "shared" / "fixtures"]
    for path in candidates:
        if (path / "woocommerce").is_dir():
            return path / "woocommerce"
    raise FileNotFoundError(f"no shared/fixtures/woocommerce next to {_ROOT} (set FIXTURES_DIR)")


FIXTURES = _fixtures_dir()
FIXTURE_FILES = sorted(p.name for p in FIXTURES.glob("*.json"))


def fixture(name: str) -> Any:
    """A fresh copy of a published payload (tests may mutate it)."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed(
    body: bytes,
    secret: bytes,
    *,
    topic: str,
    source: str = "https://shop.example.com/",
    delivery_id: str = "d-1",
    webhook_id: str = "7",
) -> dict[str, str]:
    """The headers WooCommerce sends with a delivery (WC_Webhook::deliver)."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature(secret, body),
        "X-WC-Webhook-ID": webhook_id,
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }
