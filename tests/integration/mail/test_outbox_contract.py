"""The outbox (connector.dispatch.outbox) sending email actions through connector.mail to a real SMTP server.

It checks the contract both sides rely on: one email per idempotency key, a mail server outage
retried with back-off and then delivered once, a refused recipient failed for good.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from connector.bootstrap import Services, build_services
from connector.config import Config
from connector.dispatch.outbox import Kind, enqueue
from connector.domain.model import Platform
from connector.mail import make_send_mail, sender_from_url
from connector.storage.tables import ActionRow
from tests.smtp_server import SmtpServer

FROM = "Backorder Connector <backorders@connector.example>"


def _payload(to: str = "anna@example.com") -> dict[str, Any]:
    return {
        "template": "backorder_confirmation",
        "to": to,
        "locale": "it-IT",
        "shop": {"name": "Bottega", "domain": "bottega.example", "timezone": "Europe/Rome", "currency": "EUR"},
        "order": {"id": "5001", "name": "#1001", "customer_name": "Anna"},
        "lines": [{"line_id": "11", "sku": "CUP", "title": "Tazza", "quantity": 2, "promised_on": "2026-12-10"}],
        "promised_on": "2026-12-10",
    }


class Mailer:
    """Points the outbox's send_mail at a URL that a test can change (the server goes down, comes back)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, payload: Any, key: str) -> None:
        make_send_mail(sender_from_url(self.url), FROM)(payload, key)


@pytest.fixture
def wired(config: Config, clock: Any, smtp_server: SmtpServer) -> Iterator[tuple[Services, Mailer, int]]:
    mailer = Mailer(smtp_server.url)
    services = build_services(config, clock=clock, send_mail=mailer)
    shop = services.shops.connect(Platform.SANDBOX, "bottega.example", name="Bottega")
    yield services, mailer, shop.id
    services.db.dispose()


def _enqueue(services: Services, shop_id: int, key: str, payload: dict[str, Any]) -> bool:
    with services.db.session() as s:
        return enqueue(
            s, shop_id=shop_id, order_id=None, kind=Kind.EMAIL, key=key, payload=payload, now=services.clock()
        )


def _row(services: Services, key: str) -> ActionRow:
    with services.db.session() as s:
        row = s.scalar(select(ActionRow).where(ActionRow.idempotency_key == key))
        assert row is not None
        s.expunge(row)
        return row


def test_an_email_action_is_sent_once(wired: tuple[Services, Mailer, int], smtp_server: SmtpServer) -> None:
    services, _, shop_id = wired
    assert _enqueue(services, shop_id, "g1:email:confirmation", _payload())
    assert not _enqueue(services, shop_id, "g1:email:confirmation", _payload())  # the same event again

    assert services.outbox.drain().done == 1
    assert services.outbox.drain().done == 0

    (mail,) = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Ordine #1001: alcuni articoli partiranno entro il 10 dicembre 2026"
    assert _row(services, "g1:email:confirmation").status == "done"


def test_mail_server_down_is_retried_then_delivered_once(
    wired: tuple[Services, Mailer, int], smtp_server: SmtpServer, clock: Any
) -> None:
    services, mailer, shop_id = wired
    mailer.url = "smtp://127.0.0.1:1?timeout=1"  # nothing listens there
    _enqueue(services, shop_id, "g1:email:confirmation", _payload())

    first = services.outbox.drain()
    assert (first.done, first.retried) == (0, 1)
    row = _row(services, "g1:email:confirmation")
    assert row.status == "pending" and row.attempts == 1
    assert "MailTemporaryError" in (row.last_error or "")
    assert services.outbox.drain().retried == 0  # backing off: not due yet

    mailer.url = smtp_server.url  # the server is back
    clock.advance(minutes=2)
    assert services.outbox.drain().done == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert _row(services, "g1:email:confirmation").status == "done"


def test_a_refused_recipient_fails_for_good(wired: tuple[Services, Mailer, int], smtp_server: SmtpServer) -> None:
    services, _, shop_id = wired
    smtp_server.refuse("gone@example.com")
    _enqueue(services, shop_id, "g1:email:confirmation", _payload(to="gone@example.com"))

    result = services.outbox.drain()
    assert (result.done, result.failed) == (0, 1)
    row = _row(services, "g1:email:confirmation")
    assert row.status == "failed"
    assert "550" in (row.last_error or "")


def test_a_payload_that_is_not_an_email_fails_for_good(wired: tuple[Services, Mailer, int]) -> None:
    services, _, shop_id = wired
    _enqueue(services, shop_id, "g1:email:broken", {**_payload(), "template": "no_such_email"})
    assert services.outbox.drain().failed == 1
    assert _row(services, "g1:email:broken").status == "failed"
