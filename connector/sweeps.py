"""The periodic sweeps over every active shop: evaluate, timers, reconcile, plan; and the inbox's pruning.

One module, imported directly by both runners: the in-process scheduler (connector/scheduler.py)
and the Celery tasks (connector/tasks.py). Every sweep is safe to run twice.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from connector.backorders import purchase_option
from connector.backorders.selling_limits import limit_selling
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.backorders.timers import run_timers
from connector.bootstrap import Services
from connector.intake.reconcile import reconcile_shop, upkeep_shop
from connector.plans.planning_runs import plan_detached, plan_due
from connector.shops.directory import lock_shop
from connector.storage.retention import Retention, expire_exports, prune_deliveries
from connector.storage.tables import ShopRow

log = logging.getLogger(__name__)

PLAN_CHECK_SECONDS = 3600  # hourly: each shop is planned on the first check of its new day
PRUNE_SECONDS = 3600  # hourly: each run deletes what passed its retention since the last one


def prune_inbox(services: Services) -> int:
    """Delete the handled webhooks kept longer than the configured retention, and empty the data
    exports as old (all shops at once)."""
    cfg = services.config
    retention = Retention(done=timedelta(days=cfg.delivery_retention_days),
                          dead=timedelta(days=cfg.dead_delivery_retention_days))
    now = services.clock()
    return prune_deliveries(services.db, now, retention) + expire_exports(services.db, now, retention)


def evaluate_all(services: Services) -> int:
    """Re-evaluate every active shop: promises that passed, stock that changed without a webhook."""
    actions = 0
    for ref in services.shops.active():
        with services.db.session(background=True) as s:
            shop = s.get(ShopRow, ref.id)
            if shop is not None and shop.status == "active":
                result = evaluate(s, shop, None, services.clock())  # and every variant's storefront value
                actions += result.actions + result.storefront_changed
                actions += limit_selling(s, shop, None, services.clock()).actions
                follow = purchase_option.follow_engine(s, shop, services.clock())  # no store read: our memory
                actions += len(follow.added) + len(follow.removed)
    if actions:
        services.notify("drain_outbox")
    return actions


def timers_all(services: Services) -> int:
    """Promises that passed (refund offers) and authorizations about to lapse, in every active shop."""
    done = 0
    cfg = services.config
    for ref in services.shops.active():
        with services.db.session(background=True) as s:
            shop = s.get(ShopRow, ref.id)
            if shop is not None and shop.status == "active":
                lock_shop(s, shop.id)  # decides on the same orders as evaluation does
                r = run_timers(s, shop, services.clock(), cfg.secret_key, cfg.app_url)
                done += r.offers + r.warnings + r.policy_actions + r.balances
    if done:
        services.notify("drain_outbox")
    return done


def plan_all(services: Services, model_set: str | None = None) -> int:
    """The nightly planning run of every active shop: once per shop and shop day (a shop planned
    today, nightly or on demand, is skipped), so running it twice or hourly plans nothing twice."""
    return plan_all_within(services, None, model_set)[0]


def plan_all_within(services: Services, budget_seconds: float | None, model_set: str | None = None
                    ) -> tuple[int, bool]:
    """`plan_all`, starting no shop once `budget_seconds` have passed: (runs, whether every due shop was done)."""
    started = time.monotonic()
    runs = 0
    for ref in services.shops.active():
        with services.db.read() as s:
            shop = s.get(ShopRow, ref.id)
            due = shop is not None and shop.status == "active" and plan_due(s, shop, services.clock())
        if not due:
            continue
        if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            return runs, False
        plan_detached(services.db, ref.id, services.clock, "nightly", model_set)
        runs += 1
    return runs, True


def reconcile_all(services: Services) -> int:
    events = 0
    for ref in services.shops.active():
        try:
            adapter = services.adapters.get(ref.platform)
            webhook_url = f"{services.config.app_url}/webhooks/{ref.platform}"
            if adapter is not None and not upkeep_shop(adapter, services.shops, ref, webhook_url):
                continue
        except Exception:  # noqa: BLE001 - a failed upkeep must not stop reconciliation, which catches what it missed
            log.exception("connection upkeep of %s failed", ref.domain)
        try:
            events += reconcile_shop(
                services.inbox, services.shops, ref.id, services.client_for(ref.id), services.clock
            )
        except Exception:  # noqa: BLE001 - one shop's failure must not stop the others; retried next interval
            log.exception("reconciliation of %s failed", ref.domain)
        try:
            purchase_option_of(services, ref.id)
        except Exception:  # noqa: BLE001 - retried on the next sweep; the dashboard shows the option's state
            log.exception("purchase option upkeep of %s failed", ref.domain)
    services.notify("drain_outbox")
    return events


def purchase_option_of(services: Services, shop_id: int) -> purchase_option.OptionReport:
    """Create (or re-create) the shop's "pay when it ships" option, agree with the store on its members,
    and send what the engine changed since (issue 10). Run at install and by every reconciliation."""
    client = services.client_for(shop_id)  # before the transaction: it reads the shop in its own
    with services.db.session(background=True) as s:
        shop = s.get(ShopRow, shop_id)
        if shop is None or shop.status != "active":
            return purchase_option.OptionReport()
        lock_shop(s, shop.id)
        report = purchase_option.sync_shop(s, shop, client, services.clock())
    if report.added or report.removed:
        services.notify("drain_outbox")
    return report
