"""customer page: the customer's choices, the order's ship-ahead flag, why a promise moved

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_choices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_customer_choices_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_customer_choices_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_choices")),
        sa.UniqueConstraint("order_id", "choice", "generation", name=op.f("uq_customer_choices_order_id")),
    )
    with op.batch_alter_table("customer_choices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_choices_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_choices_shop_id"), ["shop_id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ships_partial", sa.Boolean(), nullable=True))
    with op.batch_alter_table("promise_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promise_history", schema=None) as batch_op:
        batch_op.drop_column("cause")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("ships_partial")
    with op.batch_alter_table("customer_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_choices_shop_id"))
        batch_op.drop_index(batch_op.f("ix_customer_choices_order_id"))
    op.drop_table("customer_choices")
