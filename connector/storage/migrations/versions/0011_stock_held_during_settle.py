"""stock level held while a drop settles

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_available", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("held_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stock_levels", schema=None) as batch_op:
        batch_op.drop_column("held_since")
        batch_op.drop_column("held_at")
        batch_op.drop_column("held_available")
