"""The Flask application factory."""

from __future__ import annotations

import atexit
import logging
from typing import Any

from flask import Flask

from adapters.base import StartContext
from connector.bootstrap import Services, Worker, build_services
from connector.config import Config, load_config
from connector.model import Platform


def create_app(
    config: Config | None = None, services: Services | None = None, *, background: bool = True, **overrides: Any
) -> Flask:
    """Build the app. With no arguments it reads the environment (and `.env`).

    `background` starts the worker, the scheduler and adapters' background parts (the sandbox
    demo) as the configuration enables them; command-line use turns it off."""
    if config is None:
        from dotenv import load_dotenv

        load_dotenv()
        config = load_config(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = Flask(__name__, instance_path=str(config.instance_path), template_folder="../../templates")
    app.config.update(config.as_flask())
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024  # no store sends webhooks anywhere near this
    config.instance_path.mkdir(parents=True, exist_ok=True)
    services = services or build_services(config)
    app.extensions["connector"] = services

    from connector.web import health, offers, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(offers.bp)
    for adapter in services.adapters.values():
        if adapter.blueprint is not None:
            app.register_blueprint(adapter.blueprint)

    from connector import cli

    cli.register(app)
    if background:
        _start_background(app, services, config)
    return app


def create_cli_app() -> Flask:
    """The app for `flask --app connector.web:create_cli_app ...`: no background threads."""
    return create_app(background=False)


def _start_background(app: Flask, services: Services, config: Config) -> None:
    if config.worker_enabled and services.enqueue is None:  # with Celery, its workers do this work
        worker = Worker(services)
        worker.start()
        services.background.append(worker)
    if config.scheduler_enabled:
        from connector.scheduler import Scheduler

        scheduler = Scheduler(services)
        scheduler.start()
        services.background.append(scheduler)
    for platform, adapter in services.adapters.items():
        if adapter.start is not None:
            context = StartContext(
                connect_shop=services.shops.connect,
                webhook_url=webhook_url(config, platform),
                instance_path=str(config.instance_path),
            )
            started = adapter.start(context)
            if started is not None:
                services.background.append(started)
    atexit.register(stop_background, services)


def webhook_url(config: Config, platform: Platform) -> str:
    if platform == Platform.SANDBOX and config.sandbox_webhook_url:
        return config.sandbox_webhook_url
    return f"{config.app_url}/webhooks/{platform}"


def stop_background(services: Services) -> None:
    for item in reversed(services.background):
        stop = getattr(item, "stop", None)
        if stop is not None:
            stop()
    services.background.clear()
