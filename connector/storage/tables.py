"""The database tables. Changing them needs an Alembic migration (`connector/storage/migrations`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    null,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from connector.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 4, asdecimal=True)
# The open rows of the inbox and the outbox: what a claim scans, oldest first, and what it checks for
# an earlier row of the same shop or order. Done rows pile up by the thousand in a sale, faster than
# the database's statistics follow: a claim planned on a table that looked empty a minute earlier
# walked every done row, for each row it considered, and cost the database more than all the rest
# of the sale's work together (measured: seconds per claim). These partial indexes leave it no
# such plan.
OPEN_DELIVERY = "status IN ('pending', 'processing')"
OPEN_ACTION = "status IN ('pending', 'running')"
PROCESSING_DELIVERY = "status = 'processing'"
HANDLED = ("done", "dead")  # a delivery's statuses once nothing more is done with it
HANDLED_DELIVERY = "status IN (" + ", ".join(f"'{status}'" for status in HANDLED) + ")"


def status_literal(value: str) -> ColumnElement[str]:
    """A status written into the SQL, not bound: a claim compares `status` with these, so that the
    database can prove its partial index (`OPEN_*`) applies, also in the generic plan of a prepared
    statement, where bound values are unknown. Only ever one of the code's own status names."""
    if not value.isidentifier():
        raise ValueError(f"not a status name: {value!r}")
    return literal_column(f"'{value}'")


Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}
    # Nothing to read back after an INSERT: every server default here is the migration's backfill of a
    # column that also has its value given by us (`default=`). Left to "auto", SQLAlchemy would add
    # RETURNING for them and so insert a flush's new rows as one multi-row statement even when their
    # keys are known (storage/key_prefetch.py), instead of one short statement executed for each.
    __mapper_args__ = {"eager_defaults": False}


class ShopRow(Base):
    __tablename__ = "shops"
    __table_args__ = (UniqueConstraint("platform", "domain"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    locale: Mapped[str] = mapped_column(String(20), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | needs_reconnect | uninstalled
    status_reason: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet-encrypted JSON
    webhook_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet-encrypted
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime | None]
    reconciled_at: Mapped[datetime | None]


class DeliveryRow(Base):
    """The durable webhook inbox: one row per delivery, deduplicated on (platform, shop, event id)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("platform", "shop_domain", "event_id"),
        Index("ix_deliveries_status_id", "status", "id"),
        # The claim's scan, oldest first, over the open deliveries only (see `OPEN_DELIVERY`).
        Index("ix_deliveries_open", "id", postgresql_where=text(OPEN_DELIVERY), sqlite_where=text(OPEN_DELIVERY)),
        # The claim's "an earlier delivery of the shop is being processed": a handful of rows at a time.
        Index("ix_deliveries_processing", "platform", "shop_domain", "id", postgresql_where=text(PROCESSING_DELIVERY),
              sqlite_where=text(PROCESSING_DELIVERY)),
        # The pruning's "handled longer ago than its retention" (connector/storage/retention.py).
        Index("ix_deliveries_handled", "status", "processed_at", postgresql_where=text(HANDLED_DELIVERY),
              sqlite_where=text(HANDLED_DELIVERY)),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | processing | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("shop_id", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    customer_email: Mapped[str | None] = mapped_column(String(320), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(255))
    customer_locale: Mapped[str | None] = mapped_column(String(20))
    customer_external_id: Mapped[str | None] = mapped_column(String(64))
    is_reseller: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime]
    source_updated_at: Mapped[datetime]
    payment_status: Mapped[str] = mapped_column(String(20))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    reserves_stock: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # lower ships first; merchant "expedite" sets -1
    total_price: Mapped[Decimal | None] = mapped_column(Money)
    captured_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default="0")
    authorized_at: Mapped[datetime | None]  # when the charge was authorized (expiry is counted from here)
    # deferred payment (issue 10): bought through "pay when it ships"; nothing authorized, the balance
    # is collected later. `payment_url`: the store's page where the customer can pay it (https only).
    deferred_payment: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    payment_url: Mapped[str | None] = mapped_column(String(2000))
    # what we last did to the order in the store (the outbox compares decisions against these)
    bo_generation: Mapped[int] = mapped_column(Integer, default=0)
    bo_tagged: Mapped[bool] = mapped_column(Boolean, default=False)
    bo_held: Mapped[bool] = mapped_column(Boolean, default=False)
    bo_promised_on: Mapped[date | None] = mapped_column(Date)
    bo_hold_signature: Mapped[str | None] = mapped_column(String(40))
    bo_promise_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # grows per new date
    # --- the customer's page (issue 16) ---
    ships_partial: Mapped[bool | None] = mapped_column(Boolean)  # True: the customer asked to ship what is ready

    lines: Mapped[list[OrderLineRow]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLineRow.id"
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "external_id"), Index("ix_order_lines_shop_sku", "shop_id", "sku"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    product_id: Mapped[str | None] = mapped_column(String(64))
    variant_id: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(64))
    requires_shipping: Mapped[bool] = mapped_column(Boolean, default=True)

    order: Mapped[OrderRow] = relationship(back_populates="lines")


class StockLevelRow(Base):
    __tablename__ = "stock_levels"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(255), primary_key=True)
    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[int] = mapped_column(Integer)
    item_ref: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None]
    settle_at: Mapped[datetime | None] = mapped_column(index=True)  # re-evaluate the SKU then (see apply.py)
    # While a drop settles: the level before it and that report's time, which evaluation uses meanwhile
    # (the drop may count an order whose own webhook is still on its way; see apply._set_stock).
    held_available: Mapped[int | None] = mapped_column(Integer)
    held_at: Mapped[datetime | None]
    held_since: Mapped[datetime | None]  # when the hold (or its last checkpoint) began
    # A hold older than apply.MAX_HOLD moves on to a later report once the orders it counts have all
    # been applied: that report's level and time, and the moment the inbox must have caught up to.
    checkpoint_available: Mapped[int | None] = mapped_column(Integer)
    checkpoint_at: Mapped[datetime | None]
    checkpoint_until: Mapped[datetime | None]


class VariantRow(Base):
    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("shop_id", "sku"), Index("ix_variants_shop_item", "shop_id", "item_ref"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    price: Mapped[Decimal] = mapped_column(Money)
    sells_when_out_of_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    product_id: Mapped[str | None] = mapped_column(String(64))
    variant_id: Mapped[str | None] = mapped_column(String(64))
    item_ref: Mapped[str | None] = mapped_column(String(64))
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    product_url: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime | None]


class BackorderRow(Base):
    """The backordered part of one order line, and the promise made for it."""

    __tablename__ = "backorders"
    __table_args__ = (Index("ix_backorders_shop_state", "shop_id", "state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    sku: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)  # backordered now
    in_stock_quantity: Mapped[int] = mapped_column(Integer, default=0)  # of the same line, allocated from stock
    peak_quantity: Mapped[int] = mapped_column(Integer, default=0)  # most ever backordered (for demand history)
    state: Mapped[str] = mapped_column(String(20))  # connector.domain.model.BackorderState
    eta_p50: Mapped[date | None] = mapped_column(Date)
    eta_p90: Mapped[date | None] = mapped_column(Date)
    promised_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(40))  # "po:<id>", "lead_time", "dropship:<supplier>"
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    announced: Mapped[bool] = mapped_column(Boolean, default=False)  # "on its way" sent for the release


class PromiseRow(Base):
    __tablename__ = "promise_history"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    backorder_id: Mapped[int] = mapped_column(ForeignKey("backorders.id", ondelete="CASCADE"), index=True)
    promised_on: Mapped[date | None] = mapped_column(Date)
    eta_p50: Mapped[date | None] = mapped_column(Date)
    eta_p90: Mapped[date | None] = mapped_column(Date)
    made_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(40))  # initial | later | earlier
    cause: Mapped[str | None] = mapped_column(String(40))  # why (connector.domain.promise_causes), issue 16

    backorder: Mapped[BackorderRow] = relationship()


class ActionRow(Base):
    """The durable outbox: store actions and emails, each executed at most once per idempotency key."""

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_status_due", "status", "next_attempt_at"),
        # The claim's scan, oldest first, over the open actions only (see `OPEN_ACTION`).
        Index("ix_actions_open", "id", postgresql_where=text(OPEN_ACTION), sqlite_where=text(OPEN_ACTION)),
        # The claim's "an earlier action of the order is still to run", over the open actions only.
        Index("ix_actions_open_by_order", "order_id", "id", postgresql_where=text(OPEN_ACTION),
              sqlite_where=text(OPEN_ACTION)),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | running | done | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # Runs once the order's store actions decided before it are done (store actions always do). An
    # email that only reports a decision (the wait and its date) does not: the customer hears at once,
    # even while the store's API is slow or throttled (see `outbox._ClaimStatements`).
    waits_for_store: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class SupplierRow(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    lead_time_mean_days: Mapped[float] = mapped_column(Float, default=14.0)
    lead_time_spread_days: Mapped[float] = mapped_column(Float, default=3.0)
    dropship_capable: Mapped[bool] = mapped_column(Boolean, default=False)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent_unit_premium: Mapped[Decimal | None] = mapped_column(Money)
    urgent_lead_time_days: Mapped[float | None] = mapped_column(Float)


class SupplierOfferRow(Base):
    __tablename__ = "supplier_offers"
    __table_args__ = (UniqueConstraint("supplier_id", "sku"), Index("ix_supplier_offers_shop_sku", "shop_id", "sku"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    cost: Mapped[Decimal] = mapped_column(Money)
    lead_time_days: Mapped[float | None] = mapped_column(Float)
    primary: Mapped[bool] = mapped_column(Boolean, default=True)


class PurchaseOrderRow(Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (UniqueConstraint("shop_id", "reference"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(100))
    expected_on: Mapped[date] = mapped_column(Date)
    ordered_on: Mapped[date | None] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date)
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    lines: Mapped[list[PurchaseOrderLineRow]] = relationship(
        back_populates="purchase_order", cascade="all, delete-orphan", order_by="PurchaseOrderLineRow.id"
    )


class PurchaseOrderLineRow(Base):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)

    purchase_order: Mapped[PurchaseOrderRow] = relationship(back_populates="lines")


class LeaseRow(Base):
    """Named leases: the one scheduler leader, and other run-once-at-a-time jobs."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]


class ComplianceRequestRow(Base):
    """Privacy requests (export / redact) and what we did about them, shown to the merchant."""

    __tablename__ = "compliance_requests"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="SET NULL"), index=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))  # customer_export | customer_redact | shop_redact
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_external_id: Mapped[str | None] = mapped_column(String(64))
    export: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime]


# A data export emptied (by the customer's redaction, or at the retention's age): the export SQL NULL,
# not JSON null, as the privacy page asks `export IS NOT NULL`; no identity left on the record.
EXPORT_EMPTIED: dict[str, Any] = {"export": null(), "customer_email": None, "customer_external_id": None}


class RefundOfferRow(Base):
    """A refund offered to a customer whose promised date passed; the signed link in the email names it."""

    __tablename__ = "refund_offers"
    __table_args__ = (UniqueConstraint("order_id", "promised_on"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    promised_on: Mapped[date] = mapped_column(Date)  # the promise that passed
    lines: Mapped[list[Any]] = mapped_column(JSON)  # [{"line_id": external id, "quantity": n, "amount": "..."}]
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="offered")  # offered | accepted | declined | void
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class PlanRunRow(Base):
    """One planning run of a shop (nightly or on demand): when, with which models, what it found."""

    __tablename__ = "plan_runs"
    __table_args__ = (Index("ix_plan_runs_shop_started", "shop_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)  # the shop's day the plan is for
    trigger: Mapped[str] = mapped_column(String(20), default="nightly")  # nightly | merchant
    model_set: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | failed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    skus: Mapped[int] = mapped_column(Integer, default=0)
    drafts: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)  # SKUs with a level shift or spike
    agility: Mapped[list[Any]] = mapped_column(JSON, default=list)  # per supplier, observed performance
    exports: Mapped[list[Any]] = mapped_column(JSON, default=list)  # per supplier, the damped plan (CSV rows)
    error: Mapped[str | None] = mapped_column(Text)


class SkuPlanRow(Base):
    """The latest plan of one SKU (the previous run's rows of the shop are replaced)."""

    __tablename__ = "sku_plans"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    model: Mapped[str] = mapped_column(String(40))
    demand_class: Mapped[str] = mapped_column(String(20))
    forecast: Mapped[list[Any]] = mapped_column(JSON, default=list)  # daily forecast from the run's day
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)  # daily demand of the last weeks, for the chart
    forecast_per_day: Mapped[float] = mapped_column(Float)
    error_rmse: Mapped[float | None] = mapped_column(Float)
    error_mae: Mapped[float | None] = mapped_column(Float)
    error_bias: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{kind, day, magnitude, detail}]
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="SET NULL"))
    lead_time_mean: Mapped[float] = mapped_column(Float)
    stock: Mapped[int] = mapped_column(Integer)
    incoming: Mapped[int] = mapped_column(Integer)
    safety_stock: Mapped[float] = mapped_column(Float)
    reorder_point: Mapped[float] = mapped_column(Float)
    order_up_to: Mapped[float] = mapped_column(Float)
    suggested_quantity: Mapped[int] = mapped_column(Integer)
    stockout_probability: Mapped[float] = mapped_column(Float)
    expected_backorder_cost: Mapped[float] = mapped_column(Float)


class PromotionRow(Base):
    """A promotion on the merchant's calendar: the forecast keeps its days out of the baseline."""

    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_shop_starts", "shop_id", "starts_on"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # included
    skus: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: every SKU of the shop
    created_at: Mapped[datetime]


class LineRouteRow(Base):
    """A backordered line routed to a dropship supplier: the supplier ships it, and its ETA follows."""

    __tablename__ = "line_routes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer)  # units the supplier ships
    lead_time_days: Mapped[float] = mapped_column(Float)
    lead_time_spread_days: Mapped[float] = mapped_column(Float, default=0.0)
    eta: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


# ---- selling only what we can promise (issue 10) ------------------------------------------------


class BackorderLimitRow(Base):
    """A SKU's limit of units on backorder, set by the merchant: at the limit the store stops selling it."""

    __tablename__ = "backorder_limits"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    max_units: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class SellingStopRow(Base):
    """A SKU whose selling on backorder this service switched off: the only ones it ever switches back on.

    state: stopped (off by us) | overridden (the merchant switched it back on meanwhile: left alone)
    | resumed (given back). `switches` counts our stops, and names each switch's outbox actions."""

    __tablename__ = "selling_stops"
    __table_args__ = (UniqueConstraint("shop_id", "sku"), Index("ix_selling_stops_shop_state", "shop_id", "state"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    product_id: Mapped[str | None] = mapped_column(String(64))
    variant_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))  # connector.domain.selling_limit.Reason
    ships_p90: Mapped[date | None] = mapped_column(Date)  # one more unit's promise when last decided
    resume_on: Mapped[date | None] = mapped_column(Date)  # expected, when a date can be said
    switches: Mapped[int] = mapped_column(Integer, default=0)
    stopped_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- deferred payment (issue 10): the purchase option, its members, balances to collect ---------------


class PurchaseOptionRow(Base):
    """A shop's "pay when it ships" purchase option in its store (Shopify: a PRE_ORDER selling plan group)."""

    __tablename__ = "purchase_options"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(255))  # the store's id (None: not created yet)
    # active | needs_scopes (the merchant must re-authorize the app) | failed (last_error says why)
    status: Mapped[str] = mapped_column(String(20), default="active")
    deposit_percent: Mapped[int] = mapped_column(Integer, default=0)  # as created in the store
    created_at: Mapped[datetime | None]
    recreated_at: Mapped[datetime | None]  # the merchant deleted it and we created it again
    recreated_count: Mapped[int] = mapped_column(Integer, default=0)
    membership_version: Mapped[int] = mapped_column(Integer, default=0)  # grows with each diff sent
    checked_at: Mapped[datetime | None]  # last compared with what the store says
    last_error: Mapped[str | None] = mapped_column(Text)


class PurchaseOptionMemberRow(Base):
    """A variant we put in the purchase option (its next unit is backordered)."""

    __tablename__ = "purchase_option_members"
    __table_args__ = (UniqueConstraint("shop_id", "variant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[str] = mapped_column(String(255))  # the store's variant id
    sku: Mapped[str] = mapped_column(String(255))
    joined_at: Mapped[datetime]


class BalanceCollectionRow(Base):
    """Collecting the balance of a deferred-payment order for one backorder generation."""

    __tablename__ = "balance_collections"
    __table_args__ = (UniqueConstraint("order_id", "generation"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(Integer)
    # charging (an attempt is in the outbox) | retry_due (failed, next attempt at next_attempt_at)
    # | gave_up (every attempt failed: the merchant decides) | paid | by_store (the store charges on fulfilment)
    state: Mapped[str] = mapped_column(String(20), default="charging")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_reason: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    customer_emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


# ---- storefront publication (issue 11) ----------------------------------------------------------


class StorefrontValueRow(Base):
    """What the store should show shoppers for one variant: the value last computed, and its version.

    A new version is made only when the value changes; each version is published to the store once
    (the outbox action's key names the versions), and the action reads the current value when it runs."""

    __tablename__ = "storefront_values"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(255))
    product_id: Mapped[str | None] = mapped_column(String(64))
    variant_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)  # status, ships_by, ships_p50, ships_p90, message
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime]


class FeedTokenRow(Base):
    """The secret in the address of a shop's Google Merchant Center supplemental feed (rotatable)."""

    __tablename__ = "feed_tokens"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


# --- the customer's page (issue 16) ------------------------------------------------------------


class CustomerChoiceRow(Base):
    """A choice the customer made on their backorder page, applied once per order, choice and generation."""

    __tablename__ = "customer_choices"
    __table_args__ = (UniqueConstraint("order_id", "choice", "generation"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str] = mapped_column(String(20))  # ship_ready | cancel_waiting | keep_waiting
    generation: Mapped[int] = mapped_column(Integer)  # the order's backorder generation when chosen
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # lines, amounts, fee
    made_at: Mapped[datetime]
