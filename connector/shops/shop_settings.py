"""A shop's backorder settings: defaults, types and validation (what the merchant's settings page edits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

CHARGE_POLICIES = ("authorize_then_capture", "capture_at_purchase")
AUTH_EXPIRY_POLICIES = ("capture_now", "request_payment")
# --- deferred payment (Shopify purchase option "pay when it ships"; issue 10) ---
# on_fulfillment: Shopify charges the balance when the order is fulfilled; when_stock_arrives: the service
# charges the customer's vaulted payment method (mandate) as soon as the waiting lines are released.
BALANCE_COLLECTION_POLICIES = ("on_fulfillment", "when_stock_arrives")
# wait: the goods wait until the balance is paid; ship: they ship and the balance is chased afterwards.
UNPAID_BALANCE_POLICIES = ("wait", "ship")
MAX_BALANCE_RETRY_HOURS = 24 * 30
SHIPPING_PAYERS = ("shop", "customer")  # who pays a shipment the customer asked for ahead of the rest
MAX_ORDER_QUANTITY = 1_000_000  # what a shop may set as its own cap (see `connector.domain.store_limits`)


class SettingsError(ValueError):
    """Invalid settings; `errors` maps each field to a message a merchant can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ShopSettings:
    default_lead_time_days: int = 14
    lead_time_spread_days: float = 3.0
    promise_quantile: float = 0.9
    handling_days: int = 1
    grace_days: int = 2  # after a missed promise, before the refund offer
    refund_offer_valid_days: int = 14
    backorder_tag: str = "backorder"
    retail_partial_shipments: bool = False  # False: ship complete; True: ship what is available
    reseller_partial_shipments: bool = True
    reseller_tags: tuple[str, ...] = ("reseller", "wholesale")
    charge_policy: str = "authorize_then_capture"
    # Capture each partial shipment as it ships. Needs an authorization that takes several captures
    # (Shopify Plus multi-capture, most card gateways); otherwise the whole charge is captured once,
    # when the last waiting line ships.
    capture_per_shipment: bool = False
    # An authorization about to lapse: email the customer a payment request, capture nothing early (issue 10).
    auth_expiry_policy: str = "request_payment"
    auth_warning_hours: int = 24
    authorization_validity_days: int = 7  # Shopify Payments: 7; other gateways differ
    notify_customers: bool = True
    email_languages: tuple[str, ...] = ("en", "it", "de", "fr", "es")
    sender_name: str = ""
    reply_to: str = ""
    brand_color: str = "#1f6feb"
    logo_url: str = ""
    merchant_email: str = ""
    payment_url: str = ""  # where a payment request sends the customer (default: the store's account page)
    dropship_value_threshold: float = 0.0
    dropship_shortage_threshold: int = 0
    dropship_margin_days: int = 3
    po_receipt_updates_store_stock: bool = True
    service_level: float = 0.95
    backorder_penalty_per_unit_day: float = 0.5
    # The most units planning proposes for one SKU on one purchase order; a larger suggestion is
    # capped and flagged on the planning page (a forecast gone wrong must not order a warehouse).
    max_order_quantity: int = 10_000
    # ---- selling only what we can promise (issue 10) ----
    # The longest wait (days from the order) the store may sell into: when the P90 ship date of one
    # more unit would fall later, the store stops selling the item on backorder until supply brings
    # the promise back. None (the default): no limit, the store sells however long the wait.
    longest_wait_days: int | None = None
    # --- deferred payment (issue 10): the deposit at checkout, who collects the balance and when,
    # whether goods wait for it, and the hours between charge attempts after a failure (bounded).
    deposit_percent: int = 0
    balance_collection: str = "on_fulfillment"
    unpaid_balance_shipping: str = "wait"
    balance_retry_hours: tuple[int, ...] = (24, 72, 168)
    # --- the customer's page (issue 16) ---
    # A customer whose order ships complete may ask on their page to ship what is ready now.
    customer_ship_ahead: bool = True
    # Who pays the extra shipment: "shop", or "customer" (the fee below is shown before they confirm,
    # and the merchant's note on the order asks them to collect it).
    ship_ahead_shipping_paid_by: str = "shop"
    ship_ahead_shipping_fee: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ShopSettings:
        """Read stored settings, keeping unknown keys in `extra` and defaults for the missing ones."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"extra"}
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data and f.name in known:
                value = data.pop(f.name)
                if isinstance(getattr(cls, f.name, None), tuple) or f.name in (
                    "reseller_tags", "email_languages", "balance_retry_hours"):
                    value = tuple(value)
                values[f.name] = value
        values["extra"] = {k: v for k, v in data.items() if k != "extra"}
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        errors: dict[str, str] = {}
        if not 0 <= self.default_lead_time_days <= 365:
            errors["default_lead_time_days"] = "must be between 0 and 365 days"
        if not 0 <= self.lead_time_spread_days <= 180:
            errors["lead_time_spread_days"] = "must be between 0 and 180 days"
        if not 0.5 <= self.promise_quantile < 1:
            errors["promise_quantile"] = "must be at least 0.5 (the median) and below 1"
        if not 0 <= self.handling_days <= 30:
            errors["handling_days"] = "must be between 0 and 30 days"
        if not 0 <= self.grace_days <= 60:
            errors["grace_days"] = "must be between 0 and 60 days"
        if not 1 <= self.refund_offer_valid_days <= 90:
            errors["refund_offer_valid_days"] = "must be between 1 and 90 days"
        if not self.backorder_tag.strip() or "," in self.backorder_tag:
            errors["backorder_tag"] = "must be one tag, without commas"
        if self.charge_policy not in CHARGE_POLICIES:
            errors["charge_policy"] = f"must be one of {', '.join(CHARGE_POLICIES)}"
        if self.auth_expiry_policy not in AUTH_EXPIRY_POLICIES:
            errors["auth_expiry_policy"] = f"must be one of {', '.join(AUTH_EXPIRY_POLICIES)}"
        if not 1 <= self.authorization_validity_days <= 30:
            errors["authorization_validity_days"] = "must be between 1 and 30 days"
        if not 1 <= self.auth_warning_hours <= 144:
            errors["auth_warning_hours"] = "must be between 1 and 144 hours"
        if not 0.5 <= self.service_level < 1:
            errors["service_level"] = "must be at least 0.5 and below 1"
        if isinstance(self.max_order_quantity, bool) or not isinstance(self.max_order_quantity, int) or not (
            1 <= self.max_order_quantity <= MAX_ORDER_QUANTITY
        ):
            errors["max_order_quantity"] = f"must be a whole number between 1 and {MAX_ORDER_QUANTITY:,}"
        errors.update(_selling_limit_errors(self))
        errors.update(self._deferred_payment_errors())
        if self.ship_ahead_shipping_paid_by not in SHIPPING_PAYERS:
            errors["ship_ahead_shipping_paid_by"] = f"must be one of {', '.join(SHIPPING_PAYERS)}"
        if not 0 <= self.ship_ahead_shipping_fee <= 1000:
            errors["ship_ahead_shipping_fee"] = "must be between 0 and 1000"
        if errors:
            raise SettingsError(errors)

    def _deferred_payment_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if isinstance(self.deposit_percent, bool) or not isinstance(self.deposit_percent, int) or not (
            0 <= self.deposit_percent <= 99
        ):
            errors["deposit_percent"] = "must be a whole percentage from 0 to 99"
        if self.balance_collection not in BALANCE_COLLECTION_POLICIES:
            errors["balance_collection"] = f"must be one of {', '.join(BALANCE_COLLECTION_POLICIES)}"
        if self.unpaid_balance_shipping not in UNPAID_BALANCE_POLICIES:
            errors["unpaid_balance_shipping"] = f"must be one of {', '.join(UNPAID_BALANCE_POLICIES)}"
        hours = self.balance_retry_hours
        if not 0 <= len(hours) <= 10 or any(
            isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_BALANCE_RETRY_HOURS for h in hours
        ):
            errors["balance_retry_hours"] = (
                f"at most 10 waits, each a whole number of hours from 1 to {MAX_BALANCE_RETRY_HOURS}")
        return errors

    def to_mapping(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        data["reseller_tags"] = list(self.reseller_tags)
        data["email_languages"] = list(self.email_languages)
        data["balance_retry_hours"] = list(self.balance_retry_hours)
        return {**extra, **data}


# ---- selling only what we can promise (issue 10) ----------------------------------------------

LONGEST_WAIT_MAX_DAYS = 730


def _selling_limit_errors(settings: ShopSettings) -> dict[str, str]:
    wait = settings.longest_wait_days
    if wait is not None and (
        isinstance(wait, bool) or not isinstance(wait, int) or not 1 <= wait <= LONGEST_WAIT_MAX_DAYS
    ):
        message = f"leave it empty for no limit, or a whole number of days from 1 to {LONGEST_WAIT_MAX_DAYS}"
        return {"longest_wait_days": message}
    return {}
