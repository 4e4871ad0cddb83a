"""Whatever a verified payload holds, the normaliser gives events or a readable NormalisationError."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import Delivery, NormalisationError
from adapters.shopify.normalise import ShopifyNormaliser
from connector.domain.model import Platform
from tests.shared_files import load_fixture

ORDER = load_fixture("shopify", "rest_order.json")["order"]
PRODUCT = load_fixture("shopify", "rest_product.json")["product"]
LEVEL = load_fixture("shopify", "rest_inventory_level.json")["inventory_level"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:2]):
            found += paths(child, (*prefix, index))
    return found


def replaced(payload: Any, path: tuple, new: Any) -> Any:
    copied = copy.deepcopy(payload)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copied


def check(topic: str, body: Any) -> None:
    delivery = Delivery(Platform.SHOPIFY, "fuzz.myshopify.com", topic, "e", json.dumps(body).encode())
    try:
        ShopifyNormaliser().normalise(delivery)
    except NormalisationError as exc:
        assert str(exc).startswith(topic)


CASES = [("orders/updated", ORDER), ("products/update", PRODUCT), ("inventory_levels/update", LEVEL)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), data=st.data(), new=json_values)
def test_any_field_replaced_by_anything(case: tuple[str, Any], data: st.DataObject, new: Any) -> None:
    topic, payload = case
    path = data.draw(st.sampled_from(paths(payload)))
    check(topic, replaced(payload, path, new))


@settings(max_examples=40, deadline=None)
@given(body=json_values)
def test_any_body_at_all(body: Any) -> None:
    for topic in ("orders/create", "products/update", "inventory_levels/update", "customers/redact", "shop/redact",
                  "customers/data_request", "app/uninstalled", "orders/delete"):
        check(topic, body)
