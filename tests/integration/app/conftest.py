from __future__ import annotations

import pytest

from tests.integration.app.helpers import sign_in
from tests.sandbox_helpers import Harness

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada Lovelace", "locale": "en", "reseller": False}
OTHER_CUSTOMER = {"id": "c2", "email": "grace@example.com", "name": "Grace Hopper", "locale": "en", "reseller": False}


@pytest.fixture
def shop_id(sandbox: Harness, services) -> int:  # type: ignore[no-untyped-def]
    return services.shops.ref("sandbox", sandbox.store.domain).id


@pytest.fixture
def merchant(sandbox: Harness, services, shop_id: int):  # type: ignore[no-untyped-def]
    """The sandbox shop's test client, signed in as its merchant."""
    sign_in(sandbox.client, services, shop_id)
    return sandbox.client


@pytest.fixture
def backordered(sandbox: Harness) -> dict:
    """A tee out of stock (lead time 10 days) and an order waiting for two of them."""
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    sandbox.store.add_product("MUG", "Mug", "14.00", 50)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 2), ("MUG", 1)])
    sandbox.settle()
    return order
