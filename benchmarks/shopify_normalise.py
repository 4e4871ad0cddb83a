"""Shopify webhook intake cost in the adapter: HMAC verification plus normalisation of a real order.

Target: well under 1 ms per delivery on one core, so the adapter is never what limits intake
(Shopify gives 5 s to answer; the web process only verifies, the worker normalises).

Run: python benchmarks/shopify_normalise.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.shopify.normalise import ShopifyNormaliser  # noqa: E402
from adapters.shopify.verify import ShopifyWebhookVerifier  # noqa: E402
from tests.shared_files import load_fixture  # noqa: E402
from tests.shopify_webhooks import TEST_SECRET, webhook_headers  # noqa: E402

TARGET_MS = 1.0


def main(rounds: int = 5000) -> int:
    order = load_fixture("shopify", "rest_order.json")["order"]
    order["line_items"] = [item | {"id": 1000 + i} for i, item in enumerate(order["line_items"] * 10)]  # 30 lines
    body = json.dumps(order).encode()
    headers = webhook_headers("orders/create", body)
    verifier, normaliser = ShopifyWebhookVerifier(TEST_SECRET), ShopifyNormaliser()
    start = time.perf_counter()
    for _ in range(rounds):
        verifier.verify(headers, body, lambda shop: None)
    verify_ms = (time.perf_counter() - start) * 1000 / rounds
    delivery = verifier.verify(headers, body, lambda shop: None)
    start = time.perf_counter()
    for _ in range(rounds):
        normaliser.normalise(delivery)
    normalise_ms = (time.perf_counter() - start) * 1000 / rounds
    print(f"30-line order, {len(body)} bytes: verify {verify_ms:.3f} ms, normalise {normalise_ms:.3f} ms "
          f"(target < {TARGET_MS} ms each)")
    return 0 if verify_ms < TARGET_MS and normalise_ms < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
