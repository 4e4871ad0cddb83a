"""Wire the service together in one place: database, adapters, inbox, outbox, worker, scheduler."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from adapters.base import PlatformAdapter, StoreClient
from adapters.registry import build_registry, installed_adapters
from connector.config import Config
from connector.dispatch.outbox import MailFn, Outbox
from connector.domain.model import Platform
from connector.gc_settings import tune_collector
from connector.intake.inbox import Inbox
from connector.mail.links import OrderPageClaim, order_page_url
from connector.mail.payload import OrderLink, make_send_mail
from connector.mail.send import sender_from_url
from connector.shops.directory import ShopDirectory, to_model
from connector.storage.crypto import CredentialBox
from connector.storage.db import Database
from connector.storage.tables import ShopRow
from connector.storage.types import utcnow
from connector.wake_relay import WakeRelay

if TYPE_CHECKING:
    from connector.celery_app import Wakeups

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    db: Database
    box: CredentialBox
    adapters: dict[Platform, PlatformAdapter]
    shops: ShopDirectory
    inbox: Inbox
    outbox: Outbox
    clock: Callable[[], datetime] = utcnow
    wake: threading.Event = field(default_factory=threading.Event)
    last_intake: float = 0.0  # time.monotonic() of the last stored webhook
    background: list[Any] = field(default_factory=list)
    # With CELERY_BROKER_URL: sends a task by name (see connector/celery_app.py); None: the in-process worker.
    enqueue: Callable[[str], None] | None = None
    # With a Redis broker: `notify` coalesces the draining tasks' messages (connector/celery_app.py).
    wakeups: Wakeups | None = None
    # Signed deliveries answered 200 but not stored: (platform, reason) -> count, shown on /healthz.
    ignored_webhooks: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Sends `note_intake`'s wake-ups from a background thread (connector/wake_relay.py).
    wake_relay: WakeRelay = field(init=False)

    def __post_init__(self) -> None:
        self.wake_relay = WakeRelay(self._send_wake)

    def notify(self, task: str) -> None:
        """Work is waiting for `task` ("process_inbox", "drain_outbox"): wake the in-process worker,
        or enqueue the task for the Celery workers (coalesced on Redis: see `Wakeups`)."""
        self.wake.set()
        self._send_wake(task)

    def _send_wake(self, task: str) -> None:
        if self.wakeups is not None:
            self.wakeups.wake(task)
        elif self.enqueue is not None:
            self.enqueue(task)

    def task_started(self, task: str) -> None:
        """A Celery task that claims what is due starts: the next wake-up must send a new one."""
        if self.wakeups is not None:
            self.wakeups.started(task)

    def client_for(self, shop_id: int) -> StoreClient:
        with self.db.session() as s:
            row = s.get(ShopRow, shop_id)
            if row is None:
                raise LookupError(f"no shop {shop_id}")
            shop = to_model(row)
            credentials = self.box.open_json(row.credentials) if row.credentials else {}
        return self.adapters[shop.platform].client_factory(shop, credentials)

    def secret_lookup(self, platform: Platform, fresh: bool = False) -> Callable[[str], bytes | None]:
        return lambda domain: self.shops.webhook_secret(platform, domain, fresh=fresh)

    def note_intake(self) -> None:
        """A webhook was just stored: wake the worker, and tell it requests are being answered. The
        Celery task is sent by this process's relay thread (`wake_relay`): the store's answer does not
        wait on Redis or the broker."""
        self.last_intake = time.monotonic()
        self.wake.set()
        if self.wakeups is not None or self.enqueue is not None:
            self.wake_relay.note("process_inbox")

    def work_once(self, batch: int = 100) -> tuple[int, int]:
        """Process the inbox, then drain the outbox. Returns (deliveries, actions) handled."""
        processed = self.inbox.process_pending(batch)
        settled = self.inbox.evaluate_settled()
        drained = self.outbox.drain()
        return processed.done + processed.dead + settled, drained.done + drained.failed + drained.dead


def preload_modules(database_url: str) -> None:
    """Import what every unit of work needs but is otherwise imported on first use: the database
    driver and the platform adapters. A Celery worker calls this in its main process before its
    pool forks, so each forked process shares the imported modules and its first task, in a sale
    the first of thousands, starts warm instead of importing them. Opens no connection."""
    make_url(database_url).get_dialect().import_dbapi()
    installed_adapters()


def build_services(
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
    send_mail: MailFn | None = None,
    adapters: Mapping[Platform, PlatformAdapter] | None = None,
) -> Services:
    tune_collector()
    db = Database(config.database_url)
    db.migrate()
    box = CredentialBox(config.encryption_key)
    registry = (
        dict(adapters) if adapters is not None else build_registry(config.adapter_settings())
    )
    if send_mail is None:
        send_mail = make_send_mail(
            sender_from_url(config.effective_mail_url), config.mail_from, order_link_maker(config, clock)
        )
    shops = ShopDirectory(db, box)
    inbox = Inbox(db, registry, clock=clock, settle=timedelta(seconds=config.stock_settle_seconds))
    services = Services(config, db, box, registry, shops, inbox, outbox=None, clock=clock)  # type: ignore[arg-type]
    services.outbox = Outbox(db, services.client_for, send_mail, clock=clock)
    if config.celery_broker_url:
        from connector.celery_app import enqueuer, wakeups  # Celery is needed only when configured

        services.enqueue = enqueuer(config.celery_broker_url)
        services.wakeups = wakeups(config.celery_broker_url)
    return services


class Worker:
    """Processes the inbox and drains the outbox in a background thread; woken early by new work.

    Answering the store comes first: while webhooks are arriving the worker lets the request
    threads have the CPU (one process, one GIL) and works in small batches between them; a
    burst is processed a moment later, never at the cost of a slow answer. The wait is bounded,
    so a steady stream cannot starve processing."""

    QUIET = 0.02  # seconds without a new webhook before a batch runs
    MAX_DEFER = 1.0  # but never defer a batch longer than this
    BATCH = 20

    def __init__(self, services: Services, idle_seconds: float = 1.0) -> None:
        self.services = services
        self.idle = idle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="connector-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.services.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _yield_to_requests(self) -> None:
        deadline = time.monotonic() + self.MAX_DEFER
        while not self._stop.is_set() and time.monotonic() < deadline:
            quiet_for = time.monotonic() - self.services.last_intake
            if quiet_for >= self.QUIET:
                return
            time.sleep(self.QUIET - quiet_for)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._yield_to_requests()
            try:
                handled = self.services.work_once(self.BATCH)
            except Exception:  # noqa: BLE001 - e.g. the database is down: log, wait, try again
                log.exception("worker pass failed")
                handled = (0, 0)
            if handled == (0, 0):
                self.services.wake.wait(self.idle)
                self.services.wake.clear()


def order_link_maker(config: Config, clock: Callable[[], datetime]) -> OrderLink:
    """Signs the link to the customer's page of an order, stamped with the time the email is sent."""

    def link(platform: str, domain: str, external_id: str) -> str:
        claim = OrderPageClaim(platform, domain, external_id)
        return order_page_url(config.secret_key, config.app_url, claim, now=clock())

    return link
