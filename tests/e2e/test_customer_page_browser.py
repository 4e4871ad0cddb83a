"""The customer's "Your backorder" page in a real headless Chromium (issue 16), one test per choice.

Each test starts from the email the customer really received (a real SMTP server, aiosmtpd), opens
its link in the browser, picks a choice, confirms it on the second screen, then goes back and
confirms again (a double submission); the store (the sandbox store, which records every call the
connector makes to it) must see the release or the refund exactly once. Two customers in two
languages take each choice; screenshots of every screen go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from adapters.sandbox import forget_stores, register_store
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.webhooks import WebhookSender
from connector.bootstrap import Services, Worker, build_services
from connector.config import load_config
from connector.domain.model import Platform
from connector.web import create_app
from tests.e2e.conftest import free_port
from tests.e2e.test_app_browser import shot, watch_csp

pytestmark = pytest.mark.e2e

DOMAIN = "customer-e2e.sandbox"
SECRET = b"customer-e2e-webhook-secret"
LINK = re.compile(r"https?://127\.0\.0\.1:\d+/backorder/[A-Za-z0-9._-]+")


def customer(n: int, locale: str) -> dict:
    return {"id": f"c{n}", "email": f"customer{n}.{locale}@example.com", "name": f"Customer {n}", "locale": locale,
            "reseller": False}


@dataclass
class Live:
    url: str
    services: Services
    store: SandboxStore
    smtp: object

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def link_for(self, email: str) -> str:
        """The page link in the customer's backorder confirmation (as received by the SMTP server)."""
        def mail():  # type: ignore[no-untyped-def]
            return next((m for m in self.smtp.messages if m.rcpt_tos == (email,)
                         and m.message["X-Backorder-Kind"] == "backorder_confirmation"), None)

        self.wait_for(lambda: mail() is not None, f"the confirmation email to {email}")
        found = mail()
        match = LINK.search(found.text)
        assert match, found.text
        assert match.group(0) in found.html  # the HTML part carries the same link
        return match.group(0)

    def calls(self, action: str, order_id: str) -> list:
        return [c for c in self.store.calls if c[0] == action and c[1] == order_id]


@pytest.fixture
def live(tmp_path: Path, smtp_server) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    port = free_port()
    config = load_config({
        "SECRET_KEY": "customer-e2e-secret-key",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "APP_URL": f"http://127.0.0.1:{port}",
        "WORKER_ENABLED": "0",
        "SCHEDULER_ENABLED": "0",
        "STOCK_SETTLE_SECONDS": "0.2",
        "MAIL_URL": smtp_server.url,
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
    current = services.shops.settings(ref.id)
    services.shops.update_settings(ref.id, type(current).from_mapping(
        {**current.to_mapping(), "ship_ahead_shipping_paid_by": "customer", "ship_ahead_shipping_fee": 4.9}))
    sender = WebhookSender(f"{config.app_url}/webhooks/sandbox", DOMAIN, SECRET, first_delay=0.1)
    store.listeners.append(sender)
    sender.start()
    store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    store.add_product("MUG", "Ceramic mug", "14.00", 40)
    try:
        yield Live(config.app_url, services, store, smtp_server)
    finally:
        sender.stop()
        worker.stop()
        server.shutdown()
        serving.join(timeout=10)
        services.db.dispose()
        forget_stores()


SAVE_FORM = """() => { const f = document.querySelector('form.actions');
  return {action: f.action, fields: Object.fromEntries(new FormData(f))}; }"""
RESUBMIT = """(s) => { const f = document.createElement('form'); f.method = 'post'; f.action = s.action;
  for (const [k, v] of Object.entries(s.fields)) { const i = document.createElement('input');
    i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
  document.body.appendChild(f); f.submit(); }"""


def take(chromium, live: Live, person: dict, choice: str, tag: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """One customer's whole path: email link -> page -> choice -> confirm -> back -> confirm again.
    Returns the first and the repeated outcome's text."""
    context = chromium.new_context(viewport={"width": 900, "height": 900}, locale=person["locale"])
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(live.link_for(person["email"]))
    assert page.locator("html").get_attribute("lang").startswith(person["locale"])
    assert page.locator("[data-history] li").count() >= 1  # the promise, and why
    shot(page, f"customer-page-{tag}-{person['locale']}")
    page.click(f'button[value="{choice}"]')
    page.wait_for_selector("[data-confirm]")
    shot(page, f"customer-confirm-{tag}-{person['locale']}")
    form = page.evaluate(SAVE_FORM)
    page.click("[data-confirm]")
    page.wait_for_selector("[data-outcome]")
    first = page.inner_text("main")
    assert page.locator('[data-outcome="applied"]').count() == 1, first
    shot(page, f"customer-done-{tag}-{person['locale']}")
    with page.expect_navigation():  # the same confirmation posted again (a double submission, a reload)
        page.evaluate(RESUBMIT, form)
    page.wait_for_selector("[data-outcome]")
    again = page.inner_text("main")
    assert page.locator('[data-outcome="already"]').count() == 1, again
    context.close()
    assert violations == []
    return first, again


def place(live: Live, people: list[dict]) -> list[dict]:
    orders = [live.store.place_order(p, [("TEE", 2), ("MUG", 1)]) for p in people]
    for order in orders:  # every store action of the decision done (the tag, the hold, then the date)
        live.wait_for(lambda o=order: live.store.orders[o["id"]]["holds"] and live.store.orders[o["id"]]["eta"],
                      "the order to be held and promised a date")
    return orders


def test_ship_what_is_ready_now(live: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    people = [customer(1, "en"), customer(2, "it")]
    orders = place(live, people)
    for person, order in zip(people, orders, strict=True):
        held = len(live.calls("hold", order["id"]))
        first, _ = take(chromium, live, person, "ship_ready", "ship-ready")
        tee = f"{order['id']}-1"
        live.wait_for(lambda o=order: live.store.orders[o["id"]]["holds"] == [
            {"line_id": f"{o['id']}-1", "quantity": 2, "reason": "awaiting stock"}], "the mug's release")
        moves = live.calls("hold", order["id"])[held:]
        assert moves == [("hold", order["id"], [tee])]  # released once: only the tees stay held
    live.wait_for(lambda: sum(1 for c in live.store.calls if c[0] == "add_note" and "backorder page" in c[2]) == 2,
                  "the merchant's notes")


def test_cancel_the_waiting_lines(live: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    people = [customer(3, "de"), customer(4, "fr")]
    orders = place(live, people)
    for person, order in zip(people, orders, strict=True):
        first, _ = take(chromium, live, person, "cancel_waiting", "cancel")
        assert "50,00" in first  # both languages write euros with a comma
        live.wait_for(lambda o=order: live.calls("refund", o["id"]), "the refund")
        live.wait_for(lambda p=person: any(m.rcpt_tos == (p["email"],)
                                          and m.message["X-Backorder-Kind"] == "refund_confirmation"
                                          for m in live.smtp.messages), "the refund confirmation")
        refunds = live.calls("refund", order["id"])
        # once; the card was only authorized: the tees come off the order and no money moves back
        assert len(refunds) == 1 and refunds[0][2]["amount"] == "0.00"
        assert refunds[0][2]["lines"] == [{"line_id": f"{order['id']}-1", "quantity": 2}]
        assert live.store.orders[order["id"]]["holds"] == [] or live.calls("release", order["id"])


def test_keep_waiting(live: Live, chromium) -> None:  # type: ignore[no-untyped-def]
    people = [customer(5, "es"), customer(6, "it")]
    orders = place(live, people)
    for person, order in zip(people, orders, strict=True):
        before = len([c for c in live.store.calls if c[1] == order["id"]])
        take(chromium, live, person, "keep_waiting", "keep")
        live.wait_for(lambda o=order: any(c[0] == "add_note" and c[1] == o["id"] for c in live.store.calls),
                      "the merchant's note")
        after = [c[0] for c in live.store.calls if c[1] == order["id"]][before:]
        assert after == ["add_note"]  # nothing else changes in the store


def test_two_submissions_at_the_same_moment_refund_once(live: Live) -> None:
    """Two posts of the confirmation racing each other over HTTP (two server threads): one applies it."""
    import requests

    person = customer(7, "it")
    (order,) = place(live, [person])
    link = live.link_for(person["email"])
    browser_session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser_session.get(link, timeout=10).text).group(1)
    start = threading.Barrier(2)
    answers: list[str] = []

    def post() -> None:
        start.wait(timeout=10)
        reply = browser_session.post(f"{link}/choose", data={"csrf_token": token, "choice": "cancel_waiting"},
                                     timeout=30)
        answers.append(re.search(r'data-outcome="(\w+)"', reply.text).group(1))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers) == ["already", "applied"]
    live.wait_for(lambda: live.calls("refund", order["id"]), "the refund")
    with live.services.db.session() as s:
        from connector.storage.tables import ActionRow

        assert s.query(ActionRow).filter(ActionRow.kind == "refund_lines").count() == 1
    assert len(live.calls("refund", order["id"])) == 1
