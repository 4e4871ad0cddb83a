"""Whatever a store (or a plugin) puts in a payload, the normaliser answers events or a readable
NormalisationError: never another exception, which the inbox would retry pointlessly."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import Delivery, NormalisationError
from adapters.woocommerce.normalise import WooNormaliser
from connector.domain.model import Platform
from tests.woocommerce_support import fixture

ORDER = fixture("rest_v3_order_retrieve.json")
PRODUCT = fixture("rest_v3_product_retrieve.json")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(document, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


ORDER_PATHS = list(paths(ORDER))
PRODUCT_PATHS = list(paths(PRODUCT))


def outcome(topic, payload):
    body = json.dumps(payload).encode()
    try:
        return WooNormaliser().normalise(Delivery(Platform.WOOCOMMERCE, "s.example", topic, "e", body))
    except NormalisationError as exc:
        assert str(exc)
        return None


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ORDER_PATHS), json_values, st.sampled_from(["order.created", "order.updated"]))
def test_any_order_field_may_hold_anything(path, value, topic):
    outcome(topic, replaced(ORDER, path, value))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PRODUCT_PATHS), json_values)
def test_any_product_field_may_hold_anything(path, value):
    outcome("product.updated", replaced(PRODUCT | {"manage_stock": True, "stock_quantity": 3}, path, value))


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_a_deleted_order_payload_may_hold_anything(value):
    outcome("order.deleted", {"id": value})
