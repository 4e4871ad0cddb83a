"""Example email specs of every kind, for the mail tests (and anyone who needs a realistic email)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.mail.messages import (
    AuthorizationExpiring,
    BackorderConfirmation,
    Branding,
    DelayRefundOffer,
    EmailMessageSpec,
    EtaEarlier,
    EtaLater,
    MailLine,
    MessageContent,
    MessageKind,
    OnItsWay,
    PaymentRequest,
    PlannedAction,
    RefundConfirmation,
)

PROMISED = date(2026, 12, 10)
# 23:30 UTC on 30 November is already 1 December in Rome, still 30 November in Los Angeles
EXPIRES = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)

LINES = (
    MailLine("Espresso cup", 2, sku="CUP-ESP", promised_on=PROMISED),
    MailLine("Milk jug", 1, sku="JUG-1", promised_on=PROMISED),
)

BRANDING = Branding(
    shop_name="Bottega Verde",
    accent_color="#aa3311",
    logo_url="https://cdn.example.com/logo.png",
    sender_name="Bottega Verde Shop",
    reply_to="help@bottega.example",
    support_url="https://bottega.example/help",
)


def sample_content(kind: MessageKind, lines: tuple[MailLine, ...] = LINES) -> MessageContent:
    order = "#1001"
    match kind:
        case MessageKind.BACKORDER_CONFIRMATION:
            return BackorderConfirmation(
                order, lines, PROMISED, payment_held=True, other_lines_ship_now=True, order_url="https://s.example/o/1"
            )
        case MessageKind.ETA_LATER:
            return EtaLater(order, lines, previous_on=PROMISED, promised_on=date(2026, 12, 22))
        case MessageKind.ETA_EARLIER:
            return EtaEarlier(order, lines, previous_on=PROMISED, promised_on=date(2026, 12, 3))
        case MessageKind.DELAY_REFUND_OFFER:
            return DelayRefundOffer(
                order,
                lines,
                promised_on=PROMISED,
                refund_amount=Decimal("39.90"),
                accept_url="https://app.example/refund-offer/TOKEN/accept",
                keep_url="https://app.example/refund-offer/TOKEN/keep",
                offer_expires_at=EXPIRES,
                new_estimate_on=date(2026, 12, 24),
            )
        case MessageKind.REFUND_CONFIRMATION:
            return RefundConfirmation(order, lines, refund_amount=Decimal("1234.50"))
        case MessageKind.ON_ITS_WAY:
            return OnItsWay(order, lines[:1], still_waiting=lines[1:], tracking_url="https://track.example/1")
        case MessageKind.PAYMENT_REQUEST:
            return PaymentRequest(
                order, lines, amount=Decimal("52.00"), payment_url="https://pay.example/1", pay_by=EXPIRES
            )
        case MessageKind.AUTHORIZATION_EXPIRING:
            return AuthorizationExpiring(
                order,
                lines,
                amount=Decimal("52.00"),
                expires_at=EXPIRES,
                planned_action=PlannedAction.CAPTURE,
                customer_name="Anna Rossi",
                admin_url="https://admin.example/orders/1",
            )
    raise AssertionError(kind)


def sample_spec(kind: MessageKind = MessageKind.BACKORDER_CONFIRMATION, **overrides: Any) -> EmailMessageSpec:
    values: dict[str, Any] = {
        "to": "anna@example.com",
        "locale": "en",
        "timezone": "Europe/Rome",
        "currency": "EUR",
        "branding": BRANDING,
        "content": sample_content(kind),
        "recipient_name": "Anna Rossi",
    }
    values.update(overrides)
    return EmailMessageSpec(**values)
