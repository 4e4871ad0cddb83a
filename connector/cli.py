"""`flask` commands: evaluate, plan, replay a saved payload, reconcile, show the queues."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app

from adapters.base import Delivery
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.bootstrap import Services
from connector.domain.model import Platform
from connector.plans.planning_runs import run_plan
from connector.shops.directory import find_row
from connector.sweeps import reconcile_all


def _services() -> Services:
    return current_app.extensions["connector"]


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--platform", type=click.Choice([p.value for p in Platform]), required=True)
@click.option("--shop", required=True, help="The shop's domain, as the platform names it.")
@click.option("--topic", required=True, help="The webhook topic, e.g. orders/create or order.updated.")
@click.option("--event-id", default=None, help="Dedupe key; defaults to the file's name and modification time.")
def replay(file: Path, platform: str, shop: str, topic: str, event_id: str | None) -> None:
    """Feed a saved webhook payload through the inbox, exactly as if the store had sent it."""
    services = _services()
    body = file.read_bytes()
    data = json.loads(body)
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        body = json.dumps(next(iter(data.values()))).encode()  # a wrapped REST resource: {"order": {...}}
    delivery = Delivery(
        platform=Platform(platform),
        shop=shop,
        topic=topic,
        event_id=event_id or f"replay:{file.name}:{file.stat().st_mtime_ns}",
        body=body,
    )
    if not services.inbox.store(delivery):
        click.echo("duplicate: this payload was replayed before (pass another --event-id to force)")
        return
    processed = services.inbox.process_pending()
    drained = services.outbox.drain()
    click.echo(
        f"processed {processed.done} (dead {processed.dead}); actions done {drained.done}, "
        f"retrying {drained.retried}, failed {drained.failed}"
    )


@click.command("evaluate")
@click.option("--platform", type=click.Choice([p.value for p in Platform]), required=True)
@click.option("--shop", required=True)
def evaluate_command(platform: str, shop: str) -> None:
    """Re-evaluate every SKU of a shop now."""
    services = _services()
    with services.db.session() as s:
        row = find_row(s, platform, shop)
        if row is None:
            raise click.ClickException(f"no shop {shop} on {platform}")
        result = evaluate(s, row, None, services.clock())
    click.echo(f"{result.lines} open lines, {result.backordered_lines} backordered, {result.actions} new actions")


@click.command("plan")
@click.option("--platform", type=click.Choice([p.value for p in Platform]), required=True)
@click.option("--shop", required=True)
@click.option("--models", type=click.Choice(["full", "fast"]), default=None, help="model set (default: the shop's)")
def plan_command(platform: str, shop: str, models: str | None) -> None:
    """Run planning for a shop now: forecasts, reorder points, draft purchase orders."""
    services = _services()
    with services.db.session() as s:
        row = find_row(s, platform, shop)
        if row is None:
            raise click.ClickException(f"no shop {shop} on {platform}")
        run = run_plan(s, row, services.clock(), trigger="merchant", model_set=models)
        status, skus, drafts, error = run.status, run.skus, run.drafts, run.error
    if status != "done":
        raise click.ClickException(f"planning failed: {error}")
    click.echo(f"{skus} SKUs planned, {drafts} draft purchase orders")


@click.command("reconcile")
def reconcile_command() -> None:
    """Reconcile every active shop with its store now."""
    click.echo(f"applied {reconcile_all(_services())} events")


@click.command("queues")
def queues_command() -> None:
    """Show inbox and outbox depth."""
    services = _services()
    click.echo(json.dumps({"inbox": services.inbox.depth(), "outbox": services.outbox.depth()}, indent=2))


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the periodic jobs in the foreground until SIGTERM or Ctrl-C.

    The scheduler process of a production deployment: with CELERY_BROKER_URL it enqueues the jobs
    for the Celery workers. Start as many as you like; a database lease lets one act at a time."""
    from connector.scheduler import Scheduler

    services = _services()
    scheduler = Scheduler(services)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    mode = "enqueuing Celery tasks" if services.enqueue is not None else "running the jobs in this process"
    click.echo(f"scheduler {scheduler.holder}: {mode}", err=True)
    scheduler.run_until(stop)


def register(app: Flask) -> None:
    for command in (replay, evaluate_command, plan_command, reconcile_command, queues_command, scheduler_command):
        app.cli.add_command(command)
