"""Shared fixtures: a configured service on a throw-away SQLite database, a controllable clock,
and the sandbox store wired to the app the way a real store is (signed webhooks over HTTP)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connector.bootstrap import Services, build_services
from connector.config import Config, load_config
from tests.services import postgres_server, postgres_url, redis_server  # noqa: F401 - shared fixtures
from tests.smtp_server import SmtpServer, run_smtp_server

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
FIXTURES = Path(os.environ.get("CONNECTOR_FIXTURES", SHARED / "fixtures"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

SHOPIFY_API_SECRET = "test-api-secret-" + "0123456789abcdef" * 2  # the app secret Shopify signs with in tests


def need(condition: bool, reason: str) -> None:
    """Skip locally when a real service is missing; under CI=true that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


class Clock:
    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite by default; CONNECTOR_TEST_DATABASE=postgresql runs the suite on a fresh PostgreSQL
    database per test (a throw-away server, see tests/services.py)."""
    if os.environ.get("CONNECTOR_TEST_DATABASE", "sqlite") == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    env = {
        "SECRET_KEY": "test-secret-key-" + "0123456789abcdef" * 2,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": test_database_url(request, tmp_path),
        "APP_URL": "https://connector.test",
        "WORKER_ENABLED": "0",
        "SCHEDULER_ENABLED": "0",
        "MAIL_URL": f"file://{tmp_path / 'mail'}",
        "SHOPIFY_API_KEY": "test-api-key",
        "SHOPIFY_API_SECRET": SHOPIFY_API_SECRET,
    }
    return load_config(env)


@pytest.fixture
def services(config: Config, clock: Clock) -> Iterator[Services]:
    built = build_services(config, clock=clock)
    yield built
    built.db.dispose()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: send to `.url`, read `.messages`."""
    yield from run_smtp_server()


@pytest.fixture(params=["starttls", "tls"])
def smtp_tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmtpServer]:
    """The same server behind STARTTLS or implicit TLS, with a self-signed certificate (`.url` trusts it)."""
    yield from run_smtp_server(tls=request.param, workdir=tmp_path)
