"""The directory of connected shops: connect, look up, credentials (encrypted at rest), status."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.domain.model import Platform, Shop
from connector.shops.shop_settings import ShopSettings
from connector.storage.crypto import CredentialBox
from connector.storage.db import Database
from connector.storage.tables import ShopRow, StorefrontValueRow
from connector.storage.types import utcnow

SECRET_TTL = 60.0  # seconds
ACTIVE, NEEDS_RECONNECT, UNINSTALLED = "active", "needs_reconnect", "uninstalled"


def to_model(row: ShopRow) -> Shop:
    return Shop(
        platform=Platform(row.platform),
        domain=row.domain,
        name=row.name,
        currency=row.currency,
        locale=row.locale,
        timezone=row.timezone,
        settings=dict(row.settings or {}),
        credentials=row.credentials,
    )


@dataclass(frozen=True)
class ShopRef:
    id: int
    platform: Platform
    domain: str
    status: str


class ShopDirectory:
    def __init__(self, db: Database, box: CredentialBox) -> None:
        self.db = db
        self.box = box
        self._secrets: dict[tuple[str, str], tuple[float, bytes | None]] = {}
        self._connected: dict[tuple[str, str], float] = {}  # shops known connected, until when

    # ---- connect / update ------------------------------------------------------------

    def connect(
        self,
        platform: Platform,
        domain: str,
        *,
        name: str,
        credentials: Mapping[str, Any] | None = None,
        webhook_secret: bytes | str | None = None,
        currency: str | None = None,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> ShopRef:
        """Create or re-activate a shop (install, re-install, re-connect). Settings are kept on re-install."""
        self._secrets.pop((str(platform), domain), None)
        self._connected.pop((str(platform), domain), None)
        with self.db.session() as s:
            row = find_row(s, platform, domain)
            if row is None:
                row = ShopRow(platform=str(platform), domain=domain, name=name, settings=ShopSettings().to_mapping())
                s.add(row)
            row.name = name or row.name
            row.currency = currency or row.currency or "USD"
            row.locale = locale or row.locale or "en"
            row.timezone = timezone or row.timezone or "UTC"
            if credentials is not None:
                row.credentials = self.box.seal(dict(credentials))
            if webhook_secret is not None:
                row.webhook_secret = self.box.seal(webhook_secret)
            row.status, row.status_reason = ACTIVE, None
            row.installed_at = utcnow()
            s.flush()
            _forget_storefront_values(s, row.id)
            return ShopRef(row.id, platform, domain, row.status)

    def set_status(self, platform: Platform, domain: str, status: str, reason: str | None = None) -> None:
        self._secrets.pop((str(platform), domain), None)
        self._connected.pop((str(platform), domain), None)
        with self.db.session() as s:
            row = find_row(s, platform, domain)
            if row is None:
                return
            row.status, row.status_reason = status, reason
            if status == UNINSTALLED:
                row.credentials = None  # the token is revoked by the uninstall; keep nothing usable

    def update_settings(self, shop_id: int, settings: ShopSettings) -> None:
        settings.validate()
        with self.db.session() as s:
            row = s.get(ShopRow, shop_id)
            if row is None:
                raise LookupError(f"no shop {shop_id}")
            row.settings = settings.to_mapping()

    # ---- look up ---------------------------------------------------------------------

    def get(self, platform: Platform, domain: str) -> Shop | None:
        with self.db.read() as s:
            row = find_row(s, platform, domain)
            return to_model(row) if row else None

    def ref(self, platform: Platform, domain: str) -> ShopRef | None:
        with self.db.read() as s:
            row = find_row(s, platform, domain)
            return ShopRef(row.id, Platform(row.platform), row.domain, row.status) if row else None

    def credentials(self, platform: Platform, domain: str) -> dict[str, Any] | None:
        with self.db.read() as s:
            row = find_row(s, platform, domain)
            if row is None or row.credentials is None:
                return None
            return self.box.open_json(row.credentials)

    def webhook_secret(self, platform: Platform, domain: str, fresh: bool = False) -> bytes | None:
        """The shop's webhook signing secret, cached for `SECRET_TTL` (webhooks come in bursts).

        A signature that fails against a cached secret is checked again with `fresh=True`, so a
        secret changed by another process (re-connect) costs one extra read, never a lost webhook."""
        key = (str(platform), domain)
        cached = self._secrets.get(key)
        if not fresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self.db.read() as s:
            row = find_row(s, platform, domain)
            if row is None or row.webhook_secret is None or row.status == UNINSTALLED:
                value = None
            else:
                value = self.box.open_bytes(row.webhook_secret)
        self._secrets[key] = (time.monotonic() + SECRET_TTL, value)
        return value

    def is_connected(self, platform: Platform, domain: str) -> bool:
        """Whether the app is installed in this shop (active, or waiting to be re-connected).

        Only a yes is cached (for `SECRET_TTL`): a shop installed a moment ago by another process
        is seen at once; one uninstalled meanwhile is still answered, and its deliveries ignored."""
        key = (str(platform), domain)
        until = self._connected.get(key)
        if until is not None and until > time.monotonic():
            return True
        with self.db.read() as s:
            status = s.scalar(
                select(ShopRow.status).where(ShopRow.platform == str(platform), ShopRow.domain == domain)
            )
        if status in (ACTIVE, NEEDS_RECONNECT):
            self._connected[key] = time.monotonic() + SECRET_TTL
            return True
        self._connected.pop(key, None)
        return False

    def settings(self, shop_id: int) -> ShopSettings:
        with self.db.read() as s:
            row = s.get(ShopRow, shop_id)
            return ShopSettings.from_mapping(row.settings if row else None)

    def active(self) -> list[ShopRef]:
        with self.db.read() as s:
            rows = s.scalars(select(ShopRow).where(ShopRow.status == ACTIVE).order_by(ShopRow.id))
            return [ShopRef(r.id, Platform(r.platform), r.domain, r.status) for r in rows]

    def mark_reconciled(self, shop_id: int, at: datetime) -> None:
        with self.db.session() as s:
            row = s.get(ShopRow, shop_id)
            if row is not None:
                row.reconciled_at = at


def find_row(session: Session, platform: Platform | str, domain: str) -> ShopRow | None:
    return session.scalar(select(ShopRow).where(ShopRow.platform == str(platform), ShopRow.domain == domain))


def lock_shop(session: Session, shop_id: int) -> None:
    """Serialise the work on one shop across processes until the transaction ends.

    Applying events and evaluating SKUs read what other transactions wrote; two workers evaluating
    the same shop at once would each miss the other's uncommitted orders. On PostgreSQL this takes
    the shop row's lock; SQLite serialises every write transaction already (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(ShopRow.id).where(ShopRow.id == shop_id).with_for_update())


def _forget_storefront_values(session: Session, shop_id: int) -> None:
    """A (re)connected store holds none of our storefront values (Shopify deletes app-owned metafields
    at uninstall): each is marked unwritten, so the next evaluation publishes it as a new version."""
    session.execute(update(StorefrontValueRow).where(StorefrontValueRow.shop_id == shop_id).values(value={}))
