"""The service (throw-away SQLite, controllable clock, mail collected) with a simulated WooCommerce store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from cryptography.fernet import Fernet

from connector.bootstrap import Services, build_services
from connector.config import Config, load_config
from connector.web import create_app
from tests.conftest import Clock
from tests.fake_woocommerce import FakeWooStore

APP_URL = "https://connector.test"


@pytest.fixture
def woo_clock() -> Clock:
    return Clock()


@pytest.fixture
def woo_config(tmp_path: Path) -> Config:
    return load_config(
        {
            "SECRET_KEY": "test-secret-key",
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "APP_URL": APP_URL,
            "WORKER_ENABLED": "0",
            "SCHEDULER_ENABLED": "0",
            "WOOCOMMERCE_APP_NAME": "Backorder Connector",
            "WOOCOMMERCE_MAX_WAIT": "0",
        }
    )


@pytest.fixture
def mails() -> list[dict]:
    return []


@pytest.fixture
def woo_services(woo_config: Config, woo_clock: Clock, mails: list) -> Iterator[Services]:
    built = build_services(woo_config, clock=woo_clock, send_mail=lambda payload, key: mails.append(dict(payload)))
    yield built
    built.db.dispose()


@pytest.fixture
def app(woo_config: Config, woo_services: Services):
    app = create_app(woo_config, woo_services, background=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store(rsps: responses.RequestsMock, woo_clock: Clock) -> FakeWooStore:
    return FakeWooStore(rsps, "https://shop.example.com", key="ck_live_1", secret="cs_live_1", clock=woo_clock)
