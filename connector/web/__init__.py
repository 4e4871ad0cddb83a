"""The Flask application factory."""

from __future__ import annotations

import atexit
import logging
from typing import Any

from flask import Flask

from adapters.base import ConnectShop, StartContext
from connector import sweeps
from connector.bootstrap import Services, Worker, build_services
from connector.config import Config, load_config
from connector.domain.model import Platform
from connector.domain.safe_url import http_url


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
    # after a store install: create the shop's "pay when it ships" purchase option (issue 10)
    app.extensions["after_install"] = lambda shop_id: sweeps.purchase_option_of(services, shop_id)

    from connector.web import errors, health, merchant, offers, privacy_exports, security_headers, webhooks

    security_headers.register(app, config)  # first: its after_request hook must run last
    errors.register(app)
    app.add_template_filter(_safe_url, "safe_url")

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(privacy_exports.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(offers.bp)
    from connector.web import customer_page

    customer_page.register(app)  # the customer's backorder page: CSRF-protected (not exempt below)
    for adapter in services.adapters.values():
        if adapter.blueprint is not None:
            app.register_blueprint(adapter.blueprint)
    # Exempt from CSRF: webhooks and privacy exports (HMAC-verified), adapters' callbacks, and the shopper's offer page,
    # whose signed link is itself the credential (a forged cross-site post would need the link).
    exempt = [webhooks.bp, privacy_exports.bp, offers.bp, *(a.blueprint for a in services.adapters.values())]
    merchant.register(app, config, exempt=exempt)
    from connector.web import rate_limits as limits

    limits.register(app, config)

    from connector import cli

    cli.register(app)
    if background:
        _start_background(app, services, config)
    return app


def _safe_url(value: object) -> str:
    """The ``safe_url`` filter: an http(s) URL or a path here, or "" (test it before writing a link)."""
    return http_url(value) or ""


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
                connect_shop=_announcing_sign_in(services, config),
                webhook_url=webhook_url(config, platform),
                instance_path=str(config.instance_path),
            )
            started = adapter.start(context)
            if started is not None:
                services.background.append(started)
    atexit.register(stop_background, services)


def _announcing_sign_in(services: Services, config: Config) -> ConnectShop:
    """`ShopDirectory.connect` for adapters' background starts (the sandbox demo) that also logs the
    merchant's sign-in link, so that whoever ran `make run` can open the app of the shop at once."""

    def connect(platform: Platform, domain: str, **kwargs: Any) -> Any:
        ref = services.shops.connect(platform, domain, **kwargs)
        from connector.web.auth import make_sign_in_link

        link = make_sign_in_link(ref.id, config, services)
        logging.getLogger("connector.web").warning("merchant app of %s (%s): sign in at %s", domain, platform, link)
        return ref

    return connect


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
