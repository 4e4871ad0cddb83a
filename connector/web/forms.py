"""The merchant app's forms (Flask-WTF: CSRF-protected), other than settings (`settings_form`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FloatField,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="enter an email address like name@example.com")
PO_LINE_ROWS = 6


class SupplierForm(FlaskForm):
    name = StringField("Name", [InputRequired(), Length(max=255)])
    email = StringField("Email", [Optional(), EMAIL, Length(max=320)])
    phone = StringField("Phone", [Optional(), Length(max=64)])
    lead_time_mean_days = FloatField(
        "Lead time, average (days)", [InputRequired(), NumberRange(min=0, max=365)], default=14
    )
    lead_time_spread_days = FloatField(
        "Lead time spread (days, standard deviation)", [InputRequired(), NumberRange(min=0, max=180)], default=3
    )
    dropship_capable = BooleanField("Can ship directly to customers (dropship)")
    local = BooleanField("Local supplier")
    urgent_unit_premium = DecimalField("Urgent order: extra cost per unit", [Optional(), NumberRange(min=0)], places=2)
    urgent_lead_time_days = FloatField("Urgent order: lead time (days)", [Optional(), NumberRange(min=0, max=365)])


class OfferForm(FlaskForm):
    sku = StringField("SKU", [InputRequired(), Length(max=255)])
    cost = DecimalField("Unit cost", [InputRequired(), NumberRange(min=0)], places=2)
    lead_time_days = FloatField("Lead time for this SKU (days, optional)", [Optional(), NumberRange(min=0, max=365)])
    primary = SelectField(
        "Role",
        choices=[SelectChoice("primary", "Primary supplier"), SelectChoice("alternative", "Alternative")],
        default="primary",
    )


class PoLineForm(PlainForm):
    sku = StringField("SKU", [Optional(), Length(max=255)])
    quantity = IntegerField("Quantity", [Optional(), NumberRange(min=1, message="at least 1")])


class PurchaseOrderForm(FlaskForm):
    reference = StringField("Reference", [InputRequired(), Length(max=100)])
    supplier_id = SelectField("Supplier", coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    ordered_on = DateField("Ordered on", [Optional()])
    expected_on = DateField("Expected on", [InputRequired(message="when do you expect the goods?")])
    draft = BooleanField("Draft (not yet ordered: its stock does not count as incoming)")
    lines = FieldList(FormField(PoLineForm), min_entries=PO_LINE_ROWS)

    def set_suppliers(self, suppliers: list[tuple[int, str]]) -> None:
        self.supplier_id.choices = [
            SelectChoice(None, "— no supplier —"),  # type: ignore[arg-type]
            *(SelectChoice(value, label) for value, label in suppliers),  # type: ignore[arg-type]
        ]

    def line_values(self) -> list[tuple[str, int]]:
        out = []
        for entry in self.lines.entries:
            sku = (entry.sku.data or "").strip()
            qty = entry.quantity.data
            if sku or qty:
                out.append((sku, int(qty or 0)))
        return out


class PromotionForm(FlaskForm):
    name = StringField("Name", [InputRequired(message="give the promotion a name"), Length(max=120)])
    starts_on = DateField("First day", [InputRequired(message="when does it start?")])
    ends_on = DateField("Last day", [InputRequired(message="when does it end?")])
    skus = TextAreaField("SKUs (empty: the whole shop)", [Optional(), Length(max=60_000)])


class CsvForm(FlaskForm):
    file = FileField("CSV file", [FileRequired("choose a CSV file"), FileAllowed(["csv", "txt"], "a .csv file")])


class ActionForm(FlaskForm):
    """A button that changes something (expedite, retry, replay, approve, receive all, delete): CSRF only."""


def errors_to_form(form: Any, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
