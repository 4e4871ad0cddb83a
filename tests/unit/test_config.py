"""Configuration tells the truth: every key of `.env.example` is read and changes what it says, and
`make run PORT=...` prints links to the address it serves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from adapters.registry import build_registry
from connector.config import Config, load_config, served_url
from connector.domain.model import Platform

ROOT = Path(__file__).resolve().parents[2]
BASE = {"SECRET_KEY": "k" * 40, "ENCRYPTION_KEY": "e" * 44}
# Values tried for a key until one changes the configuration (a bool defaulting on needs "0", ...).
PROBES = ("7", "0", "1", "https://probe.example", "probe")


def example_keys() -> list[str]:
    keys = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            keys.append(match.group(1))
    return keys


def _config(env: dict[str, str]) -> Config | None:
    try:
        return load_config(env)
    except (ValueError, RuntimeError):
        return None


@pytest.mark.parametrize("key", example_keys())
def test_every_example_key_is_read_by_config(key: str) -> None:
    env = {**BASE, "APP_URL": "http://service.test"} if key not in BASE else {}
    if key in BASE:
        env = {k: v for k, v in BASE.items() if k != key}
        with pytest.raises(RuntimeError, match=key):
            load_config(env)  # required: its absence is a clear error
        return
    base = load_config(env)
    changed = [probe for probe in PROBES if (probed := _config({**env, key: probe})) is not None and probed != base]
    assert changed, f"{key} in .env.example changes nothing in connector/config.py"


@pytest.mark.parametrize("key", [k for k in example_keys() if k.startswith(("SHOPIFY_", "WOOCOMMERCE_"))])
def test_every_adapter_key_is_read_by_its_adapter(key: str) -> None:
    platform = key.split("_", 1)[0].lower()
    source = "\n".join(p.read_text() for p in (ROOT / "adapters" / platform).rglob("*.py"))
    assert re.search(rf"\.get\(\s*\"{key}\"", source), f"adapters/{platform}/ never reads {key}"


def test_the_sandbox_keys_reach_the_sandbox_through_config() -> None:
    def sandbox(**env: str):  # type: ignore[no-untyped-def]
        return build_registry(load_config({**BASE, **env}).adapter_settings())[Platform.SANDBOX]

    assert sandbox(SANDBOX_ENABLED="1").start is not None
    assert sandbox(SANDBOX_ENABLED="0").start is None
    assert sandbox().start is None  # off unless asked for
    settings = load_config({**BASE, "SANDBOX_ORDER_INTERVAL_SECONDS": "0.5"}).adapter_settings()
    assert settings["SANDBOX_ORDER_INTERVAL_SECONDS"] == 0.5
    assert not any(k.startswith("SANDBOX_") for k in load_config({**BASE, "SANDBOX_X": "1"}).platform)


def test_app_url_defaults_to_the_address_served() -> None:
    assert load_config({**BASE}).app_url == "http://127.0.0.1:8000"
    served = load_config({**BASE, "HOST": "127.0.0.1", "PORT": "8080"})
    assert served.app_url == "http://127.0.0.1:8080"
    assert served.sandbox_webhook_url == "http://127.0.0.1:8080/webhooks/sandbox"
    tunnel = load_config({**BASE, "APP_URL": "https://tunnel.example/", "HOST": "0.0.0.0", "PORT": "8080"})
    assert tunnel.app_url == "https://tunnel.example"  # an explicit APP_URL wins
    assert tunnel.sandbox_webhook_url == "http://127.0.0.1:8080/webhooks/sandbox"  # the sandbox stays local
    assert served_url("::1", "9000") == "http://[::1]:9000"


def test_make_run_tells_the_app_where_it_serves() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8080", "HOST=127.0.0.2"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    gunicorn = next(line for line in dry.splitlines() if "gunicorn wsgi:app" in line)
    assert "HOST=127.0.0.2 PORT=8080 " in gunicorn and "--bind 127.0.0.2:8080" in gunicorn
    assert re.search(r"^APP_URL=$", (ROOT / ".env.example").read_text(), re.MULTILINE)  # so the default applies


def test_the_sign_in_link_uses_the_address_served(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from connector.bootstrap import build_services
    from connector.web.auth import make_sign_in_link

    env = {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEY": Fernet.generate_key().decode(), "HOST": "127.0.0.1",
           "PORT": "8080", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "MAIL_URL": f"file://{tmp_path / 'mail'}"}
    config = load_config(env)
    services = build_services(config)
    try:
        ref = services.shops.connect(Platform.SANDBOX, "demo.sandbox", name="Demo", credentials={},
                                     webhook_secret="x" * 32, currency="EUR")
        assert make_sign_in_link(ref.id, config, services).startswith("http://127.0.0.1:8080/app/sign-in/")
    finally:
        services.db.dispose()


@pytest.mark.parametrize("key", ["DELIVERY_RETENTION_DAYS", "DEAD_DELIVERY_RETENTION_DAYS"])
@pytest.mark.parametrize("value", ["2", "0", "-30", "a month", "1.5"])
def test_a_retention_shorter_than_the_stores_retries_or_unreadable_is_refused(key: str, value: str) -> None:
    with pytest.raises(RuntimeError, match=key):
        load_config({**BASE, key: value})


def test_retention_defaults_to_thirty_and_ninety_days() -> None:
    config = load_config(BASE)
    assert (config.delivery_retention_days, config.dead_delivery_retention_days) == (30, 90)
    assert load_config({**BASE, "DELIVERY_RETENTION_DAYS": "3"}).delivery_retention_days == 3
