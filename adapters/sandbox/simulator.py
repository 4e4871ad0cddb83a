"""The demo: a catalogue with some items out of stock, and a stream of shoppers buying from it.

Every tick a shopper places an order of one to three items; now and then a delivery restocks an
item, and the warehouse ships whatever is not on hold. Seeded, so a demo run is repeatable.
"""

from __future__ import annotations

import logging
import random
import threading

from adapters.sandbox.store import SandboxError, SandboxStore

log = logging.getLogger(__name__)

CATALOGUE = [
    # sku, title, price, stock, lead time override (days)
    ("MUG-BLUE", "Ceramic mug, blue", "14.00", 40, None),
    ("MUG-RED", "Ceramic mug, red", "14.00", 3, None),
    ("TEE-S", "Organic tee, small", "25.00", 0, 10),
    ("TEE-M", "Organic tee, medium", "25.00", 6, 10),
    ("TEE-L", "Organic tee, large", "25.00", 0, 10),
    ("LAMP-OAK", "Oak desk lamp", "89.00", 1, 21),
    ("CHAIR-ASH", "Ash dining chair", "149.00", 0, 35),
    ("PRINT-A3", "Risograph print A3", "30.00", 12, None),
    ("BAG-CANVAS", "Canvas tote bag", "18.00", 2, 7),
    ("KETTLE-STEEL", "Stovetop kettle", "59.00", 0, 14),
]

CUSTOMERS = [
    {"id": "c1", "email": "ada@example.com", "name": "Ada Lovelace", "locale": "en", "reseller": False},
    {"id": "c2", "email": "giulia@example.it", "name": "Giulia Rossi", "locale": "it", "reseller": False},
    {"id": "c3", "email": "buyer@shop-partner.example", "name": "Partner Boutique", "locale": "en", "reseller": True},
    {"id": "c4", "email": "marco@example.it", "name": "Marco Bianchi", "locale": "it-IT", "reseller": False},
    {"id": "c5", "email": "grace@example.com", "name": "Grace Hopper", "locale": "en-GB", "reseller": False},
]


def seed_catalogue(store: SandboxStore) -> None:
    for sku, title, price, stock, lead in CATALOGUE:
        if sku not in store.products:
            store.add_product(sku, title, price, stock, sells_when_out_of_stock=True, lead_time_days=lead)


def announce_catalogue(store: SandboxStore) -> None:
    """Send every product and stock level again (what a fresh install's first sync sees)."""
    for sku in list(store.products):
        store._emit("products/update", store.product_payload(sku))
        store._emit("inventory/update", store.stock_payload(sku))


class Simulator:
    def __init__(self, store: SandboxStore, interval: float = 5.0, seed: int = 7) -> None:
        self.store = store
        self.interval = interval
        self.rng = random.Random(seed)  # nosec B311  # the sandbox's simulated shoppers, not a secret
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        customer = self.rng.choice(CUSTOMERS)
        skus = self.rng.sample(sorted(self.store.products), k=self.rng.randint(1, 3))
        items = [(sku, self.rng.randint(1, 4 if customer["reseller"] else 2)) for sku in skus]
        try:
            self.store.place_order(customer, items)
        except SandboxError as exc:  # a sold-out item the store does not sell on backorder: the shopper leaves
            log.info("sandbox shopper could not buy: %s", exc)
        if self.ticks % 6 == 0:
            short = [
                s for s, p in self.store.products.items()
                if p["stock"] < 0 or (p["stock"] <= 0 and not p["sells_when_out_of_stock"])
            ]
            if short:
                sku = self.rng.choice(short)
                self.store.restock(sku, self.rng.randint(5, 20))
        self.store.fulfil_unheld(min_age_seconds=self.interval * 3)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the demo keeps going; the error is logged
                log.exception("sandbox simulator tick failed")
