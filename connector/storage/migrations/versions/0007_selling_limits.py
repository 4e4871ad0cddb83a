"""selling limits: per-SKU backorder limits and the SKUs whose selling we stopped

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "backorder_limits",
        sa.Column("id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("max_units", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_backorder_limits_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backorder_limits")),
        sa.UniqueConstraint("shop_id", "sku", name=op.f("uq_backorder_limits_shop_id")),
    )
    op.create_table(
        "selling_stops",
        sa.Column("id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=True),
        sa.Column("variant_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("ships_p90", sa.Date(), nullable=True),
        sa.Column("resume_on", sa.Date(), nullable=True),
        sa.Column("switches", sa.Integer(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_selling_stops_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selling_stops")),
        sa.UniqueConstraint("shop_id", "sku", name=op.f("uq_selling_stops_shop_id")),
    )
    op.create_index("ix_selling_stops_shop_state", "selling_stops", ["shop_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_selling_stops_shop_state", table_name="selling_stops")
    op.drop_table("selling_stops")
    op.drop_table("backorder_limits")
