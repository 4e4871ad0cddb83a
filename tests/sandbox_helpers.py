"""Drive the sandbox store against a Flask test client, exactly as over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient

from adapters.sandbox import register_store
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.webhooks import build_delivery
from connector.bootstrap import Services
from connector.domain.model import Platform
from connector.intake.apply import SETTLE

DOMAIN = "shop-one.sandbox"
SECRET = b"sandbox-webhook-secret"


@dataclass
class Harness:
    services: Services
    client: FlaskClient
    store: SandboxStore
    clock: Any = None
    sent: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def deliver(self, topic: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        headers, body = build_delivery(self.store.domain, SECRET, topic, payload)
        self.post(headers, body)
        self.sent.append((headers, body))
        return headers, body

    def post(self, headers: dict[str, str], body: bytes, expect: int = 200) -> Any:
        response = self.client.post("/webhooks/sandbox", data=body, headers=headers)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def settle(self) -> None:
        """Let stock drops settle (see `connector.intake.apply.SETTLE`), then work."""
        self.work()
        self.clock.advance(seconds=SETTLE.total_seconds() + 1)
        self.work()

    def work(self) -> None:
        """Process every stored delivery and drain every due action."""
        for _ in range(20):
            if self.services.work_once() == (0, 0):
                return
        raise AssertionError("work did not settle")


def connect_sandbox(services: Services, client: FlaskClient, clock: Any, **settings: Any) -> Harness:
    store = SandboxStore(domain=DOMAIN, clock=clock)
    register_store(store)
    ref = services.shops.connect(
        Platform.SANDBOX,
        DOMAIN,
        name="Shop One",
        credentials={},
        webhook_secret=SECRET,
        currency="EUR",
        timezone="Europe/Rome",
    )
    if settings:
        current = services.shops.settings(ref.id)
        services.shops.update_settings(ref.id, type(current).from_mapping({**current.to_mapping(), **settings}))
    harness = Harness(services, client, store, clock)
    store.listeners.append(harness.deliver)
    return harness
