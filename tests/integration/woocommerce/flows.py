"""Steps the WooCommerce integration tests share: connecting through the pages, delivering webhooks."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from tests.fake_woocommerce import FakeWooStore


def csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1).decode()


def start_connect(http, typed: str = "shop.example.com"):
    token = csrf(http.get("/woocommerce/connect").data)
    answer = http.post("/woocommerce/connect", data={"store_url": typed, "csrf_token": token})
    assert answer.status_code == 302, answer.data
    target = urlsplit(answer.headers["Location"])
    return target, {k: v[0] for k, v in parse_qs(target.query).items()}


def grant(store: FakeWooStore, user_id: str, **changes) -> str:
    body = {
        "key_id": 7,
        "user_id": user_id,
        "consumer_key": store.key,
        "consumer_secret": store.secret,
        "key_permissions": "read_write",
    } | changes
    return json.dumps(body)


def connect(http, store: FakeWooStore, typed: str = "shop.example.com") -> dict[str, str]:
    """What happens when the merchant approves: the store POSTs the keys to our callback."""
    _, query = start_connect(http, typed)
    answer = http.post("/woocommerce/callback", data=grant(store, query["user_id"]), content_type="application/json")
    assert answer.status_code == 200, answer.data
    return query


def deliver(http, store: FakeWooStore, topic: str, resource: dict, delivery_id: str | None = None) -> str:
    body, headers = store.delivery(topic, resource, delivery_id=delivery_id)
    answer = http.post("/webhooks/woocommerce", data=body, headers=headers)
    assert answer.status_code == 200, answer.data
    return answer.get_json()["status"]


def work(services, rounds: int = 20) -> None:
    """Run the worker until it has nothing left (bounded)."""
    for _ in range(rounds):
        if services.work_once() == (0, 0):
            return
    raise AssertionError("the worker kept finding work")
