"""A merchant in a real headless Chromium: sign in, change settings, add a supplier and a purchase order,
receive it, and watch the dashboard and the storefront widget follow. Screenshots of every page go to
``test-artifacts/screenshots/`` for a reviewer to look at."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from adapters.sandbox import forget_stores, register_store
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.webhooks import WebhookSender
from connector.bootstrap import Services, Worker, build_services
from connector.config import load_config
from connector.domain.model import Platform
from connector.shops.directory import find_row
from connector.shops.shop_days import shop_today
from connector.web import create_app
from connector.web.auth import make_sign_in_link
from tests.e2e.conftest import ROOT, free_port

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "test-artifacts" / "screenshots"
DOMAIN = "e2e-shop.sandbox"
SECRET = b"e2e-webhook-secret"
ADA = {"id": "c1", "email": "ada@example.com", "name": "Ada Lovelace", "locale": "en", "reseller": False}


@dataclass
class LiveApp:
    url: str
    services: Services
    store: SandboxStore
    shop_id: int

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def shop_today(self):  # type: ignore[no-untyped-def]
        with self.services.db.session() as s:
            return shop_today(find_row(s, Platform.SANDBOX, DOMAIN), self.services.clock())


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """The app on a real HTTP server on 127.0.0.1, a worker thread, and the sandbox store sending signed webhooks."""
    port = free_port()
    config = load_config({
        "SECRET_KEY": "e2e-secret-key",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "APP_URL": f"http://127.0.0.1:{port}",
        "WORKER_ENABLED": "0",
        "SCHEDULER_ENABLED": "0",
        "STOCK_SETTLE_SECONDS": "0.2",
        "MAIL_URL": f"file://{tmp_path / 'mail'}",
    })
    services = build_services(config)
    app = create_app(config, services, background=False)
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="e2e-http", daemon=True)
    serving.start()
    worker = Worker(services, idle_seconds=0.1)
    worker.start()
    store = SandboxStore(domain=DOMAIN, name="Oak & Ash")
    register_store(store)
    ref = services.shops.connect(Platform.SANDBOX, DOMAIN, name="Oak & Ash", credentials={}, webhook_secret=SECRET,
                                 currency="EUR", timezone="Europe/Rome")
    sender = WebhookSender(f"{config.app_url}/webhooks/sandbox", DOMAIN, SECRET, first_delay=0.1)
    store.listeners.append(sender)
    sender.start()
    try:
        yield LiveApp(config.app_url, services, store, ref.id)
    finally:
        sender.stop()
        worker.stop()
        server.shutdown()
        serving.join(timeout=10)
        services.db.dispose()
        forget_stores()


# Every page, frame and fetch of a watched context reports Content-Security-Policy violations: Chromium logs
# each one to the console ("Refused to ... because it violates ..."), and the page's
# `securitypolicyviolation` event is logged too, so that a violation in any page fails the test.
CSP_LISTENER = """
window.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${e.documentURI}`));
"""


def watch_csp(context) -> list[str]:  # type: ignore[no-untyped-def]
    violations: list[str] = []
    context.add_init_script(CSP_LISTENER)

    def seen(message) -> None:  # type: ignore[no-untyped-def]
        text = message.text
        if "Content Security Policy" in text or "CSP violation" in text:
            violations.append(f"{message.page.url if message.page else '?'}: {text}")

    context.on("console", seen)
    return violations


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def widget_text(chromium, url: str) -> str:  # type: ignore[no-untyped-def]
    """The product page as a new shopper sees it (a fresh context: no cached availability)."""
    context = chromium.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB")
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => document.querySelector('#eta').getAttribute('data-status') !== null")
    text = page.inner_text("#eta")
    shot(page, f"storefront-product-{re.sub(r'[^a-z]+', '-', text.lower()).strip('-')}")
    context.close()
    assert violations == []
    return text


def test_a_merchant_configures_everything_from_the_browser(live_app: LiveApp, chromium) -> None:  # type: ignore[no-untyped-def]
    store = live_app.store
    store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=None)
    store.add_product("MUG", "Ceramic mug", "14.00", 40)
    order = store.place_order(ADA, [("TEE", 2)])
    live_app.wait_for(lambda: store.orders[order["id"]]["holds"], "the backordered order to be held")
    product_url = f"{live_app.url}/storefront/sandbox/{DOMAIN}/demo-product/TEE"
    today = live_app.shop_today()

    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    violations = watch_csp(context)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())

    # sign in with the link the operator (or `make run`) gives the merchant
    page.goto(f"{live_app.url}/app")
    assert page.url.startswith(f"{live_app.url}/app/sign-in")
    shot(page, "sign-in")
    page.goto(make_sign_in_link(live_app.shop_id, live_app.services.config, live_app.services))
    assert page.inner_text("h1") == "Dashboard"
    assert page.inner_text('[data-kpi="waiting-units"]') == "2"
    assert "Ada Lovelace" in page.inner_text("#orders")
    shot(page, "dashboard-backordered")

    # the shopper's product page: restocked at the shop's default lead time (14 days, P90 with spread 3, +1 handling)
    before = widget_text(chromium, product_url)
    assert before.startswith("Ships by ")

    # settings: a bad value is refused next to its field, then a good one is saved
    page.click("text=Settings")
    page.fill("#default_lead_time_days", "400")
    page.fill("#reply_to", "not-an-email")
    page.click("text=Save settings")
    assert "must be between 0 and 365 days" in page.inner_text(".has-error >> nth=0")
    assert page.locator('.error[data-field="reply_to"]').inner_text().startswith("enter an email address")
    shot(page, "settings-errors")
    page.fill("#default_lead_time_days", "20")
    page.fill("#reply_to", "help@oak-ash.example")
    page.select_option("#promise_quantile", "0.95")
    page.fill("#sender_name", "Oak & Ash")
    page.click("text=Save settings")
    assert "Settings saved." in page.inner_text(".flash")
    shot(page, "settings-saved")
    settings = live_app.services.shops.settings(live_app.shop_id)
    assert (settings.default_lead_time_days, settings.promise_quantile, settings.reply_to) == (
        20, 0.95, "help@oak-ash.example")

    # a supplier, and the SKU it supplies
    page.click("text=Suppliers")
    page.click("text=Add supplier")
    page.fill("#name", "Acme Textiles")
    page.fill("#email", "orders@acme.example")
    page.fill("#lead_time_mean_days", "12")
    page.fill("#lead_time_spread_days", "2")
    page.check("#dropship_capable")
    page.click("button:has-text('Add supplier')")
    assert "Supplier Acme Textiles added" in page.inner_text(".flash")
    page.fill("#sku", "TEE")
    page.fill("#cost", "6.20")
    page.click("button:has-text('Add SKU')")
    assert "TEE is now supplied by Acme Textiles" in page.inner_text(".flash")
    shot(page, "supplier")

    # a purchase order of five tees, due in three days
    expected = today + timedelta(days=3)
    page.click("text=New purchase order")
    page.fill("#reference", "PO-1001")
    page.fill("#expected_on", expected.isoformat())
    page.fill("#lines-0-sku", "TEE")
    page.fill("#lines-0-quantity", "5")
    page.click("#add-line")
    assert page.locator("#po-lines tbody tr").count() == 7
    shot(page, "purchase-order-form")
    page.click("button:has-text('Create purchase order')")
    assert "Purchase order PO-1001 saved" in page.inner_text(".flash")
    shot(page, "purchase-orders")

    # the storefront now promises the purchase order's date (+1 day of handling)
    ships = expected + timedelta(days=1)
    after_po = widget_text(chromium, product_url)
    assert after_po == f"Ships by {ships:%B} {ships.day}, {ships.year}"  # formatted for the page's lang="en"
    live_app.wait_for(lambda: store.orders[order["id"]]["eta"] == ships.isoformat(), "the new ETA in the store")

    page.click("text=Dashboard")
    assert page.inner_text('[data-sku="TEE"] td:nth-child(5)') == "5"
    assert page.locator("#chart rect.bar-incoming").count() == 1
    shot(page, "dashboard-incoming")

    # receive it: the waiting order ships, the dashboard empties, the product is in stock
    page.click("text=Purchase orders")
    page.click("button:has-text('Receive all')")
    assert "Received 5 × TEE" in page.inner_text(".flash")
    live_app.wait_for(lambda: not store.orders[order["id"]]["holds"], "the hold to be released")
    live_app.wait_for(lambda: store.products["TEE"]["stock"] == 3, "the store's stock to be adjusted")
    page.click("text=Dashboard")
    assert page.inner_text('[data-kpi="waiting-units"]') == "0"
    assert "No open backorders" in page.inner_text("#skus")
    shot(page, "dashboard-received")
    assert widget_text(chromium, product_url) == "In stock"

    # the emails the customer got, and one of them previewed
    page.click("text=Emails")
    assert "Backorder confirmation" in page.inner_text("table")
    shot(page, "emails")
    page.click("table tbody tr >> nth=-1 >> text=Preview")
    assert page.locator("iframe.email-frame").count() == 1
    frame = page.frame_locator("iframe.email-frame")
    assert "Organic tee" in frame.locator("body").inner_text()
    shot(page, "email-preview")

    # the public landing page
    landing = context.new_page()
    landing.goto(f"{live_app.url}/storefront/sandbox/{DOMAIN}/")
    assert landing.inner_text("h1") == "Made to wait for"
    shot(landing, "storefront-landing")
    assert requests.get(f"{live_app.url}/healthz", timeout=5).json()["outbox"]["dead"] == 0
    context.close()
    assert violations == []  # no page, frame or script of the whole visit broke the Content-Security-Policy


def test_a_merchant_plans_approves_a_draft_and_the_promise_follows(live_app: LiveApp, chromium) -> None:  # type: ignore[no-untyped-def]
    """Planning on the sandbox store: run it from the app, read a SKU's forecast, approve the draft
    purchase order, and see the waiting order's ETA move to the order's arrival; email the supplier."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from connector.storage.tables import OrderLineRow, OrderRow
    from connector.supply import suppliers

    store = live_app.store
    store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=None)
    store.add_product("MUG", "Ceramic mug", "14.00", 40)
    order = store.place_order(ADA, [("TEE", 2)])
    live_app.wait_for(lambda: store.orders[order["id"]]["holds"], "the backordered order to be held")
    live_app.wait_for(lambda: store.orders[order["id"]].get("eta"), "the first ETA in the store")
    first_eta = store.orders[order["id"]]["eta"]
    today = live_app.shop_today()
    with live_app.services.db.session() as s:  # twelve weeks of tee sales, shipped
        for k in range(1, 85):
            placed = datetime.combine(today - timedelta(days=k), datetime.min.time(), UTC) + timedelta(hours=11)
            row = OrderRow(shop_id=live_app.shop_id, external_id=f"past-{k}", name=f"#P{k}", currency="EUR",
                           placed_at=placed, source_updated_at=placed, payment_status="paid")
            qty = 1 + k % 3
            row.lines = [OrderLineRow(shop_id=live_app.shop_id, external_id=f"pl-{k}", sku="TEE", title="Organic tee",
                                      quantity=qty, fulfilled_quantity=qty, unit_price=Decimal("25"))]
            s.add(row)
        acme, _ = suppliers.save_supplier(s, live_app.shop_id, suppliers.SupplierInput(
            "Acme Textiles", email="orders@acme.example", lead_time_mean_days=5, lead_time_spread_days=0))
        suppliers.save_offer(s, live_app.shop_id, acme.id, suppliers.OfferInput("TEE", cost=Decimal("6.20")))

    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    violations = watch_csp(context)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(make_sign_in_link(live_app.shop_id, live_app.services.config, live_app.services))
    page.click("nav >> text=Planning")
    assert "Planning has not run yet" in page.inner_text("[data-last-run]")
    page.click("button:has-text('Run planning now')")
    assert "Planned 2 SKU(s)" in page.inner_text(".flash")
    assert page.locator('[data-sku="TEE"]').count() == 1
    assert page.locator('[data-draft]').count() == 1
    shot(page, "planning")

    page.click('[data-sku="TEE"] a')
    assert page.locator('svg[data-chart="forecast"] path.line-forecast').count() == 1
    assert int(page.inner_text("[data-suggested]")) > 0
    shot(page, "planning-sku")

    page.click("text=Planning")
    page.click('[data-draft] button:has-text("Approve")')
    assert "approved" in page.inner_text(".flash")
    ships = today + timedelta(days=5 + 1)  # the draft's arrival (Acme's 5 days) + 1 handling day
    live_app.wait_for(lambda: store.orders[order["id"]]["eta"] == ships.isoformat(), "the ETA of the approved order")
    assert ships.isoformat() != first_eta
    page.click('[data-export="Acme Textiles"] button:has-text("Email to supplier")')
    assert "emailed to Acme Textiles" in page.inner_text(".flash")
    shot(page, "planning-approved")

    page.click("text=Dashboard")
    assert "Ada Lovelace" in page.inner_text("#orders")
    shot(page, "dashboard-after-planning")
    context.close()
    assert violations == []


def test_the_csp_watch_sees_a_violation_and_the_policy_stops_injected_script(live_app: LiveApp, chromium) -> None:  # type: ignore[no-untyped-def]
    """The control for the checks above: script injected into a page without the nonce does not run, and
    the watch reports it. Also, the widget shows nothing for a SKU the shop does not have."""
    live_app.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=30)
    context = chromium.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(f"{live_app.url}/storefront/sandbox/{DOMAIN}/")
    assert page.inner_text("h1") == "Made to wait for"
    assert violations == []
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.injected = true";
      document.body.appendChild(s);
    }""")
    assert page.evaluate("() => window.injected === undefined")
    deadline = time.monotonic() + 5
    while not violations and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert violations and "script-src" in " ".join(violations)

    page.goto(f"{live_app.url}/storefront/sandbox/{DOMAIN}/demo-product/TEE")
    page.evaluate("""() => {
      const el = document.querySelector("#eta");
      el.setAttribute("data-sku", "NO-SUCH-SKU");
      el.removeAttribute("data-status");
      window.BackorderEta.refresh(el);
    }""")
    # (a function, not an expression: Playwright evaluates expressions with eval, which the policy forbids)
    page.wait_for_function("() => document.querySelector('#eta').getAttribute('data-status') === 'unknown'")
    assert page.inner_text("#eta").strip() == ""
    context.close()
