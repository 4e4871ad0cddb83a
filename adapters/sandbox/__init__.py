"""The sandbox platform: a simulated store in this process, for the demo and end-to-end tests."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.base import PlatformAdapter, StartContext
from adapters.sandbox.client import SandboxStoreClient
from adapters.sandbox.normalise import SandboxNormaliser
from adapters.sandbox.simulator import Simulator, announce_catalogue, seed_catalogue
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.verify import SandboxVerifier
from adapters.sandbox.webhooks import WebhookSender
from connector.domain.model import Platform, Shop

DEMO_DOMAIN = "demo-store.sandbox"
_stores: dict[str, SandboxStore] = {}
_lock = threading.Lock()


def store_for(domain: str, path: str | Path | None = None) -> SandboxStore:
    """The one in-process store of that domain (loaded from its state file the first time)."""
    with _lock:
        store = _stores.get(domain)
        if store is None:
            store = SandboxStore.load(domain, Path(path)) if path else SandboxStore(domain=domain)
            _stores[domain] = store
        return store


def register_store(store: SandboxStore) -> None:
    with _lock:
        _stores[store.domain] = store


def forget_stores() -> None:
    with _lock:
        _stores.clear()


def client_factory(shop: Shop, credentials: Mapping[str, Any]) -> SandboxStoreClient:
    return SandboxStoreClient(store_for(shop.domain, credentials.get("state_path")))


def start_demo(config: Mapping[str, Any], context: StartContext) -> Simulator:
    """Seed the demo store, connect it to the service, and start the stream of shoppers."""
    state_path = Path(context.instance_path) / "sandbox" / f"{DEMO_DOMAIN}.json"
    secret_file = state_path.with_suffix(".secret")
    state_path.parent.mkdir(parents=True, exist_ok=True)
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
    secret = secret_file.read_text().strip().encode()
    store = store_for(DEMO_DOMAIN, state_path)
    context.connect_shop(
        Platform.SANDBOX,
        DEMO_DOMAIN,
        name=store.name,
        credentials={"state_path": str(state_path)},
        webhook_secret=secret,
        currency=store.currency,
        locale="en",
        timezone="Europe/Rome",
    )
    sender = WebhookSender(context.webhook_url, DEMO_DOMAIN, secret)
    store.listeners.append(sender)
    sender.start()
    if store.products:
        announce_catalogue(store)
    else:
        seed_catalogue(store)
    simulator = Simulator(store, interval=float(config.get("SANDBOX_ORDER_INTERVAL_SECONDS", 5)))
    simulator.start()
    return simulator


def make_adapter(config: Mapping[str, Any]) -> PlatformAdapter:
    enabled = config.get("SANDBOX_ENABLED") is True  # a bool: parsed by connector/config.py
    return PlatformAdapter(
        platform=Platform.SANDBOX,
        verifier=SandboxVerifier(),
        normaliser=SandboxNormaliser(),
        client_factory=client_factory,
        start=(lambda context: start_demo(config, context)) if enabled else None,
    )
