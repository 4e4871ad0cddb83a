"""What an email says, as plain values: one content dataclass per message kind.

An `EmailMessageSpec` is everything needed to render one email: who it goes to, in which
language and time zone, with which shop branding, and the facts of the message (its
`content`). Specs are frozen, validated on construction, and round-trip through JSON
(`connector.mail.serialize`) so the outbox can store one and render it when it runs.

Dates the customer is promised are `date` values (already in the shop's calendar); moments
(an offer's or an authorization's expiry) are `datetime` values, converted into the shop's
time zone when rendered. Money is `Decimal` in the spec's `currency`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connector.domain.model import Shop


class MessageKind(StrEnum):
    BACKORDER_CONFIRMATION = "backorder_confirmation"
    ETA_LATER = "eta_later"
    ETA_EARLIER = "eta_earlier"
    DELAY_REFUND_OFFER = "delay_refund_offer"
    REFUND_CONFIRMATION = "refund_confirmation"
    ON_ITS_WAY = "on_its_way"
    PAYMENT_REQUEST = "payment_request"
    AUTHORIZATION_EXPIRING = "authorization_expiring"  # to the merchant


class PlannedAction(StrEnum):
    """What the connector will do about an authorization that is about to expire."""

    CAPTURE = "capture"  # capture the held payment before it lapses
    PAYMENT_REQUEST = "payment_request"  # let it lapse and ask the customer to pay again
    NONE = "none"  # nothing automatic: the merchant decides


_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+$")
DEFAULT_ACCENT = "#1f6f5c"


def _check_url(name: str, value: str | None) -> None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")


def _check_email(name: str, value: str | None) -> None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError(f"{name} is not an email address: {value!r}")


@dataclass(frozen=True, slots=True)
class Branding:
    """How the shop looks and signs its emails.

    Read from the shop's settings by `Branding.from_settings` / `from_shop` (the settings keys
    ``brand_color``, ``logo_url``, ``sender_name``, ``sender_email``, ``reply_to``,
    ``support_url``); anything missing or unusable falls back to a sane default.
    """

    shop_name: str
    accent_color: str = DEFAULT_ACCENT
    logo_url: str | None = None
    sender_name: str | None = None  # the From display name; defaults to the shop's name
    sender_email: str | None = None  # the From address; defaults to the deployment's MAIL_FROM
    reply_to: str | None = None
    support_url: str | None = None

    def __post_init__(self) -> None:
        if not self.shop_name.strip():
            raise ValueError("shop_name is empty")
        if not _HEX_COLOUR.match(self.accent_color):
            # it goes into a style attribute: only a plain hex colour is safe there
            raise ValueError(f"accent_color must be a hex colour like #1f6f5c, got {self.accent_color!r}")
        _check_url("logo_url", self.logo_url)
        _check_url("support_url", self.support_url)
        _check_email("sender_email", self.sender_email)
        _check_email("reply_to", self.reply_to)

    @property
    def from_name(self) -> str:
        return self.sender_name or self.shop_name

    @classmethod
    def from_settings(cls, shop_name: str, settings: Mapping[str, Any]) -> Branding:
        """Branding from a shop's settings, dropping (not failing on) values that are unusable."""
        if not shop_name.strip():
            raise ValueError("shop_name is empty")
        values: dict[str, Any] = {}
        for key, name in _SETTINGS_KEYS.items():
            value = settings.get(key)
            if isinstance(value, str) and value.strip():
                values[name] = value.strip()
        kept: dict[str, Any] = {"shop_name": shop_name.strip()}
        for name, value in values.items():
            try:
                cls(**{**kept, name: value})
            except ValueError:
                continue  # e.g. a colour that is not a hex colour: keep the default
            kept[name] = value
        return cls(**kept)

    @classmethod
    def from_shop(cls, shop: Shop) -> Branding:
        return cls.from_settings(shop.name.strip() or shop.domain, shop.settings)


_SETTINGS_KEYS = {
    "brand_color": "accent_color",
    "logo_url": "logo_url",
    "sender_name": "sender_name",
    "sender_email": "sender_email",
    "reply_to": "reply_to",
    "support_url": "support_url",
}


@dataclass(frozen=True, slots=True)
class MailLine:
    """One order line as the email shows it."""

    title: str
    quantity: int
    sku: str | None = None
    promised_on: date | None = None  # this line's own promised date, when lines differ

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"line {self.title!r}: quantity must be at least 1, got {self.quantity}")


def _check_content(content: Any) -> None:
    """Required fields are present (dataclasses do not check types) and there is a line to show."""
    for f in dataclasses.fields(content):
        value = getattr(content, f.name)
        if value is None and "None" not in str(f.type):
            raise ValueError(f"{type(content).__name__}: {f.name} is required")
        if f.name in ("lines", "still_waiting") and (
            not isinstance(value, tuple) or not all(isinstance(li, MailLine) for li in value)
        ):
            raise ValueError(f"{type(content).__name__}: {f.name} must be a tuple of MailLine")
    if not content.lines:
        raise ValueError("the message needs at least one line")


def _positive(name: str, amount: Decimal | None) -> None:
    if amount is not None and amount < 0:
        raise ValueError(f"{name} must not be negative, got {amount}")


@dataclass(frozen=True, slots=True)
class BackorderConfirmation:
    """Some lines are backordered: what waits, and the date we promise."""

    kind: ClassVar[MessageKind] = MessageKind.BACKORDER_CONFIRMATION
    order_name: str
    lines: tuple[MailLine, ...]
    promised_on: date | None  # None: no date can be promised yet (no supplier date known)
    payment_held: bool = False  # the charge waits until the lines ship
    other_lines_ship_now: bool = False
    order_url: str | None = None
    charged_now: Decimal | None = None  # charged so far (issue 16: every email about a waiting order says it)
    charged_later: Decimal | None = None  # to be charged when the waiting items ship

    def __post_init__(self) -> None:
        _check_content(self)
        _check_url("order_url", self.order_url)


@dataclass(frozen=True, slots=True)
class EtaLater:
    """The promised date moved later: the new date, at once, with an apology."""

    kind: ClassVar[MessageKind] = MessageKind.ETA_LATER
    order_name: str
    lines: tuple[MailLine, ...]
    previous_on: date
    promised_on: date
    order_url: str | None = None
    charged_now: Decimal | None = None  # charged so far (issue 16: every email about a waiting order says it)
    charged_later: Decimal | None = None  # to be charged when the waiting items ship

    def __post_init__(self) -> None:
        _check_content(self)
        if self.promised_on <= self.previous_on:
            raise ValueError(f"EtaLater needs a later date: {self.promised_on} is not after {self.previous_on}")
        _check_url("order_url", self.order_url)


@dataclass(frozen=True, slots=True)
class EtaEarlier:
    """The promised date moved earlier: good news."""

    kind: ClassVar[MessageKind] = MessageKind.ETA_EARLIER
    order_name: str
    lines: tuple[MailLine, ...]
    previous_on: date
    promised_on: date
    order_url: str | None = None
    charged_now: Decimal | None = None  # charged so far (issue 16: every email about a waiting order says it)
    charged_later: Decimal | None = None  # to be charged when the waiting items ship

    def __post_init__(self) -> None:
        _check_content(self)
        if self.promised_on >= self.previous_on:
            raise ValueError(f"EtaEarlier needs an earlier date: {self.promised_on} is not before {self.previous_on}")
        _check_url("order_url", self.order_url)


@dataclass(frozen=True, slots=True)
class DelayRefundOffer:
    """The promise passed without stock: apologise and offer a one-click refund (or keep waiting)."""

    kind: ClassVar[MessageKind] = MessageKind.DELAY_REFUND_OFFER
    order_name: str
    lines: tuple[MailLine, ...]
    promised_on: date  # the date that passed
    refund_amount: Decimal
    accept_url: str  # signed link: take the refund
    keep_url: str  # signed link: keep waiting
    offer_expires_at: datetime
    new_estimate_on: date | None = None  # None: no new date known yet
    charged_now: Decimal | None = None  # charged so far (issue 16: every email about a waiting order says it)
    charged_later: Decimal | None = None  # to be charged when the waiting items ship
    order_url: str | None = None  # the customer's page of the order

    def __post_init__(self) -> None:
        _check_content(self)
        _positive("refund_amount", self.refund_amount)
        _check_url("accept_url", self.accept_url)
        _check_url("keep_url", self.keep_url)


@dataclass(frozen=True, slots=True)
class RefundConfirmation:
    """The customer took the refund."""

    kind: ClassVar[MessageKind] = MessageKind.REFUND_CONFIRMATION
    order_name: str
    lines: tuple[MailLine, ...]
    refund_amount: Decimal

    def __post_init__(self) -> None:
        _check_content(self)
        _positive("refund_amount", self.refund_amount)


@dataclass(frozen=True, slots=True)
class OnItsWay:
    """Stock arrived: the waiting lines are shipping."""

    kind: ClassVar[MessageKind] = MessageKind.ON_ITS_WAY
    order_name: str
    lines: tuple[MailLine, ...]  # what ships now
    still_waiting: tuple[MailLine, ...] = ()  # a partial shipment: what still waits, with its dates
    tracking_url: str | None = None
    order_url: str | None = None
    charged_now: Decimal | None = None  # charged so far (issue 16: every email about a waiting order says it)
    charged_later: Decimal | None = None  # to be charged when the waiting items ship

    def __post_init__(self) -> None:
        _check_content(self)
        _check_url("tracking_url", self.tracking_url)
        _check_url("order_url", self.order_url)


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """The card authorization lapsed (or will), or a deferred balance could not be charged: ask the
    customer to pay (again) through the payment link."""

    kind: ClassVar[MessageKind] = MessageKind.PAYMENT_REQUEST
    order_name: str
    lines: tuple[MailLine, ...]
    amount: Decimal
    payment_url: str
    pay_by: datetime | None = None
    # "authorization_lapsed" (the card hold ran out) or "balance_failed" (a "pay when it ships" balance
    # could not be charged to the saved card: `reason` says why, `goods_wait` whether the items wait for it)
    situation: str = "authorization_lapsed"
    reason: str | None = None
    goods_wait: bool = True
    order_url: str | None = None  # the customer's page of the order (issue 16)

    def __post_init__(self) -> None:
        _check_content(self)
        _positive("amount", self.amount)
        _check_url("payment_url", self.payment_url)
        if self.situation not in ("authorization_lapsed", "balance_failed"):
            raise ValueError(f"situation: unknown {self.situation!r}")


@dataclass(frozen=True, slots=True)
class AuthorizationExpiring:
    """To the merchant: an order's payment authorization expires soon while lines still wait."""

    kind: ClassVar[MessageKind] = MessageKind.AUTHORIZATION_EXPIRING
    order_name: str
    lines: tuple[MailLine, ...]
    amount: Decimal
    expires_at: datetime
    planned_action: PlannedAction
    customer_name: str | None = None
    admin_url: str | None = None

    def __post_init__(self) -> None:
        _check_content(self)
        _positive("amount", self.amount)
        _check_url("admin_url", self.admin_url)


MessageContent = (
    BackorderConfirmation
    | EtaLater
    | EtaEarlier
    | DelayRefundOffer
    | RefundConfirmation
    | OnItsWay
    | PaymentRequest
    | AuthorizationExpiring
)

CONTENT_TYPES: Mapping[MessageKind, type[MessageContent]] = {
    cls.kind: cls
    for cls in (
        BackorderConfirmation,
        EtaLater,
        EtaEarlier,
        DelayRefundOffer,
        RefundConfirmation,
        OnItsWay,
        PaymentRequest,
        AuthorizationExpiring,
    )
}


@dataclass(frozen=True, slots=True)
class EmailMessageSpec:
    """One email to render and send.

    `locale` is the recipient's (the customer's, or the shop's for merchant emails), BCP 47
    or POSIX style ("it-IT", "it_IT", "it"); an unsupported one falls back to English.
    `timezone` is the shop's IANA zone; `currency` the order's ISO 4217 code.
    """

    to: str
    locale: str | None
    timezone: str
    currency: str
    branding: Branding
    content: MessageContent
    recipient_name: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # extra headers, e.g. List-Unsubscribe

    def __post_init__(self) -> None:
        _check_email("to", self.to)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"currency must be an ISO 4217 code like EUR, got {self.currency!r}")
        for name, value in self.headers.items():
            if "\n" in name or "\r" in name or "\n" in value or "\r" in value:
                raise ValueError(f"header {name!r} contains a line break")

    @property
    def kind(self) -> MessageKind:
        return self.content.kind

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
