"""The settings form: every `ShopSettings` field a merchant sets, grouped as the page shows them."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    ColorField,
    DecimalField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from connector.mail.i18n import available_languages
from connector.shops.shop_settings import SettingsError, ShopSettings

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="enter an email address like name@example.com")
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "de": "Deutsch", "fr": "Français", "es": "Español"}
PERCENTILES = [
    SelectChoice(0.5, "P50: the median (half arrive later)"),
    SelectChoice(0.75, "P75"),
    SelectChoice(0.8, "P80"),
    SelectChoice(0.85, "P85"),
    SelectChoice(0.9, "P90: 9 in 10 arrive by then (recommended)"),
    SelectChoice(0.95, "P95"),
    SelectChoice(0.98, "P98: very safe"),
]
SHIPPING = [
    SelectChoice("complete", "Ship complete, when everything is in"),
    SelectChoice("partial", "Ship what is in now, the rest later"),
]

SHIPPING_PAYER_CHOICES = [
    SelectChoice("shop", "The shop (free for the customer)"),
    SelectChoice("customer", "The customer (the fee below is shown before they confirm)"),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _tags(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))


def _hours(value: str) -> tuple[Any, ...]:
    """"24, 72" -> (24, 72); a part that is not a whole number is kept as text for the model to refuse."""
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    return tuple(int(p) if p.isdigit() else p for p in parts)


class SettingsForm(FlaskForm):
    # promises
    default_lead_time_days = IntegerField("Default lead time (days)", [InputRequired()])
    lead_time_spread_days = FloatField("Lead time spread (days, standard deviation)", [InputRequired()])
    promise_quantile = SelectField("Promise percentile", coerce=float, choices=PERCENTILES)
    handling_days = IntegerField("Handling time (days from goods in to shipped)", [InputRequired()])
    # when promises slip
    grace_days = IntegerField("Grace period before a refund offer (days)", [InputRequired()])
    refund_offer_valid_days = IntegerField("Refund offer valid for (days)", [InputRequired()])
    # charges
    charge_policy = SelectField(
        "Charge policy",
        choices=[
            SelectChoice("authorize_then_capture", "Authorize now, capture when the goods ship"),
            SelectChoice("capture_at_purchase", "Capture all at purchase"),
        ],
    )
    capture_per_shipment = BooleanField(
        "Capture each partial shipment as it ships",
        description="Needs an authorization that allows several captures (Shopify Plus, most card gateways); "
        "otherwise the charge is captured once, when the last item ships",
    )
    auth_expiry_policy = SelectField(
        "When an authorization is about to expire",
        choices=[
            SelectChoice("request_payment", "Email a payment request, do not capture early (recommended)"),
            SelectChoice("capture_now", "Capture it before it lapses (charges before the goods ship)"),
        ],
        description="Orders paid by card authorization only (not orders bought with \"pay when it ships\"). "
        "A payment request: the hold runs out, nothing is charged, and the customer gets an email with a link "
        "to pay again. Capture: the whole amount is taken now, possibly weeks before anything ships.",
    )
    auth_warning_hours = IntegerField("Act this many hours before expiry", [InputRequired()])
    authorization_validity_days = IntegerField(
        "Your payment provider keeps an authorization for (days)",
        [InputRequired()],
        description="Shopify Payments and Stripe: 7",
    )
    payment_url = StringField(
        "Payment page for payment requests (https, optional)",
        [Optional(), URL(require_tld=False, message="a full https:// URL")],
        description="Default: the customer's account page in your store",
    )
    # shipping
    retail_partial_shipments = SelectField("Retail orders", choices=SHIPPING)
    reseller_partial_shipments = SelectField("Reseller orders", choices=SHIPPING)
    reseller_tags = StringField(
        "Customers with these tags are resellers",
        [Length(max=500)],
        description="Comma-separated, e.g. reseller, wholesale",
    )
    # tags
    backorder_tag = StringField("Tag for orders waiting on backorders", [InputRequired(), Length(max=40)])
    # emails and branding
    notify_customers = BooleanField("Email customers their ship dates")
    email_languages = MultiCheckboxField("Email languages")
    sender_name = StringField("Sender name", [Optional(), Length(max=100)])
    reply_to = StringField("Reply-to address", [Optional(), EMAIL])
    merchant_email = StringField("Your email (alerts about charges)", [Optional(), EMAIL])
    brand_color = ColorField(
        "Brand colour", [InputRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message="a colour like #1f6feb")]
    )
    logo_url = StringField("Logo URL (https)", [Optional(), URL(require_tld=False, message="a full https:// URL")])
    # purchasing and planning
    po_receipt_updates_store_stock = BooleanField("Receiving a purchase order adds the units to the store's stock")
    dropship_value_threshold = DecimalField(
        "Dropship orders worth at least", [InputRequired(), NumberRange(min=0)], places=2
    )
    dropship_shortage_threshold = IntegerField(
        "Dropship when short by at least (units)", [InputRequired(), NumberRange(min=0)]
    )
    dropship_margin_days = IntegerField(
        "Dropship when it is faster by (days)", [InputRequired(), NumberRange(min=0, max=90)]
    )
    service_level = FloatField("Target service level (0.5–0.99)", [InputRequired()])
    backorder_penalty_per_unit_day = FloatField(
        "Cost of a backordered unit per day", [InputRequired(), NumberRange(min=0)]
    )
    max_order_quantity = IntegerField(
        "Most units planning proposes per SKU and order", [InputRequired(), NumberRange(min=1, max=1_000_000)]
    )
    # selling only what we can promise (issue 10)
    longest_wait_days = IntegerField(
        "Longest wait we sell (days, optional)",
        [Optional(), NumberRange(min=1, max=730)],
        description="When one more unit could not ship within this many days (9 times in 10), the store stops "
        "selling the item on backorder until a purchase order or a restock brings the date closer. Empty: no limit",
    )
    # deferred payment (Shopify purchase option "pay when it ships"; issue 10)
    deposit_percent = IntegerField(
        "Deposit at checkout (%)", [InputRequired(), NumberRange(min=0, max=99)],
        description="0: nothing is charged until the goods ship. The purchase option is created with it; a later "
        "change does not update an option that exists",
    )
    balance_collection = SelectField(
        "Who collects the balance",
        choices=[
            SelectChoice("on_fulfillment", "Shopify, when you fulfil the order"),
            SelectChoice("when_stock_arrives", "This service, from the customer's saved card, when the stock arrives"),
        ],
    )
    unpaid_balance_shipping = SelectField(
        "When the balance cannot be charged",
        choices=[
            SelectChoice("wait", "Keep the goods until it is paid (recommended)"),
            SelectChoice("ship", "Ship anyway and keep asking for the payment"),
        ],
    )
    balance_retry_hours = StringField(
        "Retry a failed charge after (hours, comma-separated)", [Length(max=100)],
        description="e.g. 24, 72, 168: three more attempts, then the order waits for you on the dashboard",
    )

    # the customer's backorder page (issue 16)
    customer_ship_ahead = BooleanField("Customers whose order ships complete may ask to ship what is ready first")
    ship_ahead_shipping_paid_by = SelectField("Who pays the extra shipment", choices=SHIPPING_PAYER_CHOICES)
    ship_ahead_shipping_fee = DecimalField(
        "Extra shipment fee the customer pays", [InputRequired(), NumberRange(min=0, max=1000)], places=2
    )

    SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        (
            "Pay when it ships (Shopify)",
            "Customers who buy a backordered item through the purchase option pay nothing (or the deposit) at "
            "checkout; the balance is charged to their saved card when the goods ship or when the stock arrives.",
            ("deposit_percent", "balance_collection", "unpaid_balance_shipping", "balance_retry_hours"),
        ),
        (
            "Promises",
            "How ship dates are computed for backordered items.",
            ("default_lead_time_days", "lead_time_spread_days", "promise_quantile", "handling_days"),
        ),
        ("Delays and refunds", "What happens when a promised date passes.", ("grace_days", "refund_offer_valid_days")),
        (
            "Charges",
            "When money is taken for backordered items.",
            (
                "charge_policy",
                "capture_per_shipment",
                "auth_expiry_policy",
                "auth_warning_hours",
                "authorization_validity_days",
                "payment_url",
            ),
        ),
        (
            "Partial shipments",
            "Whether available items ship before the rest.",
            (
                "retail_partial_shipments",
                "reseller_partial_shipments",
                "reseller_tags",
                "customer_ship_ahead",
                "ship_ahead_shipping_paid_by",
                "ship_ahead_shipping_fee",
            ),
        ),
        ("Tags", "Tags written on orders in your store.", ("backorder_tag",)),
        (
            "Emails and branding",
            "What customers receive, in which languages, from whom.",
            (
                "notify_customers",
                "email_languages",
                "sender_name",
                "reply_to",
                "merchant_email",
                "brand_color",
                "logo_url",
            ),
        ),
        (
            "Purchasing and planning",
            "Goods received, dropshipping and reorder planning.",
            (
                "po_receipt_updates_store_stock",
                "dropship_value_threshold",
                "dropship_shortage_threshold",
                "dropship_margin_days",
                "service_level",
                "backorder_penalty_per_unit_day",
                "max_order_quantity",
            ),
        ),
        (
            "Selling limits",
            "Stop selling on backorder what cannot be promised in time (per-SKU unit limits: on the Selling "
            "limits page).",
            ("longest_wait_days",),
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email_languages.choices = [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in sorted(available_languages())
        ]

    def validate_logo_url(self, field: StringField) -> None:
        if field.data and not field.data.startswith("https://"):
            raise ValidationError("use an https:// address (mail clients block plain http images)")

    def validate_payment_url(self, field: StringField) -> None:
        if field.data and not field.data.startswith("https://"):
            raise ValidationError("use an https:// address")

    def validate_reseller_tags(self, field: StringField) -> None:
        if any(len(t) > 40 for t in _tags(field.data or "")):
            raise ValidationError("each tag at most 40 characters")

    def validate_email_languages(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("choose at least one language")

    # ---- between the form and ShopSettings ---------------------------------------------------

    @classmethod
    def from_settings(cls, settings: ShopSettings) -> SettingsForm:
        data = settings.to_mapping()
        data["reseller_tags"] = ", ".join(settings.reseller_tags)
        data["email_languages"] = list(settings.email_languages)
        data["balance_retry_hours"] = ", ".join(str(h) for h in settings.balance_retry_hours)
        for name in ("retail_partial_shipments", "reseller_partial_shipments"):
            data[name] = "partial" if getattr(settings, name) else "complete"
        return cls(data=data)

    def to_settings(self, current: ShopSettings) -> ShopSettings:
        """The settings this form describes; fields with errors keep their current value."""
        values: dict[str, Any] = {}
        known = {f.name for f in dataclasses.fields(ShopSettings)}
        for name, field in self._fields.items():
            if name not in known or field.errors:
                continue
            values[name] = field.data
        converters = {
            "reseller_tags": lambda v: _tags(v or ""),
            "email_languages": lambda v: tuple(v or ()),
            "retail_partial_shipments": lambda v: v == "partial",
            "reseller_partial_shipments": lambda v: v == "partial",
            "dropship_value_threshold": lambda v: float(v or 0),
            "balance_retry_hours": _hours,
            "ship_ahead_shipping_fee": lambda v: float(v or 0),
            **{
                n: lambda v: (v or "").strip()
                for n in (
                    "sender_name",
                    "reply_to",
                    "merchant_email",
                    "logo_url",
                    "backorder_tag",
                    "brand_color",
                    "payment_url",
                )
            },
        }
        for name, convert in converters.items():
            if name in values:
                values[name] = convert(values[name])
        return dataclasses.replace(current, **values)

    def model_errors(self, current: ShopSettings) -> dict[str, str]:
        """The settings model's own rules (ranges, one tag, ...) for the fields the form accepted,
        so that a merchant sees every problem at once rather than one round at a time."""
        try:
            self.to_settings(current).validate()
        except SettingsError as exc:
            return {k: v for k, v in exc.errors.items() if not (k in self._fields and self._fields[k].errors)}
        return {}

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show `SettingsError` messages next to their fields (a field not on the form: on the form)."""
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(f"{name}: {message}")
