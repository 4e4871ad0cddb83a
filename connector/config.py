"""Service configuration, read once from the environment (and `.env` in development).

Every setting is documented in `.env.example`. Values are plain; nothing here touches I/O
beyond reading the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Stored webhooks must outlast the stores' retries (Shopify's are spread over up to 48 hours): a
# delivery sent again is recognised by its event id only while the first copy is kept.
MIN_RETENTION_DAYS = 3


def _retention_days(env: dict[str, str], key: str, default: int) -> int:
    raw = (env.get(key) or "").strip()
    try:
        days = int(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{key} must be a whole number of days, not {raw!r}") from None
    if days < MIN_RETENTION_DAYS:
        raise RuntimeError(f"{key}={days}: handled webhooks must be kept at least {MIN_RETENTION_DAYS} days, "
                           "longer than the stores retry a delivery (Shopify: up to 48 hours)")
    return days


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    secret_key: str
    database_url: str
    encryption_key: str
    app_url: str
    instance_path: Path
    scheduler_enabled: bool = True
    worker_enabled: bool = True
    sandbox_enabled: bool = False
    sandbox_order_interval_seconds: float = 5.0
    sandbox_webhook_url: str = ""
    mail_url: str = ""
    mail_from: str = "Backorder Connector <backorders@localhost>"
    reconcile_interval_seconds: int = 600
    evaluate_interval_seconds: int = 300
    outbox_interval_seconds: int = 5
    stock_settle_seconds: float = 30.0
    delivery_retention_days: int = 30  # handled webhooks kept this long (connector/storage/retention.py)
    dead_delivery_retention_days: int = 90  # dead-lettered ones, for the merchant to look into and replay
    allow_private_store_addresses: bool = False  # development only: stores on loopback/private networks
    connect_rate_limit: str = "10 per minute;100 per hour"  # per client address, on the connect endpoints
    rate_limit_storage_url: str = ""  # empty: Redis of CELERY_BROKER_URL when it is one, else memory
    celery_broker_url: str = ""  # set: Celery workers do the background work (see connector/tasks.py)
    platform: dict[str, Any] = field(default_factory=dict)  # adapter settings (SHOPIFY_*, WOOCOMMERCE_*)

    @property
    def effective_mail_url(self) -> str:
        """MAIL_URL, or in development the file outbox under the instance folder."""
        return self.mail_url or f"file://{self.instance_path / 'mail'}"

    def as_flask(self) -> dict[str, Any]:
        return {"SECRET_KEY": self.secret_key, "CONNECTOR": self, **self.platform}

    def adapter_settings(self) -> dict[str, Any]:
        """What the platform adapters are built from (adapters/registry.py): their own SHOPIFY_* and
        WOOCOMMERCE_* keys as given, and the service's values they need, already parsed here."""
        return {
            **self.platform,
            "APP_URL": self.app_url,
            "ALLOW_PRIVATE_STORE_ADDRESSES": self.allow_private_store_addresses,
            "SANDBOX_ENABLED": self.sandbox_enabled,
            "SANDBOX_ORDER_INTERVAL_SECONDS": self.sandbox_order_interval_seconds,
        }


def served_url(host: str | None, port: str | None) -> str:
    """The address a local server bound to `host:port` answers on (`make run HOST=... PORT=...`)."""
    host = (host or "").strip()
    if host in {"", "0.0.0.0", "::", "[::]"}:  # nosec B104  # not a bind: a wildcard address is reached on loopback
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{int(port or 8000)}"


def load_config(env: dict[str, str] | None = None, **overrides: Any) -> Config:
    """Build the configuration from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'connector.sqlite3'}"
    platform = {k: v for k, v in env.items() if k.startswith(("SHOPIFY_", "WOOCOMMERCE_"))}
    values: dict[str, Any] = dict(
        secret_key=env.get("SECRET_KEY", ""),
        database_url=database_url,
        encryption_key=env.get("ENCRYPTION_KEY", ""),
        # Unset: where `make run` serves (it passes HOST and PORT), so printed links open.
        app_url=(env.get("APP_URL") or served_url(env.get("HOST"), env.get("PORT"))).rstrip("/"),
        instance_path=instance,
        scheduler_enabled=_bool(env.get("SCHEDULER_ENABLED"), True),
        worker_enabled=_bool(env.get("WORKER_ENABLED"), True),
        sandbox_enabled=_bool(env.get("SANDBOX_ENABLED"), False),
        sandbox_order_interval_seconds=float(env.get("SANDBOX_ORDER_INTERVAL_SECONDS") or 5.0),
        sandbox_webhook_url=env.get("SANDBOX_WEBHOOK_URL")
        or (f"{served_url(env.get('HOST'), env.get('PORT'))}/webhooks/sandbox" if env.get("PORT") else ""),
        mail_url=env.get("MAIL_URL", ""),
        mail_from=env.get("MAIL_FROM") or "Backorder Connector <backorders@localhost>",
        reconcile_interval_seconds=int(env.get("RECONCILE_INTERVAL_SECONDS") or 600),
        evaluate_interval_seconds=int(env.get("EVALUATE_INTERVAL_SECONDS") or 300),
        outbox_interval_seconds=int(env.get("OUTBOX_INTERVAL_SECONDS") or 5),
        stock_settle_seconds=float(env.get("STOCK_SETTLE_SECONDS") or 30),
        delivery_retention_days=_retention_days(env, "DELIVERY_RETENTION_DAYS", 30),
        dead_delivery_retention_days=_retention_days(env, "DEAD_DELIVERY_RETENTION_DAYS", 90),
        celery_broker_url=env.get("CELERY_BROKER_URL", ""),
        connect_rate_limit=env.get("CONNECT_RATE_LIMIT") or "10 per minute;100 per hour",
        rate_limit_storage_url=env.get("RATE_LIMIT_STORAGE_URL", ""),
        allow_private_store_addresses=_bool(env.get("ALLOW_PRIVATE_STORE_ADDRESSES"), False),
        platform=platform,
    )
    values.update(overrides)
    config = Config(**values)
    if not config.secret_key:
        raise RuntimeError("SECRET_KEY is not set: copy .env.example to .env or run `make run`, which generates one")
    if not config.encryption_key:
        raise RuntimeError("ENCRYPTION_KEY is not set: `make run` generates one into .env (a Fernet key)")
    return config
