"""The backorder decision for one order: a pure function of a frozen picture of the order.

`decide` compares the order's waiting lines (the backorders just recorded) with what we last did
to the order (`Flags`, stored as the order's ``bo_*`` columns) and returns the difference as
actions plus the new flags:

- lines start waiting: tag the order, hold fulfillment of the waiting lines (or of the whole order
  when the shop ships that kind of order complete), write the promised date, capture what ships
  now (when the shop captures per shipment), email the customer the ETA;
- the set of waiting lines changes: move the hold; announce (and, per shipment, capture) what ships now;
- the promised date moves: write it, and email the new date (an apology when later, good news
  when earlier);
- nothing waits any more: release the hold, untag, capture the rest, email "on its way";
- the order is cancelled: drop our state, cancel what is still pending, send nothing further.

Idempotency keys are relative to the order (whoever enqueues namespaces them by platform, shop and
order) and name the backorder *generation* (it grows each time the order starts waiting anew) and
what changed, so the same decision made twice enqueues nothing new.

Pure: the standard library and the common model only; no database, HTTP or framework. The applier
(`connector.backorders.lifecycle`) loads the picture and stores the decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.domain.charges import charges
from connector.domain.model import ActionKind, PaymentStatus

ZERO = Decimal(0)
CENT = Decimal("0.01")
CAPTURING = (PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_PAID)  # partly captured still holds the rest
BALANCE_DUE = (PaymentStatus.PENDING, PaymentStatus.PARTIALLY_PAID, PaymentStatus.AUTHORIZED)  # deferred: still owed


# --- the picture -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    name: str
    domain: str
    timezone: str | None = None
    locale: str | None = None
    platform: str | None = None  # names the shop in the customer's page link (issue 16)


@dataclass(frozen=True, slots=True)
class Settings:
    """The shop's settings a decision reads (see `connector.shops.shop_settings.ShopSettings`)."""

    backorder_tag: str = "backorder"
    retail_partial_shipments: bool = False
    reseller_partial_shipments: bool = True
    charge_policy: str = "authorize_then_capture"
    capture_per_shipment: bool = False
    notify_customers: bool = True
    email_languages: tuple[str, ...] = ("en", "it", "de", "fr", "es")
    sender_name: str = ""
    reply_to: str = ""
    brand_color: str = "#1f6feb"
    logo_url: str = ""
    merchant_email: str = ""
    payment_url: str = ""
    auth_expiry_policy: str = "request_payment"
    auth_warning_hours: int = 24
    authorization_validity_days: int = 7
    balance_collection: str = "on_fulfillment"  # deferred-payment orders: who collects the balance
    unpaid_balance_shipping: str = "wait"  # ... and whether the goods wait for it


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the order."""

    id: int
    external_id: str
    sku: str
    title: str
    quantity: int
    fulfilled_quantity: int = 0
    unit_price: Decimal | None = None
    requires_shipping: bool = True

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.fulfilled_quantity

    def amount(self, quantity: int) -> Decimal:
        return (self.unit_price or ZERO) * quantity


@dataclass(frozen=True, slots=True)
class Waiting:
    """The backordered part of a line, and its promise."""

    line_id: int
    quantity: int
    promised_on: date | None = None


@dataclass(frozen=True, slots=True)
class Released:
    """A backorder released in this generation whose shipping the customer has not been told yet."""

    backorder_id: int
    line_id: int
    sku: str
    peak_quantity: int


@dataclass(frozen=True, slots=True)
class Flags:
    """What we last did to the order in the store (the order's ``bo_*`` columns)."""

    generation: int = 0
    tagged: bool = False
    held: bool = False
    promised_on: date | None = None
    hold_signature: str | None = None
    promise_version: int = 0


@dataclass(frozen=True, slots=True)
class Payment:
    status: str = PaymentStatus.PAID
    total: Decimal | None = None  # None: the sum of the lines
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    authorized_at: datetime | None = None  # the authorization's expiry is counted from here
    deferred: bool = False  # bought with "pay when it ships": nothing authorized, the balance collected later


@dataclass(frozen=True, slots=True)
class Order:
    external_id: str
    name: str
    currency: str
    customer_email: str | None = None
    customer_name: str | None = None
    customer_locale: str | None = None
    is_reseller: bool = False
    cancelled: bool = False
    ships_partial: bool | None = None  # the customer asked to ship what is ready now (issue 16)


@dataclass(frozen=True, slots=True)
class OrderPicture:
    """Everything the decision needs about one order, frozen at one moment."""

    shop: Shop
    settings: Settings
    order: Order
    lines: tuple[Line, ...]  # in the order's line order
    waiting: tuple[Waiting, ...] = ()
    released: tuple[Released, ...] = ()
    flags: Flags = Flags()
    payment: Payment = Payment()
    now: datetime | None = None  # only decisions about time (`authorization_decision`) read it

    @property
    def partial(self) -> bool:
        """Whether what is in stock ships now (else the order ships complete)."""
        s = self.settings
        if self.order.ships_partial:
            return True
        return s.reseller_partial_shipments if self.order.is_reseller else s.retail_partial_shipments

    @property
    def captures_later(self) -> bool:
        """Whether we hold an authorization to capture from."""
        return (
            self.settings.charge_policy == "authorize_then_capture"
            and self.payment.status in CAPTURING
            and not self.payment.deferred
        )

    @property
    def balance_owed(self) -> bool:
        """A deferred-payment order whose balance this service collects and which is not paid yet."""
        return (
            self.payment.deferred
            and self.settings.balance_collection == "when_stock_arrives"
            and self.payment.status in BALANCE_DUE
        )

    @property
    def can_email(self) -> bool:
        return self.settings.notify_customers and bool(self.order.customer_email)

    def outstanding(self) -> Decimal:
        """What is authorized and neither captured nor refunded yet."""
        p = self.payment
        total = p.total if p.total is not None else sum((li.amount(li.quantity) for li in self.lines), ZERO)
        return total - p.captured - p.refunded


# --- the decision ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    key: str  # relative to the order
    payload: Mapping[str, Any]
    captures: Decimal | None = None  # a capture: count this much as captured once the action is enqueued
    # False for an email that only reports the decision (the wait and its date): it goes out without
    # waiting for the order's store actions decided before it (the tag, the hold, the date's note).
    waits_for_store: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    flags: Flags
    actions: tuple[Action, ...] = ()
    announced: frozenset[int] = frozenset()  # released backorders whose shipping is now announced
    cancel_pending: bool = False  # the order was cancelled: its pending actions must not run


def capture_action(amount: Decimal, key: str, currency: str) -> Action | None:
    """Capture part of the authorization (nothing to capture: no action)."""
    if amount <= 0:
        return None
    return Action(ActionKind.CAPTURE, key, {"amount": str(amount.quantize(CENT)), "currency": currency}, amount)


def signature(line_ids: Sequence[str]) -> str:
    return hashlib.sha1(",".join(sorted(line_ids)).encode(), usedforsecurity=False).hexdigest()[:12]


def decide(p: OrderPicture) -> Decision:
    """The actions that bring the store and the customer up to date with the order's picture."""
    if p.order.cancelled:
        # Nothing further goes to the store or the customer for a cancelled order.
        flags = replace(p.flags, held=False, tagged=False, promised_on=None, hold_signature=None)
        return Decision(flags, cancel_pending=True)
    if p.waiting:
        return _keep_waiting(p) if p.flags.held else _start_waiting(p)
    if p.flags.held:
        return _release(p)
    return Decision(p.flags)


@dataclass(slots=True)
class _Waits:
    """What follows from the waiting lines: the promise and the hold."""

    waiting: list[Waiting]
    promised: date | None
    held: list[tuple[str, int]]
    sig: str = field(init=False)

    def __post_init__(self) -> None:
        self.sig = signature([f"{lid}x{q}" for lid, q in self.held])

    def hold_payload(self) -> dict[str, Any]:
        return {"lines": [{"line_id": lid, "quantity": q} for lid, q in self.held], "reason": "awaiting stock"}

    def eta_payload(self) -> dict[str, Any]:
        promised = self.promised
        note = f"Backordered items are promised to ship by {promised.isoformat()}." if promised else ""
        return {"eta": promised and promised.isoformat(), "note": note}


def _waits(p: OrderPicture) -> _Waits:
    waiting = sorted(p.waiting, key=lambda w: w.line_id)
    lines = {li.id: li for li in p.lines}
    promised = max((w.promised_on for w in waiting if w.promised_on), default=None)
    if p.partial:
        held = [(lines[w.line_id].external_id, w.quantity) for w in waiting]
    else:
        held = [(li.external_id, li.open_quantity) for li in p.lines if li.requires_shipping and li.open_quantity > 0]
    return _Waits(waiting, promised, held)


def _line_view(p: OrderPicture, w: Waiting) -> dict[str, Any]:
    li = next(li for li in p.lines if li.id == w.line_id)
    return {
        "line_id": li.external_id,
        "sku": li.sku,
        "title": li.title,
        "quantity": w.quantity,
        "promised_on": w.promised_on.isoformat() if w.promised_on else None,
    }


def _start_waiting(p: OrderPicture) -> Decision:
    w = _waits(p)
    gen, version = p.flags.generation + 1, (p.flags.promise_version or 0) + 1
    start = {"tags": [p.settings.backorder_tag], **w.hold_payload(), **w.eta_payload()}
    actions: list[Action | None] = [Action(ActionKind.START_BACKORDER, f"g{gen}:start", start)]
    if p.captures_later and p.partial and p.settings.capture_per_shipment:
        waiting_qty = {li.id: sum(x.quantity for x in w.waiting if x.line_id == li.id) for li in p.lines}
        shipping_now = sum(
            (li.amount(li.open_quantity - waiting_qty[li.id]) for li in p.lines if li.requires_shipping), ZERO
        )
        actions.append(capture_action(shipping_now, f"g{gen}:capture:start", p.order.currency))
    if p.can_email:
        promised_on = w.promised and w.promised.isoformat()
        lines = [_line_view(p, x) for x in w.waiting]
        payload = order_email("backorder_confirmation", p, lines, promised_on=promised_on)
        actions.append(Action(ActionKind.EMAIL, f"g{gen}:email:confirmation", payload,
                              waits_for_store=_charges(actions)))
    flags = Flags(gen, True, True, w.promised, w.sig, version)
    return Decision(flags, keep_actions(actions))


def _keep_waiting(p: OrderPicture) -> Decision:
    w, flags, gen = _waits(p), p.flags, p.flags.generation
    actions: list[Action | None] = []
    announced: frozenset[int] = frozenset()
    if w.sig != flags.hold_signature:
        actions.append(Action(ActionKind.HOLD, f"g{gen}:hold:{w.sig}", w.hold_payload()))  # exactly these lines
        released = sorted(p.released, key=lambda r: r.backorder_id)
        if released and p.partial:
            actions.extend(_announce_shipped(p, w, released))
            announced = frozenset(r.backorder_id for r in released)
        flags = replace(flags, hold_signature=w.sig)
    if w.promised != flags.promised_on:
        # A date may come back to one it had before (17 -> 7 -> 17 Nov): each change is news.
        previous = flags.promised_on
        version = (flags.promise_version or 0) + 1
        actions.append(Action(ActionKind.SET_ETA, f"g{gen}:eta:v{version}", w.eta_payload()))
        if p.can_email and w.promised and previous:
            template = "eta_later" if w.promised > previous else "eta_earlier"
            payload = order_email(
                template,
                p,
                [_line_view(p, x) for x in w.waiting],
                promised_on=w.promised.isoformat(),
                previous_promised_on=previous.isoformat(),
            )
            actions.append(Action(ActionKind.EMAIL, f"g{gen}:email:{template}:v{version}", payload,
                                  waits_for_store=_charges(actions)))
        flags = replace(flags, promised_on=w.promised, promise_version=version)
    return Decision(flags, keep_actions(actions), announced)


def _charges(decided: Sequence[Action | None]) -> bool:
    """Whether an email that tells the customer a decision (the wait, its date) must wait for the
    store: only when a capture decided with it comes first, as the email says what was charged.
    Otherwise it goes at once, however slow the store is with the tag, the hold and the date."""
    return any(a is not None and a.kind == ActionKind.CAPTURE for a in decided)


def _announce_shipped(p: OrderPicture, w: _Waits, released: list[Released]) -> list[Action | None]:
    """Some lines of a partially shipping order stopped waiting: capture them, and tell the customer."""
    gen, lines = p.flags.generation, {li.id: li for li in p.lines}
    actions: list[Action | None] = []
    if p.captures_later and p.settings.capture_per_shipment:
        amount = sum((lines[r.line_id].amount(r.peak_quantity) for r in released), ZERO)
        actions.append(capture_action(amount, f"g{gen}:capture:{w.sig}", p.order.currency))
    if p.can_email:
        shipped = [
            {
                "line_id": lines[r.line_id].external_id,
                "sku": r.sku,
                "title": lines[r.line_id].title,
                "quantity": r.peak_quantity,
            }
            for r in released
        ]
        payload = order_email("on_its_way", p, shipped, still_waiting=[_line_view(p, x) for x in w.waiting])
        actions.append(Action(ActionKind.EMAIL, f"g{gen}:email:shipping:{w.sig}", payload))
    return actions


def balance_key(generation: int, attempt: int = 1) -> str:
    """The key of a balance charge: one per order, backorder generation and attempt (issue 10)."""
    return f"g{generation}:balance:a{attempt}"


def _release(p: OrderPicture) -> Decision:
    gen = p.flags.generation
    collect: Action | None = None
    if p.balance_owed:
        # The stock is in: charge the balance to the customer's saved method. Under the default policy
        # the goods wait for the payment (the hold stays; the order is decided on again once paid).
        collect = Action(ActionKind.COLLECT_BALANCE, balance_key(gen), {"currency": p.order.currency})
        if p.settings.unpaid_balance_shipping == "wait":
            return Decision(p.flags, (collect,))
    actions: list[Action | None] = [
        Action(ActionKind.RELEASE, f"g{gen}:release:final", {}),
        Action(ActionKind.REMOVE_TAGS, f"g{gen}:untag", {"tags": [p.settings.backorder_tag]}),
    ]
    if p.captures_later:
        actions.append(capture_action(p.outstanding(), f"g{gen}:capture:final", p.order.currency))
    shipping = [
        {"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": li.open_quantity}
        for li in p.lines
        if li.requires_shipping and li.open_quantity > 0
    ]
    if p.can_email and shipping:
        payload = order_email("on_its_way", p, shipping, still_waiting=[])
        actions.append(Action(ActionKind.EMAIL, f"g{gen}:email:on_its_way", payload))
    actions.append(collect)  # "ship anyway": the goods go first, the balance is charged after
    flags = replace(p.flags, held=False, tagged=False, promised_on=None, hold_signature=None)
    return Decision(flags, keep_actions(actions), frozenset(r.backorder_id for r in p.released))


def order_email(template: str, p: OrderPicture, lines: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
    return email_payload(template, p.shop, p.settings, p.order, lines, **charge_context(p), **context)


def charge_context(p: OrderPicture) -> dict[str, Any]:
    """What the customer was charged so far and what is left to charge when the rest ships (emails say both)."""
    pay = p.payment
    found = charges(
        pay.status, pay.total, (li.amount(li.quantity) for li in p.lines), pay.captured, pay.refunded, p.captures_later
    )
    if found is None:
        return {}
    return {"charged_now": str(found.now), "charged_later": str(found.later)}


def keep_actions(actions: Sequence[Action | None]) -> tuple[Action, ...]:
    return tuple(a for a in actions if a is not None)


# --- what every email about an order carries ---------------------------------------------------


def email_locale(customer: str | None, shop: str | None, languages: tuple[str, ...]) -> str:
    """The customer's language when the shop writes emails in it, else the shop's, else the first it uses.

    Locales keep their region ("it-IT") so dates and money are formatted the customer's way."""
    allowed = {lang.split("-")[0].split("_")[0].lower() for lang in languages} or {"en"}
    for locale in (customer, shop):
        if locale and locale.replace("_", "-").split("-")[0].lower() in allowed:
            return locale
    return languages[0] if languages else "en"


def email_payload(
    template: str, shop: Shop, settings: Settings, order: Order, lines: list[dict[str, Any]], **context: Any
) -> dict[str, Any]:
    """Everything an email needs, frozen at decision time (the send may happen later)."""
    s = settings
    return {
        "template": template,
        "to": order.customer_email,
        "locale": email_locale(order.customer_locale, shop.locale, s.email_languages),
        "shop": {
            "name": shop.name,
            "domain": shop.domain,
            "platform": shop.platform,
            "timezone": shop.timezone,
            "currency": order.currency,
            "sender_name": s.sender_name or shop.name,
            "reply_to": s.reply_to,
            "brand_color": s.brand_color,
            "logo_url": s.logo_url,
        },
        "order": {"id": order.external_id, "name": order.name, "customer_name": order.customer_name},
        "lines": lines,
        **context,
    }
