"""The sandbox store and its simulated shoppers with an item that does not sell on backorder."""

from __future__ import annotations

from adapters.sandbox.client import SandboxStoreClient
from adapters.sandbox.simulator import Simulator
from adapters.sandbox.store import SandboxStore


def test_shoppers_leave_an_item_not_sold_on_backorder_and_it_is_restocked() -> None:
    store = SandboxStore(domain="sim.sandbox")
    for sku in ("CAP", "HAT", "SCARF"):
        store.add_product(sku, sku.title(), "9.00", 0, sells_when_out_of_stock=False)
    sim = Simulator(store)
    for _ in range(5):
        sim.tick()
    assert store.orders == {}  # every tick tried items not sold when out of stock: no order, no crash
    sim.tick()  # the sixth tick restocks one item that is short, these included
    assert sum(p["stock"] > 0 for p in store.products.values()) == 1


def test_the_switch_is_announced_once_per_change() -> None:
    store = SandboxStore(domain="sw.sandbox")
    store.add_product("TEE", "Tee", "25.00", 0)
    heard: list[tuple[str, bool]] = []
    store.listeners.append(lambda topic, payload: heard.append((topic, payload["sells_when_out_of_stock"]))
                           if topic == "products/update" else None)
    client = SandboxStoreClient(store)
    client.set_backorder_selling("TEE", None, None, False)
    client.set_backorder_selling("TEE", None, None, False)  # repeated: nothing changes, nothing announced
    client.set_backorder_selling("TEE", None, None, True)
    assert heard == [("products/update", False), ("products/update", True)]
